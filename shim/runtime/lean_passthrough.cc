// SPDX-License-Identifier: Apache-2.0

#include "runtime/lean_passthrough.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/lean_path.h"
#include "common/process.h"
#include "common/shim_config.h"
#include "runtime/runtime_args.h"
#include "runtime/verbs.h"

namespace kmemguard::shim {

KMEMGUARD_LEAN_PATH void TryLeanPassThrough(int argc, char** argv) {
  if (argc < 2) return;
  std::optional<absl::string_view> command =
      UnchangedCommand(absl::MakeConstSpan(argv + 1, argc - 1));
  if (!command.has_value() || !PassesThrough(*command)) return;
  // $KMEMGUARD_RUNTIME overrides the file, also a broken one: the full
  // path decides.
  if (const char* env = std::getenv("KMEMGUARD_RUNTIME"); env && *env) return;
  const char* path = std::getenv("KMEMGUARD_CONFIG");
  const bool named = path != nullptr && *path != '\0';
  if (!named) path = kDefaultConfigPath;
  // The packaged file and configure's are well under 4 KiB.
  char text[4096];
  long n = ReadSmallFile(path, text, sizeof(text));
  // A missing default file means the defaults (LoadShimConfig).
  if (n < 0 && !(errno == ENOENT && !named)) return;
  std::optional<absl::string_view> runtime = LeanConfigRuntime(
      absl::string_view(text, n < 0 ? 0 : static_cast<size_t>(n)));
  if (!runtime.has_value()) return;
  const char* path_env = std::getenv("PATH");
  char runtime_path[1024];
  if (!FindRuntimeInto(std::string_view(runtime->data(), runtime->size()),
                       path_env ? path_env : kDefaultPathEnv, runtime_path,
                       sizeof(runtime_path))) {
    return;
  }
  char* const program = argv[0];
  argv[0] = runtime_path;
  ExecArgv(runtime_path, argv);
  argv[0] = program;  // the full path reports the failed exec
}

}  // namespace kmemguard::shim

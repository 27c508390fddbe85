// SPDX-License-Identifier: Apache-2.0
//
// The runtime argv (containerd, CRI-O, Podman, Docker) -> ParseRuntimeArgs,
// and the lean path's command finder (UnchangedCommand), which must agree
// with it whenever it takes a call.
// The input is argv[1..] joined with NUL bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "fuzz_common.h"
#include "runtime/runtime_args.h"

using kmemguard::shim::ParseRuntimeArgs;
using kmemguard::shim::RuntimeArgs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  if (size > 0) args = absl::StrSplit(text, '\0');
  if (args.size() > 256) return 0;

  absl::StatusOr<RuntimeArgs> a = ParseRuntimeArgs(args);
  std::vector<const char*> argv;
  for (const std::string& s : args) argv.push_back(s.c_str());
  std::optional<absl::string_view> lean =
      kmemguard::shim::UnchangedCommand(argv);
  if (lean.has_value()) {
    // What the lean path reads: the same command, and the runtime gets
    // argv unchanged.
    FUZZ_CHECK(a.ok());
    FUZZ_CHECK(*lean == a->command);
    FUZZ_CHECK(a->passthrough == args);
  }
  if (!a.ok()) return 0;
  // Nothing is invented: the real runtime gets at most what we got.
  FUZZ_CHECK(a->passthrough.size() <= args.size());
  if (a->kmemguard_config.empty() && a->kmemguard_runtime.empty()) {
    // Only our own flags are ever dropped (an empty value strips one too).
    bool ours = false;
    for (const std::string& s : args) {
      ours = ours || absl::StrContains(s, "kmemguard-");
    }
    if (!ours) FUZZ_CHECK(a->passthrough == args);
  }
  if (!a->command.empty()) {
    FUZZ_CHECK(std::find(a->passthrough.begin(), a->passthrough.end(),
                         a->command) != a->passthrough.end());
  }
  if (!a->container_id.empty()) {
    FUZZ_CHECK(std::find(a->passthrough.begin(), a->passthrough.end(),
                         a->container_id) != a->passthrough.end());
  }

  // Our flags are gone: the real runtime, parsing what we pass on, sees none
  // of them in the places we strip them from, and finds the same command,
  // bundle and container.
  absl::StatusOr<RuntimeArgs> b = ParseRuntimeArgs(a->passthrough);
  FUZZ_CHECK(b.ok());
  FUZZ_CHECK(b->kmemguard_config.empty());
  FUZZ_CHECK(b->kmemguard_runtime.empty());
  FUZZ_CHECK(b->passthrough == a->passthrough);
  FUZZ_CHECK(b->command == a->command);
  FUZZ_CHECK(b->bundle == a->bundle);
  FUZZ_CHECK(b->container_id == a->container_id);
  FUZZ_CHECK(b->root == a->root);
  FUZZ_CHECK(b->log == a->log);
  FUZZ_CHECK(b->log_format == a->log_format);
  FUZZ_CHECK(b->debug == a->debug);
  FUZZ_CHECK(b->systemd_cgroup == a->systemd_cgroup);
  (void)kmemguard::shim::CreatesCgroups(a->command);
  return 0;
}

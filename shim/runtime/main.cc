// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-runtime: a drop-in wrapper for runc. On create, run and restore
// it prepares the container's memory cgroup with the kmem guard in its own
// process and then execve()s the real runtime with the arguments
// unchanged, so stdio, extra fds, the pid, the exit status and signals pass
// through untouched: no fork, and no process of ours outlives the call.
// delete is the one verb that spawns the runtime and waits, because the
// cleanup needs its result. What a failed runtime or a crash leaves is
// reaped by `kmemguard gc` (docs/process-model.md). Which verb does what is
// one table, in verbs.cc; the verbs passed through take a lean path first
// (runtime/lean_passthrough.h).

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "common/runtime_log.h"
#include "common/shim_config.h"
#include "runtime/lean_passthrough.h"
#include "runtime/runtime_args.h"
#include "runtime/verbs.h"

namespace shim = kmemguard::shim;

int main(int argc, char** argv) {
  // start, state, kill, ...: exec the runtime without the full path's work
  // when that is certain to do the same (runtime/lean_passthrough.h).
  shim::TryLeanPassThrough(argc, argv);
  std::vector<std::string> raw(argv + 1, argv + argc);
  absl::StatusOr<shim::RuntimeArgs> args = shim::ParseRuntimeArgs(raw);
  if (!args.ok()) {
    shim::RuntimeLog("", "", "", "kmemguard-runtime")
        .Error(args.status().message());
    return 1;
  }
  absl::StatusOr<shim::ShimConfig> loaded =
      shim::LoadShimConfig(args->kmemguard_config, args->kmemguard_runtime);
  shim::ShimConfig config = loaded.ok() ? *loaded : shim::ShimConfig{};
  if (!loaded.ok()) {
    // Never the defaults' "runc" for a broken file: only a runtime named
    // outside it ($KMEMGUARD_RUNTIME, --kmemguard-runtime) is certain.
    config.runtime = shim::RuntimeOverride(args->kmemguard_runtime);
  }
  shim::RuntimeLog log(args->log, args->log_format, config.debug_log,
                       "kmemguard-runtime");
  if (config.runtime.empty()) {
    log.Error(absl::StrCat(loaded.status().message(),
                           " (and no $KMEMGUARD_RUNTIME or "
                           "--kmemguard-runtime names the real runtime)"));
    return 1;
  }
  const char* path_env = std::getenv("PATH");
  absl::StatusOr<std::string> runtime = shim::FindRealRuntime(
      config.runtime, path_env ? path_env : shim::kDefaultPathEnv);
  if (!runtime.ok()) {
    log.Error(runtime.status().message());
    return 1;
  }
  return shim::DispatchVerb(shim::Invocation{
      *std::move(args), std::move(config), loaded.status(), *runtime, &log});
}

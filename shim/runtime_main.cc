// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-runtime: a drop-in wrapper for runc. It prepares a container's
// memory cgroup with the kmem guard on create, run and restore, then
// execve()s the real runtime with the arguments unchanged, so stdio, extra
// fds, the exit status and signals pass through untouched.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kmemguard/unguarded.h"
#include "process.h"
#include "runtime_args.h"
#include "shim_config.h"
#include "wrapper.h"

using kmemguard::shim::FailurePolicy;

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv + 1, argv + argc);
  absl::StatusOr<kmemguard::shim::RuntimeArgs> args =
      kmemguard::shim::ParseRuntimeArgs(raw);
  if (!args.ok()) {
    kmemguard::shim::RuntimeLog("", "", "", "kmemguard-runtime")
        .Error(args.status().message());
    return 1;
  }
  absl::StatusOr<kmemguard::shim::ShimConfig> loaded =
      kmemguard::shim::LoadShimConfig(args->kmemguard_config,
                                      args->kmemguard_runtime);
  kmemguard::shim::ShimConfig config =
      loaded.ok() ? *loaded : kmemguard::shim::ShimConfig{};
  kmemguard::shim::RuntimeLog log(args->log, args->log_format,
                                  config.debug_log, "kmemguard-runtime");
  const char* path_env = std::getenv("PATH");
  absl::StatusOr<std::string> runtime = kmemguard::shim::FindRealRuntime(
      config.runtime, path_env ? path_env : "/usr/local/sbin:/usr/local/bin:"
                                            "/usr/sbin:/usr/bin:/sbin:/bin");
  if (!runtime.ok()) {
    log.Error(runtime.status().message());
    return 1;
  }
  if (!loaded.ok()) {
    // A broken config must not stop the node from starting pods: run as
    // plain runc, loudly in the log.
    log.Warning(absl::StrCat("configuration ignored: ",
                             loaded.status().message()));
  } else if (!config.disabled) {
    kmemguard::shim::WrapperContext ctx{*args, config, *runtime, &log};
    absl::StatusOr<std::optional<kmemguard::shim::CleanupPlan>> plan =
        std::optional<kmemguard::shim::CleanupPlan>();
    // The cgroup work runs in a child under the seccomp allowlist; this
    // process, which execs the runtime, stays unconfined.
    if (kmemguard::shim::CreatesCgroups(args->command)) {
      plan = kmemguard::shim::RunConfined(
          [&ctx] { return kmemguard::shim::PrepareCreate(ctx); });
    } else if (args->command == "delete") {
      plan = kmemguard::shim::RunConfined(
          [&ctx] { return kmemguard::shim::PrepareDelete(ctx); });
    }
    absl::Status s = plan.status();
    if (s.ok() && plan->has_value()) {
      absl::Status watcher = kmemguard::shim::ArrangeCleanupAfterExit(**plan);
      if (!watcher.ok()) {
        log.Warning(absl::StrCat("cleanup watcher: ", watcher.message()));
      }
    }
    if (!s.ok()) {
      if (config.failure_policy == FailurePolicy::kFailClosed) {
        log.Error(s.message());
        return 1;
      }
      log.Warning(absl::StrCat("kmem guard not applied (fail-open): ",
                               s.message()));
      // Count the unguarded start for kmemguard doctor and the hook.
      if (kmemguard::shim::CreatesCgroups(args->command)) {
        absl::Status counted = kmemguard::RecordUnguardedStart(
            config.state_dir, args->container_id, s.message());
        if (!counted.ok()) log.Warning(counted.message());
      }
    }
  }
  absl::Status exec = kmemguard::shim::ExecRuntime(*runtime, args->passthrough);
  log.Error(exec.message());
  return 1;
}

// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-runtime: a drop-in wrapper for runc. On create, run and restore
// it prepares the container's memory cgroup with the kmem guard in its own
// process and then execve()s the real runtime with the arguments
// unchanged, so stdio, extra fds, the pid, the exit status and signals pass
// through untouched: no fork, and no process of ours outlives the call.
// delete is the one verb that spawns the runtime and waits, because the
// cleanup needs its result. What a failed runtime or a crash leaves is
// reaped by `kmemguard gc` (docs/process-model.md).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gc.h"
#include "kmemguard/core/unguarded.h"
#include "process.h"
#include "runtime_args.h"
#include "shim_config.h"
#include "wrapper.h"

#ifndef KMEMGUARD_VERSION
#error "KMEMGUARD_VERSION must be defined by the build"
#endif

namespace shim = kmemguard::shim;

namespace {

// How often a delete may scan the whole state directory.
constexpr int64_t kLazyGcIntervalSeconds = 60;

bool AsksVersion(const shim::RuntimeArgs& args) {
  if (!args.command.empty()) return false;
  for (const std::string& a : args.passthrough) {
    if (a == "--version" || a == "-v") return true;
  }
  return false;
}

// delete: run the runtime, then remove what the wrapper created once the
// container is gone, and reap other stale records now and then. Returns
// the exit status to give the caller.
int DeleteAndCleanUp(const shim::WrapperContext& ctx,
                     const std::string& record_path) {
  absl::StatusOr<int> status =
      shim::SpawnAndWait(ctx.runtime_path, ctx.args.passthrough);
  if (!status.ok()) {
    ctx.log->Error(status.status().message());
    return 1;
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
    // The same identity checks as gc: a delete that did not delete (a
    // running container without --force) leaves the record alone.
    shim::GcEntry done = shim::CollectRecord(record_path, shim::GcOptions{});
    if (done.action == shim::GcAction::kError) {
      ctx.log->Warning(absl::StrCat("cleanup of ", ctx.args.container_id,
                                    " (gc retries): ", done.reason));
    }
  }
  shim::MaybeCollectGarbage(ctx.config.state_dir, kLazyGcIntervalSeconds);
  if (WIFSIGNALED(*status)) {
    // Die of the same signal, as the runtime did.
    signal(WTERMSIG(*status), SIG_DFL);
    raise(WTERMSIG(*status));
  }
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
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
      config.runtime, path_env ? path_env : "/usr/local/sbin:/usr/local/bin:"
                                            "/usr/sbin:/usr/bin:/sbin:/bin");
  if (!runtime.ok()) {
    log.Error(runtime.status().message());
    return 1;
  }
  if (AsksVersion(*args)) {
    // Docker reads the runtime's version from this output: ours first,
    // then the real runtime's, as nvidia-container-runtime does.
    std::printf("kmemguard-runtime version %s\n", KMEMGUARD_VERSION);
    std::fflush(stdout);
  }
  const bool creates = shim::CreatesCgroups(args->command);
  absl::Status guard;  // why the guard is not in place, if it is not
  bool fail_closed = config.failure_policy == shim::FailurePolicy::kFailClosed;
  if (!loaded.ok()) {
    // A broken file says nothing reliable about its failure policy; a
    // container is not started unguarded on a guess.
    fail_closed = true;
    if (creates) guard = loaded.status();
  } else if (!config.disabled &&
             (creates || args->command == "delete")) {
    shim::WrapperContext ctx{*args, config, *runtime,
                             shim::HostCanonicalRuntimeRoot(args->root, *runtime),
                             &log};
    if (creates) {
      guard = shim::PrepareCreate(ctx);
    } else {
      absl::StatusOr<std::string> record = shim::PrepareDelete(ctx);
      if (record.ok()) return DeleteAndCleanUp(ctx, *record);
      if (!absl::IsNotFound(record.status())) {
        log.Warning(absl::StrCat("kmemguard record: ",
                                 record.status().message()));
      }
    }
  }
  if (!guard.ok()) {
    if (fail_closed) {
      log.Error(guard.message());
      return 1;
    }
    // The one fail-open branch: the container starts without the guard.
    log.Warning(absl::StrCat("kmem guard not applied (fail-open): ",
                             guard.message()));
    // Count the unguarded start for kmemguard doctor and the hook.
    absl::Status counted = kmemguard::RecordUnguardedStart(
        config.state_dir, args->container_id, guard.message());
    if (!counted.ok()) log.Warning(counted.message());
  }
  absl::Status exec = shim::ExecRuntime(*runtime, args->passthrough);
  log.Error(exec.message());
  return 1;
}

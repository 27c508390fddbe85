// SPDX-License-Identifier: Apache-2.0

#include "runtime/verbs.h"

#include <sys/wait.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/lean_path.h"
#include "common/process.h"
#include "kmemguard/core/unguarded.h"
#include "runtime/gc.h"
#include "runtime/records.h"
#include "runtime/wrapper.h"

#ifndef KMEMGUARD_VERSION
#error "KMEMGUARD_VERSION must be defined by the build"
#endif

namespace kmemguard::shim {
namespace {

// How often a delete may scan the whole state directory.
constexpr int64_t kLazyGcIntervalSeconds = 60;

WrapperContext ContextOf(const Invocation& inv) {
  return WrapperContext{
      inv.args, inv.config, inv.runtime_path,
      HostCanonicalRuntimeRoot(inv.args.root, inv.runtime_path), inv.log};
}

// Every verb without a row, and the end of the others: execve the runtime.
int PassThrough(const Invocation& inv) {
  absl::Status exec = ExecRuntime(inv.runtime_path, inv.args.passthrough);
  inv.log->Error(exec.message());
  return 1;
}

// No verb: `runc --version` and the like. Docker reads the runtime's
// version from this output: ours first, then the real runtime's, as
// nvidia-container-runtime does.
int NoVerb(const Invocation& inv) {
  for (const std::string& a : inv.args.passthrough) {
    if (a == "--version" || a == "-v") {
      std::printf("kmemguard-runtime version %s\n", KMEMGUARD_VERSION);
      std::fflush(stdout);
      break;
    }
  }
  return PassThrough(inv);
}

// create, run, restore: the cgroup with the guard, in this process, then
// the runtime's execve; the failure policy decides when the guard is not
// in place.
int CreateLike(const Invocation& inv) {
  absl::Status guard;  // why the guard is not in place, if it is not
  bool fail_closed = inv.config.failure_policy == FailurePolicy::kFailClosed;
  if (!inv.config_status.ok()) {
    // A broken file says nothing reliable about its failure policy; a
    // container is not started unguarded on a guess.
    fail_closed = true;
    guard = inv.config_status;
  } else if (!inv.config.disabled) {
    guard = PrepareCreate(ContextOf(inv));
  }
  if (!guard.ok()) {
    if (fail_closed) {
      inv.log->Error(guard.message());
      return 1;
    }
    // The one fail-open branch: the container starts without the guard.
    inv.log->Warning(absl::StrCat("kmem guard not applied (fail-open): ",
                                  guard.message()));
    // Count the unguarded start for kmemguard doctor and the hook.
    absl::Status counted = RecordUnguardedStart(
        inv.config.state_dir, inv.args.container_id, guard.message());
    if (!counted.ok()) inv.log->Warning(counted.message());
  }
  return PassThrough(inv);
}

// delete of a container whose cgroup the wrapper created: run the runtime,
// then remove what the wrapper created once the container is gone, and reap
// other stale records now and then. Without a record: pass-through.
int Delete(const Invocation& inv) {
  if (!inv.config_status.ok() || inv.config.disabled) return PassThrough(inv);
  const WrapperContext ctx = ContextOf(inv);
  absl::StatusOr<std::string> record = PrepareDelete(ctx);
  if (!record.ok()) {
    if (!absl::IsNotFound(record.status())) {
      inv.log->Warning(absl::StrCat("kmemguard record: ",
                                    record.status().message()));
    }
    return PassThrough(inv);
  }
  absl::StatusOr<int> status = SpawnAndWait(inv.runtime_path,
                                            inv.args.passthrough);
  if (!status.ok()) {
    inv.log->Error(status.status().message());
    return 1;
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
    // The same identity checks as gc: a delete that did not delete (a
    // running container without --force) leaves the record alone.
    GcEntry done = CollectRecord(*record, GcOptions{});
    if (done.action == GcAction::kError) {
      inv.log->Warning(absl::StrCat("cleanup of ", inv.args.container_id,
                                    " (gc retries): ", done.reason));
    }
  }
  MaybeCollectGarbage(inv.config.state_dir, kLazyGcIntervalSeconds);
  // The runtime's exit status, or death of the same signal.
  return ExitLikeChild(*status);
}

}  // namespace

absl::Span<const VerbRow> VerbTable() {
  // Verbs missing here (start, state, kill, update, exec, ...) pass through.
  // constexpr: no initialiser runs on the hot path.
  static constexpr VerbRow kVerbs[] = {
      {"", "no-verb", &NoVerb},
      {"create", "create-like", &CreateLike},
      {"run", "create-like", &CreateLike},
      {"restore", "create-like", &CreateLike},
      {"delete", "delete", &Delete},
  };
  return kVerbs;
}

KMEMGUARD_LEAN_PATH const VerbRow& VerbRowFor(absl::string_view verb) {
  static constexpr VerbRow kPassThrough{"*", "pass-through", &PassThrough};
  for (const VerbRow& row : VerbTable()) {
    if (verb == row.verb) return row;
  }
  return kPassThrough;
}

KMEMGUARD_LEAN_PATH bool PassesThrough(absl::string_view verb) {
  return VerbRowFor(verb).run == &PassThrough;
}

int DispatchVerb(const Invocation& inv) {
  return VerbRowFor(inv.args.command).run(inv);
}

}  // namespace kmemguard::shim

// SPDX-License-Identifier: Apache-2.0
//
// What kmemguard-runtime does before it execs the real runtime: prepare the
// container's memory cgroup with the guard on create/run/restore and keep a
// record of what it created, which gc.h reaps once the container is gone
// (docs/process-model.md). Split from main.cc so tests can drive it.

#ifndef KMEMGUARD_SHIM_RUNTIME_WRAPPER_H_
#define KMEMGUARD_SHIM_RUNTIME_WRAPPER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/runtime_log.h"
#include "common/shim_config.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "runtime/records.h"
#include "runtime/runtime_args.h"

namespace kmemguard::shim {

struct WrapperContext {
  RuntimeArgs args;
  ShimConfig config;
  std::string runtime_path;  // the real runtime
  std::string canonical_root;  // HostCanonicalRuntimeRoot(args.root, ...)
  const RuntimeLog* log = nullptr;
};

// create / run / restore: reads <bundle>/config.json, resolves the memory
// cgroup as the runtime will and, when the cgroup does not exist yet,
// claims the container's record (O_EXCL), creates the cgroup with the
// guard and the limits, and confirms the record with the inodes. Runs in
// the process that then execs the runtime. OK without doing anything when
// there is nothing to do (invalid id, no memory settings, no v1 memory
// hierarchy, systemd driver, crun's disabled cgroup manager, existing
// cgroup). An error means the guard could not be put in place, and nothing
// of ours is left; the caller applies the failure policy.
absl::Status PrepareCreate(const WrapperContext& ctx);

// delete: the record of the container, if the wrapper created its cgroup;
// empties that cgroup's charged page cache first (memory.force_empty, when
// no task is left). NotFound when there is no record.
absl::StatusOr<std::string> PrepareDelete(const WrapperContext& ctx);

// The part of PrepareCreate that touches the hierarchy, on any CgroupFs:
// on a kernel where kmem is opt-in, the inherited-kmem check (a warning, or
// FailedPrecondition under fail-closed); then Apply + Set with the guard,
// removing what it created when Set fails.
absl::StatusOr<MemoryController::CreateResult> GuardContainerCgroup(
    CgroupFs& fs, const CgroupPath& path, const MemoryResources& resources,
    const ShimConfig& config, const RuntimeLog& log,
    absl::string_view kernel_release);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_WRAPPER_H_

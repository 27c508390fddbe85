// SPDX-License-Identifier: Apache-2.0
//
// The cgroup v1 memory controller: runc libcontainer's fs.MemoryGroup
// (runc@4d6e672 libcontainer/cgroups/fs/memory.go) with the kmem guard
// restored. Apply, Set, GetStats and Remove touch the same control files, in
// the same order, with the same bytes as runc; each deliberate difference is
// listed in the function's comment and in README.md.

#ifndef KMEMGUARD_CORE_MEMORY_H_
#define KMEMGUARD_CORE_MEMORY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory_stats.h"
#include "kmemguard/core/resources.h"

namespace kmemguard {

// Control file names, as the kernel spells them
// (Documentation/admin-guide/cgroup-v1/memory.rst).
inline constexpr char kLimitInBytes[] = "memory.limit_in_bytes";
inline constexpr char kMemswLimitInBytes[] = "memory.memsw.limit_in_bytes";
inline constexpr char kKmemLimitInBytes[] = "memory.kmem.limit_in_bytes";
inline constexpr char kKmemTcpLimitInBytes[] = "memory.kmem.tcp.limit_in_bytes";
inline constexpr char kSoftLimitInBytes[] = "memory.soft_limit_in_bytes";
inline constexpr char kOomControl[] = "memory.oom_control";
inline constexpr char kSwappiness[] = "memory.swappiness";
inline constexpr char kMemoryStat[] = "memory.stat";
inline constexpr char kUseHierarchy[] = "memory.use_hierarchy";
inline constexpr char kForceEmpty[] = "memory.force_empty";
inline constexpr char kCgroupProcs[] = "cgroup.procs";

// What Apply did about kernel-memory accounting.
enum class KmemActivation {
  kNotAttempted,      // the policy did not ask for it
  kEnabled,           // wrote 1 then -1 to memory.kmem.limit_in_bytes
  kSkippedNoFile,     // the kernel has no memory.kmem.limit_in_bytes
  kSkippedRefused,    // the kernel refuses kmem limits (EOPNOTSUPP, 5.16+)
};
absl::string_view KmemActivationName(KmemActivation activation);

struct ApplyResult {
  // This Apply created the cgroup's own directory (decided by mkdir's
  // result, never by a prior stat).
  bool created = false;
  // Every directory this Apply created, parents first.
  std::vector<CgroupPath> created_dirs;
  KmemActivation kmem = KmemActivation::kNotAttempted;
  // The pid written to cgroup.procs, or -1.
  int64_t joined_pid = -1;
};

struct SetResult {
  // What was written after runc's rules (memsw forced to -1 with an
  // unlimited memory limit when the memsw file exists).
  MemoryResources effective;
  // Facts the operator should hear (e.g. a kernel that ignores kmem limits).
  std::vector<std::string> warnings;
};

struct RemoveOptions {
  // Write 0 to memory.force_empty of each cgroup before its rmdir, so page
  // cache charged to it does not keep it alive as a dying cgroup holding a
  // memcg ID (measured on Linux 6.18: 5 of 5 plain removals left one, 0 of
  // 5 with force_empty).
  bool force_empty = false;
};

// Turns a failed mkdir into a clearer error (issue: exhaustion-aware
// errors); receives the mkdir status, returns the status to report.
using MkdirErrorHook = std::function<absl::Status(const absl::Status&)>;

class MemoryController {
 public:
  // `fs` is the memory hierarchy; it must outlive the controller.
  MemoryController(CgroupFs* fs, KmemPolicy policy)
      : fs_(fs), policy_(policy) {}

  KmemPolicy policy() const { return policy_; }
  CgroupFs& fs() const { return *fs_; }
  void set_mkdir_error_hook(MkdirErrorHook hook) {
    mkdir_error_hook_ = std::move(hook);
  }

  // runc fs.MemoryGroup.Apply followed by its join: when `resources` touches
  // memory (MemoryAssigned), creates `path` and, if this call created it and
  // the policy allows, enables kmem accounting (memory.kmem.limit_in_bytes:
  // "1" then "-1"); then creates `path` if still missing and writes `pid` to
  // cgroup.procs (nothing when pid is -1, the kubelet's "create only").
  //
  // Differences from runc, each a runc bug or hazard:
  //  - "created" comes from mkdir's own EEXIST, not stat-then-mkdir, so two
  //    concurrent appliers never both enable kmem;
  //  - the kmem guard follows `policy()`; with kDisabled a requested kernel
  //    limit is FailedPrecondition before anything is created;
  //  - a kernel refusing kmem writes (EOPNOTSUPP) skips the enabling writes;
  //  - on any failure every directory this call created is removed, and a
  //    directory it did not create is never removed (runc leaves its own
  //    behind when kmem enabling fails, and RemoveAll's a joined one).
  absl::StatusOr<ApplyResult> Apply(const CgroupPath& path,
                                    const MemoryResources& resources,
                                    int64_t pid);

  // Joins an existing cgroup without creating anything (runc's Manager.Apply
  // with explicit per-controller Paths): NotFound if it does not exist.
  absl::StatusOr<ApplyResult> Join(const CgroupPath& path, int64_t pid);

  // runc fs.MemoryGroup.Set: writes memory.limit_in_bytes and
  // memory.memsw.limit_in_bytes in the order the kernel accepts (memsw first
  // when it is -1 or grows past the current limit), then
  // memory.kmem.limit_in_bytes, memory.soft_limit_in_bytes,
  // memory.kmem.tcp.limit_in_bytes, memory.oom_control ("1") and
  // memory.swappiness, each only when set; values are decimal, no newline.
  //
  // Differences: the values are validated before any write
  // (ValidateMemoryResources); an explicit kernel limit on a kernel without
  // the file or refusing it is FailedPrecondition instead of being skipped or
  // a raw errno; one the kernel accepts but ignores adds a warning; EBUSY on
  // memory.limit_in_bytes names current and peak usage.
  absl::StatusOr<SetResult> Set(const CgroupPath& path,
                                const MemoryResources& resources);

  // runc fs.MemoryGroup.GetStats: NotFound-free: a missing memory.stat
  // yields present=false; missing memsw/kmem/kmem.tcp files yield zeros.
  absl::StatusOr<MemoryStats> GetStats(const CgroupPath& path);

  // runc cgroups.RemovePaths for one path: up to 5 rounds, sleeping 10, 20,
  // 40 and 80 ms between them, each removing child cgroups first. A path
  // that does not exist is success.
  absl::Status Remove(const CgroupPath& path, RemoveOptions options = {});

  // Apply, then Set; if Set fails, removes what Apply created. The
  // resources are validated first, so invalid input creates nothing. With
  // `explicit_path` (runc Paths) only joins: runc's Manager.Set is a no-op
  // then.
  struct CreateResult {
    ApplyResult apply;
    SetResult set;
  };
  absl::StatusOr<CreateResult> ApplyAndSet(const CgroupPath& path,
                                           const MemoryResources& resources,
                                           int64_t pid,
                                           bool explicit_path = false);

  // Removes the directories in `result.created_dirs`, deepest first; used to
  // undo an Apply. Returns the first error, after trying them all.
  absl::Status Rollback(const ApplyResult& result);

 private:
  // Set, with the current memory.limit_in_bytes already known (a cgroup
  // ApplyAndSet just created) instead of read.
  absl::StatusOr<SetResult> SetWithKnownLimit(
      const CgroupPath& path, const MemoryResources& resources,
      std::optional<uint64_t> known_limit);
  // Creates `path` and missing parents; appends what it created.
  absl::Status MakeDirs(const CgroupPath& path,
                        std::vector<CgroupPath>* created);
  absl::StatusOr<KmemActivation> EnableKernelMemoryAccounting(
      const CgroupPath& path);
  absl::Status RemoveTree(const CgroupPath& path, const RemoveOptions& options);
  absl::Status RemoveTreeForceEmpty(const CgroupPath& path,
                                    const RemoveOptions& options);
  absl::StatusOr<MemoryData> GetMemoryData(const CgroupPath& path,
                                           absl::string_view prefix);

  CgroupFs* fs_;
  KmemPolicy policy_;
  MkdirErrorHook mkdir_error_hook_;
};

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_MEMORY_H_

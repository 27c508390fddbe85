// SPDX-License-Identifier: Apache-2.0
//
// Memory-cgroup ID accounting and kmem state, shared by the runtime wrapper,
// the hook and kmemguard doctor: the ID limit and /proc/cgroups, the
// exhaustion-aware mkdir error, ONE walk of a hierarchy, and ONE answer to
// "is kernel-memory accounting active on this cgroup?" with ONE notion of
// "no limit". docs/doctor.md documents the heuristics.

#ifndef KMEMGUARD_CORE_MEMCG_H_
#define KMEMGUARD_CORE_MEMCG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"

namespace kmemguard {

// MEM_CGROUP_ID_MAX (include/linux/memcontrol.h): memcg IDs are 16 bits.
inline constexpr int64_t kMemcgIdLimit = 65535;

// One row of /proc/cgroups.
struct ProcCgroupsRow {
  std::string subsys_name;
  int hierarchy = 0;
  int64_t num_cgroups = 0;
  bool enabled = false;
};

// Returns the `memory` row of /proc/cgroups text; every other line
// (comments, other controllers, anything unreadable) is skipped. NotFound
// when there is none (kernel without CONFIG_MEMCG); InvalidArgument naming
// the row when the memory row itself is malformed.
absl::StatusOr<ProcCgroupsRow> ParseProcCgroupsMemory(absl::string_view text);

// "65,535".
std::string WithThousands(int64_t n);

// ------------------------------------------------- exhaustion-aware errors

// The ID space counts as exhausted when fewer than kExhaustionFreeIds IDs are
// free or at least kExhaustionRatio of them are in use.
inline constexpr int64_t kExhaustionFreeIds = 64;
inline constexpr double kExhaustionRatio = 0.99;
bool IdSpaceExhausted(int64_t in_use, int64_t limit = kMemcgIdLimit);

// Given a failed mkdir in the memory hierarchy and /proc/cgroups text:
// when the errno is ENOSPC (IDR, older kernels) or EBUSY (xarray, newer
// kernels) and the memory row shows the ID space exhausted, returns a
// ResourceExhausted status with the errno payload kept, whose message reads
//   memory cgroup IDs exhausted: 65,531 of 65,535 in use, 64,912 dying; run
//   kmemguard doctor (mkdir /sys/fs/cgroup/memory/x: Device or resource busy
//   (EBUSY))
// ("N dying" only when `visible` is known). Otherwise returns `mkdir_status`.
absl::Status ExhaustionAwareMkdirError(const absl::Status& mkdir_status,
                                       absl::string_view proc_cgroups_text,
                                       std::optional<int64_t> visible);

// A MemoryController mkdir hook: on ENOSPC/EBUSY reads
// `proc_root`/cgroups and, when the ID space is exhausted, counts the
// visible cgroups of `fs` (which must be rooted at the hierarchy root for the
// dying count to be right) and returns ExhaustionAwareMkdirError. Reading
// failures leave the original status. `fs` must outlive the hook.
MkdirErrorHook ExhaustionAwareMkdirHook(CgroupFs* fs,
                                        std::string proc_root = "/proc");

// ------------------------------------------------------------ the one walk

// What WalkCgroups does at each cgroup. Both callbacks are optional.
struct CgroupVisitor {
  // A leaf (link count 2: kernfs keeps a directory's nlink at 2 + its
  // subdirectories) is counted without being opened, about one stat per
  // cgroup instead of nine calls, unless this returns true for it.
  std::function<bool(const CgroupPath& leaf)> open_leaf;
  // Every cgroup opened and listed (the walk's `dir` included), with its
  // subdirectories.
  std::function<void(const CgroupPath& cgroup,
                     const std::vector<CgroupFs::DirLinks>& children)>
      visit;
};

// Walks the cgroups under `dir` of `fs`, `dir` included, and returns how
// many there are. A cgroup removed while we walk is simply gone; any other
// listing error (and ENOENT on `dir` itself when it is the root) is
// returned.
absl::StatusOr<int64_t> WalkCgroups(CgroupFs* fs, const CgroupPath& dir,
                                    const CgroupVisitor& visitor);

// systemd's transient run-*.scope units (kubernetes#70324).
bool IsRunScope(absl::string_view name);

// Counts the cgroups under `dir` of `fs`, `dir` included (WalkCgroups).
// `run_scopes`, when given, receives the number of run-*.scope directories.
absl::StatusOr<int64_t> CountCgroups(CgroupFs* fs, const CgroupPath& dir = {},
                                     int64_t* run_scopes = nullptr);

// ------------------------------------------------------------- kmem state

// What a v1 memory.*limit_in_bytes file reads when no limit is set, for a
// kernel with pages of `page_size` bytes:
//   - 3.10 to 3.18 (res_counter): RESOURCE_MAX = LLONG_MAX,
//     9223372036854775807 (include/linux/res_counter.h; runc-memory-spec.md
//     section 2.6, docs/simulation.md R8).
//   - 3.19+ (page_counter, 3e32cb2e0a12): PAGE_COUNTER_MAX = LONG_MAX /
//     PAGE_SIZE pages (include/linux/page_counter.h), read back as pages *
//     PAGE_SIZE (mem_cgroup_read_u64, RES_LIMIT): LLONG_MAX rounded down to
//     the page size. 9223372036854771712 with 4 KiB pages,
//     9223372036854710272 with 64 KiB pages (arm64, ppc64le).
// Writing a larger value, or -1, gives the same reading (page_counter_memparse
// clamps to PAGE_COUNTER_MAX), so every reading at or above this value means
// "no limit", and every reading below it is a limit someone wrote.
uint64_t UnlimitedLimitBytes(uint64_t page_size);
// The running kernel's page size (sysconf(_SC_PAGESIZE); 4096 if unknown).
uint64_t HostPageSize();
// True when `limit_in_bytes` is a limit someone set (below
// UnlimitedLimitBytes). A fixed floor cannot serve every kernel: 1 << 62
// misses limits between 2^62 and the maximum, and 9223372036854771712 takes
// the 64 KiB-page kernels' "no limit" for a limit.
bool LimitIsSet(uint64_t limit_in_bytes, uint64_t page_size = HostPageSize());

// Whether kernel-memory accounting is active on one v1 memory cgroup, on
// kernels where it is opt-in per cgroup (before 4.6; runc-memory-spec.md
// section 6.3), and why we think so. Active when memory.kmem.limit_in_bytes
// is set (LimitIsSet: writing any limit activates accounting,
// memcg_update_kmem_limit), or memory.kmem.usage_in_bytes is above 0, or
// memory.kmem.slabinfo lists per-cgroup caches.
struct KmemState {
  bool active = false;
  std::string evidence;  // one phrase for reports: "kmem limit set (4096)"
};
KmemState InspectKmemState(CgroupFs* fs, const CgroupPath& cgroup,
                           uint64_t page_size = HostPageSize());

// A control file holding one number, as an int64: values above INT64_MAX
// (only "no limit" readings are that large) read as INT64_MAX. Anything
// else the kernel does not write is InvalidArgument naming the file.
absl::StatusOr<int64_t> ReadControlInt(CgroupFs* fs, const CgroupPath& cgroup,
                                       absl::string_view name);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_MEMCG_H_

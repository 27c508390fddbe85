// SPDX-License-Identifier: Apache-2.0
//
// Domain types: what a runtime asks of the memory controller, and where the
// cgroup is. They mirror runc libcontainer's configs.Resources memory fields
// and configs.Cgroup location fields at runc@4d6e672 (the revision Kubernetes
// 1.8/1.9 vendored), with names that carry their units.

#ifndef KMEMGUARD_CORE_RESOURCES_H_
#define KMEMGUARD_CORE_RESOURCES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kmemguard {

// The memory fields of runc's configs.Resources. 0 means "not set" for the
// int64 fields (runc's convention); -1 means "unlimited".
struct MemoryResources {
  // Memory (memory.limit_in_bytes).
  int64_t limit_bytes = 0;
  // MemoryReservation (memory.soft_limit_in_bytes).
  int64_t reservation_bytes = 0;
  // MemorySwap: on v1 this is memory PLUS swap (memory.memsw.limit_in_bytes).
  int64_t memsw_limit_bytes = 0;
  // KernelMemory (memory.kmem.limit_in_bytes).
  int64_t kernel_limit_bytes = 0;
  // KernelMemoryTCP (memory.kmem.tcp.limit_in_bytes).
  int64_t kernel_tcp_limit_bytes = 0;
  // MemorySwappiness (memory.swappiness); nullopt = unset. runc also treats
  // the value whose int64 reading is -1 (UINT64_MAX) as unset.
  std::optional<uint64_t> swappiness;
  // OomKillDisable (memory.oom_control).
  bool oom_kill_disable = false;

  friend bool operator==(const MemoryResources& a, const MemoryResources& b) {
    return a.limit_bytes == b.limit_bytes &&
           a.reservation_bytes == b.reservation_bytes &&
           a.memsw_limit_bytes == b.memsw_limit_bytes &&
           a.kernel_limit_bytes == b.kernel_limit_bytes &&
           a.kernel_tcp_limit_bytes == b.kernel_tcp_limit_bytes &&
           a.swappiness == b.swappiness &&
           a.oom_kill_disable == b.oom_kill_disable;
  }
};

// Returns runc's memoryAssigned(): whether the config touches the memory
// controller at all (fs/memory.go). Note the asymmetries kept from runc:
// limit and reservation count when non-zero (so -1 counts), memsw, kernel and
// kernel TCP only when positive.
bool MemoryAssigned(const MemoryResources& r);

// Returns InvalidArgument, before anything is written, for values no kernel
// accepts: swappiness above 100 (runc's own message), and negative sizes
// other than -1. runc validates swappiness only after it has written the
// memory limits, and passes other negatives to the kernel (EINVAL); refusing
// them up front keeps a failed Set from leaving half-applied limits.
absl::Status ValidateMemoryResources(const MemoryResources& r);

// Where the cgroup is: runc's configs.Cgroup Path / Parent+Name / Paths.
struct CgroupLocation {
  std::string path;    // Path (cgroupsPath); absolute or relative
  std::string parent;  // Parent, used with name when path is empty
  std::string name;    // Name (runc sets the container id here)
  // Paths: explicit per-controller absolute paths; when set, runc joins them
  // and creates nothing (no mkdir, no kmem, no Set).
  std::map<std::string, std::string> controller_paths;
};

// The kmem guard: when Apply enables kernel-memory accounting (writes 1 then
// -1 to memory.kmem.limit_in_bytes) on a cgroup.
enum class KmemPolicy {
  // Only when this Apply created the directory AND a kernel-memory limit was
  // requested (runc PR #1095's condition together with PR #1350's).
  kGuarded,
  // Whenever this Apply created the directory and the config touches memory
  // (runc@4d6e672, PR #1350): the behaviour that leaks memcg IDs on 3.10.
  kLegacy,
  // Never; an explicit kernel-memory limit is an error (runc's nokmem build,
  // PRs #1921 and #1939).
  kDisabled,
};

absl::string_view KmemPolicyName(KmemPolicy policy);
absl::StatusOr<KmemPolicy> ParseKmemPolicy(absl::string_view name);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_RESOURCES_H_

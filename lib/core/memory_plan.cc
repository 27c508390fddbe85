// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/memory_plan.h"

#include "absl/strings/str_cat.h"
#include "kmemguard/core/memory.h"

namespace kmemguard {

MemoryResources ApplyUnlimitedSwapRule(const MemoryResources& resources,
                                       bool memsw_file_exists) {
  MemoryResources out = resources;
  // runc@4d6e672 overwrites the caller's MemorySwap here, even a positive
  // one; runc changed that only in v1.0.0-rc91 (d57f5bb28). Kept for byte
  // compatibility with the runc Kubernetes 1.9 vendored.
  if (out.limit_bytes == -1 && memsw_file_exists) out.memsw_limit_bytes = -1;
  return out;
}

bool PlanNeedsCurrentLimit(const MemoryResources& resources) {
  return resources.limit_bytes != 0 && resources.memsw_limit_bytes != 0;
}

WritePlan PlanMemorySet(const MemoryResources& r, uint64_t current_limit) {
  WritePlan plan;
  const ControlWrite limit{kLimitInBytes, absl::StrCat(r.limit_bytes)};
  const ControlWrite memsw{kMemswLimitInBytes,
                           absl::StrCat(r.memsw_limit_bytes)};
  if (PlanNeedsCurrentLimit(r)) {
    // The kernel requires limit <= memsw after every single write, so raise
    // memsw first when growing, lower the limit first when shrinking (runc
    // fs/memory.go setMemoryAndSwap; kernel mm/memcontrol.c
    // mem_cgroup_resize_max rejects the other order with EINVAL).
    if (r.memsw_limit_bytes == -1 ||
        current_limit < static_cast<uint64_t>(r.memsw_limit_bytes)) {
      plan.push_back(memsw);
      plan.push_back(limit);
    } else {
      plan.push_back(limit);
      plan.push_back(memsw);
    }
  } else {
    if (r.limit_bytes != 0) plan.push_back(limit);
    if (r.memsw_limit_bytes != 0) plan.push_back(memsw);
  }
  if (r.kernel_limit_bytes != 0) {
    plan.push_back({kKmemLimitInBytes, absl::StrCat(r.kernel_limit_bytes)});
  }
  if (r.reservation_bytes != 0) {
    plan.push_back({kSoftLimitInBytes, absl::StrCat(r.reservation_bytes)});
  }
  if (r.kernel_tcp_limit_bytes != 0) {
    plan.push_back(
        {kKmemTcpLimitInBytes, absl::StrCat(r.kernel_tcp_limit_bytes)});
  }
  if (r.oom_kill_disable) plan.push_back({kOomControl, "1"});
  if (r.swappiness.has_value() && static_cast<int64_t>(*r.swappiness) != -1 &&
      *r.swappiness <= 100) {
    plan.push_back({kSwappiness, absl::StrCat(*r.swappiness)});
  }
  return plan;
}

}  // namespace kmemguard

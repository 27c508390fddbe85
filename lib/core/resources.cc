// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/resources.h"

#include "absl/strings/str_cat.h"

namespace kmemguard {

bool MemoryAssigned(const MemoryResources& r) {
  // runc fs/memory.go memoryAssigned(), term by term.
  return r.limit_bytes != 0 || r.reservation_bytes != 0 ||
         r.memsw_limit_bytes > 0 || r.kernel_limit_bytes > 0 ||
         r.kernel_tcp_limit_bytes > 0 || r.oom_kill_disable ||
         (r.swappiness.has_value() &&
          static_cast<int64_t>(*r.swappiness) != -1);
}

absl::Status ValidateMemoryResources(const MemoryResources& r) {
  struct Field {
    const char* name;
    int64_t value;
  };
  const Field fields[] = {
      {"memory limit", r.limit_bytes},
      {"memory reservation", r.reservation_bytes},
      {"memory+swap limit", r.memsw_limit_bytes},
      {"kernel memory limit", r.kernel_limit_bytes},
      {"kernel TCP memory limit", r.kernel_tcp_limit_bytes},
  };
  for (const Field& f : fields) {
    if (f.value < -1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid ", f.name, " ", f.value,
          ": sizes are bytes >= 0, or -1 for unlimited"));
    }
  }
  if (r.swappiness.has_value() && static_cast<int64_t>(*r.swappiness) != -1 &&
      *r.swappiness > 100) {
    // runc's exact text (fs/memory.go Set).
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value:", *r.swappiness,
                     ". valid memory swappiness range is 0-100"));
  }
  return absl::OkStatus();
}

absl::string_view KmemPolicyName(KmemPolicy policy) {
  switch (policy) {
    case KmemPolicy::kGuarded: return "guarded";
    case KmemPolicy::kLegacy: return "legacy";
    case KmemPolicy::kDisabled: return "disabled";
  }
  return "?";
}

absl::StatusOr<KmemPolicy> ParseKmemPolicy(absl::string_view name) {
  if (name == "guarded") return KmemPolicy::kGuarded;
  if (name == "legacy") return KmemPolicy::kLegacy;
  if (name == "disabled") return KmemPolicy::kDisabled;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown kmem policy \"", name, "\" (want guarded, legacy or disabled)"));
}

}  // namespace kmemguard

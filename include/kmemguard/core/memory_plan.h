// SPDX-License-Identifier: Apache-2.0
//
// The plan layer of Set: configuration and what was read from the kernel
// in, the ordered list of control-file writes out. No I/O, so the ordering
// rules are tested as tables on any machine.

#ifndef KMEMGUARD_CORE_MEMORY_PLAN_H_
#define KMEMGUARD_CORE_MEMORY_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "kmemguard/core/resources.h"

namespace kmemguard {

struct ControlWrite {
  std::string file;   // e.g. memory.memsw.limit_in_bytes
  std::string value;  // the exact bytes: decimal, no newline

  friend bool operator==(const ControlWrite& a, const ControlWrite& b) {
    return a.file == b.file && a.value == b.value;
  }
};
using WritePlan = std::vector<ControlWrite>;

// runc's rule (fs/memory.go setMemoryAndSwap): an unlimited memory limit
// with the memsw file present forces memsw to -1 as well, whatever was asked.
MemoryResources ApplyUnlimitedSwapRule(const MemoryResources& resources,
                                       bool memsw_file_exists);

// Whether Set must read the current limit before planning: only when both
// the memory and the memsw limit are set.
bool PlanNeedsCurrentLimit(const MemoryResources& resources);

// Returns the writes of runc's Set for `resources` (after
// ApplyUnlimitedSwapRule), in runc's order. `current_limit` is the value of
// memory.limit_in_bytes, used only when PlanNeedsCurrentLimit(): memsw is
// written first when it is -1 or above the current limit (the kernel keeps
// limit <= memsw at all times and rejects a step that breaks it with
// EINVAL), else the limit first. Swappiness is planned only when set, not
// the -1 sentinel, and <= 100 (validation happens before planning).
WritePlan PlanMemorySet(const MemoryResources& resources,
                        uint64_t current_limit);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_MEMORY_PLAN_H_

// SPDX-License-Identifier: Apache-2.0
//
// Statistics of a memory cgroup and the pure parsers behind them, mirroring
// runc@4d6e672 libcontainer/cgroups/stats.go and fs/utils.go.

#ifndef KMEMGUARD_CORE_MEMORY_STATS_H_
#define KMEMGUARD_CORE_MEMORY_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kmemguard {

// runc cgroups.MemoryData: one of the four families memory, memory.memsw,
// memory.kmem, memory.kmem.tcp.
struct MemoryData {
  uint64_t usage = 0;      // <prefix>.usage_in_bytes
  uint64_t max_usage = 0;  // <prefix>.max_usage_in_bytes
  uint64_t failcnt = 0;    // <prefix>.failcnt
  uint64_t limit = 0;      // <prefix>.limit_in_bytes
};

// runc cgroups.MemoryStats.
struct MemoryStats {
  uint64_t cache = 0;            // memory.stat "cache"
  MemoryData usage;              // memory.*
  MemoryData swap_usage;         // memory.memsw.* (zeros when absent)
  MemoryData kernel_usage;       // memory.kmem.* (zeros when absent)
  MemoryData kernel_tcp_usage;   // memory.kmem.tcp.* (zeros when absent)
  bool use_hierarchy = false;    // memory.use_hierarchy == 1
  std::map<std::string, uint64_t> stats;  // every memory.stat key
  // False when memory.stat was absent: runc then returns with nothing read.
  bool present = false;
};

// Parses a single-value control file as runc's getCgroupParamUint does: the
// text is trimmed; a base-10 uint64 is returned; a negative number (even
// below INT64_MIN) reads as 0, because kernel bugs can make some stats
// negative. Anything else is InvalidArgument with runc's text
//   unable to parse "<raw contents>" as a uint from Cgroup file "<path>"
absl::StatusOr<uint64_t> ParseCgroupUint(absl::string_view contents,
                                         absl::string_view path);

// Parses memory.stat: one "key value" pair per line, exactly two fields.
// Errors carry runc's text: failed to parse memory.stat ("<line>") - ...
absl::StatusOr<std::map<std::string, uint64_t>> ParseMemoryStat(
    absl::string_view contents);

// Quotes `s` the way Go's %q does, for messages that match runc's.
std::string GoQuote(absl::string_view s);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_MEMORY_STATS_H_

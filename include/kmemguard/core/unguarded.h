// SPDX-License-Identifier: Apache-2.0
//
// The count of containers started without the kmem guard. kmemguard-runtime
// under the fail-open policy runs a container even when it could not prepare
// its memory cgroup; each such start appends one fixed-size record to
// <state-dir>/unguarded-starts (default /run/kmemguard, a tmpfs, so the count
// is "since boot"). `kmemguard doctor` and kmemguard-hook read it back: a
// product that silently does nothing must never look healthy.
//
// Records are kUnguardedRecordSize bytes, one line each:
//   <unix seconds> <container id or -> <reason>   (space-padded, '\n')
// Writers hold an exclusive POSIX lock (fcntl F_SETLKW) on the file and
// append with O_APPEND in one write(2), first truncating any torn tail back
// to a record boundary, so concurrent wrappers never interleave and a crash
// leaves at most one incomplete record, which readers ignore. Readers hold
// a shared lock and read the size and the last record only.

#ifndef KMEMGUARD_CORE_UNGUARDED_H_
#define KMEMGUARD_CORE_UNGUARDED_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kmemguard {

inline constexpr char kUnguardedFileName[] = "unguarded-starts";
inline constexpr size_t kUnguardedRecordSize = 256;
inline constexpr char kDefaultStateDir[] = "/run/kmemguard";

struct UnguardedRecord {
  absl::Time time;
  std::string container_id;  // "" when the runtime was given none
  std::string reason;        // one line
};

// The record's bytes: exactly kUnguardedRecordSize, ending in '\n'. Control
// characters in the id and reason become spaces, an id with a space is
// replaced by "?", and the reason is cut to fit (pure).
std::string FormatUnguardedRecord(const UnguardedRecord& record);
// Parses one record (with or without its '\n' and padding); InvalidArgument
// when it does not start with "<seconds> <id> " (pure).
absl::StatusOr<UnguardedRecord> ParseUnguardedRecord(absl::string_view bytes);

// Appends one record to <state_dir>/unguarded-starts, creating the directory
// (mode 0755) and the file (0644) when missing. Errors name the path and
// errno.
absl::Status RecordUnguardedStart(const std::string& state_dir,
                                  absl::string_view container_id,
                                  absl::string_view reason,
                                  absl::Time now = absl::Now());

struct UnguardedStarts {
  std::string path;    // the counter file
  int64_t count = 0;   // complete records: starts without the guard
  std::optional<UnguardedRecord> last;  // unset when count is 0 or unreadable
};
// Reads the counter. A missing directory or file is a count of 0.
absl::StatusOr<UnguardedStarts> ReadUnguardedStarts(const std::string& state_dir);

// "3 containers started without the kmem guard since boot; last at
// 2026-12-01T23:10:00Z (ctr-1): <reason>", or "" when the count is 0.
std::string DescribeUnguardedStarts(const UnguardedStarts& starts);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_UNGUARDED_H_

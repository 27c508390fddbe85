// SPDX-License-Identifier: Apache-2.0
//
// kmemguard gc: removes what kmemguard-runtime created for containers that
// no longer exist, from the records in the state directory. It acts on a
// record only when every identity check agrees: the process that made it
// (pid and start time) is gone, the runtime has no such container, and
// each directory still has the inode the record names; it never removes a
// cgroup that holds tasks or that the record does not list. See
// docs/process-model.md.

#ifndef KMEMGUARD_SHIM_RUNTIME_GC_H_
#define KMEMGUARD_SHIM_RUNTIME_GC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/process.h"
#include "runtime/records.h"

namespace kmemguard::shim {

enum class GcAction {
  kKept,         // the container (or its runtime call) is still there
  kRemoved,      // everything listed is gone, and the record with it
  kWouldRemove,  // --dry-run: what kRemoved would do
  kPartial,      // some directories stay (tasks, children); kept for later
  kError,        // the record or the hierarchy cannot be read: left alone
};
absl::string_view GcActionName(GcAction action);

struct GcEntry {
  std::string record_path;
  std::string id;
  std::string runtime_root;
  std::string cgroup;
  GcAction action = GcAction::kKept;
  std::string reason;
  std::vector<std::string> removed;  // full paths (or would be, dry run)
};

struct GcOptions {
  bool dry_run = false;
};

// One record (see the header comment).
GcEntry CollectRecord(const std::string& record_path, const GcOptions& options);

// Every record under `state_dir`; also removes temporary files left by a
// wrapper that died while writing one.
std::vector<GcEntry> CollectGarbage(const std::string& state_dir,
                                    const GcOptions& options);

// CollectGarbage at most once per `interval_seconds` per state directory
// (the modification time of <state_dir>/gc.stamp). True when it ran.
bool MaybeCollectGarbage(const std::string& state_dir,
                         int64_t interval_seconds);

// A record this process created and holds open until it is confirmed.
struct ClaimedRecord {
  std::string path;
  OwnedFd file;
  size_t size = 0;  // bytes in the file
};

// Creates `record_path` for `record` with O_EXCL. If a record is already
// there and gc finds it stale, it is reaped and the claim retried once;
// otherwise FailedPrecondition: a live container's record is never
// overwritten.
absl::StatusOr<ClaimedRecord> ClaimRecord(const std::string& record_path,
                                          const CreatedRecord& record);
// Rewrites a claimed record as `record` (confirmed, with its inodes): in
// place, one pwrite over the open file, padded with JSON whitespace when it
// got shorter; through a temporary file and a rename when it is longer than
// one unsplittable write (process.h, kUnsplittableWrite). Either way a
// SIGKILL leaves the claim or the confirmation whole, never a mix.
absl::Status ConfirmRecord(ClaimedRecord& claim, const CreatedRecord& record);

// True when the record lists the container's own cgroup as created.
bool RecordOwnsLeaf(const CreatedRecord& record);

std::string GcEntriesToJson(const std::vector<GcEntry>& entries, bool dry_run);
std::string GcEntriesToText(const std::vector<GcEntry>& entries);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_GC_H_

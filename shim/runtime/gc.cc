// SPDX-License-Identifier: Apache-2.0

#include "runtime/gc.h"

#include <ctime>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/process.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/status.h"
#include "nlohmann/json.hpp"

namespace kmemguard::shim {

absl::string_view GcActionName(GcAction action) {
  switch (action) {
    case GcAction::kKept:
      return "kept";
    case GcAction::kRemoved:
      return "removed";
    case GcAction::kWouldRemove:
      return "would-remove";
    case GcAction::kPartial:
      return "partial";
    case GcAction::kError:
      return "error";
  }
  return "error";
}

bool RecordOwnsLeaf(const CreatedRecord& record) {
  for (const CreatedDir& d : record.created) {
    if (d.path == record.cgroup) return true;
  }
  return false;
}

namespace {

// Last modified before the current boot (BootTime()). A wall clock stepped
// forward after boot can make a record of this boot look older; gc then
// drops it without removing anything: a leak, never a wrong removal.
bool WrittenBeforeBoot(const std::string& path) {
  std::optional<int64_t> mtime = ModificationTime(path);
  return mtime.has_value() && *mtime < BootTime();
}

// A record from before the current boot: removed (unless dry run), and no
// directory is touched.
GcEntry DropPreBootRecord(GcEntry e, const GcOptions& options,
                          absl::string_view what) {
  e.reason = absl::StrCat(what, "record from before this boot: its cgroups "
                          "did not survive the reboot");
  if (options.dry_run) {
    e.action = GcAction::kWouldRemove;
    return e;
  }
  absl::Status s = RemoveFile(e.record_path);
  e.action = s.ok() ? GcAction::kRemoved : GcAction::kError;
  if (!s.ok()) e.reason = std::string(s.message());
  return e;
}

}  // namespace

GcEntry CollectRecord(const std::string& record_path,
                      const GcOptions& options) {
  GcEntry e;
  e.record_path = record_path;
  absl::StatusOr<std::string> text = ReadHostFile(record_path);
  if (!text.ok()) {
    e.action = ErrnoOf(text.status()) == ENOENT ? GcAction::kRemoved
                                                : GcAction::kError;
    e.reason = std::string(text.status().message());
    return e;
  }
  // Records are written without fsync (process.h, Durability): after a
  // power loss one on a disk state directory may be empty or torn. Written
  // before this boot, it describes cgroups and processes that are gone.
  const bool before_boot = WrittenBeforeBoot(record_path);
  absl::StatusOr<CreatedRecord> record = RecordFromJson(*text);
  if (!record.ok()) {
    if (before_boot) return DropPreBootRecord(std::move(e), options, "unreadable ");
    // Never guess what a record we cannot read meant.
    e.action = GcAction::kError;
    e.reason = absl::StrCat(record_path, ": ", record.status().message());
    return e;
  }
  e.id = record->id;
  e.runtime_root = record->runtime_root;
  e.cgroup = absl::StrCat(record->hierarchy_root, "/", record->cgroup);
  // 1. The runtime call that made the record is still running (a
  //    foreground `run`, or a create in progress): its pid and start time.
  if (record->owner_start != 0 &&
      ProcessStartTime(record->owner_pid) == record->owner_start) {
    e.reason = absl::StrCat("runtime process ", record->owner_pid,
                            " is still running");
    return e;
  }
  // 2. The runtime still has the container: runc and crun keep one
  //    directory per container under their root (runc: state.json).
  std::string container_dir =
      absl::StrCat(record->runtime_root, "/", record->id);
  if (PathExists(container_dir)) {
    e.reason = absl::StrCat("container exists (", container_dir, ")");
    return e;
  }
  if (before_boot) {
    // Its directories died with the reboot; one at the same path now,
    // even with the same inode number, was made by someone else.
    return DropPreBootRecord(std::move(e), options, "");
  }
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(record->hierarchy_root, RootCheck::kRequireCgroupfs);
  if (!fs.ok()) {
    e.action = GcAction::kError;
    e.reason = std::string(fs.status().message());
    return e;
  }
  // 3. Each directory, deepest first: only with the recorded inode (or,
  //    in a record never confirmed, one planned by a wrapper now dead), and
  //    only without tasks. rmdir itself refuses a cgroup with children.
  std::vector<CreatedDir> remaining;
  std::vector<std::string> notes;
  for (auto it = record->created.rbegin(); it != record->created.rend(); ++it) {
    const CreatedDir& d = *it;
    std::string full = absl::StrCat(record->hierarchy_root, "/", d.path);
    absl::StatusOr<CgroupPath> path = CgroupPath::Parse(d.path);
    if (!path.ok() || path->IsRoot()) {
      notes.push_back(absl::StrCat(d.path, ": not a cgroup path, left alone"));
      continue;
    }
    absl::StatusOr<uint64_t> inode = InodeOf(full);
    if (!inode.ok()) {
      if (ErrnoOf(inode.status()) == ENOENT) continue;  // already gone
      remaining.push_back(d);
      notes.push_back(std::string(inode.status().message()));
      continue;
    }
    if (d.inode != 0 ? *inode != d.inode : record->confirmed) {
      // Removed and made again by someone else: not ours any more.
      notes.push_back(absl::StrCat(full, ": another directory now (inode ",
                                   *inode, "), left alone"));
      continue;
    }
    absl::StatusOr<std::string> procs = (*fs)->ReadFile(*path, kCgroupProcs);
    if (!procs.ok() || !absl::StripAsciiWhitespace(*procs).empty()) {
      remaining.push_back(d);
      notes.push_back(absl::StrCat(full, procs.ok() ? ": holds tasks"
                                                    : ": cannot read tasks"));
      continue;
    }
    if (options.dry_run) {
      e.removed.push_back(full);
      continue;
    }
    if (d.path == record->cgroup) {
      // Uncharge the page cache so the cgroup does not linger as a dying
      // one holding its ID (runc-memory-spec.md §9).
      (void)(*fs)->WriteFile(*path, kForceEmpty, "0");
    }
    absl::Status rm = (*fs)->RemoveDir(*path);
    if (rm.ok() || ErrnoOf(rm) == ENOENT) {
      e.removed.push_back(full);
    } else {
      remaining.push_back(d);
      notes.push_back(std::string(rm.message()));
    }
  }
  e.reason = absl::StrJoin(notes, "; ");
  if (options.dry_run) {
    e.action = e.removed.empty() && !remaining.empty() ? GcAction::kPartial
                                                       : GcAction::kWouldRemove;
    return e;
  }
  if (remaining.empty()) {
    absl::Status s = RemoveFile(record_path);
    e.action = s.ok() ? GcAction::kRemoved : GcAction::kError;
    if (!s.ok()) e.reason = std::string(s.message());
    return e;
  }
  // Keep what is left for a later run (a parent that still holds a
  // sibling container, a cgroup with tasks).
  CreatedRecord rest = *record;
  rest.created.assign(remaining.rbegin(), remaining.rend());
  absl::Status s = WriteFileAtomically(record_path, RecordToJson(rest), 0600,
                                       Durability::kVolatile);
  e.action = s.ok() ? GcAction::kPartial : GcAction::kError;
  if (!s.ok()) e.reason = absl::StrCat(e.reason, "; ", s.message());
  return e;
}

namespace {

bool IsHashDir(absl::string_view name) {
  if (name.size() != 16) return false;
  for (char c : name) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

}  // namespace

std::vector<GcEntry> CollectGarbage(const std::string& state_dir,
                                    const GcOptions& options) {
  std::vector<GcEntry> out;
  for (const std::string& sub : ListDirectory(state_dir)) {
    if (!IsHashDir(sub)) continue;
    std::string dir = absl::StrCat(state_dir, "/", sub);
    for (const std::string& name : ListDirectory(dir)) {
      std::string path = absl::StrCat(dir, "/", name);
      size_t tmp = name.find(".json.tmp.");
      if (tmp != std::string::npos) {
        // WriteFileAtomically's temporary file, named after its writer.
        int64_t pid = 0;
        // After a reboot its pid may belong to another process.
        if (!options.dry_run &&
            ((absl::SimpleAtoi(name.substr(tmp + 10), &pid) &&
              ProcessStartTime(pid) == 0) ||
             WrittenBeforeBoot(path))) {
          (void)RemoveFile(path);
        }
        continue;
      }
      if (!absl::EndsWith(name, ".json")) continue;
      out.push_back(CollectRecord(path, options));
    }
  }
  return out;
}

bool MaybeCollectGarbage(const std::string& state_dir,
                         int64_t interval_seconds) {
  std::string stamp = absl::StrCat(state_dir, "/gc.stamp");
  std::optional<int64_t> last = ModificationTime(stamp);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (last.has_value() && now - *last < interval_seconds && now >= *last) {
    return false;
  }
  if (!Touch(stamp).ok()) return false;
  (void)CollectGarbage(state_dir, GcOptions{});
  return true;
}

absl::StatusOr<ClaimedRecord> ClaimRecord(const std::string& record_path,
                                          const CreatedRecord& record) {
  std::string json = RecordToJson(record);
  absl::StatusOr<OwnedFd> file = CreateFileExclusive(record_path, json);
  GcEntry stale;
  if (absl::IsAlreadyExists(file.status())) {
    stale = CollectRecord(record_path, GcOptions{});
    if (stale.action == GcAction::kRemoved) {
      file = CreateFileExclusive(record_path, json);
    }
  }
  if (file.ok()) return ClaimedRecord{record_path, *std::move(file), json.size()};
  if (!absl::IsAlreadyExists(file.status())) return file.status();
  return absl::FailedPreconditionError(absl::StrCat(
      "container \"", record.id, "\" already has a kmemguard record (",
      record_path, "; ", stale.reason.empty() ? GcActionName(stale.action)
                                              : stale.reason,
      "); not creating its cgroup again"));
}

absl::Status ConfirmRecord(ClaimedRecord& claim, const CreatedRecord& record) {
  std::string json = RecordToJson(record);
  if (json.size() > kUnsplittableWrite) {
    // No fsync: a record describes cgroups, which a reboot removes too.
    return WriteFileAtomically(claim.path, json, 0600, Durability::kVolatile);
  }
  // Trailing whitespace ends a JSON document as well as its end does.
  if (json.size() < claim.size) json.append(claim.size - json.size(), ' ');
  absl::Status s = OverwriteFile(claim.file.get(), json, claim.path);
  if (s.ok()) claim.size = json.size();
  return s;
}

std::string GcEntriesToJson(const std::vector<GcEntry>& entries,
                            bool dry_run) {
  nlohmann::ordered_json j;
  j["dry_run"] = dry_run;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const GcEntry& e : entries) {
    nlohmann::ordered_json r;
    r["record"] = e.record_path;
    r["id"] = e.id;
    r["runtime_root"] = e.runtime_root;
    r["cgroup"] = e.cgroup;
    r["action"] = std::string(GcActionName(e.action));
    r["reason"] = e.reason;
    r["removed"] = e.removed;
    list.push_back(std::move(r));
  }
  j["records"] = std::move(list);
  return j.dump(2) + "\n";
}

std::string GcEntriesToText(const std::vector<GcEntry>& entries) {
  std::string out;
  for (const GcEntry& e : entries) {
    absl::StrAppend(&out, GcActionName(e.action), " ",
                    e.id.empty() ? e.record_path : e.id);
    if (!e.runtime_root.empty()) absl::StrAppend(&out, " (", e.runtime_root, ")");
    if (!e.removed.empty()) {
      absl::StrAppend(&out, ": ", absl::StrJoin(e.removed, " "));
    }
    if (!e.reason.empty()) absl::StrAppend(&out, " [", e.reason, "]");
    out += "\n";
  }
  return out;
}

}  // namespace kmemguard::shim

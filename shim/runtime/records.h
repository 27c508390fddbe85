// SPDX-License-Identifier: Apache-2.0
//
// The wrapper's state records: what kmemguard-runtime created for one
// container, kept in the state directory from before the first mkdir until
// gc (runtime/gc.h) has removed everything it lists
// (docs/process-model.md, "The record"). Exported by the runtime room to
// `kmemguard gc` through runtime/gc.h.

#ifndef KMEMGUARD_SHIM_RUNTIME_RECORDS_H_
#define KMEMGUARD_SHIM_RUNTIME_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kmemguard::shim {

// A directory the wrapper created, with the inode it got (0 while the
// record is unconfirmed: written before the mkdir, see docs/process-model.md).
struct CreatedDir {
  std::string path;  // relative to the hierarchy root
  uint64_t inode = 0;
};

// What the wrapper created for one container, kept in the state directory
// from before the first mkdir until everything it lists is gone.
struct CreatedRecord {
  std::string id;
  std::string runtime_root;    // canonical (CanonicalRuntimeRoot)
  std::string hierarchy_root;  // e.g. /sys/fs/cgroup/memory
  std::string cgroup;          // relative to hierarchy_root
  std::vector<CreatedDir> created;  // parents first
  // The wrapper's pid, which the runtime keeps after the execve, and its
  // start time: while that process lives, the runtime call is not over.
  int64_t owner_pid = 0;
  uint64_t owner_start = 0;
  // False from the O_EXCL creation until the directories exist and their
  // inodes are recorded; `created` then lists the planned directories.
  bool confirmed = false;
};
std::string RecordToJson(const CreatedRecord& record);
absl::StatusOr<CreatedRecord> RecordFromJson(absl::string_view json);
// <state_dir>/<hash of the canonical runtime root>/<id>.json
std::string RecordPath(const std::string& state_dir,
                       const std::string& canonical_root,
                       const std::string& id);
// runc's container id rule: ^[\w+-\.]+$
bool IsValidContainerId(absl::string_view id);

// The runtime root a container lives under, as one key for every spelling:
// `root` made absolute against `cwd`, lexically normalised ("//", ".",
// "..", a trailing "/"), or, when empty, the runtime's default: runc and
// crun keep state in /run/<name>, or $XDG_RUNTIME_DIR/<name> when not root
// (runc main.go, crun.c); a runtime of another name is taken for runc.
std::string CanonicalRuntimeRoot(const std::string& root,
                                 const std::string& runtime_path,
                                 const std::string& cwd, bool euid_root,
                                 const std::string& xdg_runtime_dir);
// The same on this host: cwd, euid and $XDG_RUNTIME_DIR from the process,
// then realpath() when the directory exists (so a symlinked root is one key).
std::string HostCanonicalRuntimeRoot(const std::string& root,
                                     const std::string& runtime_path);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_RECORDS_H_

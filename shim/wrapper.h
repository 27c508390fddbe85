// SPDX-License-Identifier: Apache-2.0
//
// What kmemguard-runtime does before it execs the real runtime: prepare the
// container's memory cgroup with the guard on create/run/restore and keep a
// record of what it created, which gc.h reaps once the container is gone
// (docs/process-model.md). Split from runtime_main.cc so tests can drive it.

#ifndef KMEMGUARD_SHIM_WRAPPER_H_
#define KMEMGUARD_SHIM_WRAPPER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "runtime_args.h"
#include "shim_config.h"

namespace kmemguard::shim {

// The runtime's --log, in runc's formats: JSON lines (logrus: level, msg,
// time) or logrus text. Errors also go to stderr; warnings and debug lines
// only to the log files (a successful create prints nothing).
class RuntimeLog {
 public:
  RuntimeLog(std::string log_path, std::string log_format,
             std::string debug_path, std::string program)
      : log_path_(std::move(log_path)),
        json_(log_format == "json"),
        debug_path_(std::move(debug_path)),
        program_(std::move(program)) {}

  void Error(absl::string_view msg) const;
  void Warning(absl::string_view msg) const;
  void Debug(absl::string_view msg) const;
  // The line written for `level` and `msg` (for tests).
  std::string Format(absl::string_view level, absl::string_view msg) const;

 private:
  void Write(const std::string& path, absl::string_view level,
             absl::string_view msg) const;
  std::string log_path_;
  bool json_;
  std::string debug_path_;
  std::string program_;
};

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

// Whether a kernel release is one where kmem accounting is off until a
// kmem limit is written (before 4.6, b313aeee2509), i.e. where inheritance
// from an accounted parent leaks IDs.
bool KmemOptInKernel(absl::string_view release);

// Returns the ancestors of `path` (nearest first; `path` itself first with
// `include_self`) that have kmem accounting
// active and memory.use_hierarchy = 1, judged as docs/doctor.md describes
// (memory.kmem.limit_in_bytes below the unlimited value, or kernel memory
// usage above zero).
std::vector<std::string> AccountedAncestors(CgroupFs& fs,
                                            const CgroupPath& path,
                                            bool include_self = false);

struct WrapperContext {
  RuntimeArgs args;
  ShimConfig config;
  std::string runtime_path;  // the real runtime
  std::string canonical_root;  // HostCanonicalRuntimeRoot(args.root, ...)
  const RuntimeLog* log = nullptr;
};

// create / run / restore: reads <bundle>/config.json, resolves the memory
// cgroup as the runtime will and, when the cgroup does not exist yet,
// claims the container's record (O_EXCL), creates the cgroup with the
// guard and the limits, and confirms the record with the inodes. Runs in
// the process that then execs the runtime. OK without doing anything when
// there is nothing to do (invalid id, no memory settings, no v1 memory
// hierarchy, systemd driver, crun's disabled cgroup manager, existing
// cgroup). An error means the guard could not be put in place, and nothing
// of ours is left; the caller applies the failure policy.
absl::Status PrepareCreate(const WrapperContext& ctx);

// delete: the record of the container, if the wrapper created its cgroup;
// empties that cgroup's charged page cache first (memory.force_empty, when
// no task is left). NotFound when there is no record.
absl::StatusOr<std::string> PrepareDelete(const WrapperContext& ctx);

// The part of PrepareCreate that touches the hierarchy, on any CgroupFs:
// on a kernel where kmem is opt-in, the inherited-kmem check (a warning, or
// FailedPrecondition under fail-closed); then Apply + Set with the guard,
// removing what it created when Set fails.
absl::StatusOr<MemoryController::CreateResult> GuardContainerCgroup(
    CgroupFs& fs, const CgroupPath& path, const MemoryResources& resources,
    const ShimConfig& config, const RuntimeLog& log,
    absl::string_view kernel_release);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_WRAPPER_H_

// SPDX-License-Identifier: Apache-2.0
//
// What kmemguard-runtime does before it execs the real runtime: prepare the
// container's memory cgroup with the guard on create/run/restore, and clean
// up after delete. Split from runtime_main.cc so tests can drive it.

#ifndef KMEMGUARD_SHIM_WRAPPER_H_
#define KMEMGUARD_SHIM_WRAPPER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kmemguard/cgroupfs.h"
#include "kmemguard/memory.h"
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

// What the wrapper created for one container, kept in the state directory.
struct CreatedRecord {
  std::string id;
  std::string runtime_root;    // the runtime's --root
  std::string hierarchy_root;  // e.g. /sys/fs/cgroup/memory
  std::string cgroup;          // relative to hierarchy_root
  std::vector<std::string> created;  // relative paths, parents first
};
std::string RecordToJson(const CreatedRecord& record);
absl::StatusOr<CreatedRecord> RecordFromJson(absl::string_view json);
// <state_dir>/<hash of runtime root>/<id>.json
std::string RecordPath(const std::string& state_dir,
                       const std::string& runtime_root, const std::string& id);
// runc's container id rule: ^[\w+-\.]+$
bool IsValidContainerId(absl::string_view id);

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
  const RuntimeLog* log = nullptr;
};

// What to clean up once the real runtime has exited, if the container
// does not exist by then.
struct CleanupPlan {
  CreatedRecord record;
  std::string record_path;
  // The runtime's directory for this container (<root>/<id>): present as
  // long as the container exists.
  std::string container_state_dir;
};

// create / run / restore: reads <bundle>/config.json, resolves the memory
// cgroup as the runtime will, creates it with the guard and writes the
// limits, and records it. Returns the cleanup to arrange when it created
// something (nullopt when there was nothing to do: no memory settings, no
// v1 memory hierarchy, systemd driver, existing cgroup). An error means the
// guard could not be put in place; the caller applies the failure policy.
absl::StatusOr<std::optional<CleanupPlan>> PrepareCreate(
    const WrapperContext& ctx);

// delete: empties the charged page cache of a cgroup the wrapper created
// (memory.force_empty, when no task is left) and returns the cleanup to
// arrange for what is still there once the runtime has deleted the
// container.
absl::StatusOr<std::optional<CleanupPlan>> PrepareDelete(
    const WrapperContext& ctx);

// Runs `prepare` in a short-lived child confined by the seccomp allowlist
// (the real runtime is never exec'd under it) and returns its result.
absl::StatusOr<std::optional<CleanupPlan>> RunConfined(
    const std::function<absl::StatusOr<std::optional<CleanupPlan>>()>& prepare);

// The part of PrepareCreate that touches the hierarchy, on any CgroupFs:
// on a kernel where kmem is opt-in, the inherited-kmem check (a warning, or
// FailedPrecondition under fail-closed); then Apply + Set with the guard,
// removing what it created when Set fails.
absl::StatusOr<MemoryController::CreateResult> GuardContainerCgroup(
    CgroupFs& fs, const CgroupPath& path, const MemoryResources& resources,
    const ShimConfig& config, const RuntimeLog& log,
    absl::string_view kernel_release);

// Starts the detached watcher that carries out `plan` after exit.
absl::Status ArrangeCleanupAfterExit(const CleanupPlan& plan);

// Removes what `record` lists as created and still present: the container's
// cgroup with its children (force_empty first), then the parents the
// wrapper created if they are empty. Deletes the record file.
absl::Status CleanupRecord(const CreatedRecord& record,
                           const std::string& record_path);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_WRAPPER_H_

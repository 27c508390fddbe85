// SPDX-License-Identifier: Apache-2.0
//
// Path resolution as runc's cgroup v1 fs driver does it (runc@4d6e672
// libcontainer/cgroups/fs/apply_raw.go, cgroups/utils.go, utils/utils.go).
// Every parser here is a pure function: text in, values out. The callers
// read /proc/self/mountinfo and /proc/self/cgroup.

#ifndef KMEMGUARD_CORE_PATHS_H_
#define KMEMGUARD_CORE_PATHS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/resources.h"

namespace kmemguard {

// Go's path/filepath.Clean: collapse separators, drop ".", resolve ".."
// lexically, "" becomes ".".
std::string GoClean(absl::string_view path);
// Go's filepath.Join: join the non-empty elements with '/' and Clean; ""
// when all are empty.
std::string GoJoin(const std::vector<absl::string_view>& elems);
// Go's filepath.Rel for two absolute or two relative paths; InvalidArgument
// when one is absolute and the other not.
absl::StatusOr<std::string> GoRel(absl::string_view base,
                                  absl::string_view target);

// runc utils.CleanPath: Clean, and re-root a relative path at "/" so leading
// ".." components are dropped and can never climb out; "" stays "".
std::string CleanPath(absl::string_view path);

// One line of /proc/<pid>/mountinfo (proc(5)); octal escapes such as \040
// are decoded.
struct MountInfo {
  std::string root;         // field 4: root of the mount within its fs
  std::string mount_point;  // field 5
  std::string fs_type;      // first field after " - "
  std::string source;
  std::vector<std::string> super_options;  // last field, split on ','
};

// True for a mount of type "cgroup" or "cgroup2".
bool IsCgroupMount(const MountInfo& m);

// Parses mountinfo text. Kernel text is never rejected for a line we do not
// use: any root is accepted as the kernel wrote it (nsfs writes
// "net:[4026532177]", a deleted bind source "/x//deleted"), and a line that
// is not a mount line (no " - " separator, too few fields, a NUL byte) is
// skipped, described in `skipped` when given. Only a cgroup or cgroup2 mount,
// whose root and mount point we use, is validated: InvalidArgument naming
// the line when it has too few fields, a NUL, or a relative root or mount
// point. Octal escapes (\040 ...) are decoded.
absl::StatusOr<std::vector<MountInfo>> ParseMountinfo(
    absl::string_view text, std::vector<std::string>* skipped = nullptr);

// Parses /proc/<pid>/cgroup text into controller -> path; a line
// "4:memory,foo:/a" yields both "memory" and "foo". An empty controller list
// (cgroup2's "0::/") yields the key "". A line with fewer than two colons or
// a NUL byte is skipped (described in `skipped` when given), unless it
// mentions "memory", the line we need: then InvalidArgument with runc's text
// ("invalid cgroup entry: must contain at least two colons: <line>").
absl::StatusOr<std::map<std::string, std::string>> ParseProcCgroup(
    absl::string_view text, std::vector<std::string>* skipped = nullptr);

// The mount point and root of the hierarchy carrying `subsystem`: the first
// mount whose super options contain it exactly (runc
// FindCgroupMountpointAndRoot), skipping a non-cgroup mount whose root or
// mount point is not absolute. NotFound when none does.
struct HierarchyMount {
  std::string mount_point;
  std::string root;
};
absl::StatusOr<HierarchyMount> FindHierarchy(
    const std::vector<MountInfo>& mounts, absl::string_view subsystem);

// runc's cgroup root: the parent directory of the first mount of type
// "cgroup" (getCgroupRoot). NotFound when there is none.
absl::StatusOr<std::string> FindCgroupRoot(const std::vector<MountInfo>& mounts);

// Where a cgroup of the memory hierarchy is.
struct ResolvedCgroup {
  std::string hierarchy_root;  // memory mount point, e.g. /sys/fs/cgroup/memory
  CgroupPath path;             // relative to hierarchy_root
  std::string full_path;       // hierarchy_root + "/" + path
  // Set when the location gave explicit per-controller paths: runc then only
  // joins, creating nothing and writing no limits.
  bool explicit_path = false;
};

// Resolves `location` in the memory hierarchy as runc's d.path("memory")
// does: an absolute path lies under the memory mount; a relative one lies
// under the caller's own memory cgroup (from `proc_self_cgroup`, made
// relative to the mount's root, which handles nested containers); Path and
// Parent/Name are passed through CleanPath. Returns NotFound when the memory
// hierarchy is not mounted or not in `proc_self_cgroup` (runc then does
// nothing), InvalidArgument for contradictory or empty locations, and
// FailedPrecondition when the result would lie outside the hierarchy or be
// its root (deliberate: runc would operate on the root itself).
absl::StatusOr<ResolvedCgroup> ResolveMemoryCgroup(
    const CgroupLocation& location, absl::string_view mountinfo,
    absl::string_view proc_self_cgroup);

// Reads /proc/self/mountinfo and /proc/self/cgroup and resolves `location`.
absl::StatusOr<ResolvedCgroup> ResolveMemoryCgroupOnHost(
    const CgroupLocation& location);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_PATHS_H_

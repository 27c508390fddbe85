// SPDX-License-Identifier: Apache-2.0
//
// kmemguard doctor's host facts: pure parsers over the text a host gives
// (/proc/cmdline, mountinfo, cgroup.stat, a runtime's --version). The
// kernel release and /proc/cgroups parsers are in kmemguard::core
// (kernel.h, memcg.h), which the wrapper and the hook share.

#ifndef KMEMGUARD_DOCTOR_HOST_FACTS_H_
#define KMEMGUARD_DOCTOR_HOST_FACTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/paths.h"

namespace kmemguard {

// True when /proc/cmdline text carries cgroup.memory=nokmem (alone or in a
// comma list such as cgroup.memory=nosocket,nokmem) before any " -- ".
bool CmdlineHasNokmem(absl::string_view cmdline);

// How cgroups are mounted, from mountinfo.
enum class CgroupLayout { kUnknown, kV1, kHybrid, kUnifiedV2 };
absl::string_view CgroupLayoutName(CgroupLayout layout);  // "v1", "hybrid", ...

struct LayoutInfo {
  CgroupLayout layout = CgroupLayout::kUnknown;
  std::string memory_mount;    // v1 hierarchy carrying `memory`, or ""
  std::string memory_root;     // its mountinfo root ("/" normally)
  std::string unified_mount;   // the cgroup2 mount, or ""
  std::string systemd_mount;   // v1 name=systemd hierarchy, or ""
};
// v1: a v1 memory hierarchy and no cgroup2 mount; hybrid: v1 memory plus a
// cgroup2 mount; pure v2: a cgroup2 mount and no v1 memory hierarchy.
LayoutInfo DetectLayout(const std::vector<MountInfo>& mounts);

// Returns (nr_descendants, nr_dying_descendants) from cgroup.stat text.
// Other lines (nr_subsys_*, future keys, anything unreadable) are skipped;
// InvalidArgument naming the line when one of the two we need is not a
// count, and when either is missing.
struct CgroupStat {
  int64_t nr_descendants = 0;
  int64_t nr_dying_descendants = 0;
};
absl::StatusOr<CgroupStat> ParseCgroupStat(absl::string_view text);

// A runtime's `--version` output.
struct RuntimeVersion {
  std::string name;     // "runc", "crun", "kubelet"
  std::string version;  // "1.0.0-rc93", "1.1.5+ds1", "v1.9.11"
  int major = 0, minor = 0, patch = 0;
  int rc = -1;          // 93 for -rc93; -1 for a final release
};
// Parses "runc version 1.1.5", "crun version 1.8.1" and kubelet's
// "Kubernetes v1.9.11". InvalidArgument when no version is found.
absl::StatusOr<RuntimeVersion> ParseRuntimeVersion(absl::string_view name,
                                                   absl::string_view output);
// True when a runc version predates 1.0.0-rc94 (PR #2840), i.e. it enables
// kmem accounting on the cgroups it creates unless built with nokmem.
bool RuncPredatesRc94(const RuntimeVersion& v);
// True when a kubelet version predates 1.22, the first release vendoring a
// runc >= rc94 (probably; runc-memory-spec.md section 6.2).
bool KubeletVendorsKmemRunc(const RuntimeVersion& v);

// The message runc (rc7..rc93) and a vendoring kubelet carry only when built
// with the nokmem tag (libcontainer/cgroups/fs/kmem_disabled.go).
inline constexpr char kNokmemBuildMarker[] =
    "kernel memory accounting disabled in this runc build";

// The first line of `text`, trimmed (for reports of a command's output).
std::string FirstLineOf(absl::string_view text);

}  // namespace kmemguard

#endif  // KMEMGUARD_DOCTOR_HOST_FACTS_H_

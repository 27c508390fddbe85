// SPDX-License-Identifier: Apache-2.0
//
// /proc/self/mountinfo -> ParseMountinfo, FindHierarchy, FindCgroupRoot,
// the doctor's DetectLayout, and ResolveMemoryCgroup with a fixed
// /proc/self/cgroup and fixed locations.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "kmemguard/doctor.h"
#include "kmemguard/paths.h"

using namespace kmemguard;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(text);
  if (!mounts.ok()) return 0;
  for (const MountInfo& m : *mounts) {
    FUZZ_CHECK(!m.root.empty() && !m.mount_point.empty());
    FUZZ_CHECK(!m.fs_type.empty() && !m.source.empty());
    FUZZ_CHECK(!m.super_options.empty());
  }
  absl::StatusOr<HierarchyMount> h = FindHierarchy(*mounts, "memory");
  absl::StatusOr<std::string> root = FindCgroupRoot(*mounts);
  // Kernel mount points are absolute; a relative one must not make the
  // cgroup root (and so the cgroups written) relative to the working dir.
  if (root.ok()) FUZZ_CHECK(!root->empty() && (*root)[0] == '/');
  // The doctor looks only at fs type "cgroup" mounts, the resolver (as runc)
  // at any mount whose super options carry "memory": the doctor's hierarchy
  // is always one the resolver would also find.
  LayoutInfo layout = DetectLayout(*mounts);
  if (!layout.memory_mount.empty()) FUZZ_CHECK(h.ok());
  (void)CgroupLayoutName(layout.layout);

  CgroupLocation by_name;
  by_name.parent = "kubepods/burstable";
  by_name.name = "abcd";
  CgroupLocation by_abs;
  by_abs.path = "/kubepods/burstable/abcd";
  CgroupLocation by_rel;
  by_rel.path = "../../x/y";
  for (const CgroupLocation* loc : {&by_name, &by_abs, &by_rel}) {
    for (const char* pc : {fuzz::kHostProcCgroup, fuzz::kNestedProcCgroup}) {
      absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(*loc, text, pc);
      if (!r.ok()) continue;
      FUZZ_CHECK(h.ok());
      FUZZ_CHECK(r->hierarchy_root == GoClean(h->mount_point));
      fuzz::CheckResolved(*r);
    }
  }
  return 0;
}

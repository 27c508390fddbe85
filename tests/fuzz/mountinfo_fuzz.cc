// SPDX-License-Identifier: Apache-2.0
//
// /proc/self/mountinfo -> ParseMountinfo, FindHierarchy, FindCgroupRoot,
// the doctor's DetectLayout, and ResolveMemoryCgroup with a fixed
// /proc/self/cgroup and fixed locations.
//
// The central invariant (issue 10): a malformed line never changes the
// cgroup mounts found from the well-formed lines. Kernel text is not
// rejected for lines we do not use (an nsfs root "net:[4026532177]" is
// fine); only a cgroup mount whose fields we use may fail the parse, and
// then that line fails on its own too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

#include "fuzz_common.h"
#include "kmemguard/doctor/doctor.h"
#include "kmemguard/core/paths.h"

using namespace kmemguard;  // NOLINT

namespace {

std::vector<const MountInfo*> CgroupMounts(const std::vector<MountInfo>& all) {
  std::vector<const MountInfo*> out;
  for (const MountInfo& m : all) {
    if (IsCgroupMount(m)) out.push_back(&m);
  }
  return out;
}

bool SameMount(const MountInfo& a, const MountInfo& b) {
  return a.root == b.root && a.mount_point == b.mount_point &&
         a.fs_type == b.fs_type && a.source == b.source &&
         a.super_options == b.super_options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(text, &skipped);

  // Each line on its own: the well-formed ones, and whether any fails.
  std::string well_formed;
  bool some_line_fails = false;
  size_t malformed = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    absl::StatusOr<std::vector<MountInfo>> alone = ParseMountinfo(line);
    if (!alone.ok()) {
      some_line_fails = true;
      // Only a cgroup mount line may fail, and the error names it.
      FUZZ_CHECK(absl::StrContains(alone.status().message(), "cgroup mount"));
      continue;
    }
    FUZZ_CHECK(alone->size() <= 1);
    if (alone->empty()) {
      ++malformed;
    } else {
      well_formed.append(line.data(), line.size());
      well_formed.push_back('\n');
    }
  }
  // The whole text fails exactly when one of its lines does.
  FUZZ_CHECK(mounts.ok() == !some_line_fails);
  if (!mounts.ok()) return 0;
  FUZZ_CHECK(skipped.size() == malformed);
  // Dropping the malformed lines changes nothing we find.
  absl::StatusOr<std::vector<MountInfo>> clean = ParseMountinfo(well_formed);
  FUZZ_CHECK(clean.ok());
  FUZZ_CHECK(clean->size() == mounts->size());
  std::vector<const MountInfo*> a = CgroupMounts(*mounts);
  std::vector<const MountInfo*> b = CgroupMounts(*clean);
  FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) FUZZ_CHECK(SameMount(*a[i], *b[i]));
  absl::StatusOr<HierarchyMount> h_clean = FindHierarchy(*clean, "memory");
  LayoutInfo layout_clean = DetectLayout(*clean);

  for (const MountInfo& m : *mounts) {
    FUZZ_CHECK(!m.root.empty() && !m.mount_point.empty());
    FUZZ_CHECK(!m.fs_type.empty() && !m.source.empty());
    FUZZ_CHECK(!m.super_options.empty());
    // The fields we use of a cgroup mount: absolute, no NUL.
    if (IsCgroupMount(m)) {
      FUZZ_CHECK(m.root[0] == '/' && m.mount_point[0] == '/');
      FUZZ_CHECK(m.mount_point.find('\0') == std::string::npos);
    }
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
  FUZZ_CHECK(h.ok() == h_clean.ok());
  if (h.ok()) {
    FUZZ_CHECK(h->mount_point == h_clean->mount_point);
    FUZZ_CHECK(h->root == h_clean->root);
    FUZZ_CHECK(h->mount_point[0] == '/' && h->root[0] == '/');
  }
  FUZZ_CHECK(layout.layout == layout_clean.layout);
  FUZZ_CHECK(layout.memory_mount == layout_clean.memory_mount);
  FUZZ_CHECK(layout.unified_mount == layout_clean.unified_mount);
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

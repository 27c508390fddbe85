// SPDX-License-Identifier: Apache-2.0
//
// The host's own /proc texts, with the `netns` ctest fixture's network
// namespace present (issue 10): nsfs mounts ("net:[INODE]" roots) must
// neither be skipped as malformed nor stop the resolution.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/doctor/doctor.h"
#include "kmemguard/core/paths.h"
#include "live/live_env.h"
#include "testing/status_matchers.h"

namespace kmemguard::live {
namespace {

TEST_CASE("The host's mountinfo parses whole, nsfs lines included", "[live]") {
  absl::StatusOr<std::string> text = ReadHostFile("/proc/self/mountinfo");
  REQUIRE_OK(text);
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(*text, &skipped);
  REQUIRE_OK(mounts);
  CHECK(skipped.empty());
  const char* ns = std::getenv("KMEMGUARD_TEST_NETNS");
  if (ns != nullptr && *ns != '\0') {
    bool found = false;
    for (const MountInfo& m : *mounts) {
      found = found || (m.fs_type == "nsfs" &&
                        absl::StartsWith(m.root, "net:[") &&
                        m.mount_point == absl::StrCat("/run/netns/", ns));
    }
    CHECK(found);
  }
  LayoutInfo layout = DetectLayout(*mounts);
  CHECK(layout.memory_mount == kMemoryMount);
  absl::StatusOr<std::string> own = ReadHostFile("/proc/self/cgroup");
  REQUIRE_OK(own);
  std::vector<std::string> own_skipped;
  REQUIRE_OK(ParseProcCgroup(*own, &own_skipped));
  CHECK(own_skipped.empty());
}

TEST_CASE("An absolute cgroups path resolves on the host with a network "
          "namespace present",
          "[live]") {
  CgroupLocation loc;
  loc.path = absl::StrCat("/", FreshChild("netns").ToString());
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroupOnHost(loc);
  REQUIRE_OK(r);
  CHECK(r->hierarchy_root == kMemoryMount);
  CHECK(r->full_path == absl::StrCat(kMemoryMount, loc.path));
}

}  // namespace
}  // namespace kmemguard::live

// SPDX-License-Identifier: Apache-2.0
//
// The bugs the fuzzers found (docs/fuzzing.md), pinned as unit tests. The
// reproducers themselves are replayed by scripts/fuzz.sh from
// tests/fuzz/regressions/.

#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "common/shim_config.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/doctor/doctor.h"

namespace kmemguard {
namespace {

using namespace std::string_literals;

TEST_CASE("B1: a NaN hook.warn-ratio is refused", "[unit]") {
  auto c = shim::ParseShimConfig("[hook]\nwarn-ratio = nan\n", "t.toml");
  CHECK(absl::IsInvalidArgument(c.status()));
  CHECK(absl::StrContains(c.status().message(), "hook.warn-ratio"));
}

TEST_CASE("B2: a NUL inside a configured path is refused", "[unit]") {
  for (const char* key : {"runtime", "state-dir", "debug-log"}) {
    std::string text = std::string(key) + " = \"/x\\u0000y\"\n";
    auto c = shim::ParseShimConfig(text, "t.toml");
    INFO(text);
    CHECK(absl::IsInvalidArgument(c.status()));
    CHECK(absl::StrContains(c.status().message(), "NUL"));
  }
}

TEST_CASE("B3: cgroup.stat counts must be counts; INT64_MIN prints", "[unit]") {
  CHECK_FALSE(ParseCgroupStat("nr_descendants -9223372036854775808\n"
                              "nr_dying_descendants 0\n")
                  .ok());
  CHECK_FALSE(ParseCgroupStat("nr_descendants 9223372036854775807\n"
                              "nr_dying_descendants 0\n")
                  .ok());
  auto ok = ParseCgroupStat("nr_descendants 12\nnr_dying_descendants 3\n");
  REQUIRE(ok.ok());
  CHECK(ok->nr_dying_descendants == 3);
  CHECK(WithThousands(INT64_MIN) == "-9,223,372,036,854,775,808");
  CHECK(WithThousands(-1234) == "-1,234");
}

TEST_CASE("B4: a cgroup mount with a relative root or mount point is refused",
          "[unit]") {
  CHECK_FALSE(ParseMountinfo("35 31 0:32 / sys/fs/cgroup/memory rw - cgroup "
                             "cgroup rw,memory\n")
                  .ok());
  CHECK_FALSE(ParseMountinfo("35 31 0:32 x /sys/fs/cgroup/memory rw - cgroup "
                             "cgroup rw,memory\n")
                  .ok());
}

TEST_CASE("B5: only the kernel's four mountinfo escapes are decoded",
          "[unit]") {
  auto m = ParseMountinfo(
      "35 31 0:32 / /a\\000b\\040c\\011d\\012e\\134f rw - cgroup cgroup "
      "rw,memory\n");
  REQUIRE(m.ok());
  CHECK((*m)[0].mount_point == "/a\\000b c\td\ne\\f");
  CHECK((*m)[0].mount_point.find('\0') == std::string::npos);
}

}  // namespace
}  // namespace kmemguard

namespace kmemguard {
namespace {

using namespace std::string_literals;

TEST_CASE("B6: a raw NUL in mountinfo or /proc/self/cgroup is refused",
          "[unit]") {
  std::string mi = "35 31 0:32 / /sys/fs/cgroup/mem"s + '\0' +
                   "ory rw - cgroup cgroup rw,memory\n";
  CHECK_FALSE(ParseMountinfo(mi).ok());
  std::string cg = "4:memory:/a"s + '\0' + "b\n";
  CHECK_FALSE(ParseProcCgroup(cg).ok());
}

TEST_CASE("B8: a table header starting with a control character is a parse error",
          "[unit]") {
  // toml++ 3.3.0 asserted here in debug builds (shim/common/toml_parser.h).
  auto c = shim::ParseShimConfig("[\x12ook]\nx = 1\n", "t.toml");
  CHECK(absl::IsInvalidArgument(c.status()));
  CHECK(absl::StrContains(c.status().message(), "t.toml:1"));
}

TEST_CASE("B9: a non-ASCII byte in the config file is refused before toml++",
          "[unit]") {
  // U+FEFE in a key made toml++ 3.3.0 reach __builtin_unreachable().
  auto c = shim::ParseShimConfig(
      "runtime = \"/usr/sbin/runc\"\nfailure-pol\xef\xbb\xbe = \"x\"\n",
      "t.toml");
  CHECK(absl::IsInvalidArgument(c.status()));
  CHECK(absl::StrContains(c.status().message(), "t.toml:2: byte 0xef"));
}

}  // namespace
}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0
//
// Go encoding/json's text rules (include/kmemguard/core/go_json.h) and the JSON
// writers that dump text read from the host: stats --format json, doctor,
// configure. Expected strings were produced with Go 1.19's json.Marshal and
// json.Unmarshal on this machine (golang-go), e.g.
//   json.Marshal(map[string]uint64{"a\xe2\x82b": 1}) == {"a\ufffd\ufffdb":1}

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "cli/cli_common.h"
#include "cli/cmd_configure.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/memory_stats.h"
#include "kmemguard/doctor/doctor.h"
#include "nlohmann/json.hpp"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

constexpr char kFffd[] = "\xEF\xBF\xBD";

std::string Fffd(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += kFffd;
  return s;
}

TEST_CASE("GoCoerceUtf8 replaces each invalid byte, as Go's encoder does",
          "[unit]") {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      // A truncated 3-byte sequence is two invalid bytes, not one error
      // (nlohmann's error_handler_t::replace would write one U+FFFD).
      {"a\xE2\x82" "b", "a" + Fffd(2) + "b"},
      {"\xFF\xFE", Fffd(2)},
      // A UTF-8-encoded surrogate: three bytes, three replacements.
      {"\xED\xA0\x80x", Fffd(3) + "x"},
      {"ok\xC3", "ok" + Fffd(1)},
      // Above U+10FFFF.
      {"\xF4\x90\x80\x80", Fffd(4)},
      // Overlong '/'.
      {"\xC0\xAF", Fffd(2)},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"\xE2\x84\xAA", "\xE2\x84\xAA"},
      {"", ""},
  };
  for (const Case& c : cases) {
    INFO(nlohmann::json(c.want).dump());
    CHECK(GoCoerceUtf8(c.in) == c.want);
    CHECK(GoIsValidUtf8(c.in) == (c.in == c.want));
  }
}

TEST_CASE("GoKeyMatchesField folds as encoding/json's fold.go", "[unit]") {
  CHECK(GoKeyMatchesField("limit", "limit"));
  CHECK(GoKeyMatchesField("Limit", "limit"));
  CHECK(GoKeyMatchesField("LIMIT", "limit"));
  CHECK(GoKeyMatchesField("KERNELtcp", "kernelTCP"));
  // U+212A KELVIN SIGN folds to k, U+017F LONG S to s.
  CHECK(GoKeyMatchesField("\xE2\x84\xAA" "ernel", "kernel"));
  CHECK(GoKeyMatchesField("cgroup\xC5\xBF" "Path", "cgroupsPath"));
  CHECK(GoKeyMatchesField("\xC5\xBF" "wap", "swap"));
  CHECK_FALSE(GoKeyMatchesField("\xE2\x84\xAA" "imit", "limit"));
  CHECK_FALSE(GoKeyMatchesField("\xC5\xBF" "imit", "limit"));
  CHECK_FALSE(GoKeyMatchesField("limit ", "limit"));
  CHECK_FALSE(GoKeyMatchesField("limi", "limit"));
  CHECK_FALSE(GoKeyMatchesField("", "limit"));
  CHECK_FALSE(GoKeyMatchesField("kernel", "kernelTCP"));
  CHECK_FALSE(GoKeyMatchesField("l\xC4\xB1mit", "limit"));  // dotless i
}

TEST_CASE("stats --format json writes a non-UTF-8 memory.stat key as Go does",
          "[unit]") {
  // Before: nlohmann's dump() threw type_error 316 and the command aborted.
  MemoryStats s;
  s.present = true;
  s.stats["a\xE2\x82" "b"] = 1;
  s.stats["cache"] = 4096;
  s.stats["\xFF"] = 2;
  std::string out;
  REQUIRE_NOTHROW(out = cli::StatsToJson(s));
  nlohmann::json j = nlohmann::json::parse(out);
  CHECK(j["raw"]["a" + Fffd(2) + "b"] == 1);
  CHECK(j["raw"][Fffd(1)] == 2);
  CHECK(j["raw"]["cache"] == 4096);
}

TEST_CASE("doctor --format json survives host text that is not UTF-8",
          "[unit]") {
  DoctorReport r;
  r.kernel_release = "6.1.0-\xFF";
  r.errors.push_back("/sys/fs/cgroup/memory/\xC3: EACCES");
  AssessDoctorReport(&r);
  std::string out;
  REQUIRE_NOTHROW(out = DoctorReportToJson(r));
  nlohmann::json j = nlohmann::json::parse(out);
  REQUIRE(j["errors"].size() >= 1);
  CHECK(j["errors"][0] == "/sys/fs/cgroup/memory/" + Fffd(1) + ": EACCES");
  CHECK(absl::StrContains(out, "6.1.0-" + Fffd(1)));
}

TEST_CASE("configure refuses a runtime name or path that is not UTF-8",
          "[unit]") {
  cli::ConfigureOptions o;
  o.engine = "docker";
  o.name = "kmem\xFF";
  absl::StatusOr<std::string> docker;
  REQUIRE_NOTHROW(docker = cli::RenderEngineConfig(o, ""));
  REQUIRE_FALSE(docker.ok());
  CHECK(absl::StrContains(docker.status().message(), "not valid UTF-8"));
  o.engine = "containerd";
  o.name = "kmemguard";
  o.runtime_path = "/usr/local/bin/\xC3";
  absl::StatusOr<std::string> containerd;
  REQUIRE_NOTHROW(containerd = cli::RenderEngineConfig(o, ""));
  REQUIRE_FALSE(containerd.ok());
}

}  // namespace
}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0
//
// OCI config.json and state -> kmemguard types (runc@4d6e672 specconv
// createCgroupConfig, spec §4), and runc@4d6e672 `runc update`'s size
// parser from the shim (go-units v0.2.0 RAMInBytes).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "cli/cli_common.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/resources.h"
#include "testing/oci_compare.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

constexpr char kId[] = "4f1c0d";

std::string WithMemory(const std::string& memory_json) {
  return absl::StrCat(R"({"ociVersion":"1.0.0","linux":{"resources":{"memory":)",
                      memory_json, "}}}");
}

std::string WithCgroupsPath(const std::string& path_json) {
  return absl::StrCat(R"({"ociVersion":"1.0.0","linux":{"cgroupsPath":)",
                      path_json, "}}");
}

// Both decoders, held to each other: every test of ParseOciConfig below is
// also one of ParseOciCgroupConfigLean.
absl::StatusOr<OciCgroupConfig> ParseBoth(const std::string& json,
                                          absl::string_view id,
                                          bool systemd = false) {
  absl::StatusOr<OciCgroupConfig> full = ParseOciConfig(json, id, systemd);
  absl::StatusOr<OciCgroupConfig> lean =
      ParseOciCgroupConfigLean(json, id, systemd);
  INFO("config: " << json.substr(0, 200));
  CHECK(testing::OciResultDifference(full, lean) == "");
  return full;
}

absl::Status ErrorOf(const std::string& json) {
  return ParseBoth(json, kId).status();
}

// ----------------------------------------------------------- ParseOciConfig

TEST_CASE("Every OCI memory field maps to its runc field", "[unit]") {
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(
      WithMemory(R"({"limit":536870912,"reservation":268435456,)"
                 R"("swap":1073741824,"kernel":67108864,"kernelTCP":16777216,)"
                 R"("swappiness":30,"disableOOMKiller":true})"),
      kId);
  REQUIRE_OK(c);
  CHECK(c->has_memory_section);
  CHECK(c->resources.limit_bytes == 536870912);
  CHECK(c->resources.reservation_bytes == 268435456);
  CHECK(c->resources.memsw_limit_bytes == 1073741824);
  CHECK(c->resources.kernel_limit_bytes == 67108864);
  CHECK(c->resources.kernel_tcp_limit_bytes == 16777216);
  REQUIRE(c->resources.swappiness.has_value());
  CHECK(*c->resources.swappiness == 30);
  CHECK(c->resources.oom_kill_disable);
}

TEST_CASE("OCI memory values of -1 and the int64 extremes map unchanged",
          "[unit]") {
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(
      WithMemory(R"({"limit":-1,"swap":-1,"kernel":9223372036854775807,)"
                 R"("reservation":-9223372036854775808,)"
                 R"("swappiness":18446744073709551615,"disableOOMKiller":false})"),
      kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == -1);
  CHECK(c->resources.memsw_limit_bytes == -1);
  CHECK(c->resources.kernel_limit_bytes == INT64_MAX);
  CHECK(c->resources.reservation_bytes == INT64_MIN);
  CHECK(c->resources.swappiness == UINT64_MAX);
  CHECK_FALSE(c->resources.oom_kill_disable);
}

TEST_CASE("Absent memory fields stay zero, unset and false", "[unit]") {
  const std::string cases[] = {
      R"({"ociVersion":"1.0.0"})",
      R"({"linux":{}})",
      R"({"linux":null})",
      R"({"linux":{"resources":{}}})",
      R"({"linux":{"resources":{"memory":null}}})",
      R"({"linux":{"resources":{"cpu":{"shares":1024}}}})",
  };
  for (const std::string& json : cases) {
    INFO(json);
    absl::StatusOr<OciCgroupConfig> c = ParseBoth(json, kId);
    REQUIRE_OK(c);
    CHECK_FALSE(c->has_memory_section);
    CHECK(c->resources == MemoryResources{});
  }
  // An empty memory object, or only nulls, is a section with nothing set.
  absl::StatusOr<OciCgroupConfig> empty = ParseBoth(
      WithMemory(R"({"limit":null,"swappiness":null,"disableOOMKiller":null})"),
      kId);
  REQUIRE_OK(empty);
  CHECK(empty->has_memory_section);
  CHECK(empty->resources == MemoryResources{});
  CHECK_FALSE(empty->resources.swappiness.has_value());
}

TEST_CASE("A partial memory section sets only what it names", "[unit]") {
  absl::StatusOr<OciCgroupConfig> c =
      ParseBoth(WithMemory(R"({"limit":1024,"swappiness":0})"), kId);
  REQUIRE_OK(c);
  MemoryResources want;
  want.limit_bytes = 1024;
  want.swappiness = 0;
  CHECK(c->resources == want);
}

TEST_CASE("cgroupsPath goes through CleanPath into Path", "[unit]") {
  struct Case {
    const char* json;
    const char* want;
  };
  const Case cases[] = {
      {R"("/kubepods/burstable/pod1/ctr")", "/kubepods/burstable/pod1/ctr"},
      {R"("/a//b/./c/")", "/a/b/c"},
      {R"("/../../../etc")", "/etc"},
      {R"("docker/ctr")", "docker/ctr"},
      {R"("../../../var")", "var"},
      {R"("a/../../b")", "b"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    absl::StatusOr<OciCgroupConfig> cfg =
        ParseBoth(WithCgroupsPath(c.json), kId);
    REQUIRE_OK(cfg);
    CHECK(cfg->location.path == c.want);
    CHECK(cfg->location.name.empty());
    CHECK(cfg->location.parent.empty());
    CHECK_FALSE(cfg->systemd.has_value());
  }
  absl::StatusOr<OciCgroupConfig> raw =
      ParseBoth(WithCgroupsPath(R"("/a//b/../c")"), kId);
  REQUIRE_OK(raw);
  // The text as written is kept beside the cleaned location.
  CHECK(raw->cgroups_path == "/a//b/../c");
}

TEST_CASE("An empty or absent cgroupsPath names the cgroup after the id",
          "[unit]") {
  for (const std::string& json :
       {WithCgroupsPath(R"("")"), WithCgroupsPath("null"),
        std::string(R"({"linux":{}})"), std::string("{}")}) {
    INFO(json);
    absl::StatusOr<OciCgroupConfig> c = ParseBoth(json, kId);
    REQUIRE_OK(c);
    CHECK(c->location.path.empty());
    CHECK(c->location.parent.empty());
    CHECK(c->location.name == kId);
  }
}

TEST_CASE("A systemd cgroupsPath is split into slice, prefix and name",
          "[unit]") {
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(
      WithCgroupsPath(R"("kubepods.slice:cri-containerd:abc")"), kId, true);
  REQUIRE_OK(c);
  REQUIRE(c->systemd.has_value());
  CHECK(c->systemd->slice == "kubepods.slice");
  CHECK(c->systemd->scope_prefix == "cri-containerd");
  CHECK(c->systemd->name == "abc");

  absl::StatusOr<OciCgroupConfig> dflt =
      ParseBoth(WithCgroupsPath(R"("")"), kId, true);
  REQUIRE_OK(dflt);
  REQUIRE(dflt->systemd.has_value());
  CHECK(dflt->systemd->slice == "system.slice");
  CHECK(dflt->systemd->scope_prefix == "runc");
  CHECK(dflt->systemd->name == kId);
}

TEST_CASE("A systemd cgroupsPath without three parts fails with runc's text",
          "[unit]") {
  for (const char* path : {R"("/kubepods/pod1")", R"("a:b")", R"("a:b:c:d")"}) {
    INFO(path);
    absl::StatusOr<OciCgroupConfig> c =
        ParseBoth(WithCgroupsPath(path), kId, true);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(c.status().message() ==
          "expected cgroupsPath to be of format \"slice:prefix:name\" for "
          "systemd cgroups");
  }
}

TEST_CASE("A fractional memory size is refused, naming the field", "[unit]") {
  absl::Status s = ErrorOf(WithMemory(R"({"limit":1.5})"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "linux.resources.memory.limit"));
  CHECK(absl::StrContains(s.message(), "not an integer"));
  // 1e3 is a float in JSON, even though its value is integral.
  CHECK_FALSE(ErrorOf(WithMemory(R"({"kernel":1e3})")).ok());
  CHECK(absl::StrContains(ErrorOf(WithMemory(R"({"swap":"1024"})")).message(),
                          "linux.resources.memory.swap"));
}

TEST_CASE("A memory size above int64 is refused", "[unit]") {
  absl::Status s = ErrorOf(WithMemory(R"({"limit":9223372036854775808})"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "linux.resources.memory.limit"));
  CHECK(absl::StrContains(s.message(), "9223372036854775808"));
  for (const char* field : {"reservation", "swap", "kernel", "kernelTCP"}) {
    INFO(field);
    absl::Status f = ErrorOf(WithMemory(
        absl::StrCat("{\"", field, "\":18446744073709551615}")));
    REQUIRE_FALSE(f.ok());
    CHECK(absl::StrContains(f.message(), field));
  }
}

TEST_CASE("A negative or fractional swappiness is refused", "[unit]") {
  for (const char* value : {"-1", "-60", "60.0", "\"60\"", "true"}) {
    INFO(value);
    absl::Status s =
        ErrorOf(WithMemory(absl::StrCat(R"({"swappiness":)", value, "}")));
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(s.message(), "swappiness"));
  }
  // Above 100 is left to Set's validation, as in runc's specconv.
  absl::StatusOr<OciCgroupConfig> high =
      ParseBoth(WithMemory(R"({"swappiness":101})"), kId);
  REQUIRE_OK(high);
  CHECK(high->resources.swappiness == 101u);
}

TEST_CASE("A non-boolean disableOOMKiller is refused", "[unit]") {
  absl::Status s = ErrorOf(WithMemory(R"({"disableOOMKiller":1})"));
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.message(), "disableOOMKiller"));
}

TEST_CASE("Wrongly typed sections are refused", "[unit]") {
  struct Case {
    const char* json;
    const char* mentions;
  };
  const Case cases[] = {
      {R"({"linux":{"resources":{"memory":[]}}})",
       "config.json: linux.resources.memory: [] is not an object"},
      {R"({"linux":{"resources":{"memory":1024}}})",
       "config.json: linux.resources.memory: 1024 is not an object"},
      {R"({"linux":{"resources":[]}})",
       "config.json: linux.resources: [] is not an object"},
      {R"({"linux":"x"})", "config.json: linux: \"x\" is not an object"},
      {R"({"linux":{"cgroupsPath":5}})",
       "config.json: linux.cgroupsPath: 5 is not a string"},
      {R"([])", "config.json: not a JSON object"},
      {R"("config")", "config.json: not a JSON object"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    absl::Status s = ErrorOf(c.json);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == c.mentions);
    // The lean decoder words it the same.
    CHECK(ParseOciCgroupConfigLean(c.json, kId).status().message() ==
          s.message());
  }
}

TEST_CASE("A cgroupsPath with a NUL byte is refused", "[unit]") {
  absl::Status s = ErrorOf(WithCgroupsPath(R"("/a\u0000b")"));
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.message(), "NUL"));
}

TEST_CASE("Invalid JSON is refused", "[unit]") {
  for (const char* json : {"", "{", R"({"linux":})", "{'a':1}",
                           R"({"linux":{"resources":{"memory":{"limit":01}}}})"}) {
    INFO(json);
    absl::Status s = ErrorOf(json);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(s.message(), "config.json: invalid JSON"));
  }
}

std::string Nested(int depth) {
  // {"a": [[[...]]]}: the top object plus `depth` arrays.
  return absl::StrCat(R"({"a":)", std::string(depth, '['),
                      std::string(depth, ']'), "}");
}

TEST_CASE("JSON nested deeper than kMaxJsonDepth is refused", "[unit]") {
  absl::Status deep = ErrorOf(Nested(kMaxJsonDepth + 1));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.code() == absl::StatusCode::kInvalidArgument);
  CHECK(deep.message() == "config.json: JSON nested deeper than 64 levels");
  // Far deeper input fails the same way (and does not exhaust the stack).
  CHECK(ErrorOf(Nested(100000)).message() ==
        "config.json: JSON nested deeper than 64 levels");
  // A document kMaxJsonDepth levels deep (the object plus 63 arrays) is
  // fine. (Where exactly the count starts is nlohmann's parser-callback
  // depth; only the two sides of the documented limit are pinned here.)
  CHECK_OK(ErrorOf(Nested(kMaxJsonDepth - 1)));
  CHECK_OK(ErrorOf(Nested(16)));
}

TEST_CASE("Config text larger than kMaxOciConfigBytes is refused before "
          "parsing",
          "[unit]") {
  // Valid JSON padded with white space just past the limit.
  std::string big = "{}";
  big.append(kMaxOciConfigBytes - big.size() + 1, ' ');
  absl::Status s = ErrorOf(big);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "larger than the limit"));
  // Exactly at the limit is accepted.
  big.pop_back();
  CHECK_OK(ErrorOf(big));
}

// ------------------------------------------------------------ ParseOciState

// ------------------------------------------------- Go encoding/json rules
//
// Each expectation below is what Go 1.19's json.NewDecoder(r).Decode(&spec)
// gives on this machine for specs.Spec (runtime-spec from
// golang-github-opencontainers-runc-dev), as runc@4d6e672's loadSpec reads
// config.json.

std::string Memory(const std::string& members) {
  return absl::StrCat(R"({"linux":{"resources":{"memory":{)", members, "}}}}");
}

TEST_CASE("Keys match fields case-insensitively, the last one winning",
          "[unit]") {
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(Memory(R"("Limit":5)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 5);
  c = ParseBoth(Memory(R"("limit":1,"Limit":2)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 2);
  c = ParseBoth(Memory(R"("Limit":2,"limit":1)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 1);
  c = ParseBoth(R"({"LINUX":{"CGROUPSPATH":"/a","Resources":{"MEMORY":{"KERNELtcp":3}}}})",
                kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  CHECK(c->resources.kernel_tcp_limit_bytes == 3);
  // U+212A KELVIN SIGN folds to k and U+017F LONG S to s (fold.go), escaped
  // or not.
  c = ParseBoth(Memory(R"("\u212aernel":7,"ſwap":9)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.kernel_limit_bytes == 7);
  CHECK(c->resources.memsw_limit_bytes == 9);
  c = ParseBoth(Memory("\"\xE2\x84\xAA" "ernel\":7"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.kernel_limit_bytes == 7);
  // Not a fold: a dotless i.
  c = ParseBoth(Memory("\"l\xC4\xB1mit\":7"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 0);
}

TEST_CASE("Only the first JSON value is read, as json.Decoder does", "[unit]") {
  absl::StatusOr<OciCgroupConfig> c =
      ParseBoth("{\"linux\":{\"cgroupsPath\":\"/a\"}} garbage {\"\xFF", kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  c = ParseBoth("\n\t {}{", kId);
  REQUIRE_OK(c);
  // Go's scanner refuses a byte order mark; nlohmann alone would skip it.
  CHECK_FALSE(ParseBoth("\xEF\xBB\xBF{}", kId).ok());
  CHECK_FALSE(ParseBoth("", kId).ok());
  CHECK_FALSE(ParseBoth("  ", kId).ok());
  CHECK_FALSE(ParseBoth("null", kId).ok());
  CHECK_FALSE(ParseBoth("[{}]", kId).ok());
}

TEST_CASE("Duplicate sections merge and null resets, as Go's pointers do",
          "[unit]") {
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(
      R"({"linux":{"cgroupsPath":"/a"},"linux":{"resources":{"memory":{"limit":3}}}})",
      kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  CHECK(c->resources.limit_bytes == 3);
  c = ParseBoth(R"({"linux":{"cgroupsPath":"/a"},"linux":null})", kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path.empty());
  CHECK(c->location.name == kId);
  // null leaves a string alone.
  c = ParseBoth(R"({"linux":{"cgroupsPath":"/a","cgroupsPath":null}})", kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  c = ParseBoth(Memory(R"("limit":5,"limit":null)"), kId);
  REQUIRE_OK(c);
  CHECK(c->has_memory_section);
  CHECK(c->resources.limit_bytes == 0);
  c = ParseBoth(Memory(R"("disableOOMKiller":true,"disableoomkiller":null)"),
                kId);
  REQUIRE_OK(c);
  CHECK_FALSE(c->resources.oom_kill_disable);
  c = ParseBoth(
      R"({"linux":{"resources":{"memory":{"limit":1}},"resources":{"memory":{"swap":2}}}})",
      kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 1);
  CHECK(c->resources.memsw_limit_bytes == 2);
  c = ParseBoth(
      R"({"linux":{"resources":{"memory":{"limit":1}},"resources":{"memory":null}}})",
      kId);
  REQUIRE_OK(c);
  CHECK_FALSE(c->has_memory_section);
  CHECK(c->resources.limit_bytes == 0);
}

TEST_CASE("Arrays of objects of arrays are skipped whole", "[unit]") {
  // ParseOciConfig's tree once kept one element slot for all arrays, which
  // an object inside an array inside an object inside an array overwrote
  // while it was still open (ASan: heap-use-after-free; oci_lean_fuzz
  // reproducer nested_array_object_uaf.json, runc spec's mounts).
  absl::StatusOr<OciCgroupConfig> c = ParseBoth(
      R"({"mounts":[{"options":[{"a":[{"b":[1,{"c":[]}]}]},"x"]},{"d":2}],)"
      R"("linux":{"cgroupsPath":"/a","resources":{"memory":{"limit":5}}}})",
      kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  CHECK(c->resources.limit_bytes == 5);
}

TEST_CASE("Numbers are read as strconv.ParseInt/ParseUint read literals",
          "[unit]") {
  CHECK_FALSE(ParseBoth(Memory(R"("limit":1e3)"), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(R"("limit":1.0)"), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(R"("limit":9223372036854775808)"), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(R"("limit":"5")"), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(R"("swappiness":-0)"), kId).ok());
  absl::StatusOr<OciCgroupConfig> c =
      ParseBoth(Memory(R"("limit":-0,"swappiness":0)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == 0);
  CHECK(c->resources.swappiness == std::optional<uint64_t>(0));
  c = ParseBoth(Memory(R"("limit":-9223372036854775808)"), kId);
  REQUIRE_OK(c);
  CHECK(c->resources.limit_bytes == INT64_MIN);
  // Go's scanner takes any number its grammar allows where nothing decodes
  // it (nlohmann alone refuses 1e400 as an overflow); a size field refuses.
  const std::string huge_int = "1" + std::string(400, '0');
  c = ParseBoth(absl::StrCat(R"({"x":1e400,"y":[-1E+999,)", huge_int,
                             R"(],"linux":{"cgroupsPath":"/a"}})"),
                kId);
  REQUIRE_OK(c);
  CHECK(c->cgroups_path == "/a");
  CHECK_FALSE(ParseBoth(Memory(R"("limit":1e400)"), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(absl::StrCat(R"("limit":)", huge_int)), kId).ok());
  CHECK_FALSE(ParseBoth(Memory(R"("swappiness":1e400)"), kId).ok());
}

TEST_CASE("Strings are unquoted as Go does: U+FFFD per bad byte or surrogate",
          "[unit]") {
  struct Case {
    std::string json_path, want;
  };
  const Case cases[] = {
      {"\"/\xFF\"", "/\xEF\xBF\xBD"},
      {"\"/a\xE2\x82\"", "/a\xEF\xBF\xBD\xEF\xBF\xBD"},
      {R"("/\ud800")", "/\xEF\xBF\xBD"},
      {R"("/\ud800\u0041")", "/\xEF\xBF\xBD" "A"},
      {R"("/\ud83d\ude00")", "/\xF0\x9F\x98\x80"},
      {R"("/\udc00\ud800\udc00")", "/\xEF\xBF\xBD\xF0\x90\x80\x80"},
      {R"("/a\/b\t")", "/a/b\t"},
  };
  for (const Case& c : cases) {
    INFO(c.json_path);
    absl::StatusOr<OciCgroupConfig> r =
        ParseBoth(absl::StrCat(R"({"linux":{"cgroupsPath":)", c.json_path, "}}"), kId);
    REQUIRE_OK(r);
    CHECK(r->cgroups_path == c.want);
  }
  // What Go's scanner refuses.
  for (const char* bad : {"\"/\x01\"", R"("/\x")", R"("/\u12")", R"("/\u12g4")",
                          "\"/", R"("/\')"}) {
    INFO(bad);
    CHECK_FALSE(
        ParseBoth(absl::StrCat(R"({"linux":{"cgroupsPath":)", bad, "}}"), kId).ok());
  }
}

TEST_CASE("ParseOciState reads the fields hooks use", "[unit]") {
  absl::StatusOr<OciState> s = ParseOciState(
      R"({"ociVersion":"1.0.2","id":"ctr1","status":"created","pid":4242,)"
      R"("bundle":"/run/bundles/ctr1","annotations":{"a":"b"}})");
  REQUIRE_OK(s);
  CHECK(s->oci_version == "1.0.2");
  CHECK(s->id == "ctr1");
  CHECK(s->status == "created");
  CHECK(s->pid == 4242);
  CHECK(s->bundle == "/run/bundles/ctr1");
}

TEST_CASE("ParseOciState requires an id and well-typed fields", "[unit]") {
  absl::StatusOr<OciState> minimal = ParseOciState(R"({"id":"x"})");
  REQUIRE_OK(minimal);
  CHECK(minimal->pid == 0);
  CHECK(minimal->status.empty());

  struct Case {
    const char* json;
    const char* mentions;
  };
  const Case cases[] = {
      {R"({"status":"created","pid":1})", "id is missing"},
      {R"({"id":""})", "id is missing"},
      {R"({"id":5})", "id is not a string"},
      {R"({"id":"x","pid":"1"})", "pid"},
      {R"({"id":"x","pid":1.5})", "pid"},
      {R"({"id":"x","bundle":[]})", "bundle is not a string"},
      {"[]", "not a JSON object"},
      {"{", "OCI state: invalid JSON"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    absl::StatusOr<OciState> s = ParseOciState(c.json);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(s.status().message(), c.mentions));
  }
}

// ---------------------------------------------------------- ParseRamInBytes

// Reference: runc@4d6e672 update.go ("-1" taken as is, "" leaves the value
// unset, everything else through units.RAMInBytes) with its vendored
// docker/go-units v0.2.0 size.go: ^(\d+)([kKmMgGtTpP])?[bB]?$, ParseInt,
// binary multipliers. Not the rc9+ grammar (no "1.5g", "64MiB", "1 m").
TEST_CASE("ParseRamInBytes accepts runc@4d6e672 update's sizes (go-units v0.2.0)",
          "[unit]") {
  struct Case {
    const char* text;
    int64_t want;
  };
  const Case cases[] = {
      {"1024", 1024},
      {"0", 0},
      {"007", 7},
      {"512k", 512 * 1024},
      {"512K", 512 * 1024},
      {"512kb", 512 * 1024},
      {"512KB", 512 * 1024},
      {"64m", 64 * 1024 * 1024},
      {"64MB", 64 * 1024 * 1024},
      {"3g", int64_t{3} << 30},
      {"2t", int64_t{2} << 40},
      {"1p", int64_t{1} << 50},
      {"10b", 10},
      {"10B", 10},
      {"-1", -1},
      // Exact where a double is not: 2^53 + 1, and the int64 edge.
      {"9007199254740993", 9007199254740993},
      {"9223372036854775295", 9223372036854775295},
      {"9223372036854775296", 9223372036854775296},
      {"9223372036854775806", 9223372036854775806},
      {"9223372036854775807", 9223372036854775807},
      {"9223372036854775807b", 9223372036854775807},
      {"8191p", int64_t{8191} << 50},
      {"8796093022207k", int64_t{8796093022207} << 10},
      {"9007199254740991k", int64_t{9007199254740991} << 10},
  };
  for (const Case& c : cases) {
    INFO("\"" << c.text << "\"");
    absl::StatusOr<int64_t> v = cli::ParseRamInBytes(c.text);
    REQUIRE_OK(v);
    CHECK(*v == c.want);
  }
}

TEST_CASE("ParseRamInBytes refuses what go-units v0.2.0 refuses", "[unit]") {
  for (const char* text :
       {"", "abc", "1.2.3", "-5", "-1k", "-1 ", " -1", "-01", "10x", "k",
        "1..2", "1.", ".5", " 1", "1  m", "1mm", "1kbb", "0x10", "+1",
        // The rc9+ forms.
        "1.5g", "1.7", "64MiB", "64mib", "1 m", "1 GB", "1ki",
        // \d is ASCII only in Go's RE2; a full-width digit is not one.
        "\xef\xbc\x91"}) {
    INFO("\"" << text << "\"");
    absl::StatusOr<int64_t> v = cli::ParseRamInBytes(text);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(v.status().message(), "invalid size"));
  }
}

TEST_CASE("ParseRamInBytes refuses sizes beyond int64, also after the suffix",
          "[unit]") {
  for (const char* text :
       {"8192p", "9223372036854775808", "99999999999999999999999",
        "9223372036854775807k", "9007199254740992k"}) {
    INFO("\"" << text << "\"");
    absl::StatusOr<int64_t> v = cli::ParseRamInBytes(text);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(absl::StrContains(cli::ParseRamInBytes("8192p").status().message(),
                          "larger than int64"));
  CHECK(absl::StrContains(
      cli::ParseRamInBytes("9223372036854775808").status().message(),
      "larger than int64"));
}

TEST_CASE("A size flag given as \"\" is unset, as in runc update", "[unit]") {
  absl::StatusOr<std::optional<int64_t>> empty = cli::ParseSizeFlag("");
  REQUIRE_OK(empty);
  CHECK_FALSE(empty->has_value());
  absl::StatusOr<std::optional<int64_t>> minus = cli::ParseSizeFlag("-1");
  REQUIRE_OK(minus);
  CHECK(*minus == std::optional<int64_t>(-1));
  absl::StatusOr<std::optional<int64_t>> k = cli::ParseSizeFlag("2k");
  REQUIRE_OK(k);
  CHECK(*k == std::optional<int64_t>(2048));
  CHECK_FALSE(cli::ParseSizeFlag("2.5k").ok());
}

// ------------------------------------------------------------- StatsToJson

TEST_CASE("StatsToJson has the shape of runc's events --stats memory section",
          "[unit]") {
  // runc types.Memory / MemoryEntry: struct order limit, usage, max,
  // failcnt; omitempty drops zero cache, usage and max but not limit or
  // failcnt; raw keys sorted like Go's map encoding.
  MemoryStats s;
  s.present = true;
  s.cache = 512;
  s.usage = MemoryData{2048, 4096, 1, 8192};
  s.kernel_usage = MemoryData{0, 0, 0, 9223372036854771712ULL};
  s.stats = {{"rss", 1}, {"cache", 512}};
  s.use_hierarchy = true;
  CHECK(cli::StatsToJson(s) ==
        R"({"cache":512,"usage":{"limit":8192,"usage":2048,"max":4096,)"
        R"("failcnt":1},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":)"
        R"(9223372036854771712,"failcnt":0},"kernelTCP":{"limit":0,)"
        R"("failcnt":0},"raw":{"cache":512,"rss":1},"use_hierarchy":true})");
  CHECK(cli::StatsToJson(MemoryStats{}) ==
        R"({"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},)"
        R"("kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,)"
        R"("failcnt":0},"use_hierarchy":false})");
}

}  // namespace
}  // namespace kmemguard

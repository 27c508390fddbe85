// SPDX-License-Identifier: Apache-2.0
//
// The pure parsers behind GetStats: runc@4d6e672 fs/utils.go
// getCgroupParamUint / parseUint / getCgroupParamKeyValue and the
// memory.stat loop of fs/memory.go (spec §2.9, §2.10), and Go's %q.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/memory_stats.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

constexpr char kFile[] = "/sys/fs/cgroup/memory/ctr/memory.usage_in_bytes";

uint64_t MustParse(const std::string& text) {
  absl::StatusOr<uint64_t> v = ParseCgroupUint(text, kFile);
  INFO("text: \"" << text << "\" status: " << v.status().ToString());
  REQUIRE(v.ok());
  return *v;
}

// ----------------------------------------------------------- ParseCgroupUint

TEST_CASE("ParseCgroupUint reads a kernel value with its trailing newline",
          "[unit]") {
  CHECK(MustParse("42\n") == 42);
  CHECK(MustParse("42") == 42);
  CHECK(MustParse("0\n") == 0);
  CHECK(MustParse("9223372036854771712\n") == 9223372036854771712ULL);
}

TEST_CASE("ParseCgroupUint trims surrounding white space like TrimSpace",
          "[unit]") {
  CHECK(MustParse(" 42 \n") == 42);
  CHECK(MustParse("\t42\r\n") == 42);
  CHECK(MustParse("\n\n7\n\n") == 7);
}

TEST_CASE("ParseCgroupUint reads negative values as 0", "[unit]") {
  // "Kernel bugs can make some stats negative" (runc fs/utils.go).
  CHECK(MustParse("-1\n") == 0);
  CHECK(MustParse("-4096") == 0);
  CHECK(MustParse("-9223372036854775808") == 0);
  // Below INT64_MIN: ParseInt fails with ErrRange on a negative number.
  CHECK(MustParse("-9223372036854775809") == 0);
  CHECK(MustParse("-9999999999999999999999") == 0);
}

TEST_CASE("ParseCgroupUint accepts the whole uint64 range and no more",
          "[unit]") {
  CHECK(MustParse("18446744073709551615") == UINT64_MAX);
  CHECK(MustParse("18446744073709551615\n") == UINT64_MAX);
  CHECK(MustParse("9223372036854775808") == 9223372036854775808ULL);
  absl::StatusOr<uint64_t> over = ParseCgroupUint("18446744073709551616", kFile);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(over.status().message() ==
        "unable to parse \"18446744073709551616\" as a uint from Cgroup file "
        "\"/sys/fs/cgroup/memory/ctr/memory.usage_in_bytes\"");
}

TEST_CASE("ParseCgroupUint rejects garbage with runc's exact text", "[unit]") {
  absl::StatusOr<uint64_t> v = ParseCgroupUint("abc\n", kFile);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  // The raw contents, newline included, quoted with Go's %q.
  CHECK(v.status().message() ==
        "unable to parse \"abc\\n\" as a uint from Cgroup file "
        "\"/sys/fs/cgroup/memory/ctr/memory.usage_in_bytes\"");
}

TEST_CASE("ParseCgroupUint rejects what strconv.ParseUint and ParseInt reject",
          "[unit]") {
  // "-0" is not negative, "+5" is not unsigned: both stay errors, as in runc.
  for (const char* text :
       {"", "\n", " ", "-", "-0", "+5", "4k", "1.5", "0x10", "1 2", "--1",
        "-abc", "1_000", "max\n"}) {
    INFO("\"" << text << "\"");
    absl::StatusOr<uint64_t> v = ParseCgroupUint(text, kFile);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(v.status().message(), "unable to parse "));
  }
}

// ----------------------------------------------------------- ParseMemoryStat

TEST_CASE("ParseMemoryStat reads every key, total_* included", "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> kv = ParseMemoryStat(
      "cache 4096\nrss 8192\nmapped_file 0\ntotal_cache 4096\n"
      "hierarchical_memory_limit 9223372036854771712\n");
  REQUIRE_OK(kv);
  CHECK(*kv == std::map<std::string, uint64_t>{
                   {"cache", 4096},
                   {"rss", 8192},
                   {"mapped_file", 0},
                   {"total_cache", 4096},
                   {"hierarchical_memory_limit", 9223372036854771712ULL}});
}

TEST_CASE("ParseMemoryStat treats a final newline as the end of the last line",
          "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> with =
      ParseMemoryStat("cache 1\nrss 2\n");
  absl::StatusOr<std::map<std::string, uint64_t>> without =
      ParseMemoryStat("cache 1\nrss 2");
  REQUIRE_OK(with);
  REQUIRE_OK(without);
  CHECK(*with == *without);
  CHECK(with->size() == 2);
  // CRLF line ends are dropped like bufio.ScanLines does.
  absl::StatusOr<std::map<std::string, uint64_t>> crlf =
      ParseMemoryStat("cache 1\r\nrss 2\r\n");
  REQUIRE_OK(crlf);
  CHECK(*crlf == *with);
  // An empty file has no lines.
  absl::StatusOr<std::map<std::string, uint64_t>> empty = ParseMemoryStat("");
  REQUIRE_OK(empty);
  CHECK(empty->empty());
}

TEST_CASE("ParseMemoryStat splits on any run of white space", "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> kv =
      ParseMemoryStat("  cache\t\t4096  \nrss   1\n");
  REQUIRE_OK(kv);
  CHECK(kv->at("cache") == 4096);
  CHECK(kv->at("rss") == 1);
}

TEST_CASE("ParseMemoryStat reads negative values as 0 like parseUint",
          "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> kv =
      ParseMemoryStat("cache -5\nrss -99999999999999999999999\n");
  REQUIRE_OK(kv);
  CHECK(kv->at("cache") == 0);
  CHECK(kv->at("rss") == 0);
}

TEST_CASE("ParseMemoryStat rejects an empty line in the middle", "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> kv =
      ParseMemoryStat("cache 1\n\nrss 2\n");
  REQUIRE_FALSE(kv.ok());
  CHECK(kv.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(kv.status().message() ==
        "failed to parse memory.stat (\"\") - line is not a valid key value "
        "format");
}

TEST_CASE("ParseMemoryStat rejects a line with one or three fields", "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> three =
      ParseMemoryStat("cache 1\nrss 2 3\n");
  REQUIRE_FALSE(three.ok());
  CHECK(three.status().message() ==
        "failed to parse memory.stat (\"rss 2 3\") - line is not a valid key "
        "value format");
  absl::StatusOr<std::map<std::string, uint64_t>> one =
      ParseMemoryStat("cache\n");
  REQUIRE_FALSE(one.ok());
  CHECK(one.status().message() ==
        "failed to parse memory.stat (\"cache\") - line is not a valid key "
        "value format");
}

TEST_CASE("ParseMemoryStat reports a bad value with runc's strconv text",
          "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> syntax =
      ParseMemoryStat("cache 1\nrss abc\n");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(syntax.status().message() ==
        "failed to parse memory.stat (\"rss abc\") - unable to convert param "
        "value (\"abc\") to uint64: strconv.ParseUint: parsing \"abc\": "
        "invalid syntax");
  absl::StatusOr<std::map<std::string, uint64_t>> range =
      ParseMemoryStat("rss 18446744073709551616\n");
  REQUIRE_FALSE(range.ok());
  CHECK(range.status().message() ==
        "failed to parse memory.stat (\"rss 18446744073709551616\") - unable "
        "to convert param value (\"18446744073709551616\") to uint64: "
        "strconv.ParseUint: parsing \"18446744073709551616\": value out of "
        "range");
}

// Regression (was a bug, fixed): lib/core/memory_stats.cc ParseMemoryStat drops one trailing '\n' and then
// returns an empty map when nothing is left, so a memory.stat of exactly
// "\n" parses as OK. Go's bufio.Scanner yields one empty line for "\n", and
// runc fails with `failed to parse memory.stat ("") - line is not a valid
// key value format`.
TEST_CASE("ParseMemoryStat rejects a file holding only a newline like runc",
          "[unit]") {
  absl::StatusOr<std::map<std::string, uint64_t>> kv = ParseMemoryStat("\n");
  REQUIRE_FALSE(kv.ok());
  CHECK(kv.status().message() ==
        "failed to parse memory.stat (\"\") - line is not a valid key value "
        "format");
}

// ------------------------------------------------------------------- GoQuote

TEST_CASE("GoQuote quotes and escapes like Go's %q for ASCII", "[unit]") {
  CHECK(GoQuote("") == "\"\"");
  CHECK(GoQuote("abc") == "\"abc\"");
  CHECK(GoQuote("abc\n") == "\"abc\\n\"");
  CHECK(GoQuote("a\"b") == "\"a\\\"b\"");
  CHECK(GoQuote("a\\b") == "\"a\\\\b\"");
  CHECK(GoQuote("\t\r") == "\"\\t\\r\"");
  CHECK(GoQuote(std::string("\x01\x1f\x7f", 3)) == "\"\\x01\\x1f\\x7f\"");
  CHECK(GoQuote(std::string("a\0b", 3)) == "\"a\\x00b\"");
  CHECK(GoQuote("/sys/fs/cgroup/memory/a b") ==
        "\"/sys/fs/cgroup/memory/a b\"");
  // A byte that is not valid UTF-8 is escaped.
  CHECK(GoQuote("\xff") == "\"\\xff\"");
}

// Regression (was a bug, fixed): lib/core/memory_stats.cc GoQuote escapes \a \b \f \v as \x07 \x08 \x0c
// \x0b and every byte >= 0x80 as \xNN; Go's strconv.Quote (%q) writes \a \b
// \f \v and keeps printable UTF-8 such as "é" unescaped.
TEST_CASE("GoQuote uses Go's short escapes and keeps printable UTF-8",
          "[unit]") {
  CHECK(GoQuote("\a\b\f\v") == "\"\\a\\b\\f\\v\"");
  CHECK(GoQuote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}

}  // namespace
}  // namespace kmemguard

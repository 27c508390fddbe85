// SPDX-License-Identifier: Apache-2.0
//
// memory.stat -> ParseMemoryStat, and the single-value control files
// (memory.limit_in_bytes, memory.usage_in_bytes, ...) -> ParseCgroupUint;
// GoQuote, which puts raw file contents into error messages.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "fuzz_common.h"
#include "kmemguard/core/memory_stats.h"

using namespace kmemguard;  // NOLINT

namespace {

// A quoted string is one line of printable ASCII or valid UTF-8: file
// contents cannot inject lines into logs.
void CheckQuoted(const std::string& q) {
  FUZZ_CHECK(q.size() >= 2 && q.front() == '"' && q.back() == '"');
  for (char c : q) {
    unsigned char u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::map<std::string, uint64_t>> stat = ParseMemoryStat(text);
  if (stat.ok()) {
    for (const auto& [key, value] : *stat) {
      FUZZ_CHECK(!key.empty());
      for (char c : key) FUZZ_CHECK(!absl::ascii_isspace(static_cast<unsigned char>(c)));
    }
  }

  absl::StatusOr<uint64_t> v = ParseCgroupUint(text, "memory.limit_in_bytes");
  absl::string_view t = absl::StripAsciiWhitespace(text);
  bool digits = !t.empty() && t.size() <= 19;
  for (char c : t) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    // Up to 19 digits always fits: compare with strtoull.
    FUZZ_CHECK(v.ok());
    FUZZ_CHECK(*v == std::strtoull(std::string(t).c_str(), nullptr, 10));
  }
  if (v.ok() && !t.empty() && t[0] == '-') FUZZ_CHECK(*v == 0);
  if (!v.ok()) FUZZ_CHECK(!v.status().message().empty());

  CheckQuoted(GoQuote(text));
  return 0;
}

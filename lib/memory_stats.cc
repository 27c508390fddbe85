// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/memory_stats.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace kmemguard {
namespace {

enum class ParseUintError { kNone, kSyntax, kRange };

// strconv.ParseUint(s, 10, 64): digits only, no sign.
ParseUintError GoParseUint(absl::string_view s, uint64_t* out) {
  if (s.empty()) return ParseUintError::kSyntax;
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return ParseUintError::kSyntax;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    if (!overflow) v = v * 10 + d;
  }
  if (overflow) {
    *out = UINT64_MAX;
    return ParseUintError::kRange;
  }
  *out = v;
  return ParseUintError::kNone;
}

// True when strconv.ParseInt(s, 10, 64) yields a negative number, or fails
// with ErrRange on a negative one: runc's parseUint then returns 0.
bool IsGoNegativeInt(absl::string_view s) {
  if (s.size() < 2 || s[0] != '-') return false;
  uint64_t ignored;
  ParseUintError e = GoParseUint(s.substr(1), &ignored);
  return e != ParseUintError::kSyntax && !(e == ParseUintError::kNone && ignored == 0);
}

// runc fs/utils.go parseUint.
ParseUintError RuncParseUint(absl::string_view s, uint64_t* out) {
  ParseUintError e = GoParseUint(s, out);
  if (e == ParseUintError::kNone) return e;
  if (IsGoNegativeInt(s)) {
    *out = 0;
    return ParseUintError::kNone;
  }
  return e;
}

// Go's strings.TrimSpace for ASCII white space.
absl::string_view TrimSpace(absl::string_view s) {
  return absl::StripAsciiWhitespace(s);
}

}  // namespace

std::string GoQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f || c >= 0x80) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

absl::StatusOr<uint64_t> ParseCgroupUint(absl::string_view contents,
                                         absl::string_view path) {
  uint64_t value = 0;
  if (RuncParseUint(TrimSpace(contents), &value) != ParseUintError::kNone) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to parse ", GoQuote(contents),
                     " as a uint from Cgroup file ", GoQuote(path)));
  }
  return value;
}

absl::StatusOr<std::map<std::string, uint64_t>> ParseMemoryStat(
    absl::string_view contents) {
  std::map<std::string, uint64_t> out;
  // bufio.Scanner's ScanLines: a final newline ends the last line instead of
  // starting an empty one, and a trailing '\r' is dropped.
  if (!contents.empty() && contents.back() == '\n') contents.remove_suffix(1);
  if (contents.empty()) return out;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\n\v\f\r"), absl::SkipEmpty());
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("failed to parse memory.stat (", GoQuote(line),
                       ") - line is not a valid key value format"));
    }
    uint64_t value = 0;
    ParseUintError e = RuncParseUint(fields[1], &value);
    if (e != ParseUintError::kNone) {
      return absl::InvalidArgumentError(absl::StrCat(
          "failed to parse memory.stat (", GoQuote(line),
          ") - unable to convert param value (", GoQuote(fields[1]),
          ") to uint64: strconv.ParseUint: parsing ", GoQuote(fields[1]), ": ",
          e == ParseUintError::kRange ? "value out of range"
                                      : "invalid syntax"));
    }
    out[std::string(fields[0])] = value;
  }
  return out;
}

}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/memory_stats.h"


#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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
  // strconv.Quote: short escapes, valid UTF-8 kept, other bytes as \xNN.
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\a': out += "\\a"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\v': out += "\\v"; continue;
      default: break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // A well-formed multi-byte UTF-8 sequence passes through unchanged.
    size_t len = c >= 0xf0 && c <= 0xf4   ? 4
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xc2 && c <= 0xdf ? 2
                                          : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(s.data() + i, len);
      i += len - 1;
      continue;
    }
    out += absl::StrFormat("\\x%02x", c);
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
  if (contents.empty()) return out;
  if (contents.back() == '\n') contents.remove_suffix(1);
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
  };
  // Split by hand (no vector per line): GetStats calls this on every
  // stats read, and absl::StrSplit into a vector was half its time.
  size_t pos = 0;
  for (;;) {
    size_t nl = contents.find('\n', pos);
    absl::string_view line = contents.substr(
        pos, nl == absl::string_view::npos ? absl::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // strings.Fields on the line: exactly two fields.
    absl::string_view fields[2];
    int n = 0;
    for (size_t i = 0; n <= 2;) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) break;
      size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      if (n < 2) fields[n] = line.substr(start, i - start);
      ++n;
    }
    if (n != 2) {
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
    out.insert_or_assign(std::string(fields[0]), value);
    if (nl == absl::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/go_json.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace kmemguard {

size_t GoUtf8SequenceLength(absl::string_view s) {
  if (s.empty()) return 0;
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t c = b(0);
  if (c < 0x80) return 1;
  // Unicode table 3-7, as utf8.DecodeRune's acceptRanges encode it.
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return n;
}

bool GoIsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = GoUtf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string GoCoerceUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = GoUtf8SequenceLength(s.substr(i));
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

bool GoKeyMatchesField(absl::string_view key, absl::string_view field) {
  size_t k = 0;
  for (char f : field) {
    if (k >= key.size()) return false;
    char c = key[k];
    if (static_cast<uint8_t>(c) < 0x80) {
      if (absl::ascii_tolower(c) != absl::ascii_tolower(f)) return false;
      ++k;
      continue;
    }
    // fold.go equalFoldRight: only k and s have non-ASCII folds.
    absl::string_view rest = key.substr(k);
    char lower = absl::ascii_tolower(f);
    if (lower == 'k' && absl::StartsWith(rest, "\xE2\x84\xAA")) {
      k += 3;
    } else if (lower == 's' && absl::StartsWith(rest, "\xC5\xBF")) {
      k += 2;
    } else {
      return false;
    }
  }
  return k == key.size();
}

}  // namespace kmemguard

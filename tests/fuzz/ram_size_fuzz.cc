// SPDX-License-Identifier: Apache-2.0
//
// Sizes as `runc update` and the kmemguard CLI take them -> ParseRamInBytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "cli_common.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<int64_t> v = kmemguard::cli::ParseRamInBytes(text);
  if (!v.ok()) {
    FUZZ_CHECK(!v.status().message().empty());
    return 0;
  }
  // -1 (unlimited) only when written so; otherwise never negative.
  if (text == "-1") {
    FUZZ_CHECK(*v == -1);
    return 0;
  }
  FUZZ_CHECK(*v >= 0);
  FUZZ_CHECK(!text.empty() && absl::ascii_isdigit(static_cast<unsigned char>(text[0])));

  // Plain integers that a double holds exactly come back exactly, and "k"
  // multiplies by 1024.
  size_t n = 0;
  while (n < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[n]))) ++n;
  if (n > 0 && n <= 15) {
    int64_t base = 0;
    FUZZ_CHECK(absl::SimpleAtoi(text.substr(0, n), &base));
    absl::string_view suffix = text.substr(n);
    std::string s = absl::AsciiStrToLower(suffix);
    if (s.empty() || s == "b") FUZZ_CHECK(*v == base);
    if (s == "k" || s == "kb" || s == "kib" || s == "ki") FUZZ_CHECK(*v == base * 1024);
  }
  return 0;
}

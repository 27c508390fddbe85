// SPDX-License-Identifier: Apache-2.0
//
// Sizes as runc@4d6e672 `runc update` (go-units v0.2.0) and the kmemguard
// CLI take them -> ParseRamInBytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "cli/cli_common.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<int64_t> v = kmemguard::cli::ParseRamInBytes(text);
  if (text == "-1") {
    FUZZ_CHECK(v.ok() && *v == -1);
    return 0;
  }
  // An independent reading of go-units v0.2.0's ^(\d+)([kKmMgGtTpP])?[bB]?$
  // in 128-bit arithmetic: every match that fits in int64 comes back
  // exactly; everything else is refused.
  size_t n = 0;
  unsigned __int128 value = 0;
  bool huge = false;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') {
    value = value * 10 + static_cast<unsigned>(text[n] - '0');
    if (value > (static_cast<unsigned __int128>(1) << 64)) huge = true;
    ++n;
  }
  bool match = n > 0;
  size_t i = n;
  static const char kUnits[] = "kmgtp";
  if (match && i < text.size()) {
    const char* u = std::strchr(kUnits, absl::ascii_tolower(static_cast<unsigned char>(text[i])));
    if (u != nullptr && *u != '\0') {
      value <<= 10 * (u - kUnits + 1);
      ++i;
    }
  }
  if (match && i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  match = match && i == text.size();
  bool fits = !huge && value <= static_cast<unsigned __int128>(INT64_MAX);
  if (!match || !fits) {
    FUZZ_CHECK(!v.ok());
    FUZZ_CHECK(!v.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(v.ok());
  FUZZ_CHECK(static_cast<unsigned __int128>(*v) == value);
  return 0;
}

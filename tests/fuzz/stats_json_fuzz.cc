// SPDX-License-Identifier: Apache-2.0
//
// memory.stat text (kernel, possibly odd) -> ParseMemoryStat -> the JSON of
// `kmemguard stats --format json`. The writer must never throw, its output
// must be valid JSON, and each key must come back as Go's encoder writes it
// (every invalid UTF-8 byte one U+FFFD).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "cli/cli_common.h"
#include "fuzz_common.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/memory_stats.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::map<std::string, uint64_t>> parsed =
      kmemguard::ParseMemoryStat(text);
  if (!parsed.ok()) return 0;
  kmemguard::MemoryStats stats;
  stats.present = true;
  stats.stats = *parsed;
  std::string out;
  try {
    out = kmemguard::cli::StatsToJson(stats);
  } catch (...) {
    FUZZ_CHECK(false && "StatsToJson threw");
  }
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  FUZZ_CHECK(!j.is_discarded());
  if (parsed->empty()) return 0;
  FUZZ_CHECK(j.contains("raw"));
  for (const auto& [key, value] : *parsed) {
    std::string coerced = kmemguard::GoCoerceUtf8(key);
    FUZZ_CHECK(kmemguard::GoIsValidUtf8(coerced));
    FUZZ_CHECK(j["raw"].contains(coerced));
  }
  return 0;
}

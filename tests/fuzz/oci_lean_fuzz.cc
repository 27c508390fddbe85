// SPDX-License-Identifier: Apache-2.0
//
// Differential: config.json -> ParseOciCgroupConfigLean (the wrapper's one
// pass, hand-written) against ParseOciConfig (nlohmann's tokenizer, an
// ordered tree, Go's rules applied after). Both must give the same status
// class and, on success, the same value in every field, for the cgroupfs
// and the systemd driver.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "../testing/oci_compare.h"
#include "fuzz_common.h"
#include "kmemguard/core/oci.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool systemd : {false, true}) {
    absl::StatusOr<kmemguard::OciCgroupConfig> full =
        kmemguard::ParseOciConfig(text, "ctr-abcd", systemd);
    absl::StatusOr<kmemguard::OciCgroupConfig> lean =
        kmemguard::ParseOciCgroupConfigLean(text, "ctr-abcd", systemd);
    std::string diff = kmemguard::testing::OciResultDifference(full, lean);
    if (!diff.empty()) std::fprintf(stderr, "differ: %s\n", diff.c_str());
    FUZZ_CHECK(diff.empty());
    if (!full.ok()) FUZZ_CHECK(!full.status().message().empty());
    if (!lean.ok()) FUZZ_CHECK(!lean.status().message().empty());
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
//
// The OCI state JSON a hook reads on stdin -> ParseOciState.

#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "kmemguard/core/oci.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<kmemguard::OciState> s = kmemguard::ParseOciState(text);
  if (s.ok()) {
    FUZZ_CHECK(!s->id.empty());
  } else {
    FUZZ_CHECK(!s.status().message().empty());
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
//
// /etc/kmemguard/config.toml -> ParseShimConfig, and the lean path's
// reader (LeanConfigRuntime), which must agree with it whenever it takes a
// file.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "common/shim_config.h"

using kmemguard::shim::LeanConfigRuntime;
using kmemguard::shim::ParseShimConfig;
using kmemguard::shim::ShimConfig;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ShimConfig> c = ParseShimConfig(text, "fuzz.toml");
  std::optional<absl::string_view> lean = LeanConfigRuntime(text);
  if (lean.has_value()) {
    // Taken by the lean path: toml++ reads the same runtime from it.
    FUZZ_CHECK(c.ok());
    FUZZ_CHECK(*lean == c->runtime);
  }
  if (!c.ok()) {
    FUZZ_CHECK(!c.status().message().empty());
    return 0;
  }
  // What an accepted configuration promises (docs/config.md).
  FUZZ_CHECK(c->source == "fuzz.toml");
  FUZZ_CHECK(!c->runtime.empty());
  FUZZ_CHECK(!c->state_dir.empty() && c->state_dir[0] == '/');
  FUZZ_CHECK(std::isfinite(c->hook_warn_ratio));
  FUZZ_CHECK(c->hook_warn_ratio > 0 && c->hook_warn_ratio <= 1);
  // Paths handed to open()/execve(): a NUL would silently cut them short.
  FUZZ_CHECK(c->runtime.find('\0') == std::string::npos);
  FUZZ_CHECK(c->state_dir.find('\0') == std::string::npos);
  FUZZ_CHECK(c->debug_log.find('\0') == std::string::npos);
  (void)kmemguard::shim::FailurePolicyName(c->failure_policy);
  (void)kmemguard::KmemPolicyName(c->kmem_policy);
  return 0;
}

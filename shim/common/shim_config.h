// SPDX-License-Identifier: Apache-2.0
//
// The configuration of kmemguard-runtime and kmemguard-hook:
// /etc/kmemguard/config.toml (see docs/config.md). Precedence: the
// --kmemguard-config flag, then $KMEMGUARD_CONFIG, then the default path; a
// missing default file means defaults. $KMEMGUARD_RUNTIME and the
// --kmemguard-runtime flag override `runtime`.

#ifndef KMEMGUARD_SHIM_COMMON_SHIM_CONFIG_H_
#define KMEMGUARD_SHIM_COMMON_SHIM_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/resources.h"

namespace kmemguard::shim {

inline constexpr char kDefaultConfigPath[] = "/etc/kmemguard/config.toml";
// The runtime when the file names none: looked up on PATH.
inline constexpr char kDefaultRuntime[] = "runc";

enum class FailurePolicy {
  kFailOpen,    // log a warning and run the container anyway (default)
  kFailClosed,  // refuse to create the container
};

struct ShimConfig {
  // The real runtime: an absolute path, or a name looked up on PATH
  // (skipping the wrapper itself).
  std::string runtime = kDefaultRuntime;
  KmemPolicy kmem_policy = KmemPolicy::kGuarded;
  FailurePolicy failure_policy = FailurePolicy::kFailOpen;
  // Where the wrapper records the cgroups it created, per container.
  std::string state_dir = "/run/kmemguard";
  // Opt-in verbose log file; empty = none.
  std::string debug_log;
  // Master switch: when true the wrapper only passes through.
  bool disabled = false;
  // Hook: remove the container's memory cgroup at poststop if still there.
  bool hook_cleanup = true;
  // Hook: fail createRuntime (non-zero exit) when kmem accounting is active
  // on the container's cgroup or a parent on a leak-prone kernel.
  bool hook_fail_on_kmem = false;
  // Hook: warn when this fraction of the memory-cgroup ID space is in use.
  double hook_warn_ratio = 0.5;
  // Where the configuration came from, for messages.
  std::string source = "defaults";
};

// Parses TOML text. InvalidArgument names the key and `source` for unknown
// keys and bad values.
absl::StatusOr<ShimConfig> ParseShimConfig(absl::string_view toml_text,
                                           absl::string_view source);

// kmemguard-runtime's lean path (runtime/lean_passthrough.h) reads the
// config file without toml++ when it is written plainly: blank lines,
// comments, and `key = "string"` or `key = true|false` lines of the
// top-level keys, printable ASCII, no escapes, no tables (the packaged
// file, all comments, is one). Returns the runtime, kDefaultRuntime when
// the file names none, when `text` is such a file, no key is repeated and
// every value is one ParseShimConfig accepts. Then ParseShimConfig accepts
// `text` and gives the same runtime (tests/unit/shim_test.cc;
// shim_config_fuzz checks it on every input). nullopt for anything else,
// which the full path reads with toml++.
std::optional<absl::string_view> LeanConfigRuntime(absl::string_view text);

// Loads the configuration with the precedence above.
absl::StatusOr<ShimConfig> LoadShimConfig(const std::string& flag_path,
                                          const std::string& flag_runtime);

// The runtime named by --kmemguard-runtime (`flag_runtime`), else by
// $KMEMGUARD_RUNTIME; empty when neither is set. Applies also when the
// config file cannot be used.
std::string RuntimeOverride(const std::string& flag_runtime);

absl::string_view FailurePolicyName(FailurePolicy policy);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_COMMON_SHIM_CONFIG_H_

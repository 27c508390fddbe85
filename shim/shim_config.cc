// SPDX-License-Identifier: Apache-2.0

#include "shim_config.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "kmemguard/cgroupfs.h"
#include "kmemguard/status.h"
#include "toml_parser.h"

namespace kmemguard::shim {
namespace {

absl::Status Bad(absl::string_view source, absl::string_view key,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": ", key, ": ", why));
}

}  // namespace

absl::string_view FailurePolicyName(FailurePolicy policy) {
  return policy == FailurePolicy::kFailOpen ? "fail-open" : "fail-closed";
}

absl::StatusOr<ShimConfig> ParseShimConfig(absl::string_view toml_text,
                                           absl::string_view source) {
  if (toml_text.size() > (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": larger than 1 MiB"));
  }
  toml::table table;
  try {
    table = toml::parse(std::string_view(toml_text.data(), toml_text.size()),
                        std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", static_cast<unsigned>(e.source().begin.line), ": ",
        std::string(e.description())));
  }
  ShimConfig c;
  c.source = std::string(source);
  static const std::set<std::string> kTop = {
      "runtime", "kmem-policy", "failure-policy", "state-dir", "debug-log",
      "disabled", "hook"};
  static const std::set<std::string> kHook = {"cleanup", "fail-on-kmem",
                                              "warn-ratio"};
  for (const auto& [key, node] : table) {
    std::string k(key.str());
    if (!kTop.count(k)) return Bad(source, k, "unknown key");
  }
  auto str = [&](const char* key, std::string* out) -> absl::Status {
    const toml::node* n = table.get(key);
    if (n == nullptr) return absl::OkStatus();
    if (!n->is_string()) return Bad(source, key, "must be a string");
    *out = n->as_string()->get();
    // TOML allows \u0000; a path with a NUL would be cut short by open and
    // execve (found by fuzzing).
    if (out->find('\0') != std::string::npos) {
      return Bad(source, key, "must not contain a NUL character");
    }
    return absl::OkStatus();
  };
  std::string policy, failure;
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"runtime", &c.runtime},
           {"state-dir", &c.state_dir},
           {"debug-log", &c.debug_log},
           {"kmem-policy", &policy},
           {"failure-policy", &failure}}) {
    absl::Status s = str(key, out);
    if (!s.ok()) return s;
  }
  if (!policy.empty()) {
    absl::StatusOr<KmemPolicy> p = ParseKmemPolicy(policy);
    if (!p.ok()) return Bad(source, "kmem-policy", p.status().message());
    c.kmem_policy = *p;
  }
  if (failure == "fail-closed") {
    c.failure_policy = FailurePolicy::kFailClosed;
  } else if (!failure.empty() && failure != "fail-open") {
    return Bad(source, "failure-policy",
               absl::StrCat("\"", failure, "\" is not fail-open or fail-closed"));
  }
  if (c.runtime.empty()) return Bad(source, "runtime", "must not be empty");
  if (c.state_dir.empty() || c.state_dir[0] != '/') {
    return Bad(source, "state-dir", "must be an absolute path");
  }
  if (const toml::node* n = table.get("disabled")) {
    if (!n->is_boolean()) return Bad(source, "disabled", "must be true or false");
    c.disabled = n->as_boolean()->get();
  }
  if (const toml::node* n = table.get("hook")) {
    const toml::table* hook = n->as_table();
    if (hook == nullptr) return Bad(source, "hook", "must be a table");
    for (const auto& [key, node] : *hook) {
      std::string k(key.str());
      if (!kHook.count(k)) return Bad(source, "hook." + k, "unknown key");
    }
    if (const toml::node* v = hook->get("cleanup")) {
      if (!v->is_boolean()) return Bad(source, "hook.cleanup", "must be true or false");
      c.hook_cleanup = v->as_boolean()->get();
    }
    if (const toml::node* v = hook->get("fail-on-kmem")) {
      if (!v->is_boolean()) {
        return Bad(source, "hook.fail-on-kmem", "must be true or false");
      }
      c.hook_fail_on_kmem = v->as_boolean()->get();
    }
    if (const toml::node* v = hook->get("warn-ratio")) {
      std::optional<double> d = v->value<double>();
      // NaN passes both comparisons, so test finiteness (found by fuzzing).
      if (!d.has_value() || !std::isfinite(*d) || *d <= 0 || *d > 1) {
        return Bad(source, "hook.warn-ratio", "must be a number in (0, 1]");
      }
      c.hook_warn_ratio = *d;
    }
  }
  return c;
}

absl::StatusOr<ShimConfig> LoadShimConfig(const std::string& flag_path,
                                          const std::string& flag_runtime) {
  std::string path = flag_path;
  bool must_exist = !path.empty();
  if (path.empty()) {
    if (const char* env = std::getenv("KMEMGUARD_CONFIG"); env && *env) {
      path = env;
      must_exist = true;
    } else {
      path = kDefaultConfigPath;
    }
  }
  ShimConfig config;
  absl::StatusOr<std::string> text = ReadHostFile(path);
  if (text.ok()) {
    absl::StatusOr<ShimConfig> parsed = ParseShimConfig(*text, path);
    if (!parsed.ok()) return parsed.status();
    config = *std::move(parsed);
  } else if (must_exist || ErrnoOf(text.status()) != ENOENT) {
    return text.status();
  }
  std::string runtime = RuntimeOverride(flag_runtime);
  if (!runtime.empty()) config.runtime = runtime;
  return config;
}

std::string RuntimeOverride(const std::string& flag_runtime) {
  if (!flag_runtime.empty()) return flag_runtime;
  const char* env = std::getenv("KMEMGUARD_RUNTIME");
  return env != nullptr ? env : "";
}

}  // namespace kmemguard::shim

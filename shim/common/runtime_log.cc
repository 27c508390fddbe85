// SPDX-License-Identifier: Apache-2.0

#include "common/runtime_log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/process.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/memory_stats.h"
#include "nlohmann/json.hpp"

namespace kmemguard::shim {
namespace {

std::string RuncTime() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::Now(),
                          absl::LocalTimeZone());
}

}  // namespace

std::string RuntimeLog::Format(absl::string_view level,
                               absl::string_view msg) const {
  std::string text = absl::StrCat(program_, ": ", msg);
  if (json_) {
    nlohmann::ordered_json j;
    j["level"] = std::string(level);
    // logrus's JSON formatter (Go's encoding/json) writes invalid UTF-8 as
    // U+FFFD; nlohmann's dump() would throw, and the wrapper abort.
    j["msg"] = GoCoerceUtf8(text);
    j["time"] = RuncTime();
    return j.dump();
  }
  // logrus TextFormatter, as runc writes --log without --log-format json.
  return absl::StrCat("time=\"", RuncTime(), "\" level=", level, " msg=",
                      GoQuote(text));
}

void RuntimeLog::Write(const std::string& path, absl::string_view level,
                       absl::string_view msg) const {
  if (path.empty()) return;
  // A log we cannot write must not stop the container (NVIDIA toolkit#68).
  (void)AppendLine(path, Format(level, msg));
}

void RuntimeLog::Error(absl::string_view msg) const {
  std::fprintf(stderr, "%s: %.*s\n", program_.c_str(),
               static_cast<int>(msg.size()), msg.data());
  Write(log_path_, "error", msg);
  Write(debug_path_, "error", msg);
}

void RuntimeLog::Warning(absl::string_view msg) const {
  Write(log_path_, "warning", msg);
  Write(debug_path_, "warning", msg);
}

void RuntimeLog::Debug(absl::string_view msg) const {
  Write(debug_path_, "debug", msg);
}

}  // namespace kmemguard::shim

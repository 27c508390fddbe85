// SPDX-License-Identifier: Apache-2.0
//
// The log of kmemguard-runtime and kmemguard-hook: runc's --log formats,
// so the engine that reads the runtime's log reads ours too.

#ifndef KMEMGUARD_SHIM_COMMON_RUNTIME_LOG_H_
#define KMEMGUARD_SHIM_COMMON_RUNTIME_LOG_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace kmemguard::shim {

// The runtime's --log, in runc's formats: JSON lines (logrus: level, msg,
// time) or logrus text. Errors also go to stderr; warnings and debug lines
// only to the log files (a successful create prints nothing).
class RuntimeLog {
 public:
  RuntimeLog(std::string log_path, std::string log_format,
             std::string debug_path, std::string program)
      : log_path_(std::move(log_path)),
        json_(log_format == "json"),
        debug_path_(std::move(debug_path)),
        program_(std::move(program)) {}

  void Error(absl::string_view msg) const;
  void Warning(absl::string_view msg) const;
  void Debug(absl::string_view msg) const;
  // The line written for `level` and `msg` (for tests).
  std::string Format(absl::string_view level, absl::string_view msg) const;

 private:
  void Write(const std::string& path, absl::string_view level,
             absl::string_view msg) const;
  std::string log_path_;
  bool json_;
  std::string debug_path_;
  std::string program_;
};

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_COMMON_RUNTIME_LOG_H_

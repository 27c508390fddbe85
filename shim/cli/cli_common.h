// SPDX-License-Identifier: Apache-2.0
//
// Pieces shared by the kmemguard subcommands: size parsing as runc accepts
// it, choosing the hierarchy for a --path target, output formats.

#ifndef KMEMGUARD_SHIM_CLI_CLI_COMMON_H_
#define KMEMGUARD_SHIM_CLI_CLI_COMMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory_stats.h"
#include "kmemguard/core/resources.h"
#include "kmemguard/core/target.h"

namespace kmemguard::cli {

// Exit codes of the kmemguard command (README "Exit status").
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Parses a size as runc@4d6e672's `runc update` does: "-1" is unlimited,
// otherwise go-units v0.2.0 RAMInBytes, integers only:
// ^(\d+)([kKmMgGtTpP])?[bB]?$ ("1024", "512k", "64MB"; binary multipliers).
// Every integer up to INT64_MAX is exact. InvalidArgument on anything else,
// including a product beyond int64 (go-units v0.2.0 wraps silently).
absl::StatusOr<int64_t> ParseRamInBytes(absl::string_view text);
// A size flag's value: "" is unset (nullopt), as in runc@4d6e672 update.go;
// anything else is ParseRamInBytes.
absl::StatusOr<std::optional<int64_t>> ParseSizeFlag(absl::string_view text);

// The cgroup a command works on (kmemguard/core/target.h).
using Target = CgroupTarget;

// --path DIR: DIR itself. On cgroupfs the hierarchy root is the mount that
// holds DIR; elsewhere DIR is refused unless `allow_plain_dir`, and then the
// nearest existing ancestor of DIR's parent is the root.
absl::StatusOr<Target> TargetFromDirectory(const std::string& dir,
                                           bool allow_plain_dir);

// Reads a whole file (config.json, state files).
absl::StatusOr<std::string> ReadFileText(const std::string& path);

// runc `events --stats` memory section plus use_hierarchy.
std::string StatsToJson(const MemoryStats& stats);
std::string StatsToText(const MemoryStats& stats, const std::string& path);

// The directory this kmemguard binary runs from (/proc/self/exe resolved):
// where the packages, `make install` and node-agent put kmemguard-runtime
// and kmemguard-hook beside it.
absl::StatusOr<std::string> OwnBinaryDirectory();

// Prints "kmemguard: <message>" to stderr as one line.
void PrintError(absl::string_view message);
void PrintWarning(absl::string_view message);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CLI_COMMON_H_

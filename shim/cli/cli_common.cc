// SPDX-License-Identifier: Apache-2.0

#include "cli/cli_common.h"

#include <cmath>
#include <limits>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/filesystem.hpp"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/status.h"
#include "nlohmann/json.hpp"

namespace kmemguard::cli {
namespace {

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::StatusOr<int64_t> ParseRamInBytes(absl::string_view text) {
  // runc@4d6e672 update.go: "-1" is taken before go-units sees it.
  if (text == "-1") return -1;
  // go-units v0.2.0 (vendored by runc@4d6e672, vendor.conf) size.go:
  // ^(\d+)([kKmMgGtTpP])?[bB]?$, strconv.ParseInt of the digits, times the
  // binary multiplier. Integers only: the decimal, "i" and space forms
  // arrived with runc v1.0.0-rc9's newer go-units.
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size: '", text, "'"));
  };
  auto too_large = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size: '", text, "' is larger than int64"));
  };
  size_t i = 0;
  // Accumulated exactly in int64 (no double), as ParseInt does.
  int64_t value = 0;
  bool overflow = false;
  while (i < text.size() && absl::ascii_isdigit(text[i])) {
    int digit = text[i] - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      overflow = true;
    } else {
      value = value * 10 + digit;
    }
    ++i;
  }
  if (i == 0) return invalid();
  int shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'k': case 'K': shift = 10; ++i; break;
      case 'm': case 'M': shift = 20; ++i; break;
      case 'g': case 'G': shift = 30; ++i; break;
      case 't': case 'T': shift = 40; ++i; break;
      case 'p': case 'P': shift = 50; ++i; break;
      default: break;
    }
  }
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  if (i != text.size()) return invalid();
  if (overflow) return too_large();
  // go-units v0.2.0 multiplies without a check and wraps ("8192p" becomes
  // 0); we refuse instead.
  if (value > (std::numeric_limits<int64_t>::max() >> shift)) {
    return too_large();
  }
  return value << shift;
}

absl::StatusOr<std::optional<int64_t>> ParseSizeFlag(absl::string_view text) {
  // runc@4d6e672 update.go: `if val := context.String(opt); val != ""`.
  if (text.empty()) return std::optional<int64_t>();
  absl::StatusOr<int64_t> v = ParseRamInBytes(text);
  if (!v.ok()) return v.status();
  return std::optional<int64_t>(*v);
}

absl::StatusOr<Target> TargetFromDirectory(const std::string& raw_dir,
                                           bool allow_plain_dir) {
  if (raw_dir.empty() || raw_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--path ", raw_dir, ": not an absolute path"));
  }
  std::string dir = GoClean(raw_dir);
  if (dir == "/") {
    return absl::InvalidArgumentError("--path /: refusing the root directory");
  }
  // The nearest existing ancestor of DIR's parent.
  std::string anchor = Dirname(dir);
  HostPathInfo info;
  for (;;) {
    absl::StatusOr<HostPathInfo> i = StatHostPath(anchor);
    if (!i.ok()) return i.status();
    info = *i;
    if (info.exists) break;
    anchor = Dirname(anchor);
  }
  if (!info.is_dir) {
    return absl::InvalidArgumentError(
        absl::StrCat("--path ", dir, ": ", anchor, " is not a directory"));
  }
  RootCheck check = RootCheck::kRequireCgroupfs;
  if (info.on_cgroupfs) {
    // Climb to the mount point of this hierarchy: the highest ancestor on
    // the same device.
    while (anchor != "/") {
      std::string up = Dirname(anchor);
      absl::StatusOr<HostPathInfo> i = StatHostPath(up);
      if (!i.ok()) return i.status();
      if (!i->on_cgroupfs || i->device != info.device) break;
      anchor = up;
    }
  } else if (allow_plain_dir) {
    check = RootCheck::kAllowPlainDir;
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "--path ", dir, " is not on a cgroup filesystem; pass "
        "--allow-plain-dir to target a plain directory (fixture tree)"));
  }
  absl::StatusOr<std::string> rel = GoRel(anchor, dir);
  if (!rel.ok()) return rel.status();
  absl::StatusOr<CgroupPath> path = CgroupPath::Parse(*rel);
  if (!path.ok()) return path.status();
  if (path->IsRoot()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--path ", dir, " is the root of its hierarchy; refusing"));
  }
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(anchor, check);
  if (!fs.ok()) return fs.status();
  Target t;
  t.fs = *std::move(fs);
  t.path = *std::move(path);
  t.full_path = dir;
  return t;
}

absl::StatusOr<std::string> ReadFileText(const std::string& path) {
  return ReadHostFile(path);
}

std::string StatsToJson(const MemoryStats& s) {
  // The shape of runc's types.Memory (events --stats): Go's omitempty drops
  // zero cache, usage and max, but not limit or failcnt.
  auto entry = [](const MemoryData& d) {
    nlohmann::ordered_json j;
    j["limit"] = d.limit;
    if (d.usage != 0) j["usage"] = d.usage;
    if (d.max_usage != 0) j["max"] = d.max_usage;
    j["failcnt"] = d.failcnt;
    return j;
  };
  nlohmann::ordered_json j;
  if (s.cache != 0) j["cache"] = s.cache;
  j["usage"] = entry(s.usage);
  j["swap"] = entry(s.swap_usage);
  j["kernel"] = entry(s.kernel_usage);
  j["kernelTCP"] = entry(s.kernel_tcp_usage);
  if (!s.stats.empty()) {
    nlohmann::ordered_json raw = nlohmann::ordered_json::object();
    for (const auto& [k, v] : s.stats) raw[k] = v;
    j["raw"] = raw;
  }
  j["use_hierarchy"] = s.use_hierarchy;
  // memory.stat keys are kernel text: coerce as Go's encoder does (runc's
  // events --stats), rather than let dump() throw on invalid UTF-8.
  return GoCoerceJsonStrings(j).dump();
}

std::string StatsToText(const MemoryStats& s, const std::string& path) {
  std::string out = absl::StrCat("cgroup         ", path, "\n");
  if (!s.present) {
    absl::StrAppend(&out, "(no memory.stat: not a memory cgroup)\n");
    return out;
  }
  auto row = [&](const char* name, const MemoryData& d) {
    absl::StrAppend(&out, absl::StrFormat("%-14s %20u %20u %20u %10u\n", name,
                                          d.usage, d.max_usage, d.limit,
                                          d.failcnt));
  };
  absl::StrAppend(&out, absl::StrFormat("%-14s %20s %20s %20s %10s\n", "",
                                        "usage", "max usage", "limit",
                                        "failcnt"));
  row("memory", s.usage);
  row("memory+swap", s.swap_usage);
  row("kernel", s.kernel_usage);
  row("kernel tcp", s.kernel_tcp_usage);
  absl::StrAppend(&out, absl::StrFormat("%-14s %20u\n", "cache", s.cache));
  absl::StrAppend(&out, "use_hierarchy  ", s.use_hierarchy ? "1" : "0", "\n");
  return out;
}

void PrintError(absl::string_view message) {
  std::fprintf(stderr, "kmemguard: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

void PrintWarning(absl::string_view message) {
  std::fprintf(stderr, "kmemguard: warning: %.*s\n",
               static_cast<int>(message.size()), message.data());
}

absl::StatusOr<std::string> OwnBinaryDirectory() {
  boost::system::error_code ec;
  boost::filesystem::path exe =
      boost::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ErrnoError(ec.value(), "readlink", "/proc/self/exe");
  return exe.parent_path().string();
}

}  // namespace kmemguard::cli

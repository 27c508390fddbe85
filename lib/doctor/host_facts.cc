// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/doctor/host_facts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "kmemguard/core/kernel.h"

namespace kmemguard {

std::string FirstLineOf(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(
      text.substr(0, std::min(text.find('\n'), text.size()))));
}

bool CmdlineHasNokmem(absl::string_view cmdline) {
  // Arguments after " -- " go to init, not to the kernel.
  size_t dashes = cmdline.find(" -- ");
  if (dashes != absl::string_view::npos) cmdline = cmdline.substr(0, dashes);
  for (absl::string_view arg :
       absl::StrSplit(cmdline, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&arg, "cgroup.memory=")) continue;
    for (absl::string_view opt : absl::StrSplit(arg, ',')) {
      if (opt == "nokmem") return true;
    }
  }
  return false;
}

absl::string_view CgroupLayoutName(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kV1: return "v1";
    case CgroupLayout::kHybrid: return "hybrid";
    case CgroupLayout::kUnifiedV2: return "v2";
    case CgroupLayout::kUnknown: break;
  }
  return "unknown";
}

LayoutInfo DetectLayout(const std::vector<MountInfo>& mounts) {
  LayoutInfo info;
  for (const MountInfo& m : mounts) {
    if (m.fs_type == "cgroup2") {
      if (info.unified_mount.empty()) info.unified_mount = m.mount_point;
      continue;
    }
    if (m.fs_type != "cgroup") continue;
    for (const std::string& opt : m.super_options) {
      if (opt == "memory" && info.memory_mount.empty()) {
        info.memory_mount = m.mount_point;
        info.memory_root = m.root;
      }
      if (opt == "name=systemd" && info.systemd_mount.empty()) {
        info.systemd_mount = m.mount_point;
      }
    }
  }
  if (!info.memory_mount.empty()) {
    info.layout = info.unified_mount.empty() ? CgroupLayout::kV1
                                             : CgroupLayout::kHybrid;
  } else if (!info.unified_mount.empty()) {
    info.layout = CgroupLayout::kUnifiedV2;
  }
  return info;
}

absl::StatusOr<CgroupStat> ParseCgroupStat(absl::string_view text) {
  CgroupStat stat;
  bool have_desc = false, have_dying = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    const bool needed =
        kv.first == "nr_descendants" || kv.first == "nr_dying_descendants";
    int64_t v = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &v)) {
      // A line we do not use is skipped; one we need names itself.
      if (!needed) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("cgroup.stat: malformed line \"", line, "\""));
    }
    // Counts of cgroups: never negative, and far below 2^32 on any kernel;
    // anything else is not a kernel's cgroup.stat (and would overflow the
    // sums made from it; found by fuzzing).
    if (needed && (v < 0 || v > (int64_t{1} << 32))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cgroup.stat: ", kv.first, " ", v, " is not a cgroup count"));
    }
    if (kv.first == "nr_descendants") {
      stat.nr_descendants = v;
      have_desc = true;
    } else if (kv.first == "nr_dying_descendants") {
      stat.nr_dying_descendants = v;
      have_dying = true;
    }
  }
  if (!have_desc || !have_dying) {
    return absl::InvalidArgumentError(
        "cgroup.stat lacks nr_descendants or nr_dying_descendants");
  }
  return stat;
}

absl::StatusOr<RuntimeVersion> ParseRuntimeVersion(absl::string_view name,
                                                   absl::string_view output) {
  RuntimeVersion v;
  v.name = std::string(name);
  // "runc version 1.1.5+ds1", "crun version 1.8.1", "Kubernetes v1.9.11".
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      bool marker = words[i] == "version" || words[i] == "Kubernetes";
      if (!marker) continue;
      absl::string_view word = words[i + 1];
      DottedVersion dotted;
      if (ParseDottedVersion(word, &dotted)) {
        v.major = dotted.major;
        v.minor = dotted.minor;
        v.patch = dotted.patch;
        v.rc = dotted.rc;
        absl::ConsumePrefix(&word, "v");
        v.version = std::string(word);
        return v;
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "no version in the output of ", name, " --version: \"",
      FirstLineOf(output), "\""));
}

bool RuncPredatesRc94(const RuntimeVersion& v) {
  if (v.major != 1) return v.major < 1;
  if (v.minor != 0 || v.patch != 0) return false;
  return v.rc >= 0 && v.rc < 94;
}

bool KubeletVendorsKmemRunc(const RuntimeVersion& v) {
  return v.major < 1 || (v.major == 1 && v.minor < 22);
}

}  // namespace kmemguard

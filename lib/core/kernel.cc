// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/kernel.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kmemguard {

bool ParseDottedVersion(absl::string_view text, DottedVersion* v) {
  absl::ConsumePrefix(&text, "v");
  size_t end = 0;
  while (end < text.size() && (absl::ascii_isdigit(text[end]) || text[end] == '.'))
    ++end;
  std::vector<absl::string_view> parts =
      absl::StrSplit(text.substr(0, end), '.', absl::SkipEmpty());
  if (parts.size() < 2) return false;
  int nums[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], &nums[i])) return false;
  }
  v->major = nums[0];
  v->minor = nums[1];
  v->patch = nums[2];
  v->rc = -1;
  absl::string_view rest = text.substr(end);
  if (absl::ConsumePrefix(&rest, "-rc")) {
    size_t d = 0;
    while (d < rest.size() && absl::ascii_isdigit(rest[d])) ++d;
    int rc = 0;
    if (d > 0 && absl::SimpleAtoi(rest.substr(0, d), &rc)) v->rc = rc;
  }
  return true;
}

absl::StatusOr<KernelRelease> ParseKernelRelease(absl::string_view text) {
  KernelRelease r;
  text = absl::StripAsciiWhitespace(text);
  r.text = std::string(text);
  DottedVersion v;
  if (!ParseDottedVersion(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unrecognised kernel release \"", text, "\""));
  }
  r.major = v.major;
  r.minor = v.minor;
  r.patch = v.patch;
  size_t el7 = text.find(".el7");
  if (el7 != absl::string_view::npos) {
    r.el7 = true;
    // 3.10.0-957.21.3.el7.x86_64: the build is the number after '-'.
    size_t dash = text.find('-');
    if (dash != absl::string_view::npos && dash < el7) {
      absl::string_view build = text.substr(dash + 1);
      size_t d = 0;
      while (d < build.size() && absl::ascii_isdigit(build[d])) ++d;
      int n = 0;
      if (d > 0 && absl::SimpleAtoi(build.substr(0, d), &n)) r.rhel_build = n;
    }
  }
  return r;
}

absl::string_view KernelClassName(KernelClass c) {
  switch (c) {
    case KernelClass::kRhel7Leaky: return "rhel7-3.10-leaky";
    case KernelClass::kRhel7Fixed: return "rhel7-3.10-fixed";
    case KernelClass::kPre4: return "3.x";
    case KernelClass::kV4_0To4_5: return "4.0-4.5";
    case KernelClass::kV4_6Plus: return "4.6+";
    case KernelClass::kV5_16Plus: return "5.16+";
    case KernelClass::kV6Plus: return "6.x";
    case KernelClass::kUnknown: break;
  }
  return "unknown";
}

KernelAssessment ClassifyKernel(const KernelRelease& r) {
  KernelAssessment a;
  auto at_least = [&](int major, int minor) {
    return r.major > major || (r.major == major && r.minor >= minor);
  };
  if (r.major <= 0) {
    a.summary = "kernel release unknown";
    return a;
  }
  if (r.major == 3 && r.minor == 10 && r.el7) {
    if (r.rhel_build >= 0 && r.rhel_build < 1075) {
      a.kernel_class = KernelClass::kRhel7Leaky;
      a.leak_prone = true;
      a.summary =
          "RHEL/CentOS 7 kernel before 3.10.0-1075: once kmem accounting is "
          "active, dying memory cgroups are never freed (bugzilla 1507149)";
    } else {
      a.kernel_class = KernelClass::kRhel7Fixed;
      a.summary =
          "RHEL/CentOS 7 kernel from 3.10.0-1075 (bugzilla 1507149 fixed); "
          "kmem accounting is still opt-in per cgroup";
    }
  } else if (!at_least(4, 0)) {
    a.kernel_class = KernelClass::kPre4;
    a.leak_prone = true;
    a.summary =
        "3.x kernel: kmem accounting is opt-in per cgroup and kmem caches pin "
        "dying memory cgroups";
  } else if (!at_least(4, 6)) {
    a.kernel_class = KernelClass::kV4_0To4_5;
    a.leak_prone = true;
    a.summary =
        "4.0-4.5 kernel: kmem accounting is opt-in per cgroup (runc's 1/-1 "
        "write activates it) and leaks dying memory cgroups";
  } else if (!at_least(5, 16)) {
    a.kernel_class = KernelClass::kV4_6Plus;
    a.kmem_always_accounted = true;
    a.summary =
        "4.6+ kernel: kmem is accounted in every memory cgroup "
        "(b313aeee2509); dying cgroups come from page cache and slab";
  } else if (!at_least(6, 0)) {
    a.kernel_class = KernelClass::kV5_16Plus;
    a.kmem_always_accounted = true;
    a.kmem_limit_refused = true;
    a.summary =
        "5.16+ kernel: kmem is always accounted and kmem limits are refused "
        "(EOPNOTSUPP, 58056f77502f)";
  } else {
    a.kernel_class = KernelClass::kV6Plus;
    a.kmem_always_accounted = true;
    a.kmem_limit_refused = true;
    a.summary =
        "6.x kernel: kmem is always accounted; memory.kmem.limit_in_bytes "
        "is refused, a no-op or absent";
  }
  return a;
}

}  // namespace kmemguard

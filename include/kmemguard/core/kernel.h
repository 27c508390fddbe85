// SPDX-License-Identifier: Apache-2.0
//
// What the running kernel's release says about kernel-memory (kmem)
// accounting: pure parsers over uname(2)'s release text. In kmemguard::core
// because the runtime wrapper and the hook decide with them whether
// per-cgroup kmem activation applies; kmemguard doctor reports them.

#ifndef KMEMGUARD_CORE_KERNEL_H_
#define KMEMGUARD_CORE_KERNEL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kmemguard {

// "1.0.0-rc93", "1.1.5+ds1", "v1.9.11", "4.19.0-21-amd64": the leading
// MAJOR.MINOR[.PATCH] and an "-rcN" right after it.
struct DottedVersion {
  int major = 0, minor = 0, patch = 0;
  int rc = -1;  // 93 for -rc93; -1 for a final release
};
// False unless the text starts with at least MAJOR.MINOR (after an optional
// "v").
bool ParseDottedVersion(absl::string_view text, DottedVersion* v);

// A kernel release string: "3.10.0-957.el7.x86_64", "4.4.0-21-generic",
// "6.18.44-fc-v857".
struct KernelRelease {
  std::string text;
  int major = 0;
  int minor = 0;
  int patch = 0;
  bool el7 = false;      // a RHEL/CentOS 7 kernel (".el7" in the release)
  int rhel_build = -1;   // 957 in 3.10.0-957.el7; -1 when not el7
};
// InvalidArgument when the release does not start with MAJOR.MINOR.
absl::StatusOr<KernelRelease> ParseKernelRelease(absl::string_view text);

// The kernel classes of the kmem story (runc-memory-spec.md section 6.3).
enum class KernelClass {
  kUnknown,
  kRhel7Leaky,   // 3.10 el7 before 3.10.0-1075: kmem caches pin dying memcgs
  kRhel7Fixed,   // 3.10 el7 from 3.10.0-1075 (bugzilla 1507149)
  kPre4,         // other 3.x: opt-in kmem, no kmem reparenting
  kV4_0To4_5,    // opt-in kmem (runc's 1/-1 trick activates it)
  kV4_6Plus,     // kmem accounted for every v1 memcg (b313aeee2509)
  kV5_16Plus,    // kmem limits refused (EOPNOTSUPP, 58056f77502f)
  kV6Plus,       // 6.x and later: limit file a no-op, refused or removed
};
absl::string_view KernelClassName(KernelClass c);  // "rhel7-3.10-leaky", ...

struct KernelAssessment {
  KernelClass kernel_class = KernelClass::kUnknown;
  // Kernel memory is charged to every memcg (4.6+), unless nokmem.
  bool kmem_always_accounted = false;
  // Setting memory.kmem.limit_in_bytes is refused or ignored (5.16+).
  bool kmem_limit_refused = false;
  // The kmem activation trick leaks memcg IDs on this kernel.
  bool leak_prone = false;
  std::string summary;  // one sentence for reports
};
KernelAssessment ClassifyKernel(const KernelRelease& release);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_KERNEL_H_

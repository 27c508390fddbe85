// SPDX-License-Identifier: Apache-2.0

#include "common/inherited_kmem.h"

#include <cstdint>
#include <optional>

#include "kmemguard/core/kernel.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/memory_stats.h"

namespace kmemguard::shim {
namespace {

std::optional<uint64_t> ReadUint(CgroupFs& fs, const CgroupPath& dir,
                                 absl::string_view file) {
  absl::StatusOr<std::string> text = fs.ReadFile(dir, file);
  if (!text.ok()) return std::nullopt;
  absl::StatusOr<uint64_t> v = ParseCgroupUint(*text, file);
  if (!v.ok()) return std::nullopt;
  return *v;
}

}  // namespace

bool KmemOptInKernel(absl::string_view release) {
  absl::StatusOr<KernelRelease> parsed = ParseKernelRelease(release);
  if (!parsed.ok()) return false;
  KernelAssessment a = ClassifyKernel(*parsed);
  return a.kernel_class != KernelClass::kUnknown && !a.kmem_always_accounted;
}

std::vector<std::string> AccountedAncestors(CgroupFs& fs,
                                            const CgroupPath& path,
                                            bool include_self) {
  std::vector<std::string> out;
  for (CgroupPath p = include_self ? path : path.Parent(); !p.IsRoot();
       p = p.Parent()) {
    absl::StatusOr<bool> exists = fs.Exists(p);
    if (!exists.ok() || !*exists) continue;
    std::optional<uint64_t> hierarchy = ReadUint(fs, p, kUseHierarchy);
    if (hierarchy != 1) continue;
    if (InspectKmemState(&fs, p).active) out.push_back(fs.DisplayPath(p));
  }
  return out;
}

}  // namespace kmemguard::shim

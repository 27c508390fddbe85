// SPDX-License-Identifier: Apache-2.0
//
// /proc/cgroups and the other texts the doctor reads (doctor.h):
// ParseProcCgroupsMemory and ExhaustionAwareMkdirError, ParseCgroupStat,
// ParseKernelRelease + ClassifyKernel, ParseRuntimeVersion,
// CmdlineHasNokmem. Every parser gets the whole input.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_common.h"
#include "kmemguard/doctor/doctor.h"
#include "kmemguard/core/status.h"

using namespace kmemguard;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(text);
  if (row.ok()) {
    FUZZ_CHECK(row->subsys_name == "memory");
    FUZZ_CHECK(row->num_cgroups >= 0);
    (void)IdSpaceExhausted(row->num_cgroups);
    (void)WithThousands(row->num_cgroups);
  }
  absl::StatusOr<CgroupStat> stat = ParseCgroupStat(text);
  std::optional<int64_t> visible;
  if (stat.ok()) {
    (void)WithThousands(stat->nr_descendants);
    (void)WithThousands(stat->nr_dying_descendants);
    // A count of visible cgroups, as CountCgroups gives (never negative).
    if (stat->nr_descendants >= 0) visible = stat->nr_descendants;
  }
  for (int err : {ENOSPC, EBUSY, EIO}) {
    absl::Status mkdir = ErrnoError(err, "mkdir", "/sys/fs/cgroup/memory/x");
    absl::Status s = ExhaustionAwareMkdirError(mkdir, text, visible);
    FUZZ_CHECK(!s.ok());
    FUZZ_CHECK(ErrnoOf(s) == err);  // the errno survives
    if (err == EIO) FUZZ_CHECK(s == mkdir);
    s = ExhaustionAwareMkdirError(mkdir, text, std::nullopt);
    FUZZ_CHECK(ErrnoOf(s) == err);
  }

  absl::StatusOr<KernelRelease> k = ParseKernelRelease(text);
  if (k.ok()) {
    KernelAssessment a = ClassifyKernel(*k);
    (void)KernelClassName(a.kernel_class);
  }
  for (const char* name : {"runc", "crun", "kubelet"}) {
    absl::StatusOr<RuntimeVersion> v = ParseRuntimeVersion(name, text);
    if (v.ok()) {
      FUZZ_CHECK(v->name == name);
      (void)RuncPredatesRc94(*v);
      (void)KubeletVendorsKmemRunc(*v);
    }
  }
  (void)CmdlineHasNokmem(text);
  return 0;
}

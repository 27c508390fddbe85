// SPDX-License-Identifier: Apache-2.0
//
// kmemguard doctor's checks: one function per finding (or small family of
// findings), each reading the facts of a DoctorReport, then the verdict and
// the remediation menu. docs/doctor.md documents every check; keep the two
// in step. To add a check: write a CheckX below and add it to kChecks.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/doctor/doctor.h"

namespace kmemguard {

absl::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kWarning: return "warning";
    case Verdict::kCritical: return "critical";
    case Verdict::kUnknown: break;
  }
  return "unknown";
}

absl::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

WatchResult ComputeGrowth(const std::vector<DoctorSample>& samples,
                          int64_t limit) {
  WatchResult w;
  w.samples = static_cast<int>(samples.size());
  if (samples.size() < 2) return w;
  const DoctorSample& a = samples.front();
  const DoctorSample& b = samples.back();
  w.duration_seconds = absl::ToDoubleSeconds(b.time - a.time);
  if (w.duration_seconds <= 0) return w;
  double hours = w.duration_seconds / 3600.0;
  w.dying_per_hour = static_cast<double>(b.dying - a.dying) / hours;
  w.in_use_per_hour = static_cast<double>(b.in_use - a.in_use) / hours;
  if (w.in_use_per_hour > 0) {
    double headroom = static_cast<double>(std::max<int64_t>(0, limit - b.in_use));
    w.seconds_to_cliff = headroom / w.in_use_per_hour * 3600.0;
  }
  return w;
}

namespace {

void Add(DoctorReport* r, std::string id, Severity s, std::string message) {
  r->findings.push_back(Finding{std::move(id), s, std::move(message)});
}

std::string Percent(double ratio) {
  return absl::StrFormat("%.1f %%", 100 * ratio);
}

std::string HumanSeconds(double s) {
  if (s < 3600) return absl::StrCat(static_cast<int64_t>(s / 60), " min");
  if (s < 2 * 86400) return absl::StrCat(static_cast<int64_t>(s / 3600), " h");
  return absl::StrCat(static_cast<int64_t>(s / 86400), " days");
}

}  // namespace

namespace {

bool OptInKmem(const DoctorReport& r) {
  return !r.kernel.kmem_always_accounted &&
         r.kernel.kernel_class != KernelClass::kUnknown;
}

bool V1(const DoctorReport& r) {
  return r.layout.layout != CgroupLayout::kUnifiedV2;
}

void CheckIds(DoctorReport* r) {
  if (!r->ids_known) {
    Add(r, "ids-unknown", Severity::kCritical,
        "could not count memory cgroup IDs: " +
            absl::StrJoin(r->errors, "; "));
    return;
  }
  double ratio = static_cast<double>(r->in_use) / r->limit;
  std::string numbers = absl::StrCat(
      WithThousands(r->in_use), " of ", WithThousands(r->limit),
      " memory cgroup IDs in use (", Percent(ratio), "): ",
      WithThousands(r->visible), " visible, ", WithThousands(r->dying),
      " dying");
  if (ratio >= r->critical_ratio) {
    Add(r, "ids-critical", Severity::kCritical,
        absl::StrCat(numbers, "; mkdir in the memory hierarchy fails at ",
                     WithThousands(r->limit)));
  } else if (ratio >= r->warning_ratio) {
    Add(r, "ids-warning", Severity::kWarning, numbers);
  } else {
    Add(r, "ids-ok", Severity::kInfo, numbers);
  }
  if (r->dying > r->visible && r->dying >= 1000) {
    Add(r, "dying-dominant", Severity::kInfo,
        "most IDs are held by dying (removed but pinned) memory cgroups");
  }
  if (!r->memory_enabled && r->ids_source == "proc-cgroups") {
    Add(r, "memory-disabled", Severity::kInfo,
        "the memory controller is disabled (cgroup_disable=memory)");
  }
}

void CheckGrowth(DoctorReport* r) {
  if (!r->watch.has_value() || r->watch->samples < 2) return;
  std::string rate = absl::StrCat(
      "dying cgroups grow by ",
      static_cast<int64_t>(r->watch->dying_per_hour), " per hour");
  if (!r->watch->seconds_to_cliff.has_value()) {
    Add(r, "ids-growth", Severity::kInfo,
        absl::StrCat(rate, "; IDs in use are not growing"));
    return;
  }
  double s = *r->watch->seconds_to_cliff;
  Severity sev = s < 86400       ? Severity::kCritical
                 : s < 7 * 86400 ? Severity::kWarning
                                 : Severity::kInfo;
  Add(r, "ids-growth", sev,
      absl::StrCat(rate, "; the ID limit is reached in about ",
                   HumanSeconds(s), " at this rate"));
}

void CheckAccountingMode(DoctorReport* r) {
  if (!V1(*r)) {
    Add(r, "v2", Severity::kInfo,
        "pure cgroup v2: the v1 kmem-activation leak class does not apply; "
        "dying cgroups come from cgroup.stat nr_dying_descendants");
  }
  if (r->nokmem_boot) {
    Add(r, "nokmem-boot", Severity::kInfo,
        "booted with cgroup.memory=nokmem: kernel memory is not accounted");
  } else if (r->kernel.kmem_always_accounted && V1(*r)) {
    Add(r, "kmem-always-on", Severity::kInfo,
        "this kernel accounts kernel memory in every memory cgroup; runtimes "
        "cannot switch it on or off per cgroup");
  }
}

void CheckLeakProneKernel(DoctorReport* r) {
  if (!r->kernel.leak_prone || r->nokmem_boot || !V1(*r)) return;
  if (r->kmem_active > 0) {
    Add(r, "kmem-leak-prone", Severity::kWarning,
        absl::StrCat(r->kernel.summary, "; ", WithThousands(r->kmem_active),
                     " memory cgroups have kmem accounting active"));
  } else {
    Add(r, "kmem-leak-prone-inactive", Severity::kInfo,
        absl::StrCat(r->kernel.summary,
                     "; no memory cgroup has kmem accounting active"));
  }
}

void CheckInheritedKmem(DoctorReport* r) {
  if (!OptInKmem(*r) || r->nokmem_boot) return;
  std::vector<std::string> inherited;
  for (const KmemCgroup& c : r->kmem_cgroups) {
    if (c.inspected && c.active && c.use_hierarchy == 1 &&
        (c.children > 0 || c.well_known))
      inherited.push_back(c.path);
  }
  if (inherited.empty()) return;
  Add(r, "kmem-inherited", Severity::kWarning,
      absl::StrCat(absl::StrJoin(inherited, ", "),
                   ": kmem accounting active with use_hierarchy=1, so every "
                   "cgroup created below inherits it; a runtime-side guard "
                   "cannot undo that"));
}

// A runtime that turns kmem accounting on is a warning only where that
// matters: opt-in kernels not booted with nokmem.
Severity RuntimeRiskSeverity(const DoctorReport& r) {
  return OptInKmem(r) && !r.nokmem_boot ? Severity::kWarning : Severity::kInfo;
}

void CheckRunc(DoctorReport* r) {
  for (const RuntimeInfo& rt : r->runtimes) {
    if (!rt.error.empty()) {
      Add(r, "runtime-unreadable", Severity::kInfo,
          absl::StrCat(rt.name, " at ", rt.path, ": ", rt.error));
      continue;
    }
    if (rt.name != "runc" || !rt.predates_rc94.value_or(false) ||
        rt.nokmem_build == "yes") {
      continue;
    }
    Add(r, "runc-enables-kmem", RuntimeRiskSeverity(*r),
        absl::StrCat("runc ", rt.version,
                     " predates 1.0.0-rc94 and enables kmem accounting on "
                     "every memory cgroup it creates",
                     rt.nokmem_build == "unknown"
                         ? " (nokmem build: cannot tell)"
                         : ""));
  }
}

void CheckKubelet(DoctorReport* r) {
  if (!r->kubelet.has_value() || !r->kubelet->error.empty() ||
      !r->kubelet->predates_rc94.value_or(false) ||
      r->kubelet->nokmem_build == "yes") {
    return;
  }
  Add(r, "kubelet-enables-kmem", RuntimeRiskSeverity(*r),
      absl::StrCat("kubelet ", r->kubelet->version,
                   " vendors a runc before 1.0.0-rc94: it enables kmem "
                   "accounting on the pod cgroups it creates"));
}

void CheckRunScopes(DoctorReport* r) {
  // kubernetes#70324.
  if (!r->run_scopes_counted || r->run_scopes < r->run_scope_threshold) return;
  Add(r, "k8s-70324", Severity::kWarning,
      absl::StrCat(WithThousands(r->run_scopes),
                   " systemd run-*.scope cgroups: a different leak "
                   "(kubernetes#70324: leaked transient units, inotify "
                   "ENOSPC), not memory cgroup IDs"));
}

void CheckUnguardedStarts(DoctorReport* r) {
  // A guard that was skipped must never look healthy (issue 10).
  if (!r->unguarded.has_value() || r->unguarded->count == 0) return;
  Add(r, "unguarded-starts", Severity::kWarning,
      absl::StrCat(DescribeUnguardedStarts(*r->unguarded),
                   " (counted in ", r->unguarded->path,
                   "; see kmemguard-runtime's --log)"));
}

void CheckPartial(DoctorReport* r) {
  if (!r->ids_known || r->errors.empty()) return;
  Add(r, "partial", Severity::kInfo,
      absl::StrCat("not inspected: ", absl::StrJoin(r->errors, "; ")));
}

// The checks, in the order their findings are listed.
constexpr void (*kChecks[])(DoctorReport*) = {
    CheckIds,           CheckGrowth,       CheckAccountingMode,
    CheckLeakProneKernel, CheckInheritedKmem, CheckRunc,
    CheckKubelet,       CheckRunScopes,    CheckUnguardedStarts,
    CheckPartial,
};

// The worst finding; unknown without the ID counts.
Verdict VerdictOf(const DoctorReport& r) {
  if (!r.ids_known) return Verdict::kUnknown;
  Severity worst = Severity::kInfo;
  for (const Finding& f : r.findings) worst = std::max(worst, f.severity);
  return worst == Severity::kCritical  ? Verdict::kCritical
         : worst == Severity::kWarning ? Verdict::kWarning
                                       : Verdict::kOk;
}

bool HasWarning(const DoctorReport& r, absl::string_view id) {
  for (const Finding& f : r.findings) {
    if (f.id == id && f.severity == Severity::kWarning) return true;
  }
  return false;
}

// The remediation menu, always in this order; `relevant` marks the steps
// this host's findings suggest.
std::vector<RemediationStep> Remediation(const DoctorReport& r) {
  const bool runtime_risk = HasWarning(r, "runc-enables-kmem") ||
                            HasWarning(r, "kubelet-enables-kmem");
  const bool bad =
      r.verdict == Verdict::kWarning || r.verdict == Verdict::kCritical;
  return {
      {1, "upgrade-runtimes",
       "Upgrade runc to >= 1.0.0-rc94 and the kubelet to a release vendoring "
       "it (Kubernetes >= 1.22): they no longer enable kmem accounting",
       "", "https://github.com/opencontainers/runc/pull/2840", runtime_risk},
      {2, "kmemguard-runtime",
       "Put kmemguard-runtime in front of the runtime: it creates container "
       "memory cgroups without activating kmem accounting",
       "", "https://github.com/opencontainers/runc/issues/1725",
       runtime_risk || (r.kernel.leak_prone && r.kmem_active > 0)},
      {3, "nokmem-boot",
       "Boot with cgroup.memory=nokmem (or, on RHEL/CentOS 7, a kernel >= "
       "3.10.0-1075.el7)",
       "grubby --update-kernel=ALL --args=cgroup.memory=nokmem",
       "https://github.com/docker/for-linux/issues/841",
       V1(r) && r.kernel.leak_prone && !r.nokmem_boot},
      {4, "drop-caches",
       "Free page cache still charged to dying cgroups (also from cron)",
       "echo 3 > /proc/sys/vm/drop_caches",
       "https://github.com/moby/moby/issues/29638", bad && r.dying > 0},
      {5, "force-empty",
       "Empty a memory cgroup before removing it, so its page cache does not "
       "keep it dying",
       "kmemguard remove --force-empty --path <cgroup>",
       "https://www.kernel.org/doc/Documentation/cgroup-v1/memory.txt",
       V1(r) && r.dying > 0},
      {6, "reboot", "Reboot the node: the only way to free IDs pinned by kmem",
       "", "https://github.com/kubernetes/kubernetes/issues/61937",
       r.verdict == Verdict::kCritical},
  };
}

}  // namespace

void AssessDoctorReport(DoctorReport* r) {
  r->findings.clear();
  r->remediation.clear();
  for (auto check : kChecks) check(r);
  r->verdict = VerdictOf(*r);
  r->remediation = Remediation(*r);
}

}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard doctor`: how close a host is to the memory-cgroup ID cliff
// (65,535 IDs, held by visible and by dying cgroups alike), whether kernel
// memory accounting is active, which runtimes may activate it, and what to
// do about it. docs/doctor.md documents every heuristic and threshold.
//
// The parsers and the assessment are pure (text in, values out); the
// gathering (RunDoctor) reads through ReadHostFile, StatHostPath,
// RunHostCommand and a RealCgroupFs, all rooted at configurable /proc and
// /sys directories so tests can feed recorded trees.

#ifndef KMEMGUARD_DOCTOR_DOCTOR_H_
#define KMEMGUARD_DOCTOR_DOCTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/kernel.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/unguarded.h"
#include "kmemguard/doctor/host_facts.h"

namespace kmemguard {

// ----------------------------------------------------------------- doctor

enum class Verdict { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
absl::string_view VerdictName(Verdict v);  // "ok", "warning", ...
// Exit status of `kmemguard doctor`: 0 ok, 1 warning, 2 critical, 3 unknown.
inline int VerdictExitCode(Verdict v) { return static_cast<int>(v); }

enum class Severity { kInfo, kWarning, kCritical };
absl::string_view SeverityName(Severity s);

struct Finding {
  std::string id;  // stable identifier, e.g. "ids-critical"
  Severity severity = Severity::kInfo;
  std::string message;
};

// The kmem state of one notable cgroup.
struct KmemCgroup {
  std::string path;        // relative to the memory mount, "" = root
  bool well_known = false; // kubepods, kubepods/burstable, docker, ...
  bool inspected = false;  // its files were read (kernels < 4.6)
  bool active = false;
  std::string evidence;    // why we think so
  int use_hierarchy = -1;  // memory.use_hierarchy, -1 unknown
  int64_t children = 0;    // direct child cgroups
};

struct RuntimeInfo {
  std::string name;
  std::string path;
  std::string version;          // "" when --version could not be parsed
  std::string raw;              // first line of --version output
  std::optional<bool> predates_rc94;  // runc only
  // "yes", "no", "unknown", or "not-applicable" (runc >= rc94, crun).
  std::string nokmem_build = "unknown";
  std::string error;
};

struct DoctorSample {
  absl::Time time;
  int64_t in_use = 0;
  int64_t visible = 0;
  int64_t dying = 0;
};

struct WatchResult {
  int samples = 0;
  double duration_seconds = 0;
  double dying_per_hour = 0;
  double in_use_per_hour = 0;
  // Seconds until in_use reaches the limit at the in-use growth rate; unset
  // when the count is not growing.
  std::optional<double> seconds_to_cliff;
};
// Growth from the first to the last sample (pure).
WatchResult ComputeGrowth(const std::vector<DoctorSample>& samples,
                          int64_t limit = kMemcgIdLimit);

struct RemediationStep {
  int step = 0;
  std::string id;
  std::string title;
  std::string command;
  std::string link;
  bool relevant = false;  // suggested by this host's findings
};

struct DoctorOptions {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  double warning_ratio = 0.5;
  double critical_ratio = 0.8;
  // Directories searched for the runtimes and the kubelet ($PATH).
  std::vector<std::string> search_path;
  std::vector<std::string> runtimes = {"runc", "crun"};
  bool inspect_runtimes = true;
  absl::Duration command_timeout = absl::Seconds(5);
  // This many systemd run-*.scope cgroups point at kubernetes#70324.
  int64_t run_scope_threshold = 500;
  // With --watch: further samples every `interval` for `watch`.
  absl::Duration watch = absl::ZeroDuration();
  absl::Duration interval = absl::ZeroDuration();
  // kmemguard-runtime's state directory, where it counts the containers it
  // started without the guard (kmemguard/core/unguarded.h).
  std::string state_dir = kDefaultStateDir;
};

struct DoctorReport {
  // Host.
  std::string kernel_release;
  KernelAssessment kernel;
  bool nokmem_boot = false;
  LayoutInfo layout;
  // IDs (v1 and hybrid: /proc/cgroups minus the visible tree; pure v2:
  // cgroup.stat at the v2 root).
  std::string ids_source;  // "proc-cgroups" or "cgroup.stat"
  bool ids_known = false;
  int hierarchy = 0;
  bool memory_enabled = false;
  int64_t in_use = 0;
  int64_t limit = kMemcgIdLimit;
  int64_t visible = 0;
  int64_t dying = 0;
  double warning_ratio = 0.5;
  double critical_ratio = 0.8;
  std::optional<CgroupStat> v2_stat;  // the cgroup2 root's cgroup.stat
  // kmem.
  bool kmem_inspected = false;   // per-cgroup files read (kernel < 4.6)
  int64_t kmem_active = 0;       // cgroups with kmem accounting active
  std::string kmem_method;
  std::vector<KmemCgroup> kmem_cgroups;  // notable cgroups only
  // Runtimes.
  std::vector<RuntimeInfo> runtimes;
  std::optional<RuntimeInfo> kubelet;
  // kubernetes#70324.
  int64_t run_scopes = 0;
  bool run_scopes_counted = false;
  int64_t run_scope_threshold = 500;
  std::optional<WatchResult> watch;
  // Containers kmemguard-runtime started without the guard (fail-open);
  // unset when the counter could not be read (then in `errors`).
  std::optional<UnguardedStarts> unguarded;
  std::string state_dir;
  // Assessment.
  std::vector<Finding> findings;
  std::vector<RemediationStep> remediation;
  std::vector<std::string> errors;  // what could not be inspected
  Verdict verdict = Verdict::kUnknown;
};

// Fills findings, remediation and verdict from the facts in `report` (pure).
void AssessDoctorReport(DoctorReport* report);

// Takes one sample of the ID counters (for --watch).
absl::StatusOr<DoctorSample> TakeDoctorSample(const DoctorOptions& options,
                                              const LayoutInfo& layout);

// Reads the host (or the recorded trees under options' roots), samples again
// while watching, and assesses. Never fails: what cannot be read lands in
// `errors`, and a report without the ID counts has verdict kUnknown.
DoctorReport RunDoctor(const DoctorOptions& options);

// Output formats (docs/doctor.md, docs/doctor.schema.json).
std::string DoctorReportToText(const DoctorReport& report, bool color);
std::string DoctorReportToJson(const DoctorReport& report);
std::string DoctorReportToPrometheus(const DoctorReport& report);

}  // namespace kmemguard

#endif  // KMEMGUARD_DOCTOR_DOCTOR_H_

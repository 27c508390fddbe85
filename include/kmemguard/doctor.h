// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard doctor`: how close a host is to the memory-cgroup ID cliff
// (65,535 IDs, held by visible and by dying cgroups alike), whether kernel
// memory accounting is active, which runtimes may activate it, and what to
// do about it. docs/doctor.md documents every heuristic and threshold.
//
// The parsers and the assessment are pure (text in, values out); the
// gathering (GatherDoctorReport) reads through ReadHostFile, StatHostPath,
// RunHostCommand and a RealCgroupFs, all rooted at configurable /proc and
// /sys directories so tests can feed recorded trees.

#ifndef KMEMGUARD_DOCTOR_H_
#define KMEMGUARD_DOCTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kmemguard/cgroupfs.h"
#include "kmemguard/memory.h"
#include "kmemguard/paths.h"
#include "kmemguard/unguarded.h"

namespace kmemguard {

// MEM_CGROUP_ID_MAX (include/linux/memcontrol.h): memcg IDs are 16 bits.
inline constexpr int64_t kMemcgIdLimit = 65535;

// ------------------------------------------------------------ pure parsers

// One row of /proc/cgroups.
struct ProcCgroupsRow {
  std::string subsys_name;
  int hierarchy = 0;
  int64_t num_cgroups = 0;
  bool enabled = false;
};

// Returns the `memory` row of /proc/cgroups text; every other line
// (comments, other controllers, anything unreadable) is skipped. NotFound
// when there is none (kernel without CONFIG_MEMCG); InvalidArgument naming
// the row when the memory row itself is malformed.
absl::StatusOr<ProcCgroupsRow> ParseProcCgroupsMemory(absl::string_view text);

// True when /proc/cmdline text carries cgroup.memory=nokmem (alone or in a
// comma list such as cgroup.memory=nosocket,nokmem) before any " -- ".
bool CmdlineHasNokmem(absl::string_view cmdline);

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

// How cgroups are mounted, from mountinfo.
enum class CgroupLayout { kUnknown, kV1, kHybrid, kUnifiedV2 };
absl::string_view CgroupLayoutName(CgroupLayout layout);  // "v1", "hybrid", ...

struct LayoutInfo {
  CgroupLayout layout = CgroupLayout::kUnknown;
  std::string memory_mount;    // v1 hierarchy carrying `memory`, or ""
  std::string memory_root;     // its mountinfo root ("/" normally)
  std::string unified_mount;   // the cgroup2 mount, or ""
  std::string systemd_mount;   // v1 name=systemd hierarchy, or ""
};
// v1: a v1 memory hierarchy and no cgroup2 mount; hybrid: v1 memory plus a
// cgroup2 mount; pure v2: a cgroup2 mount and no v1 memory hierarchy.
LayoutInfo DetectLayout(const std::vector<MountInfo>& mounts);

// Returns (nr_descendants, nr_dying_descendants) from cgroup.stat text.
// Other lines (nr_subsys_*, future keys, anything unreadable) are skipped;
// InvalidArgument naming the line when one of the two we need is not a
// count, and when either is missing.
struct CgroupStat {
  int64_t nr_descendants = 0;
  int64_t nr_dying_descendants = 0;
};
absl::StatusOr<CgroupStat> ParseCgroupStat(absl::string_view text);

// A runtime's `--version` output.
struct RuntimeVersion {
  std::string name;     // "runc", "crun", "kubelet"
  std::string version;  // "1.0.0-rc93", "1.1.5+ds1", "v1.9.11"
  int major = 0, minor = 0, patch = 0;
  int rc = -1;          // 93 for -rc93; -1 for a final release
};
// Parses "runc version 1.1.5", "crun version 1.8.1" and kubelet's
// "Kubernetes v1.9.11". InvalidArgument when no version is found.
absl::StatusOr<RuntimeVersion> ParseRuntimeVersion(absl::string_view name,
                                                   absl::string_view output);
// True when a runc version predates 1.0.0-rc94 (PR #2840), i.e. it enables
// kmem accounting on the cgroups it creates unless built with nokmem.
bool RuncPredatesRc94(const RuntimeVersion& v);
// True when a kubelet version predates 1.22, the first release vendoring a
// runc >= rc94 (probably; runc-memory-spec.md section 6.2).
bool KubeletVendorsKmemRunc(const RuntimeVersion& v);

// The message runc (rc7..rc93) and a vendoring kubelet carry only when built
// with the nokmem tag (libcontainer/cgroups/fs/kmem_disabled.go).
inline constexpr char kNokmemBuildMarker[] =
    "kernel memory accounting disabled in this runc build";

// "65,535".
std::string WithThousands(int64_t n);

// ------------------------------------------------- exhaustion-aware errors

// The ID space counts as exhausted when fewer than kExhaustionFreeIds IDs are
// free or at least kExhaustionRatio of them are in use.
inline constexpr int64_t kExhaustionFreeIds = 64;
inline constexpr double kExhaustionRatio = 0.99;
bool IdSpaceExhausted(int64_t in_use, int64_t limit = kMemcgIdLimit);

// Given a failed mkdir in the memory hierarchy and /proc/cgroups text:
// when the errno is ENOSPC (IDR, older kernels) or EBUSY (xarray, newer
// kernels) and the memory row shows the ID space exhausted, returns a
// ResourceExhausted status with the errno payload kept, whose message reads
//   memory cgroup IDs exhausted: 65,531 of 65,535 in use, 64,912 dying; run
//   kmemguard doctor (mkdir /sys/fs/cgroup/memory/x: Device or resource busy
//   (EBUSY))
// ("N dying" only when `visible` is known). Otherwise returns `mkdir_status`.
absl::Status ExhaustionAwareMkdirError(const absl::Status& mkdir_status,
                                       absl::string_view proc_cgroups_text,
                                       std::optional<int64_t> visible);

// Counts the cgroups under `dir` of `fs`, `dir` included, walking ListDirs.
// `run_scopes`, when given, receives the number of run-*.scope directories.
absl::StatusOr<int64_t> CountCgroups(CgroupFs* fs, const CgroupPath& dir = {},
                                     int64_t* run_scopes = nullptr);

// A MemoryController mkdir hook: on ENOSPC/EBUSY reads
// `proc_root`/cgroups and, when the ID space is exhausted, counts the
// visible cgroups of `fs` (which must be rooted at the hierarchy root for the
// dying count to be right) and returns ExhaustionAwareMkdirError. Reading
// failures leave the original status. `fs` must outlive the hook.
MkdirErrorHook ExhaustionAwareMkdirHook(CgroupFs* fs,
                                        std::string proc_root = "/proc");

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
  // started without the guard (kmemguard/unguarded.h).
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

#endif  // KMEMGUARD_DOCTOR_H_

// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard doctor`: parsers, the assessment, and the gathering. The
// heuristics are documented in docs/doctor.md; keep the two in step.

#include "kmemguard/doctor.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "kmemguard/status.h"

namespace kmemguard {
namespace {

// memory.kmem.limit_in_bytes reads at least this when no limit is set
// (PAGE_COUNTER_MAX * 4 KiB on 4.x+, LLONG_MAX on 3.10's res_counter).
constexpr int64_t kUnlimitedFloor = 9223372036854771712LL;

// Cgroups whose kmem state matters for everything created below them.
constexpr const char* kWellKnownParents[] = {
    "kubepods",
    "kubepods/burstable",
    "kubepods/besteffort",
    "kubepods.slice",
    "kubepods.slice/kubepods-burstable.slice",
    "kubepods.slice/kubepods-besteffort.slice",
    "docker",
    "system.slice",
    "machine.slice",
};
constexpr size_t kMaxListedKmemCgroups = 50;

bool IsWellKnownParent(absl::string_view path) {
  for (const char* p : kWellKnownParents) {
    if (path == p) return true;
  }
  return false;
}

bool IsRunScope(absl::string_view name) {
  return absl::StartsWith(name, "run-") && absl::EndsWith(name, ".scope");
}

// Rebases a host mount point under --sys: /sys/fs/cgroup/memory becomes
// <sys_root>/fs/cgroup/memory. Mount points outside /sys stay as they are.
std::string UnderSysRoot(const std::string& mount_point,
                         const std::string& sys_root) {
  if (sys_root == "/sys" || mount_point.empty()) return mount_point;
  if (mount_point == "/sys") return sys_root;
  if (absl::StartsWith(mount_point, "/sys/")) {
    return absl::StrCat(sys_root, mount_point.substr(4));
  }
  return mount_point;
}

std::string FirstLine(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(
      text.substr(0, std::min(text.find('\n'), text.size()))));
}

// Parses "1.0.0-rc93", "1.1.5+ds1", "v1.9.11" into `v`.
bool ParseDottedVersion(absl::string_view text, RuntimeVersion* v) {
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

}  // namespace

// ----------------------------------------------------------------- parsers

absl::StatusOr<ProcCgroupsRow> ParseProcCgroupsMemory(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.empty() || f[0] != "memory") continue;
    ProcCgroupsRow row;
    int enabled = 0;
    if (f.size() < 4 || !absl::SimpleAtoi(f[1], &row.hierarchy) ||
        !absl::SimpleAtoi(f[2], &row.num_cgroups) ||
        !absl::SimpleAtoi(f[3], &enabled) || row.num_cgroups < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed memory row in /proc/cgroups: \"", line, "\""));
    }
    row.subsys_name = "memory";
    row.enabled = enabled != 0;
    return row;
  }
  return absl::NotFoundError(
      "/proc/cgroups has no memory row (kernel without CONFIG_MEMCG)");
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

absl::StatusOr<KernelRelease> ParseKernelRelease(absl::string_view text) {
  KernelRelease r;
  text = absl::StripAsciiWhitespace(text);
  r.text = std::string(text);
  RuntimeVersion v;
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
      if (ParseDottedVersion(word, &v)) {
        absl::ConsumePrefix(&word, "v");
        v.version = std::string(word);
        return v;
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "no version in the output of ", name, " --version: \"",
      FirstLine(output), "\""));
}

bool RuncPredatesRc94(const RuntimeVersion& v) {
  if (v.major != 1) return v.major < 1;
  if (v.minor != 0 || v.patch != 0) return false;
  return v.rc >= 0 && v.rc < 94;
}

bool KubeletVendorsKmemRunc(const RuntimeVersion& v) {
  return v.major < 1 || (v.major == 1 && v.minor < 22);
}

std::string WithThousands(int64_t n) {
  // Negate in uint64: -INT64_MIN does not fit in int64 (found by fuzzing).
  uint64_t magnitude =
      n < 0 ? uint64_t{0} - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string digits = absl::StrCat(magnitude);
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i > 0; --i) {
    out.insert(out.begin(), digits[i - 1]);
    if (++count % 3 == 0 && i > 1) out.insert(out.begin(), ',');
  }
  return n < 0 ? "-" + out : out;
}

// --------------------------------------------------- exhaustion-aware errors

bool IdSpaceExhausted(int64_t in_use, int64_t limit) {
  return limit - in_use < kExhaustionFreeIds ||
         static_cast<double>(in_use) >= kExhaustionRatio * limit;
}

absl::Status ExhaustionAwareMkdirError(const absl::Status& mkdir_status,
                                       absl::string_view proc_cgroups_text,
                                       std::optional<int64_t> visible) {
  std::optional<int> err = ErrnoOf(mkdir_status);
  if (mkdir_status.ok() || (err != ENOSPC && err != EBUSY)) return mkdir_status;
  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(proc_cgroups_text);
  if (!row.ok() || !IdSpaceExhausted(row->num_cgroups)) return mkdir_status;
  std::string message = absl::StrCat(
      "memory cgroup IDs exhausted: ", WithThousands(row->num_cgroups), " of ",
      WithThousands(kMemcgIdLimit), " in use");
  if (visible.has_value()) {
    absl::StrAppend(&message, ", ",
                    WithThousands(std::max<int64_t>(0, row->num_cgroups -
                                                           *visible)),
                    " dying");
  }
  absl::StrAppend(&message, "; run kmemguard doctor (", mkdir_status.message(),
                  ")");
  absl::Status out(absl::StatusCode::kResourceExhausted, message);
  mkdir_status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& p) {
        out.SetPayload(url, p);
      });
  return out;
}

absl::StatusOr<int64_t> CountCgroups(CgroupFs* fs, const CgroupPath& dir,
                                     int64_t* run_scopes) {
  int64_t count = 0;
  std::vector<CgroupPath> stack = {dir};
  while (!stack.empty()) {
    CgroupPath p = std::move(stack.back());
    stack.pop_back();
    ++count;
    absl::StatusOr<std::vector<CgroupFs::DirLinks>> children =
        fs->ListDirsWithLinkCounts(p);
    if (!children.ok()) {
      // A cgroup removed while we walk is simply gone.
      if (ErrnoOf(children.status()) == ENOENT && !p.IsRoot()) {
        --count;
        continue;
      }
      return children.status();
    }
    for (CgroupFs::DirLinks& c : *children) {
      if (run_scopes != nullptr && IsRunScope(c.name)) ++*run_scopes;
      // A directory's link count is 2 + its subdirectories (kernfs keeps
      // it so), so a leaf is counted without being opened and listed:
      // about one stat per cgroup instead of nine calls.
      if (c.link_count == 2) {
        ++count;
      } else {
        stack.push_back(p.Child(c.name));
      }
    }
  }
  return count;
}

MkdirErrorHook ExhaustionAwareMkdirHook(CgroupFs* fs, std::string proc_root) {
  return [fs, proc_root = std::move(proc_root)](const absl::Status& s) {
    std::optional<int> err = ErrnoOf(s);
    if (err != ENOSPC && err != EBUSY) return s;
    absl::StatusOr<std::string> text =
        ReadHostFile(absl::StrCat(proc_root, "/cgroups"));
    if (!text.ok()) return s;
    absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(*text);
    if (!row.ok() || !IdSpaceExhausted(row->num_cgroups)) return s;
    std::optional<int64_t> visible;
    if (fs != nullptr) {
      absl::StatusOr<int64_t> n = CountCgroups(fs);
      if (n.ok()) visible = *n;
    }
    return ExhaustionAwareMkdirError(s, *text, visible);
  };
}

// ----------------------------------------------------------------- doctor

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

void AssessDoctorReport(DoctorReport* r) {
  r->findings.clear();
  r->remediation.clear();
  const bool opt_in_kmem =
      !r->kernel.kmem_always_accounted &&
      r->kernel.kernel_class != KernelClass::kUnknown;
  // IDs.
  if (r->ids_known) {
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
  } else {
    Add(r, "ids-unknown", Severity::kCritical,
        "could not count memory cgroup IDs: " +
            absl::StrJoin(r->errors, "; "));
  }
  // Watch.
  if (r->watch.has_value() && r->watch->samples >= 2) {
    std::string rate = absl::StrCat(
        "dying cgroups grow by ",
        static_cast<int64_t>(r->watch->dying_per_hour), " per hour");
    if (r->watch->seconds_to_cliff.has_value()) {
      double s = *r->watch->seconds_to_cliff;
      std::string text =
          absl::StrCat(rate, "; the ID limit is reached in about ",
                       HumanSeconds(s), " at this rate");
      Severity sev = s < 86400       ? Severity::kCritical
                     : s < 7 * 86400 ? Severity::kWarning
                                     : Severity::kInfo;
      Add(r, "ids-growth", sev, text);
    } else {
      Add(r, "ids-growth", Severity::kInfo,
          absl::StrCat(rate, "; IDs in use are not growing"));
    }
  }
  // Layout and kmem.
  if (r->layout.layout == CgroupLayout::kUnifiedV2) {
    Add(r, "v2", Severity::kInfo,
        "pure cgroup v2: the v1 kmem-activation leak class does not apply; "
        "dying cgroups come from cgroup.stat nr_dying_descendants");
  }
  if (r->nokmem_boot) {
    Add(r, "nokmem-boot", Severity::kInfo,
        "booted with cgroup.memory=nokmem: kernel memory is not accounted");
  } else if (r->kernel.kmem_always_accounted &&
             r->layout.layout != CgroupLayout::kUnifiedV2) {
    Add(r, "kmem-always-on", Severity::kInfo,
        "this kernel accounts kernel memory in every memory cgroup; runtimes "
        "cannot switch it on or off per cgroup");
  }
  if (r->kernel.leak_prone && !r->nokmem_boot &&
      r->layout.layout != CgroupLayout::kUnifiedV2) {
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
  std::vector<std::string> inherited;
  for (const KmemCgroup& c : r->kmem_cgroups) {
    if (c.inspected && c.active && c.use_hierarchy == 1 &&
        (c.children > 0 || c.well_known))
      inherited.push_back(c.path);
  }
  if (!inherited.empty() && opt_in_kmem && !r->nokmem_boot) {
    Add(r, "kmem-inherited", Severity::kWarning,
        absl::StrCat(absl::StrJoin(inherited, ", "),
                     ": kmem accounting active with use_hierarchy=1, so every "
                     "cgroup created below inherits it; a runtime-side guard "
                     "cannot undo that"));
  }
  // Runtimes.
  bool runtime_risk = false;
  for (const RuntimeInfo& rt : r->runtimes) {
    if (!rt.error.empty()) {
      Add(r, "runtime-unreadable", Severity::kInfo,
          absl::StrCat(rt.name, " at ", rt.path, ": ", rt.error));
      continue;
    }
    if (rt.name != "runc" || !rt.predates_rc94.has_value()) continue;
    if (*rt.predates_rc94 && rt.nokmem_build != "yes") {
      bool risky = opt_in_kmem && !r->nokmem_boot;
      runtime_risk = runtime_risk || risky;
      Add(r, "runc-enables-kmem", risky ? Severity::kWarning : Severity::kInfo,
          absl::StrCat("runc ", rt.version,
                       " predates 1.0.0-rc94 and enables kmem accounting on "
                       "every memory cgroup it creates",
                       rt.nokmem_build == "unknown"
                           ? " (nokmem build: cannot tell)"
                           : ""));
    }
  }
  if (r->kubelet.has_value() && r->kubelet->error.empty() &&
      r->kubelet->predates_rc94.value_or(false) &&
      r->kubelet->nokmem_build != "yes") {
    bool risky = opt_in_kmem && !r->nokmem_boot;
    runtime_risk = runtime_risk || risky;
    Add(r, "kubelet-enables-kmem", risky ? Severity::kWarning : Severity::kInfo,
        absl::StrCat("kubelet ", r->kubelet->version,
                     " vendors a runc before 1.0.0-rc94: it enables kmem "
                     "accounting on the pod cgroups it creates"));
  }
  // kubernetes#70324.
  if (r->run_scopes_counted && r->run_scopes >= r->run_scope_threshold) {
    Add(r, "k8s-70324", Severity::kWarning,
        absl::StrCat(WithThousands(r->run_scopes),
                     " systemd run-*.scope cgroups: a different leak "
                     "(kubernetes#70324: leaked transient units, inotify "
                     "ENOSPC), not memory cgroup IDs"));
  }
  // A guard that was skipped must never look healthy (issue 10).
  if (r->unguarded.has_value() && r->unguarded->count > 0) {
    Add(r, "unguarded-starts", Severity::kWarning,
        absl::StrCat(DescribeUnguardedStarts(*r->unguarded),
                     " (counted in ", r->unguarded->path,
                     "; see kmemguard-runtime's --log)"));
  }
  if (r->ids_known && !r->errors.empty()) {
    Add(r, "partial", Severity::kInfo,
        absl::StrCat("not inspected: ", absl::StrJoin(r->errors, "; ")));
  }

  // Verdict: the worst finding; unknown without the ID counts.
  Severity worst = Severity::kInfo;
  for (const Finding& f : r->findings) worst = std::max(worst, f.severity);
  if (!r->ids_known) {
    r->verdict = Verdict::kUnknown;
  } else {
    r->verdict = worst == Severity::kCritical  ? Verdict::kCritical
                 : worst == Severity::kWarning ? Verdict::kWarning
                                               : Verdict::kOk;
  }

  // The remediation menu, always in this order.
  const bool bad = r->verdict == Verdict::kWarning ||
                   r->verdict == Verdict::kCritical;
  const bool v1 = r->layout.layout != CgroupLayout::kUnifiedV2;
  r->remediation = {
      {1, "upgrade-runtimes",
       "Upgrade runc to >= 1.0.0-rc94 and the kubelet to a release vendoring "
       "it (Kubernetes >= 1.22): they no longer enable kmem accounting",
       "", "https://github.com/opencontainers/runc/pull/2840", runtime_risk},
      {2, "kmemguard-runtime",
       "Put kmemguard-runtime in front of the runtime: it creates container "
       "memory cgroups without activating kmem accounting",
       "", "https://github.com/opencontainers/runc/issues/1725",
       runtime_risk || (r->kernel.leak_prone && r->kmem_active > 0)},
      {3, "nokmem-boot",
       "Boot with cgroup.memory=nokmem (or, on RHEL/CentOS 7, a kernel >= "
       "3.10.0-1075.el7)",
       "grubby --update-kernel=ALL --args=cgroup.memory=nokmem",
       "https://github.com/docker/for-linux/issues/841",
       v1 && r->kernel.leak_prone && !r->nokmem_boot},
      {4, "drop-caches",
       "Free page cache still charged to dying cgroups (also from cron)",
       "echo 3 > /proc/sys/vm/drop_caches",
       "https://github.com/moby/moby/issues/29638", bad && r->dying > 0},
      {5, "force-empty",
       "Empty a memory cgroup before removing it, so its page cache does not "
       "keep it dying",
       "kmemguard remove --force-empty --path <cgroup>",
       "https://www.kernel.org/doc/Documentation/cgroup-v1/memory.txt",
       v1 && r->dying > 0},
      {6, "reboot", "Reboot the node: the only way to free IDs pinned by kmem",
       "", "https://github.com/kubernetes/kubernetes/issues/61937",
       r->verdict == Verdict::kCritical},
  };
}

// ----------------------------------------------------------------- gather

namespace {

std::string Proc(const DoctorOptions& o, absl::string_view rel) {
  return absl::StrCat(o.proc_root, "/", rel);
}

absl::StatusOr<std::unique_ptr<RealCgroupFs>> OpenHierarchy(
    const DoctorOptions& o, const std::string& mount) {
  return RealCgroupFs::Open(UnderSysRoot(mount, o.sys_root),
                            o.sys_root == "/sys" ? RootCheck::kRequireCgroupfs
                                                 : RootCheck::kAllowPlainDir);
}

std::optional<int64_t> ReadInt(CgroupFs* fs, const CgroupPath& p,
                               absl::string_view name, absl::Status* error) {
  absl::StatusOr<std::string> text = fs->ReadFile(p, name);
  if (!text.ok()) {
    *error = text.status();
    return std::nullopt;
  }
  absl::string_view value = absl::StripAsciiWhitespace(*text);
  int64_t v = 0;
  if (absl::SimpleAtoi(value, &v)) return v;
  // Values above INT64_MAX cannot be limits we care about.
  uint64_t above = 0;
  if (absl::SimpleAtoi(value, &above)) return kUnlimitedFloor;
  // Anything else is not a value the kernel writes: say so rather than
  // take it for "unlimited".
  *error = absl::InvalidArgumentError(absl::StrCat(
      "not a number in ", fs->DisplayPath(p, name), ": \"", value, "\""));
  return std::nullopt;
}

// The kmem heuristic for kernels before 4.6 (docs/doctor.md "kmem").
void InspectKmem(CgroupFs* fs, const CgroupPath& p, KmemCgroup* c) {
  c->inspected = true;
  absl::Status error;
  std::optional<int64_t> limit = ReadInt(fs, p, kKmemLimitInBytes, &error);
  if (!limit.has_value()) {
    c->evidence = ErrnoOf(error) == ENOENT
                      ? "no memory.kmem.limit_in_bytes (no CONFIG_MEMCG_KMEM)"
                      : std::string(error.message());
    return;
  }
  if (*limit < kUnlimitedFloor) {
    c->active = true;
    c->evidence = absl::StrCat("kmem limit set (", *limit, ")");
    return;
  }
  std::optional<int64_t> usage =
      ReadInt(fs, p, "memory.kmem.usage_in_bytes", &error);
  if (usage.has_value() && *usage > 0) {
    c->active = true;
    c->evidence = absl::StrCat("kmem usage ", *usage, " bytes");
    return;
  }
  absl::StatusOr<std::string> slab = fs->ReadFile(p, "memory.kmem.slabinfo");
  if (slab.ok()) {
    for (absl::string_view line : absl::StrSplit(*slab, '\n', absl::SkipEmpty())) {
      if (absl::StartsWith(line, "slabinfo -") || absl::StartsWith(line, "#"))
        continue;
      c->active = true;
      c->evidence = "per-cgroup slab caches in memory.kmem.slabinfo";
      return;
    }
    c->evidence = "kmem limit unlimited, usage 0, slabinfo empty";
  } else {
    c->evidence = absl::StrCat("kmem limit unlimited, usage 0, slabinfo ",
                               ErrnoOf(slab.status()).has_value()
                                   ? ErrnoName(*ErrnoOf(slab.status()))
                                   : "unreadable");
  }
}

struct MemoryWalk {
  int64_t visible = 0;
  int64_t kmem_active = 0;
  int64_t run_scopes = 0;
  std::vector<KmemCgroup> notable;
};

absl::StatusOr<MemoryWalk> WalkMemory(CgroupFs* fs, bool inspect_kmem,
                                      bool all_active) {
  MemoryWalk w;
  std::vector<CgroupPath> stack = {CgroupPath()};
  while (!stack.empty()) {
    CgroupPath p = std::move(stack.back());
    stack.pop_back();
    absl::StatusOr<std::vector<CgroupFs::DirLinks>> children =
        fs->ListDirsWithLinkCounts(p);
    if (!children.ok()) {
      if (ErrnoOf(children.status()) == ENOENT && !p.IsRoot()) continue;
      return children.status();
    }
    ++w.visible;
    for (const CgroupFs::DirLinks& c : *children) {
      if (IsRunScope(c.name)) ++w.run_scopes;
      CgroupPath child = p.Child(c.name);
      // A leaf (link count 2: kernfs keeps nlink = 2 + subdirectories) with
      // no kmem files to read is counted without being opened: about one
      // stat per cgroup instead of nine calls.
      if (!inspect_kmem && c.link_count == 2 &&
          !IsWellKnownParent(child.ToString())) {
        ++w.visible;
        continue;
      }
      stack.push_back(std::move(child));
    }
    if (p.IsRoot()) continue;  // the root memcg is never kmem-limited
    std::string path = p.ToString();
    KmemCgroup k;
    k.path = path;
    k.well_known = IsWellKnownParent(path);
    k.children = static_cast<int64_t>(children->size());
    if (inspect_kmem) {
      InspectKmem(fs, p, &k);
      if (k.active) ++w.kmem_active;
    } else if (all_active) {
      k.active = true;
      k.evidence = "kernel >= 4.6 accounts kmem in every memory cgroup";
    }
    bool notable = k.well_known || (k.inspected && k.active && k.children > 0);
    if (notable && w.notable.size() < kMaxListedKmemCgroups) {
      absl::Status ignored;
      std::optional<int64_t> uh = ReadInt(fs, p, kUseHierarchy, &ignored);
      if (uh.has_value()) k.use_hierarchy = static_cast<int>(*uh);
      w.notable.push_back(std::move(k));
    }
  }
  std::sort(w.notable.begin(), w.notable.end(),
            [](const KmemCgroup& a, const KmemCgroup& b) {
              return a.path < b.path;
            });
  return w;
}

std::optional<std::string> FindOnPath(const std::vector<std::string>& dirs,
                                      const std::string& name) {
  for (const std::string& d : dirs) {
    if (d.empty()) continue;
    std::string candidate = absl::StrCat(d, "/", name);
    absl::StatusOr<HostPathInfo> info = StatHostPath(candidate);
    if (info.ok() && info->exists && !info->is_dir) return candidate;
  }
  return std::nullopt;
}

RuntimeInfo InspectRuntime(const DoctorOptions& o, const std::string& name,
                           const std::string& path) {
  RuntimeInfo rt;
  rt.name = name;
  rt.path = path;
  absl::StatusOr<HostCommandResult> out =
      RunHostCommand({path, "--version"}, o.command_timeout);
  if (!out.ok()) {
    rt.error = std::string(out.status().message());
    return rt;
  }
  rt.raw = FirstLine(out->output);
  absl::StatusOr<RuntimeVersion> v = ParseRuntimeVersion(name, out->output);
  if (!v.ok()) {
    rt.error = std::string(v.status().message());
    return rt;
  }
  rt.version = v->version;
  bool scan = false;
  if (name == "runc") {
    rt.predates_rc94 = RuncPredatesRc94(*v);
    scan = *rt.predates_rc94;
  } else if (name == "kubelet") {
    rt.predates_rc94 = KubeletVendorsKmemRunc(*v);
    scan = *rt.predates_rc94;
  }
  rt.nokmem_build = "not-applicable";
  if (scan) {
    // Only a nokmem build links kmem_disabled.go and so carries its message.
    absl::StatusOr<std::string> binary = ReadHostFile(path);
    rt.nokmem_build = !binary.ok() ? "unknown"
                      : absl::StrContains(*binary, kNokmemBuildMarker) ? "yes"
                                                                        : "no";
    // runc before rc7 (rc6 and older) had no such message either way.
    if (rt.nokmem_build == "no" && name == "runc" && v->major == 1 &&
        v->minor == 0 && v->patch == 0 && v->rc >= 0 && v->rc < 7) {
      rt.nokmem_build = "unknown";
    }
  }
  return rt;
}

}  // namespace

absl::StatusOr<DoctorSample> TakeDoctorSample(const DoctorOptions& o,
                                              const LayoutInfo& layout) {
  DoctorSample s;
  s.time = absl::Now();
  if (layout.layout == CgroupLayout::kUnifiedV2) {
    absl::StatusOr<std::string> text = ReadHostFile(absl::StrCat(
        UnderSysRoot(layout.unified_mount, o.sys_root), "/cgroup.stat"));
    if (!text.ok()) return text.status();
    absl::StatusOr<CgroupStat> stat = ParseCgroupStat(*text);
    if (!stat.ok()) return stat.status();
    s.visible = 1 + stat->nr_descendants;
    s.dying = stat->nr_dying_descendants;
    s.in_use = s.visible + s.dying;
    return s;
  }
  absl::StatusOr<std::string> text = ReadHostFile(Proc(o, "cgroups"));
  if (!text.ok()) return text.status();
  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(*text);
  if (!row.ok()) return row.status();
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      OpenHierarchy(o, layout.memory_mount);
  if (!fs.ok()) return fs.status();
  absl::StatusOr<int64_t> visible = CountCgroups(fs->get());
  if (!visible.ok()) return visible.status();
  s.in_use = row->num_cgroups;
  s.visible = *visible;
  s.dying = std::max<int64_t>(0, s.in_use - s.visible);
  return s;
}

DoctorReport RunDoctor(const DoctorOptions& o) {
  DoctorReport r;
  r.warning_ratio = o.warning_ratio;
  r.critical_ratio = o.critical_ratio;
  r.run_scope_threshold = o.run_scope_threshold;
  auto note = [&r](const absl::Status& s) {
    r.errors.push_back(std::string(s.message()));
  };

  // Kernel and boot parameters.
  absl::StatusOr<std::string> release =
      ReadHostFile(Proc(o, "sys/kernel/osrelease"));
  if (release.ok()) {
    absl::StatusOr<KernelRelease> kr = ParseKernelRelease(*release);
    if (kr.ok()) {
      r.kernel_release = kr->text;
      r.kernel = ClassifyKernel(*kr);
    } else {
      note(kr.status());
    }
  } else {
    note(release.status());
  }
  absl::StatusOr<std::string> cmdline = ReadHostFile(Proc(o, "cmdline"));
  if (cmdline.ok()) {
    r.nokmem_boot = CmdlineHasNokmem(*cmdline);
  } else {
    note(cmdline.status());
  }

  // Layout.
  absl::StatusOr<std::string> mountinfo =
      ReadHostFile(Proc(o, "self/mountinfo"));
  if (mountinfo.ok()) {
    absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(*mountinfo);
    if (mounts.ok()) {
      r.layout = DetectLayout(*mounts);
    } else {
      note(mounts.status());
    }
  } else {
    note(mountinfo.status());
  }
  if (!r.layout.unified_mount.empty()) {
    absl::StatusOr<std::string> stat = ReadHostFile(absl::StrCat(
        UnderSysRoot(r.layout.unified_mount, o.sys_root), "/cgroup.stat"));
    if (stat.ok()) {
      absl::StatusOr<CgroupStat> parsed = ParseCgroupStat(*stat);
      if (parsed.ok()) r.v2_stat = *parsed;
    }
  }

  // IDs and kmem.
  const bool inspect_kmem = !r.kernel.kmem_always_accounted;
  if (r.layout.layout == CgroupLayout::kUnifiedV2) {
    r.ids_source = "cgroup.stat";
    if (r.v2_stat.has_value()) {
      r.ids_known = true;
      r.visible = 1 + r.v2_stat->nr_descendants;
      r.dying = r.v2_stat->nr_dying_descendants;
      r.in_use = r.visible + r.dying;
      r.memory_enabled = true;
    } else {
      r.errors.push_back(absl::StrCat(
          "cannot read ", UnderSysRoot(r.layout.unified_mount, o.sys_root),
          "/cgroup.stat"));
    }
    r.kmem_method =
        "not applicable: cgroup v2 has no per-cgroup kmem activation";
  } else if (r.layout.layout != CgroupLayout::kUnknown) {
    r.ids_source = "proc-cgroups";
    absl::StatusOr<std::string> text = ReadHostFile(Proc(o, "cgroups"));
    absl::StatusOr<ProcCgroupsRow> row =
        text.ok() ? ParseProcCgroupsMemory(*text)
                  : absl::StatusOr<ProcCgroupsRow>(text.status());
    absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
        OpenHierarchy(o, r.layout.memory_mount);
    if (!row.ok()) note(row.status());
    if (!fs.ok()) note(fs.status());
    if (row.ok() && fs.ok()) {
      bool all_active = !inspect_kmem && !r.nokmem_boot;
      absl::StatusOr<MemoryWalk> walk =
          WalkMemory(fs->get(), inspect_kmem, all_active);
      if (walk.ok()) {
        r.ids_known = true;
        r.hierarchy = row->hierarchy;
        r.memory_enabled = row->enabled;
        r.in_use = row->num_cgroups;
        r.visible = walk->visible;
        r.dying = std::max<int64_t>(0, r.in_use - r.visible);
        r.kmem_inspected = inspect_kmem;
        r.kmem_cgroups = std::move(walk->notable);
        if (inspect_kmem) {
          r.kmem_active = walk->kmem_active;
          r.kmem_method =
              "kernel < 4.6: a cgroup counts as kmem-active when "
              "memory.kmem.limit_in_bytes is set, memory.kmem.usage_in_bytes "
              "> 0, or memory.kmem.slabinfo lists slab caches";
        } else if (r.nokmem_boot) {
          r.kmem_active = 0;
          r.kmem_method = "cgroup.memory=nokmem: no cgroup accounts kmem";
        } else {
          r.kmem_active = std::max<int64_t>(0, r.visible - 1);
          r.kmem_method =
              "kernel >= 4.6 accounts kmem in every memory cgroup "
              "(b313aeee2509); per-cgroup files are not read";
        }
        if (r.layout.systemd_mount.empty()) {
          r.run_scopes = walk->run_scopes;
          r.run_scopes_counted = true;
        }
      } else {
        note(walk.status());
      }
    }
  } else {
    r.errors.push_back("no cgroup hierarchy with the memory controller found "
                       "in mountinfo");
  }

  // kubernetes#70324: transient scopes live in the systemd hierarchy (v1
  // name=systemd) or in the v2 tree.
  std::string scopes_mount = !r.layout.systemd_mount.empty()
                                 ? r.layout.systemd_mount
                                 : (r.layout.layout == CgroupLayout::kUnifiedV2
                                        ? r.layout.unified_mount
                                        : "");
  if (!scopes_mount.empty()) {
    absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs = RealCgroupFs::Open(
        UnderSysRoot(scopes_mount, o.sys_root), RootCheck::kAllowPlainDir);
    if (fs.ok()) {
      int64_t scopes = 0;
      if (CountCgroups(fs->get(), {}, &scopes).ok()) {
        r.run_scopes = scopes;
        r.run_scopes_counted = true;
      }
    }
  }

  // Runtimes and the kubelet.
  if (o.inspect_runtimes) {
    for (const std::string& name : o.runtimes) {
      std::optional<std::string> path = FindOnPath(o.search_path, name);
      if (path.has_value()) r.runtimes.push_back(InspectRuntime(o, name, *path));
    }
    std::optional<std::string> kubelet = FindOnPath(o.search_path, "kubelet");
    if (kubelet.has_value()) r.kubelet = InspectRuntime(o, "kubelet", *kubelet);
  }

  // Containers started without the guard since boot.
  r.state_dir = o.state_dir;
  absl::StatusOr<UnguardedStarts> unguarded = ReadUnguardedStarts(o.state_dir);
  if (unguarded.ok()) {
    r.unguarded = *std::move(unguarded);
  } else {
    note(unguarded.status());
  }

  // --watch: sample again until the window is over.
  if (o.watch > absl::ZeroDuration() && r.ids_known) {
    std::vector<DoctorSample> samples;
    samples.push_back(DoctorSample{absl::Now(), r.in_use, r.visible, r.dying});
    absl::Duration interval =
        o.interval > absl::ZeroDuration() ? o.interval : o.watch;
    absl::Time end = samples.front().time + o.watch;
    while (absl::Now() < end) {
      absl::SleepFor(std::min(interval, end - absl::Now()));
      absl::StatusOr<DoctorSample> s = TakeDoctorSample(o, r.layout);
      if (!s.ok()) {
        note(s.status());
        break;
      }
      samples.push_back(*s);
    }
    r.watch = ComputeGrowth(samples, r.limit);
    const DoctorSample& last = samples.back();
    r.in_use = last.in_use;
    r.visible = last.visible;
    r.dying = last.dying;
  }

  AssessDoctorReport(&r);
  return r;
}

}  // namespace kmemguard

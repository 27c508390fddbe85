// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/doctor/doctor.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/status.h"
#include "kmemguard/core/unguarded.h"
#include "nlohmann/json.hpp"
#include "testing/fixture_tree.h"
#include "testing/recording_cgroup_fs.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

using testing::FixtureTree;

constexpr char kProcCgroups[] =
    "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
    "cpuset\t3\t1\t1\n"
    "memory\t4\t65531\t1\n"
    "pids\t8\t1\t1\n";

bool HasFinding(const DoctorReport& r, absl::string_view id) {
  for (const Finding& f : r.findings) {
    if (f.id == id) return true;
  }
  return false;
}

// ------------------------------------------------------------------- pure

TEST_CASE("ParseProcCgroupsMemory reads the memory row", "[unit][doctor]") {
  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(kProcCgroups);
  REQUIRE_OK(row);
  CHECK(row->hierarchy == 4);
  CHECK(row->num_cgroups == 65531);
  CHECK(row->enabled);
  CHECK(absl::IsNotFound(
      ParseProcCgroupsMemory("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                             "cpu\t1\t1\t1\n")
          .status()));
  CHECK(absl::IsInvalidArgument(
      ParseProcCgroupsMemory("memory\t4\tmany\t1\n").status()));
}

TEST_CASE("CmdlineHasNokmem finds the boot parameter only for the kernel",
          "[unit][doctor]") {
  CHECK(CmdlineHasNokmem("ro quiet cgroup.memory=nokmem\n"));
  CHECK(CmdlineHasNokmem("cgroup.memory=nosocket,nokmem splash"));
  CHECK_FALSE(CmdlineHasNokmem("cgroup.memory=nosocket"));
  CHECK_FALSE(CmdlineHasNokmem("ro quiet"));
  CHECK_FALSE(CmdlineHasNokmem("ro -- cgroup.memory=nokmem"));
}

TEST_CASE("ParseKernelRelease and ClassifyKernel cover the kmem classes",
          "[unit][doctor]") {
  struct Case {
    const char* release;
    KernelClass want;
    bool leak_prone;
    bool always;
  };
  const Case cases[] = {
      {"3.10.0-957.el7.x86_64", KernelClass::kRhel7Leaky, true, false},
      {"3.10.0-1062.18.1.el7.x86_64", KernelClass::kRhel7Leaky, true, false},
      {"3.10.0-1075.el7.x86_64", KernelClass::kRhel7Fixed, false, false},
      {"3.10.0-1160.el7.x86_64", KernelClass::kRhel7Fixed, false, false},
      {"3.19.0-80-generic", KernelClass::kPre4, true, false},
      {"4.4.0-21-generic", KernelClass::kV4_0To4_5, true, false},
      {"4.6.0", KernelClass::kV4_6Plus, false, true},
      {"5.15.0-91-generic", KernelClass::kV4_6Plus, false, true},
      {"5.16.2", KernelClass::kV5_16Plus, false, true},
      {"6.18.44-fc-v857", KernelClass::kV6Plus, false, true},
  };
  for (const Case& c : cases) {
    INFO(c.release);
    absl::StatusOr<KernelRelease> r = ParseKernelRelease(c.release);
    REQUIRE_OK(r);
    KernelAssessment a = ClassifyKernel(*r);
    CHECK(a.kernel_class == c.want);
    CHECK(a.leak_prone == c.leak_prone);
    CHECK(a.kmem_always_accounted == c.always);
  }
  absl::StatusOr<KernelRelease> el7 = ParseKernelRelease("3.10.0-957.el7.x86_64\n");
  REQUIRE_OK(el7);
  CHECK(el7->el7);
  CHECK(el7->rhel_build == 957);
  CHECK(el7->patch == 0);
  CHECK(absl::IsInvalidArgument(ParseKernelRelease("linux").status()));
}

TEST_CASE("DetectLayout tells v1, hybrid and pure v2 apart", "[unit][doctor]") {
  const std::string memory =
      "31 25 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  const std::string systemd =
      "27 25 0:25 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
  const std::string unified =
      "26 25 0:24 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  const std::string pure = "25 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  auto layout = [](const std::string& text) {
    absl::StatusOr<std::vector<MountInfo>> m = ParseMountinfo(text);
    REQUIRE_OK(m);
    return DetectLayout(*m);
  };
  LayoutInfo v1 = layout(systemd + memory);
  CHECK(v1.layout == CgroupLayout::kV1);
  CHECK(v1.memory_mount == "/sys/fs/cgroup/memory");
  CHECK(v1.systemd_mount == "/sys/fs/cgroup/systemd");
  LayoutInfo hybrid = layout(unified + systemd + memory);
  CHECK(hybrid.layout == CgroupLayout::kHybrid);
  CHECK(hybrid.unified_mount == "/sys/fs/cgroup/unified");
  LayoutInfo v2 = layout(pure);
  CHECK(v2.layout == CgroupLayout::kUnifiedV2);
  CHECK(v2.memory_mount.empty());
  CHECK(layout("").layout == CgroupLayout::kUnknown);
}

TEST_CASE("ParseRuntimeVersion reads runc, crun and kubelet",
          "[unit][doctor]") {
  absl::StatusOr<RuntimeVersion> rc93 = ParseRuntimeVersion(
      "runc", "runc version 1.0.0-rc93\ncommit: 12644e6\nspec: 1.0.2-dev\n");
  REQUIRE_OK(rc93);
  CHECK(rc93->version == "1.0.0-rc93");
  CHECK(rc93->rc == 93);
  CHECK(RuncPredatesRc94(*rc93));
  absl::StatusOr<RuntimeVersion> rc94 =
      ParseRuntimeVersion("runc", "runc version 1.0.0-rc94\n");
  REQUIRE_OK(rc94);
  CHECK_FALSE(RuncPredatesRc94(*rc94));
  absl::StatusOr<RuntimeVersion> v115 =
      ParseRuntimeVersion("runc", "runc version 1.1.5+ds1\ncommit: x\n");
  REQUIRE_OK(v115);
  CHECK(v115->version == "1.1.5+ds1");
  CHECK_FALSE(RuncPredatesRc94(*v115));
  absl::StatusOr<RuntimeVersion> final100 =
      ParseRuntimeVersion("runc", "runc version 1.0.0\n");
  REQUIRE_OK(final100);
  CHECK_FALSE(RuncPredatesRc94(*final100));
  absl::StatusOr<RuntimeVersion> old =
      ParseRuntimeVersion("runc", "runc version 0.1.1\n");
  REQUIRE_OK(old);
  CHECK(RuncPredatesRc94(*old));
  absl::StatusOr<RuntimeVersion> crun =
      ParseRuntimeVersion("crun", "crun version 1.8.1\ncommit: f8a0\n");
  REQUIRE_OK(crun);
  CHECK(crun->version == "1.8.1");
  absl::StatusOr<RuntimeVersion> kubelet =
      ParseRuntimeVersion("kubelet", "Kubernetes v1.9.11\n");
  REQUIRE_OK(kubelet);
  CHECK(kubelet->version == "1.9.11");
  CHECK(KubeletVendorsKmemRunc(*kubelet));
  absl::StatusOr<RuntimeVersion> k122 =
      ParseRuntimeVersion("kubelet", "Kubernetes v1.22.0");
  REQUIRE_OK(k122);
  CHECK_FALSE(KubeletVendorsKmemRunc(*k122));
  CHECK(absl::IsInvalidArgument(
      ParseRuntimeVersion("runc", "usage: runc\n").status()));
}

TEST_CASE("ParseCgroupStat needs both counters", "[unit][doctor]") {
  absl::StatusOr<CgroupStat> s =
      ParseCgroupStat("nr_descendants 52\nnr_dying_descendants 3\n");
  REQUIRE_OK(s);
  CHECK(s->nr_descendants == 52);
  CHECK(s->nr_dying_descendants == 3);
  CHECK_FALSE(ParseCgroupStat("nr_descendants 52\n").ok());
}

TEST_CASE("Doctor parsers skip the lines they do not use (issue 10)",
          "[unit][doctor]") {
  // cgroup.stat: other keys and unreadable lines are skipped; a malformed
  // line we need is named.
  absl::StatusOr<CgroupStat> s = ParseCgroupStat(
      "garbage\nnr_descendants 52\nnr_subsys_memory x\n\n"
      "nr_dying_descendants 3\nfuture_key 1 2 3\n");
  REQUIRE_OK(s);
  CHECK(s->nr_dying_descendants == 3);
  absl::StatusOr<CgroupStat> bad =
      ParseCgroupStat("nr_descendants 5x\nnr_dying_descendants 3\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(absl::StrContains(bad.status().message(), "\"nr_descendants 5x\""));
  // /proc/cgroups: unreadable rows of other controllers are skipped; a
  // malformed memory row is named.
  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(
      "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
      "cpuset\n??? \t\tx\nmemory\t4\t17\t1\n");
  REQUIRE_OK(row);
  CHECK(row->num_cgroups == 17);
  absl::StatusOr<ProcCgroupsRow> bad_row =
      ParseProcCgroupsMemory("cpu\t1\t1\t1\nmemory\t4\tmany\t1\n");
  REQUIRE_FALSE(bad_row.ok());
  CHECK(absl::StrContains(bad_row.status().message(), "memory\t4\tmany\t1"));
  // runc --version: other lines are skipped.
  absl::StatusOr<RuntimeVersion> v = ParseRuntimeVersion(
      "runc", "warning: odd locale\nrunc version 1.1.5+ds1\ncommit: x\n");
  REQUIRE_OK(v);
  CHECK(v->version == "1.1.5+ds1");
}

TEST_CASE("WithThousands groups digits", "[unit][doctor]") {
  CHECK(WithThousands(0) == "0");
  CHECK(WithThousands(999) == "999");
  CHECK(WithThousands(65535) == "65,535");
  CHECK(WithThousands(1234567) == "1,234,567");
  CHECK(WithThousands(-4096) == "-4,096");
}

TEST_CASE("ExhaustionAwareMkdirError names the exhaustion and keeps the errno",
          "[unit][doctor]") {
  absl::Status busy =
      ErrnoError(EBUSY, "mkdir", "/sys/fs/cgroup/memory/kubepods/pod1");
  absl::Status s = ExhaustionAwareMkdirError(busy, kProcCgroups, 619);
  CHECK(absl::IsResourceExhausted(s));
  CHECK(ErrnoOf(s) == EBUSY);
  CHECK(s.message() ==
        "memory cgroup IDs exhausted: 65,531 of 65,535 in use, 64,912 dying; "
        "run kmemguard doctor (mkdir /sys/fs/cgroup/memory/kubepods/pod1: "
        "Device or resource busy (EBUSY))");
  CHECK(s.message().find('\n') == absl::string_view::npos);

  absl::Status nospc = ErrnoError(ENOSPC, "mkdir", "/m/x");
  absl::Status t = ExhaustionAwareMkdirError(nospc, kProcCgroups, std::nullopt);
  CHECK(ErrnoOf(t) == ENOSPC);
  CHECK(absl::StartsWith(t.message(),
                         "memory cgroup IDs exhausted: 65,531 of 65,535 in "
                         "use; run kmemguard doctor (mkdir /m/x:"));

  // Not near the limit, another errno, or unreadable text: unchanged.
  const char* roomy = "memory\t4\t60000\t1\n";
  CHECK(ExhaustionAwareMkdirError(busy, roomy, 5) == busy);
  absl::Status perm = ErrnoError(EACCES, "mkdir", "/m/x");
  CHECK(ExhaustionAwareMkdirError(perm, kProcCgroups, 5) == perm);
  CHECK(ExhaustionAwareMkdirError(busy, "garbage", 5) == busy);
}

TEST_CASE("IdSpaceExhausted: under 64 free or at least 99 % used",
          "[unit][doctor]") {
  CHECK(IdSpaceExhausted(65535));
  CHECK(IdSpaceExhausted(65550));
  CHECK(IdSpaceExhausted(65472));   // 63 free
  CHECK(IdSpaceExhausted(64880));   // 99.0 %
  CHECK_FALSE(IdSpaceExhausted(64000));
}

TEST_CASE("ComputeGrowth estimates the time to the cliff", "[unit][doctor]") {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  std::vector<DoctorSample> samples = {
      {t0, 60000, 100, 59900},
      {t0 + absl::Minutes(30), 60500, 100, 60400},
      {t0 + absl::Hours(1), 61000, 100, 60900},
  };
  WatchResult w = ComputeGrowth(samples);
  CHECK(w.samples == 3);
  CHECK(w.duration_seconds == 3600);
  CHECK(w.dying_per_hour == 1000);
  CHECK(w.in_use_per_hour == 1000);
  REQUIRE(w.seconds_to_cliff.has_value());
  CHECK(*w.seconds_to_cliff == Approx(4.535 * 3600));
  WatchResult flat = ComputeGrowth({{t0, 10, 5, 5}, {t0 + absl::Hours(1), 10, 5, 5}});
  CHECK_FALSE(flat.seconds_to_cliff.has_value());
  CHECK(ComputeGrowth({{t0, 10, 5, 5}}).samples == 1);
}

DoctorReport Facts(int64_t in_use, int64_t visible) {
  DoctorReport r;
  r.ids_known = true;
  r.ids_source = "proc-cgroups";
  r.memory_enabled = true;
  r.in_use = in_use;
  r.visible = visible;
  r.dying = in_use - visible;
  r.layout.layout = CgroupLayout::kV1;
  r.kernel = ClassifyKernel(*ParseKernelRelease("6.1.0"));
  return r;
}

TEST_CASE("AssessDoctorReport: verdicts from the ID thresholds",
          "[unit][doctor]") {
  DoctorReport ok = Facts(30000, 100);
  AssessDoctorReport(&ok);
  CHECK(ok.verdict == Verdict::kOk);
  CHECK(HasFinding(ok, "ids-ok"));
  DoctorReport warn = Facts(32768, 100);  // 50.0 %
  AssessDoctorReport(&warn);
  CHECK(warn.verdict == Verdict::kWarning);
  DoctorReport crit = Facts(52428, 100);  // 80.0 %
  AssessDoctorReport(&crit);
  CHECK(crit.verdict == Verdict::kCritical);
  CHECK(crit.remediation.size() == 6);
  CHECK(crit.remediation[5].id == "reboot");
  CHECK(crit.remediation[5].relevant);
  DoctorReport custom = Facts(52428, 100);
  custom.warning_ratio = 0.9;
  custom.critical_ratio = 0.95;
  AssessDoctorReport(&custom);
  CHECK(custom.verdict == Verdict::kOk);
  DoctorReport unknown;
  unknown.errors = {"open /proc/cgroups: No such file or directory (ENOENT)"};
  AssessDoctorReport(&unknown);
  CHECK(unknown.verdict == Verdict::kUnknown);
  CHECK(VerdictExitCode(unknown.verdict) == 3);
}

TEST_CASE("AssessDoctorReport: kmem, runtimes, watch and kubernetes#70324",
          "[unit][doctor]") {
  DoctorReport r = Facts(1000, 900);
  r.kernel = ClassifyKernel(*ParseKernelRelease("3.10.0-693.el7.x86_64"));
  r.kmem_active = 3;
  KmemCgroup burstable;
  burstable.path = "kubepods/burstable";
  burstable.well_known = true;
  burstable.inspected = true;
  burstable.active = true;
  burstable.use_hierarchy = 1;
  r.kmem_cgroups = {burstable};
  RuntimeInfo runc;
  runc.name = "runc";
  runc.version = "1.0.0-rc5";
  runc.predates_rc94 = true;
  runc.nokmem_build = "unknown";
  r.runtimes = {runc};
  r.run_scopes_counted = true;
  r.run_scopes = 800;
  AssessDoctorReport(&r);
  CHECK(r.verdict == Verdict::kWarning);
  CHECK(HasFinding(r, "kmem-leak-prone"));
  CHECK(HasFinding(r, "kmem-inherited"));
  CHECK(HasFinding(r, "runc-enables-kmem"));
  CHECK(HasFinding(r, "k8s-70324"));
  CHECK(r.remediation[0].relevant);
  CHECK(r.remediation[2].relevant);

  // The same host booted with nokmem: no kmem warnings.
  r.nokmem_boot = true;
  r.run_scopes = 0;
  AssessDoctorReport(&r);
  CHECK(r.verdict == Verdict::kOk);
  CHECK_FALSE(HasFinding(r, "kmem-leak-prone"));
  CHECK(HasFinding(r, "nokmem-boot"));

  // Growing towards the cliff within a day: critical.
  DoctorReport w = Facts(30000, 100);
  WatchResult growth;
  growth.samples = 2;
  growth.duration_seconds = 600;
  growth.dying_per_hour = 2000;
  growth.in_use_per_hour = 2000;
  growth.seconds_to_cliff = 17.7 * 3600;
  w.watch = growth;
  AssessDoctorReport(&w);
  CHECK(w.verdict == Verdict::kCritical);
  CHECK(HasFinding(w, "ids-growth"));
}

TEST_CASE("Doctor formats: JSON fields, Prometheus lines, plain text",
          "[unit][doctor]") {
  DoctorReport r = Facts(60000, 6);
  AssessDoctorReport(&r);
  nlohmann::json j = nlohmann::json::parse(DoctorReportToJson(r));
  CHECK(j["verdict"] == "critical");
  CHECK(j["exit_code"] == 2);
  CHECK(j["memcg_ids"]["dying"] == 59994);
  CHECK(j["memcg_ids"]["headroom"] == 5535);
  CHECK(j["remediation"].size() == 6);
  std::string prom = DoctorReportToPrometheus(r);
  CHECK(absl::StrContains(prom, "# TYPE kmemguard_memcg_ids_in_use gauge\n"
                                "kmemguard_memcg_ids_in_use 60000\n"));
  CHECK(absl::StrContains(prom, "\nkmemguard_memcg_dying 59994\n"));
  CHECK(absl::StrContains(prom, "\nkmemguard_doctor_verdict 2\n"));
  std::string plain = DoctorReportToText(r, false);
  CHECK(absl::StrContains(plain, "kmemguard doctor: CRITICAL"));
  CHECK(absl::StrContains(plain, "  dying                    59,994\n"));
  CHECK_FALSE(absl::StrContains(plain, "\033["));
  CHECK(absl::StrContains(DoctorReportToText(r, true), "\033[31m"));
}

// ---------------------------------------------------------------- fixture

// FixtureTree::Write does not create parents.
void Put(FixtureTree& t, const std::string& rel, const std::string& content) {
  size_t slash = rel.rfind('/');
  if (slash != std::string::npos) t.Dir(rel.substr(0, slash));
  t.Write(rel, content);
}

// A recorded host under one temp dir: <root>/proc and <root>/sys.
void WriteV1Host(FixtureTree& t, const std::string& release, int64_t in_use) {
  Put(t, "proc/sys/kernel/osrelease", release + "\n");
  Put(t, "proc/cmdline", "ro quiet\n");
  Put(t, "proc/cgroups", absl::StrCat("#subsys_name\thierarchy\tnum_cgroups\t"
                                       "enabled\nmemory\t4\t",
                                       in_use, "\t1\n"));
  Put(t, "proc/self/mountinfo",
          "31 25 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
}

TEST_CASE("RunDoctor on a recorded 3.10 host near the cliff",
          "[fixture][doctor]") {
  FixtureTree t;
  WriteV1Host(t, "3.10.0-862.el7.x86_64", 58000);
  const std::string m = "sys/fs/cgroup/memory/";
  testing::Files active = {{"memory.kmem.limit_in_bytes", "9223372036854775807\n"},
                           {"memory.kmem.usage_in_bytes", "65536\n"},
                           {"memory.use_hierarchy", "1\n"}};
  testing::Files idle = {{"memory.kmem.limit_in_bytes", "9223372036854775807\n"},
                         {"memory.kmem.usage_in_bytes", "0\n"},
                         {"memory.use_hierarchy", "1\n"}};
  t.Dir(m + "kubepods", active);
  t.Dir(m + "kubepods/burstable", active);
  t.Dir(m + "kubepods/besteffort", idle);
  t.Dir(m + "kubepods/burstable/pod1", active);
  t.Dir(m + "kubepods/burstable/pod1/ctr", active);
  DoctorOptions o;
  o.proc_root = t.root() + "/proc";
  o.sys_root = t.root() + "/sys";
  o.inspect_runtimes = false;
  o.state_dir = t.root() + "/state";  // not the host's /run/kmemguard
  DoctorReport r = RunDoctor(o);
  INFO(DoctorReportToText(r, false));
  CHECK(r.verdict == Verdict::kCritical);
  CHECK(r.layout.layout == CgroupLayout::kV1);
  CHECK(r.kernel.kernel_class == KernelClass::kRhel7Leaky);
  CHECK(r.in_use == 58000);
  CHECK(r.visible == 6);
  CHECK(r.dying == 57994);
  CHECK(r.kmem_active == 4);
  REQUIRE(r.kmem_cgroups.size() == 4);  // kubepods, besteffort, burstable, pod1
  CHECK(r.kmem_cgroups[0].path == "kubepods");
  CHECK(r.kmem_cgroups[0].active);
  CHECK(r.kmem_cgroups[0].use_hierarchy == 1);
  CHECK(r.kmem_cgroups[1].path == "kubepods/besteffort");
  CHECK_FALSE(r.kmem_cgroups[1].active);
  CHECK(r.kmem_cgroups[3].path == "kubepods/burstable/pod1");  // inheriting
  CHECK(HasFinding(r, "kmem-inherited"));
  CHECK(VerdictExitCode(r.verdict) == 2);
}

TEST_CASE("RunDoctor on a recorded pure v2 host", "[fixture][doctor]") {
  FixtureTree t;
  Put(t, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  Put(t, "proc/cmdline", "ro\n");
  Put(t, "proc/self/mountinfo",
          "25 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  Put(t, "sys/fs/cgroup/cgroup.stat",
          "nr_descendants 40\nnr_dying_descendants 36000\n");
  DoctorOptions o;
  o.proc_root = t.root() + "/proc";
  o.sys_root = t.root() + "/sys";
  o.inspect_runtimes = false;
  o.state_dir = t.root() + "/state";  // not the host's /run/kmemguard
  DoctorReport r = RunDoctor(o);
  CHECK(r.layout.layout == CgroupLayout::kUnifiedV2);
  CHECK(r.ids_source == "cgroup.stat");
  CHECK(r.dying == 36000);
  CHECK(r.in_use == 36041);
  CHECK(r.verdict == Verdict::kWarning);
  CHECK(HasFinding(r, "v2"));
}

TEST_CASE("RunDoctor without readable roots cannot inspect",
          "[fixture][doctor]") {
  FixtureTree t;
  DoctorOptions o;
  o.proc_root = t.root() + "/proc";
  o.sys_root = t.root() + "/sys";
  o.inspect_runtimes = false;
  o.state_dir = t.root() + "/state";  // not the host's /run/kmemguard
  DoctorReport r = RunDoctor(o);
  CHECK(r.verdict == Verdict::kUnknown);
  CHECK_FALSE(r.errors.empty());
}

// ------------------------------------------------- unguarded starts (issue 10)

TEST_CASE("Unguarded-start records are fixed-size lines that round-trip",
          "[unit][doctor]") {
  UnguardedRecord in{absl::FromUnixSeconds(1796166000), "ctr-1",
                     "mountinfo line 22: bad\nsecond line"};
  std::string bytes = FormatUnguardedRecord(in);
  CHECK(bytes.size() == kUnguardedRecordSize);
  CHECK(bytes.back() == '\n');
  CHECK(bytes.find('\n') == kUnguardedRecordSize - 1);
  absl::StatusOr<UnguardedRecord> out = ParseUnguardedRecord(bytes);
  REQUIRE_OK(out);
  CHECK(out->time == in.time);
  CHECK(out->container_id == "ctr-1");
  CHECK(out->reason == "mountinfo line 22: bad second line");
  // No id, an id with a space, a reason far too long (cut, not overflowing).
  std::string long_reason(1000, 'x');
  out = ParseUnguardedRecord(FormatUnguardedRecord(
      {absl::FromUnixSeconds(1), "", long_reason}));
  REQUIRE_OK(out);
  CHECK(out->container_id.empty());
  CHECK(out->reason.size() < kUnguardedRecordSize);
  CHECK(ParseUnguardedRecord(FormatUnguardedRecord(
                                 {absl::FromUnixSeconds(1), "a b", "r"}))
            ->container_id == "?");
  CHECK_FALSE(ParseUnguardedRecord("garbage").ok());
  CHECK_FALSE(ParseUnguardedRecord("-5 id reason").ok());
}

TEST_CASE("Concurrent writers count every unguarded start, and a torn "
          "record is cut off",
          "[fixture][doctor]") {
  FixtureTree t;
  const std::string dir = t.root() + "/run/kmemguard";  // created on demand
  absl::StatusOr<UnguardedStarts> none = ReadUnguardedStarts(dir);
  REQUIRE_OK(none);
  CHECK(none->count == 0);
  CHECK_FALSE(none->last.has_value());
  CHECK(DescribeUnguardedStarts(*none).empty());

  constexpr int kWriters = 8, kEach = 25;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int i = 0; i < kEach; ++i) {
        if (!RecordUnguardedStart(dir, absl::StrCat("w", w, "-", i),
                                  "fail-open")
                 .ok())
          _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  absl::StatusOr<UnguardedStarts> all = ReadUnguardedStarts(dir);
  REQUIRE_OK(all);
  CHECK(all->count == kWriters * kEach);
  REQUIRE(all->last.has_value());
  CHECK(all->last->reason == "fail-open");
  // Every record is whole: no two writers interleaved.
  std::string text = t.Read("run/kmemguard/unguarded-starts");
  REQUIRE(text.size() == kWriters * kEach * kUnguardedRecordSize);
  for (size_t off = 0; off < text.size(); off += kUnguardedRecordSize) {
    CHECK(ParseUnguardedRecord(text.substr(off, kUnguardedRecordSize)).ok());
  }

  // A crash mid-record leaves a torn tail: readers ignore it, the next
  // writer cuts it off first.
  t.Write("run/kmemguard/unguarded-starts", text + "17 torn");
  absl::StatusOr<UnguardedStarts> torn = ReadUnguardedStarts(dir);
  REQUIRE_OK(torn);
  CHECK(torn->count == kWriters * kEach);
  REQUIRE_OK(RecordUnguardedStart(dir, "after", "again",
                                  absl::FromUnixSeconds(1796166000)));
  absl::StatusOr<UnguardedStarts> after = ReadUnguardedStarts(dir);
  REQUIRE_OK(after);
  CHECK(after->count == kWriters * kEach + 1);
  REQUIRE(after->last.has_value());
  CHECK(after->last->container_id == "after");
  CHECK(DescribeUnguardedStarts(*after) ==
        "201 containers started without the kmem guard since boot; last at "
        "2026-12-01T23:00:00Z (after): again");
}

TEST_CASE("An unguarded start makes the doctor's verdict a warning in every "
          "format",
          "[fixture][doctor]") {
  FixtureTree t;
  WriteV1Host(t, "6.1.0-18-amd64", 40);
  t.Dir("sys/fs/cgroup/memory");
  DoctorOptions o;
  o.proc_root = t.root() + "/proc";
  o.sys_root = t.root() + "/sys";
  o.inspect_runtimes = false;
  o.state_dir = t.root() + "/state";
  DoctorReport healthy = RunDoctor(o);
  CHECK(healthy.verdict == Verdict::kOk);
  REQUIRE(healthy.unguarded.has_value());
  CHECK(healthy.unguarded->count == 0);
  CHECK_FALSE(HasFinding(healthy, "unguarded-starts"));
  CHECK(absl::StrContains(DoctorReportToPrometheus(healthy),
                          "\nkmemguard_unguarded_starts_total 0\n"));

  REQUIRE_OK(RecordUnguardedStart(o.state_dir, "c1", "first",
                                  absl::FromUnixSeconds(1796160000)));
  REQUIRE_OK(RecordUnguardedStart(o.state_dir, "c2", "mountinfo line 22: x",
                                  absl::FromUnixSeconds(1796166000)));
  DoctorReport r = RunDoctor(o);
  INFO(DoctorReportToText(r, false));
  CHECK(r.verdict == Verdict::kWarning);
  CHECK(HasFinding(r, "unguarded-starts"));
  nlohmann::json j = nlohmann::json::parse(DoctorReportToJson(r));
  CHECK(j["unguarded_starts"]["count"] == 2);
  CHECK(j["unguarded_starts"]["last_start_unix"] == 1796166000);
  CHECK(j["unguarded_starts"]["last_container"] == "c2");
  CHECK(j["unguarded_starts"]["last_reason"] == "mountinfo line 22: x");
  std::string prom = DoctorReportToPrometheus(r);
  CHECK(absl::StrContains(prom,
                          "# TYPE kmemguard_unguarded_starts_total counter\n"
                          "kmemguard_unguarded_starts_total 2\n"));
  CHECK(absl::StrContains(
      prom, "\nkmemguard_unguarded_last_start_timestamp_seconds 1796166000\n"));
  std::string text = DoctorReportToText(r, false);
  CHECK(absl::StrContains(text, "  unguarded starts         2 since boot\n"));
  CHECK(absl::StrContains(text, "  last reason              mountinfo line 22: x\n"));

  // A counter that cannot be read is reported, not taken for zero.
  DoctorOptions unreadable = o;
  unreadable.state_dir = t.root() + "/proc/cmdline";  // a file, not a dir
  DoctorReport u = RunDoctor(unreadable);
  CHECK_FALSE(u.unguarded.has_value());
  CHECK(nlohmann::json::parse(DoctorReportToJson(u))["unguarded_starts"].is_null());
  CHECK_FALSE(absl::StrContains(DoctorReportToPrometheus(u),
                                "kmemguard_unguarded_starts_total"));
  bool noted = false;
  for (const std::string& e : u.errors) {
    noted = noted || absl::StrContains(e, "unguarded-starts");
  }
  CHECK(noted);
}

TEST_CASE("ExhaustionAwareMkdirHook counts visible cgroups through the fs",
          "[fixture][doctor]") {
  FixtureTree proc;
  Put(proc, "cgroups", kProcCgroups);
  FixtureTree mem;
  mem.Dir("a");
  mem.Dir("a/b");
  mem.Dir("c");
  std::unique_ptr<RealCgroupFs> fs = mem.OpenFs();
  MkdirErrorHook hook = ExhaustionAwareMkdirHook(fs.get(), proc.root());
  absl::Status busy = ErrnoError(EBUSY, "mkdir", mem.root() + "/a/x");
  absl::Status s = hook(busy);
  CHECK(absl::IsResourceExhausted(s));
  CHECK(ErrnoOf(s) == EBUSY);
  // 65,531 in use, 4 visible (root, a, a/b, c).
  CHECK(absl::StartsWith(s.message(),
                         "memory cgroup IDs exhausted: 65,531 of 65,535 in "
                         "use, 65,527 dying; run kmemguard doctor (mkdir "));
  absl::Status perm = ErrnoError(EACCES, "mkdir", mem.root() + "/a/x");
  CHECK(hook(perm) == perm);
  MkdirErrorHook no_proc =
      ExhaustionAwareMkdirHook(fs.get(), proc.root() + "/missing");
  CHECK(no_proc(busy) == busy);
}

TEST_CASE("MemoryController reports exhaustion through the hook",
          "[fixture][doctor]") {
  FixtureTree proc;
  Put(proc, "cgroups", kProcCgroups);
  FixtureTree mem;
  std::unique_ptr<RealCgroupFs> real = mem.OpenFs();
  RecordingCgroupFs fs(real.get());
  fs.AddFault(FsFault{FsOp::kMkdir, "/ctr", EBUSY});
  MemoryController controller(&fs, KmemPolicy::kGuarded);
  controller.set_mkdir_error_hook(ExhaustionAwareMkdirHook(&fs, proc.root()));
  MemoryResources res;
  res.limit_bytes = 1 << 20;
  absl::StatusOr<ApplyResult> r =
      controller.Apply(testing::P("ctr"), res, -1);
  REQUIRE_FALSE(r.ok());
  CHECK(absl::IsResourceExhausted(r.status()));
  CHECK(ErrnoOf(r.status()) == EBUSY);
  CHECK(absl::StrContains(r.status().message(), "run kmemguard doctor"));
  CHECK(absl::StrContains(r.status().message(), "/ctr"));
}

}  // namespace
}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard doctor`'s gathering: reads the host (or a recorded host under
// --proc and --sys), walks the memory hierarchy once, probes the runtimes,
// and fills a DoctorReport for the checks (checks.cc). The heuristics are
// documented in docs/doctor.md; keep the two in step.

#include "kmemguard/doctor/doctor.h"

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
#include "boost/filesystem.hpp"
#include "kmemguard/core/status.h"
#include "kmemguard/doctor/host_command.h"

namespace kmemguard {
namespace {

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

namespace fs = boost::filesystem;

// Rebases a host mount point under --sys: /sys/fs/cgroup/memory becomes
// <sys_root>/fs/cgroup/memory. Mount points outside /sys stay as they are.
// (--proc and --sys name recorded hosts: plain directories of /proc and
// /sys text, read with the host's own paths rebased.)
std::string UnderSysRoot(const std::string& mount_point,
                         const std::string& sys_root) {
  if (sys_root == "/sys" || mount_point.empty()) return mount_point;
  fs::path rel = fs::path(mount_point).lexically_relative("/sys");
  if (rel.empty() || *rel.begin() == "..") return mount_point;
  if (rel == ".") return sys_root;
  return (fs::path(sys_root) / rel).string();
}

std::string Proc(const DoctorOptions& o, absl::string_view rel) {
  return (fs::path(o.proc_root) / std::string(rel)).string();
}

absl::StatusOr<std::unique_ptr<RealCgroupFs>> OpenHierarchy(
    const DoctorOptions& o, const std::string& mount) {
  return RealCgroupFs::Open(UnderSysRoot(mount, o.sys_root),
                            o.sys_root == "/sys" ? RootCheck::kRequireCgroupfs
                                                 : RootCheck::kAllowPlainDir);
}

struct MemoryWalk {
  int64_t visible = 0;
  int64_t kmem_active = 0;
  int64_t run_scopes = 0;
  std::vector<KmemCgroup> notable;
};

// What the walk learns about one opened cgroup (not the root: the root
// memcg is never kmem-limited).
void NoteCgroup(CgroupFs* fs, const CgroupPath& p, size_t children,
                bool inspect_kmem, bool all_active, MemoryWalk* w) {
  KmemCgroup k;
  k.path = p.ToString();
  k.well_known = IsWellKnownParent(k.path);
  k.children = static_cast<int64_t>(children);
  if (inspect_kmem) {
    KmemState state = InspectKmemState(fs, p);
    k.inspected = true;
    k.active = state.active;
    k.evidence = std::move(state.evidence);
    if (k.active) ++w->kmem_active;
  } else if (all_active) {
    k.active = true;
    k.evidence = "kernel >= 4.6 accounts kmem in every memory cgroup";
  }
  bool notable = k.well_known || (k.inspected && k.active && k.children > 0);
  if (!notable || w->notable.size() >= kMaxListedKmemCgroups) return;
  absl::StatusOr<int64_t> uh = ReadControlInt(fs, p, kUseHierarchy);
  if (uh.ok()) k.use_hierarchy = static_cast<int>(*uh);
  w->notable.push_back(std::move(k));
}

// The memory hierarchy in one walk (WalkCgroups): visible cgroups,
// run-*.scope units, and the kmem state of the cgroups that matter. Leaves
// are opened only when their kmem files are read (kernels before 4.6) or
// they are well-known parents.
absl::StatusOr<MemoryWalk> WalkMemory(CgroupFs* fs, bool inspect_kmem,
                                      bool all_active) {
  MemoryWalk w;
  CgroupVisitor visitor;
  visitor.open_leaf = [inspect_kmem](const CgroupPath& leaf) {
    return inspect_kmem || IsWellKnownParent(leaf.ToString());
  };
  visitor.visit = [&](const CgroupPath& p,
                      const std::vector<CgroupFs::DirLinks>& children) {
    for (const CgroupFs::DirLinks& c : children) {
      if (IsRunScope(c.name)) ++w.run_scopes;
    }
    if (!p.IsRoot()) {
      NoteCgroup(fs, p, children.size(), inspect_kmem, all_active, &w);
    }
  };
  absl::StatusOr<int64_t> visible = WalkCgroups(fs, CgroupPath(), visitor);
  if (!visible.ok()) return visible.status();
  w.visible = *visible;
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
    fs::path candidate = fs::path(d) / name;
    boost::system::error_code ec;
    fs::file_status st = fs::symlink_status(candidate, ec);
    if (!ec && fs::exists(st) && !fs::is_directory(st)) {
      return candidate.string();
    }
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
  rt.raw = FirstLineOf(out->output);
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

namespace {

// What could not be read lands in the report's errors, as one line each.
void Note(DoctorReport* r, const absl::Status& s) {
  r->errors.push_back(std::string(s.message()));
}

// Reads a host file under the options' roots and parses it with `parse`;
// failures (of the read or of `parse`) are noted.
template <typename Parse>
void ReadAndParse(DoctorReport* r, const std::string& path, Parse parse) {
  absl::StatusOr<std::string> text = ReadHostFile(path);
  if (!text.ok()) {
    Note(r, text.status());
    return;
  }
  absl::Status parsed = parse(*text);
  if (!parsed.ok()) Note(r, parsed);
}

// Kernel release, boot parameters and the mount layout.
void GatherHost(const DoctorOptions& o, DoctorReport* r) {
  ReadAndParse(r, Proc(o, "sys/kernel/osrelease"), [r](const std::string& t) {
    absl::StatusOr<KernelRelease> kr = ParseKernelRelease(t);
    if (!kr.ok()) return kr.status();
    r->kernel_release = kr->text;
    r->kernel = ClassifyKernel(*kr);
    return absl::OkStatus();
  });
  ReadAndParse(r, Proc(o, "cmdline"), [r](const std::string& t) {
    r->nokmem_boot = CmdlineHasNokmem(t);
    return absl::OkStatus();
  });
  ReadAndParse(r, Proc(o, "self/mountinfo"), [r](const std::string& t) {
    absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(t);
    if (!mounts.ok()) return mounts.status();
    r->layout = DetectLayout(*mounts);
    return absl::OkStatus();
  });
  if (r->layout.unified_mount.empty()) return;
  absl::StatusOr<std::string> stat = ReadHostFile(absl::StrCat(
      UnderSysRoot(r->layout.unified_mount, o.sys_root), "/cgroup.stat"));
  if (!stat.ok()) return;
  absl::StatusOr<CgroupStat> parsed = ParseCgroupStat(*stat);
  if (parsed.ok()) r->v2_stat = *parsed;
}

// Pure cgroup v2: the IDs from the root's cgroup.stat.
void GatherIdsV2(const DoctorOptions& o, DoctorReport* r) {
  r->ids_source = "cgroup.stat";
  r->kmem_method =
      "not applicable: cgroup v2 has no per-cgroup kmem activation";
  if (!r->v2_stat.has_value()) {
    r->errors.push_back(absl::StrCat(
        "cannot read ", UnderSysRoot(r->layout.unified_mount, o.sys_root),
        "/cgroup.stat"));
    return;
  }
  r->ids_known = true;
  r->visible = 1 + r->v2_stat->nr_descendants;
  r->dying = r->v2_stat->nr_dying_descendants;
  r->in_use = r->visible + r->dying;
  r->memory_enabled = true;
}

// How the kmem count of a v1 walk was made.
void SetKmemMethod(const MemoryWalk& walk, bool inspect_kmem,
                   DoctorReport* r) {
  r->kmem_inspected = inspect_kmem;
  if (inspect_kmem) {
    r->kmem_active = walk.kmem_active;
    r->kmem_method =
        "kernel < 4.6: a cgroup counts as kmem-active when "
        "memory.kmem.limit_in_bytes is set, memory.kmem.usage_in_bytes "
        "> 0, or memory.kmem.slabinfo lists slab caches";
  } else if (r->nokmem_boot) {
    r->kmem_active = 0;
    r->kmem_method = "cgroup.memory=nokmem: no cgroup accounts kmem";
  } else {
    r->kmem_active = std::max<int64_t>(0, r->visible - 1);
    r->kmem_method =
        "kernel >= 4.6 accounts kmem in every memory cgroup "
        "(b313aeee2509); per-cgroup files are not read";
  }
}

// v1 and hybrid: /proc/cgroups minus the visible tree, and the kmem state,
// from one walk of the memory hierarchy.
void GatherIdsV1(const DoctorOptions& o, DoctorReport* r) {
  r->ids_source = "proc-cgroups";
  absl::StatusOr<std::string> text = ReadHostFile(Proc(o, "cgroups"));
  absl::StatusOr<ProcCgroupsRow> row =
      text.ok() ? ParseProcCgroupsMemory(*text)
                : absl::StatusOr<ProcCgroupsRow>(text.status());
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      OpenHierarchy(o, r->layout.memory_mount);
  if (!row.ok()) Note(r, row.status());
  if (!fs.ok()) Note(r, fs.status());
  if (!row.ok() || !fs.ok()) return;
  const bool inspect_kmem = !r->kernel.kmem_always_accounted;
  absl::StatusOr<MemoryWalk> walk =
      WalkMemory(fs->get(), inspect_kmem, !inspect_kmem && !r->nokmem_boot);
  if (!walk.ok()) {
    Note(r, walk.status());
    return;
  }
  r->ids_known = true;
  r->hierarchy = row->hierarchy;
  r->memory_enabled = row->enabled;
  r->in_use = row->num_cgroups;
  r->visible = walk->visible;
  r->dying = std::max<int64_t>(0, r->in_use - r->visible);
  r->kmem_cgroups = std::move(walk->notable);
  SetKmemMethod(*walk, inspect_kmem, r);
  if (r->layout.systemd_mount.empty()) {
    r->run_scopes = walk->run_scopes;
    r->run_scopes_counted = true;
  }
}

// kubernetes#70324: transient scopes live in the systemd hierarchy (v1
// name=systemd) or in the v2 tree.
void GatherRunScopes(const DoctorOptions& o, DoctorReport* r) {
  std::string mount = !r->layout.systemd_mount.empty()
                          ? r->layout.systemd_mount
                          : (r->layout.layout == CgroupLayout::kUnifiedV2
                                 ? r->layout.unified_mount
                                 : "");
  if (mount.empty()) return;
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs = RealCgroupFs::Open(
      UnderSysRoot(mount, o.sys_root), RootCheck::kAllowPlainDir);
  if (!fs.ok()) return;
  int64_t scopes = 0;
  if (CountCgroups(fs->get(), {}, &scopes).ok()) {
    r->run_scopes = scopes;
    r->run_scopes_counted = true;
  }
}

// The runtimes and the kubelet on the search path, and the containers
// kmemguard-runtime started without the guard.
void GatherRuntimes(const DoctorOptions& o, DoctorReport* r) {
  if (o.inspect_runtimes) {
    for (const std::string& name : o.runtimes) {
      std::optional<std::string> path = FindOnPath(o.search_path, name);
      if (path.has_value()) r->runtimes.push_back(InspectRuntime(o, name, *path));
    }
    std::optional<std::string> kubelet = FindOnPath(o.search_path, "kubelet");
    if (kubelet.has_value()) r->kubelet = InspectRuntime(o, "kubelet", *kubelet);
  }
  r->state_dir = o.state_dir;
  absl::StatusOr<UnguardedStarts> unguarded = ReadUnguardedStarts(o.state_dir);
  if (unguarded.ok()) {
    r->unguarded = *std::move(unguarded);
  } else {
    Note(r, unguarded.status());
  }
}

// --watch: sample again until the window is over.
void Watch(const DoctorOptions& o, DoctorReport* r) {
  std::vector<DoctorSample> samples;
  samples.push_back(DoctorSample{absl::Now(), r->in_use, r->visible, r->dying});
  absl::Duration interval =
      o.interval > absl::ZeroDuration() ? o.interval : o.watch;
  absl::Time end = samples.front().time + o.watch;
  while (absl::Now() < end) {
    absl::SleepFor(std::min(interval, end - absl::Now()));
    absl::StatusOr<DoctorSample> s = TakeDoctorSample(o, r->layout);
    if (!s.ok()) {
      Note(r, s.status());
      break;
    }
    samples.push_back(*s);
  }
  r->watch = ComputeGrowth(samples, r->limit);
  const DoctorSample& last = samples.back();
  r->in_use = last.in_use;
  r->visible = last.visible;
  r->dying = last.dying;
}

}  // namespace

DoctorReport RunDoctor(const DoctorOptions& o) {
  DoctorReport r;
  r.warning_ratio = o.warning_ratio;
  r.critical_ratio = o.critical_ratio;
  r.run_scope_threshold = o.run_scope_threshold;
  GatherHost(o, &r);
  if (r.layout.layout == CgroupLayout::kUnifiedV2) {
    GatherIdsV2(o, &r);
  } else if (r.layout.layout != CgroupLayout::kUnknown) {
    GatherIdsV1(o, &r);
  } else {
    r.errors.push_back("no cgroup hierarchy with the memory controller found "
                       "in mountinfo");
  }
  GatherRunScopes(o, &r);
  GatherRuntimes(o, &r);
  if (o.watch > absl::ZeroDuration() && r.ids_known) Watch(o, &r);
  AssessDoctorReport(&r);
  return r;
}

}  // namespace kmemguard

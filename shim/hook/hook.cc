// SPDX-License-Identifier: Apache-2.0

#include "hook/hook.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/inherited_kmem.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/kernel.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/status.h"
#include "kmemguard/core/target.h"
#include "kmemguard/core/unguarded.h"

namespace kmemguard::shim {
namespace {

// A systemd cgroupsPath is "slice:prefix:name"; an fs one is a path.
bool LooksLikeSystemdPath(const std::string& p) {
  return !p.empty() && p[0] != '/' &&
         std::count(p.begin(), p.end(), ':') == 2;
}

}  // namespace

absl::StatusOr<HookStage> HookStageFrom(const std::vector<std::string>& args,
                                        const OciState& state) {
  if (!args.empty()) {
    const std::string& s = args[0];
    if (s == "createRuntime" || s == "prestart" || s == "createContainer") {
      return HookStage::kCreateRuntime;
    }
    if (s == "poststop") return HookStage::kPoststop;
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown hook stage \"", s, "\" (want createRuntime, prestart or "
        "poststop)"));
  }
  if (state.status == "stopped") return HookStage::kPoststop;
  if (state.status == "creating" || state.status == "created" ||
      state.status == "running" || state.pid > 0) {
    return HookStage::kCreateRuntime;
  }
  return HookStage::kPoststop;
}

absl::StatusOr<HookOutcome> RunHook(HookStage stage, const OciState& state,
                                    const ShimConfig& config,
                                    const HookEnvironment& env) {
  HookOutcome out;
  if (state.bundle.empty()) {
    return absl::InvalidArgumentError("OCI state has no bundle");
  }
  absl::StatusOr<OciCgroupConfig> oci = LoadBundleConfig(
      state.bundle, state.id, /*systemd_cgroup=*/false, OciDecoder::kFull);
  if (!oci.ok()) return oci.status();
  if (stage == HookStage::kCreateRuntime) {
    // Containers kmemguard-runtime started without the guard (fail-open)
    // must show up wherever someone looks (issue 10).
    absl::StatusOr<UnguardedStarts> unguarded =
        ReadUnguardedStarts(config.state_dir);
    if (!unguarded.ok()) {
      out.reports.push_back(absl::StrCat(
          state.id, ": cannot read the unguarded-start counter: ",
          unguarded.status().message()));
    } else if (unguarded->count > 0) {
      out.reports.push_back(absl::StrCat(
          state.id, ": warning: ", DescribeUnguardedStarts(*unguarded),
          "; run kmemguard doctor"));
    }
  }
  if (LooksLikeSystemdPath(oci->cgroups_path)) {
    out.reports.push_back(absl::StrCat(
        state.id, ": systemd cgroupsPath ", oci->cgroups_path,
        ": not inspected"));
    return out;
  }
  absl::StatusOr<CgroupTarget> target = OpenTarget(oci->location);
  if (!target.ok()) {
    if (IsNoMemoryHierarchy(target.status())) {
      out.reports.push_back(absl::StrCat(
          state.id, ": no cgroup v1 memory hierarchy; the kmem ID leak does "
          "not apply"));
      return out;
    }
    return target.status();
  }
  CgroupFs& fs = *target->fs;

  if (stage == HookStage::kPoststop) {
    absl::StatusOr<bool> exists = fs.Exists(target->path);
    if (!exists.ok() || !*exists) return out;
    if (!config.hook_cleanup) {
      out.reports.push_back(absl::StrCat(state.id, ": ", target->full_path,
                                         " left behind (hook.cleanup off)"));
      return out;
    }
    // Only a childless cgroup without tasks: the hook must never take a
    // cgroup that something still uses.
    absl::StatusOr<std::string> procs = fs.ReadFile(target->path, kCgroupProcs);
    absl::StatusOr<std::vector<std::string>> children =
        fs.ListDirs(target->path);
    if (!procs.ok() || !absl::StripAsciiWhitespace(*procs).empty() ||
        !children.ok() || !children->empty()) {
      out.reports.push_back(absl::StrCat(state.id, ": ", target->full_path,
                                         " is still in use; left in place"));
      return out;
    }
    MemoryController controller(&fs, config.kmem_policy);
    RemoveOptions options;
    options.force_empty = true;
    absl::Status s = controller.Remove(target->path, options);
    out.reports.push_back(
        s.ok() ? absl::StrCat(state.id, ": removed leftover ",
                              target->full_path)
               : absl::StrCat(state.id, ": ", s.message()));
    return out;
  }

  // createRuntime: headroom and kmem state.
  absl::StatusOr<std::string> cgroups =
      ReadHostFile(absl::StrCat(env.proc_root, "/cgroups"));
  if (cgroups.ok()) {
    absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(*cgroups);
    if (row.ok()) {
      double ratio = static_cast<double>(row->num_cgroups) / kMemcgIdLimit;
      std::string line = absl::StrCat(
          state.id, ": ", WithThousands(row->num_cgroups), " of ",
          WithThousands(kMemcgIdLimit), " memory cgroup IDs in use");
      if (ratio >= config.hook_warn_ratio) {
        absl::StrAppend(&line, " (warning: at or above ",
                        absl::StrFormat("%g", config.hook_warn_ratio * 100),
                        " % of the ID space; run kmemguard doctor)");
      }
      out.reports.push_back(line);
    }
  }
  bool opt_in = KmemOptInKernel(env.kernel_release);
  if (!opt_in) {
    out.reports.push_back(absl::StrCat(
        state.id, ": kernel ", env.kernel_release,
        " accounts kernel memory in every memory cgroup (or refuses kmem "
        "limits); per-cgroup kmem activation does not apply"));
    return out;
  }
  std::vector<std::string> accounted =
      AccountedAncestors(fs, target->path, /*include_self=*/true);
  if (!accounted.empty()) {
    std::string msg = absl::StrCat(
        "kmem accounting is active on ", accounted.front(),
        accounted.front() == target->full_path ? "" : " (inherited by the "
        "container with use_hierarchy=1)",
        " on leak-prone kernel ", env.kernel_release,
        "; removed cgroups will hold memory-cgroup IDs: run kmemguard doctor");
    out.reports.push_back(absl::StrCat(state.id, ": ", msg));
    if (config.hook_fail_on_kmem) out.failure = msg;
  } else {
    out.reports.push_back(
        absl::StrCat(state.id, ": kmem accounting inactive on ",
                     target->full_path, " and its parents"));
  }
  return out;
}

}  // namespace kmemguard::shim

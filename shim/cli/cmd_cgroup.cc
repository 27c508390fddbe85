// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_cgroup.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/cli_common.h"
#include "common/seccomp_filter.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/status.h"
#include "kmemguard/core/target.h"

namespace kmemguard::cli {
namespace {

// Options shared by the four subcommands.
struct CgroupOptions {
  std::string cgroups_path;
  std::string path;
  bool allow_plain_dir = false;
  std::string config;
  std::string id;
  // Resources, as text until parsed (runc update's flags).
  std::optional<std::string> memory, reservation, memory_swap, kernel,
      kernel_tcp, swappiness;
  bool oom_kill_disable = false;
  std::string kmem_policy = "guarded";
  int64_t pid = -1;
  bool force_empty = false;
  std::string format = "text";
};

void AddTargetOptions(CLI::App* sub, CgroupOptions* o) {
  auto* cp = sub->add_option("--cgroups-path", o->cgroups_path,
                             "cgroupsPath, resolved as runc's fs driver does "
                             "(absolute: under the memory mount; relative: "
                             "under our own memory cgroup)");
  auto* p = sub->add_option("--path", o->path,
                            "this directory exactly (must be on cgroupfs "
                            "unless --allow-plain-dir)");
  cp->excludes(p);
  sub->add_flag("--allow-plain-dir", o->allow_plain_dir,
                "let --path target a plain directory (fixture trees)");
  sub->add_option("--config", o->config,
                  "an OCI config.json: linux.cgroupsPath and "
                  "linux.resources.memory, mapped as runc's specconv does");
  sub->add_option("--id", o->id,
                  "container id: the cgroup name when cgroupsPath is empty");
}

void AddResourceOptions(CLI::App* sub, CgroupOptions* o) {
  sub->add_option("--memory,-m", o->memory,
                  "memory limit. Sizes (all five size flags) follow "
                  "runc@4d6e672's runc update (go-units v0.2.0): an integer "
                  "with an optional binary k/m/g/t/p and an optional b "
                  "(512k, 64MB); no fractions, no 'i', no space; -1 is "
                  "unlimited; \"\" leaves the value unset");
  sub->add_option("--memory-reservation", o->reservation,
                  "soft limit (memory.soft_limit_in_bytes)");
  sub->add_option("--memory-swap", o->memory_swap,
                  "memory+swap limit (memory.memsw.limit_in_bytes)");
  sub->add_option("--kernel-memory", o->kernel,
                  "kernel memory limit (memory.kmem.limit_in_bytes)");
  sub->add_option("--kernel-memory-tcp", o->kernel_tcp,
                  "kernel TCP buffer limit (memory.kmem.tcp.limit_in_bytes)");
  sub->add_option("--memory-swappiness", o->swappiness,
                  "swappiness 0-100 (-1: leave unset)");
  sub->add_flag("--oom-kill-disable", o->oom_kill_disable,
                "disable the OOM killer (memory.oom_control)");
  sub->add_option("--kmem-policy", o->kmem_policy,
                  "when to enable kmem accounting on a created cgroup: "
                  "guarded (default), legacy (runc 1.0.0-rc3..rc93), "
                  "disabled (runc nokmem)")
      ->check(CLI::IsMember({"guarded", "legacy", "disabled"}));
}

struct Resolved {
  Target target;
  MemoryResources resources;
};

absl::StatusOr<Resolved> Resolve(const CgroupOptions& o, bool needs_target) {
  Resolved r;
  CgroupLocation location;
  bool have_location = false;
  if (!o.config.empty()) {
    absl::StatusOr<OciCgroupConfig> oci = LoadOciConfigFile(
        o.config, o.id, /*systemd_cgroup=*/false, OciDecoder::kFull);
    if (!oci.ok()) return oci.status();
    r.resources = oci->resources;
    if (!oci->cgroups_path.empty() || !o.id.empty()) {
      location = oci->location;
      have_location = true;
    }
  }
  struct SizeFlag {
    const std::optional<std::string>* text;
    const char* name;
    int64_t* out;
  };
  const SizeFlag sizes[] = {
      {&o.memory, "memory", &r.resources.limit_bytes},
      {&o.reservation, "memory-reservation", &r.resources.reservation_bytes},
      {&o.memory_swap, "memory-swap", &r.resources.memsw_limit_bytes},
      {&o.kernel, "kernel-memory", &r.resources.kernel_limit_bytes},
      {&o.kernel_tcp, "kernel-memory-tcp", &r.resources.kernel_tcp_limit_bytes},
  };
  for (const SizeFlag& f : sizes) {
    if (!f.text->has_value()) continue;
    absl::StatusOr<std::optional<int64_t>> v = ParseSizeFlag(**f.text);
    if (!v.ok()) {
      // runc update's text.
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value for ", f.name, ": ", v.status().message()));
    }
    if (v->has_value()) *f.out = **v;
  }
  if (o.swappiness.has_value()) {
    int64_t signed_value = 0;
    uint64_t value = 0;
    if (absl::SimpleAtoi(*o.swappiness, &value)) {
      r.resources.swappiness = value;
    } else if (absl::SimpleAtoi(*o.swappiness, &signed_value) &&
               signed_value == -1) {
      r.resources.swappiness = std::nullopt;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value for memory-swappiness: ", *o.swappiness));
    }
  }
  if (o.oom_kill_disable) r.resources.oom_kill_disable = true;

  if (!needs_target) return r;
  if (!o.path.empty()) {
    absl::StatusOr<Target> t = TargetFromDirectory(o.path, o.allow_plain_dir);
    if (!t.ok()) return t.status();
    r.target = *std::move(t);
    return r;
  }
  if (!o.cgroups_path.empty()) {
    location = CgroupLocation{};
    location.path = o.cgroups_path;
    have_location = true;
  }
  if (!have_location) {
    return absl::InvalidArgumentError(
        "no target: give --cgroups-path, --path, or --config with a "
        "cgroupsPath (or --id)");
  }
  absl::StatusOr<Target> t = OpenTarget(location);
  if (!t.ok()) return t.status();
  r.target = *std::move(t);
  return r;
}

int Fail(const absl::Status& status) {
  PrintError(status.message());
  return kExitError;
}

// The cgroup-writing commands run under the seccomp allowlist from here
// on: after argument parsing, before any cgroup is touched.
absl::Status ConfineCgroupCommand() {
  absl::Status s = shim::Confine(shim::Confinement::kCgroupWork);
  return s.ok() ? s : Annotate(s, "seccomp");
}

int RunApply(const CgroupOptions& o) {
  if (absl::Status c = ConfineCgroupCommand(); !c.ok()) return Fail(c);
  absl::StatusOr<Resolved> r = Resolve(o, true);
  if (!r.ok()) return Fail(r.status());
  KmemPolicy policy = *ParseKmemPolicy(o.kmem_policy);
  MemoryController controller(r->target.fs.get(), policy);
  // A mkdir failing with ENOSPC/EBUSY near the ID limit says so.
  controller.set_mkdir_error_hook(
      ExhaustionAwareMkdirHook(r->target.fs.get()));
  absl::StatusOr<MemoryController::CreateResult> done = controller.ApplyAndSet(
      r->target.path, r->resources, o.pid, r->target.explicit_path);
  if (!done.ok()) return Fail(done.status());
  for (const std::string& w : done->set.warnings) PrintWarning(w);
  std::printf("%s %s (kmem accounting: %s)\n",
              done->apply.created ? "created" : "existing",
              r->target.full_path.c_str(),
              std::string(KmemActivationName(done->apply.kmem)).c_str());
  if (done->apply.joined_pid != -1) {
    std::printf("joined pid %lld\n",
                static_cast<long long>(done->apply.joined_pid));
  }
  return kExitOk;
}

int RunSet(const CgroupOptions& o) {
  if (absl::Status c = ConfineCgroupCommand(); !c.ok()) return Fail(c);
  absl::StatusOr<Resolved> r = Resolve(o, true);
  if (!r.ok()) return Fail(r.status());
  if (r->target.explicit_path) return kExitOk;  // runc Manager.Set: no-op
  absl::StatusOr<bool> exists = r->target.fs->Exists(r->target.path);
  if (!exists.ok()) return Fail(exists.status());
  if (!*exists) {
    return Fail(absl::NotFoundError(
        absl::StrCat("cgroup ", r->target.full_path, " does not exist")));
  }
  MemoryController controller(r->target.fs.get(),
                              *ParseKmemPolicy(o.kmem_policy));
  absl::StatusOr<SetResult> set = controller.Set(r->target.path, r->resources);
  if (!set.ok()) return Fail(set.status());
  for (const std::string& w : set->warnings) PrintWarning(w);
  return kExitOk;
}

int RunStats(const CgroupOptions& o) {
  if (absl::Status c = ConfineCgroupCommand(); !c.ok()) return Fail(c);
  absl::StatusOr<Resolved> r = Resolve(o, true);
  if (!r.ok()) return Fail(r.status());
  MemoryController controller(r->target.fs.get(), KmemPolicy::kGuarded);
  absl::StatusOr<bool> exists = r->target.fs->Exists(r->target.path);
  if (!exists.ok()) return Fail(exists.status());
  if (!*exists) {
    return Fail(absl::NotFoundError(
        absl::StrCat("cgroup ", r->target.full_path, " does not exist")));
  }
  absl::StatusOr<MemoryStats> stats = controller.GetStats(r->target.path);
  if (!stats.ok()) return Fail(stats.status());
  if (o.format == "json") {
    std::printf("%s\n", StatsToJson(*stats).c_str());
  } else {
    std::fputs(StatsToText(*stats, r->target.full_path).c_str(), stdout);
  }
  return kExitOk;
}

int RunRemove(const CgroupOptions& o) {
  if (absl::Status c = ConfineCgroupCommand(); !c.ok()) return Fail(c);
  absl::StatusOr<Resolved> r = Resolve(o, true);
  if (!r.ok()) return Fail(r.status());
  MemoryController controller(r->target.fs.get(), KmemPolicy::kGuarded);
  RemoveOptions options;
  options.force_empty = o.force_empty;
  absl::Status s = controller.Remove(r->target.path, options);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

}  // namespace

void RegisterCgroupCommands(CLI::App& app, std::function<int()>* run) {
  // Options live as long as the app (static: one parse per process).
  static CgroupOptions apply_o, set_o, stats_o, remove_o;

  CLI::App* apply = app.add_subcommand(
      "apply",
      "create a memory cgroup as a runtime does (runc Apply, then Set), with "
      "the kmem guard");
  AddTargetOptions(apply, &apply_o);
  AddResourceOptions(apply, &apply_o);
  apply->add_option("--pid", apply_o.pid,
                    "move this process into the cgroup (default: create only, "
                    "like Apply(-1))");
  apply->callback([run] { *run = [] { return RunApply(apply_o); }; });

  CLI::App* set = app.add_subcommand(
      "set", "write resources to an existing memory cgroup, like runc update");
  AddTargetOptions(set, &set_o);
  AddResourceOptions(set, &set_o);
  set->callback([run] { *run = [] { return RunSet(set_o); }; });

  CLI::App* stats = app.add_subcommand(
      "stats", "print the memory statistics of a cgroup (runc GetStats)");
  AddTargetOptions(stats, &stats_o);
  stats->add_option("--format", stats_o.format,
                    "text (default) or json (runc events --stats shape)")
      ->check(CLI::IsMember({"text", "json"}));
  stats->callback([run] { *run = [] { return RunStats(stats_o); }; });

  CLI::App* remove = app.add_subcommand(
      "remove", "remove a memory cgroup and its children (runc RemovePaths)");
  AddTargetOptions(remove, &remove_o);
  remove->add_flag("--force-empty", remove_o.force_empty,
                   "write 0 to memory.force_empty before rmdir, so charged "
                   "page cache does not keep a dying cgroup holding an ID");
  remove->callback([run] { *run = [] { return RunRemove(remove_o); }; });
}

}  // namespace kmemguard::cli

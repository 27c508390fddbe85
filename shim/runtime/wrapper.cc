// SPDX-License-Identifier: Apache-2.0

#include "runtime/wrapper.h"

#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/inherited_kmem.h"
#include "common/process.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/status.h"
#include "kmemguard/core/target.h"
#include "runtime/gc.h"

namespace kmemguard::shim {

// ------------------------------------------------------------ create, delete

absl::StatusOr<MemoryController::CreateResult> GuardContainerCgroup(
    CgroupFs& fs, const CgroupPath& path, const MemoryResources& resources,
    const ShimConfig& config, const RuntimeLog& log,
    absl::string_view kernel_release) {
  if (KmemOptInKernel(kernel_release)) {
    std::vector<std::string> accounted = AccountedAncestors(fs, path);
    if (!accounted.empty()) {
      std::string msg = absl::StrCat(
          "kmem accounting is already active on ", accounted.front(),
          " with use_hierarchy=1; ", fs.DisplayPath(path),
          " inherits it and the guard cannot help (see kmemguard doctor)");
      if (config.failure_policy == FailurePolicy::kFailClosed) {
        return absl::FailedPreconditionError(msg);
      }
      log.Warning(msg);
    }
  }
  MemoryController controller(&fs, config.kmem_policy);
  controller.set_mkdir_error_hook(ExhaustionAwareMkdirHook(&fs));
  return controller.ApplyAndSet(path, resources, -1);
}

namespace {

// The directories PrepareCreate will create: the cgroup and each missing
// ancestor, parents first.
std::vector<CgroupPath> MissingDirs(CgroupFs& fs, const CgroupPath& leaf) {
  std::vector<CgroupPath> missing;
  for (CgroupPath p = leaf; !p.IsRoot(); p = p.Parent()) {
    absl::StatusOr<bool> exists = fs.Exists(p);
    if (exists.ok() && *exists) break;
    missing.insert(missing.begin(), p);
  }
  return missing;
}

}  // namespace

absl::Status PrepareCreate(const WrapperContext& ctx) {
  const RuntimeArgs& a = ctx.args;
  // An id the runtime will refuse: create nothing it would leave behind.
  if (!IsValidContainerId(a.container_id)) return absl::OkStatus();
  if (a.cgroup_manager_disabled) {
    // crun --cgroup-manager disabled creates no cgroup at all.
    ctx.log->Debug("cgroup manager disabled: pass-through");
    return absl::OkStatus();
  }
  std::string bundle = a.bundle;
  if (bundle.empty()) {
    absl::StatusOr<std::string> cwd = WorkingDirectory();
    if (!cwd.ok()) return cwd.status();
    bundle = *cwd;
  }
  absl::StatusOr<OciCgroupConfig> oci = LoadBundleConfig(
      bundle, a.container_id, a.systemd_cgroup, OciDecoder::kLean);
  if (!oci.ok()) return oci.status();
  if (oci->systemd.has_value()) {
    // runc's systemd v1 driver never calls the fs MemoryGroup.Apply; it
    // enables kmem only when KernelMemory != 0 (apply_systemd.go at
    // 4d6e672 .. rc93), which is the guard already. The scope directory
    // belongs to systemd, so the wrapper does not create it.
    ctx.log->Debug(absl::StrCat("systemd cgroup driver for ", a.container_id,
                                ": pass-through"));
    return absl::OkStatus();
  }
  if (!MemoryAssigned(oci->resources)) {
    // runc enables kmem only in memory Apply's create branch, which needs a
    // memory setting (memoryAssigned).
    return absl::OkStatus();
  }
  absl::StatusOr<CgroupTarget> target = OpenTarget(oci->location);
  if (!target.ok()) {
    if (IsNoMemoryHierarchy(target.status())) {
      ctx.log->Debug("no cgroup v1 memory hierarchy: pass-through");
      return absl::OkStatus();
    }
    return target.status();
  }
  CgroupFs& fs = *target->fs;
  std::vector<CgroupPath> planned = MissingDirs(fs, target->path);
  std::optional<ClaimedRecord> claim;  // when there is something to create
  CreatedRecord record;
  if (!planned.empty()) {
    // Claim the id before the first mkdir, so that a crash at any later
    // step leaves a record gc can act on, and a live container's record is
    // never overwritten.
    record.id = a.container_id;
    record.runtime_root = ctx.canonical_root;
    record.hierarchy_root = target->fs->root();
    record.cgroup = target->path.ToString();
    for (const CgroupPath& p : planned) {
      record.created.push_back(CreatedDir{p.ToString(), 0});
    }
    record.owner_pid = SelfPid();
    record.owner_start = ProcessStartTime(record.owner_pid);
    // A record names its paths exactly, in JSON, which holds only UTF-8
    // (nlohmann's dump() throws on anything else, and the wrapper aborted).
    // A root or cgroup that is not UTF-8 gets no record and so no cgroup
    // of ours; the failure policy decides.
    for (const std::string* path :
         {&record.runtime_root, &record.hierarchy_root, &record.cgroup}) {
      if (!GoIsValidUtf8(*path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot record \"", GoCoerceUtf8(*path),
            "\" for container ", a.container_id, ": not UTF-8"));
      }
    }
    absl::StatusOr<ClaimedRecord> claimed = ClaimRecord(
        RecordPath(ctx.config.state_dir, ctx.canonical_root, a.container_id),
        record);
    if (!claimed.ok()) return claimed.status();
    claim = *std::move(claimed);
  }
  absl::StatusOr<MemoryController::CreateResult> done = GuardContainerCgroup(
      fs, target->path, oci->resources, ctx.config, *ctx.log,
      HostKernelRelease());
  if (!done.ok()) {
    // ApplyAndSet removed what it created.
    if (claim.has_value()) (void)RemoveFile(claim->path);
    return done.status();
  }
  for (const std::string& w : done->set.warnings) ctx.log->Warning(w);
  ctx.log->Debug(absl::StrCat(done->apply.created ? "created " : "existing ",
                              target->full_path, ", kmem ",
                              KmemActivationName(done->apply.kmem)));
  if (!claim.has_value()) return absl::OkStatus();
  record.created.clear();
  absl::Status confirmed;
  for (const CgroupPath& p : done->apply.created_dirs) {
    absl::StatusOr<uint64_t> inode =
        InodeOf(absl::StrCat(record.hierarchy_root, "/", p.ToString()));
    if (!inode.ok()) {
      confirmed = inode.status();
      break;
    }
    record.created.push_back(CreatedDir{p.ToString(), *inode});
  }
  record.confirmed = true;
  if (confirmed.ok()) confirmed = ConfirmRecord(*claim, record);
  if (!confirmed.ok()) {
    MemoryController undo(&fs, ctx.config.kmem_policy);
    (void)undo.Rollback(done->apply);
    (void)RemoveFile(claim->path);
    return confirmed;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PrepareDelete(const WrapperContext& ctx) {
  const RuntimeArgs& a = ctx.args;
  if (!IsValidContainerId(a.container_id)) {
    return absl::NotFoundError("no record for an invalid id");
  }
  std::string record_path =
      RecordPath(ctx.config.state_dir, ctx.canonical_root, a.container_id);
  absl::StatusOr<std::string> text = ReadHostFile(record_path);
  if (!text.ok()) {
    if (ErrnoOf(text.status()) == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no record ", record_path));
    }
    return text.status();
  }
  absl::StatusOr<CreatedRecord> record = RecordFromJson(*text);
  if (!record.ok()) return record_path;  // gc reports it
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(record->hierarchy_root, RootCheck::kRequireCgroupfs);
  absl::StatusOr<CgroupPath> leaf = CgroupPath::Parse(record->cgroup);
  if (fs.ok() && leaf.ok() && RecordOwnsLeaf(*record)) {
    absl::StatusOr<std::string> procs = (*fs)->ReadFile(*leaf, kCgroupProcs);
    // The runtime removes the cgroup itself without force_empty; emptying
    // the charged page cache first keeps it from lingering as a dying
    // cgroup that holds its ID (spec §9). Only possible without tasks.
    if (procs.ok() && absl::StripAsciiWhitespace(*procs).empty()) {
      (void)(*fs)->WriteFile(*leaf, kForceEmpty, "0");
    }
  }
  return record_path;
}

}  // namespace kmemguard::shim

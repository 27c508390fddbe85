// SPDX-License-Identifier: Apache-2.0

#include "wrapper.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_common.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/kernel.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/status.h"
#include "kmemguard/core/target.h"
#include "nlohmann/json.hpp"
#include "process.h"
#include "gc.h"

namespace kmemguard::shim {
namespace {

std::optional<uint64_t> ReadUint(CgroupFs& fs, const CgroupPath& dir,
                                 absl::string_view file) {
  absl::StatusOr<std::string> text = fs.ReadFile(dir, file);
  if (!text.ok()) return std::nullopt;
  absl::StatusOr<uint64_t> v = ParseCgroupUint(*text, file);
  if (!v.ok()) return std::nullopt;
  return *v;
}

std::string RuncTime() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::Now(),
                          absl::LocalTimeZone());
}

}  // namespace

// ---------------------------------------------------------------- RuntimeLog

std::string RuntimeLog::Format(absl::string_view level,
                               absl::string_view msg) const {
  std::string text = absl::StrCat(program_, ": ", msg);
  if (json_) {
    nlohmann::ordered_json j;
    j["level"] = std::string(level);
    // logrus's JSON formatter (Go's encoding/json) writes invalid UTF-8 as
    // U+FFFD; nlohmann's dump() would throw, and the wrapper abort.
    j["msg"] = GoCoerceUtf8(text);
    j["time"] = RuncTime();
    return j.dump();
  }
  // logrus TextFormatter, as runc writes --log without --log-format json.
  return absl::StrCat("time=\"", RuncTime(), "\" level=", level, " msg=",
                      GoQuote(text));
}

void RuntimeLog::Write(const std::string& path, absl::string_view level,
                       absl::string_view msg) const {
  if (path.empty()) return;
  // A log we cannot write must not stop the container (NVIDIA toolkit#68).
  (void)AppendLine(path, Format(level, msg));
}

void RuntimeLog::Error(absl::string_view msg) const {
  std::fprintf(stderr, "%s: %.*s\n", program_.c_str(),
               static_cast<int>(msg.size()), msg.data());
  Write(log_path_, "error", msg);
  Write(debug_path_, "error", msg);
}

void RuntimeLog::Warning(absl::string_view msg) const {
  Write(log_path_, "warning", msg);
  Write(debug_path_, "warning", msg);
}

void RuntimeLog::Debug(absl::string_view msg) const {
  Write(debug_path_, "debug", msg);
}

// ------------------------------------------------------------ state records

std::string RecordToJson(const CreatedRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["runtime_root"] = r.runtime_root;
  j["hierarchy_root"] = r.hierarchy_root;
  j["cgroup"] = r.cgroup;
  nlohmann::ordered_json created = nlohmann::ordered_json::array();
  for (const CreatedDir& d : r.created) {
    created.push_back({{"path", d.path}, {"inode", d.inode}});
  }
  j["created"] = std::move(created);
  j["owner_pid"] = r.owner_pid;
  j["owner_start"] = r.owner_start;
  j["confirmed"] = r.confirmed;
  return j.dump(1);
}

absl::StatusOr<CreatedRecord> RecordFromJson(absl::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    CreatedRecord r;
    r.id = j.at("id").get<std::string>();
    r.runtime_root = j.at("runtime_root").get<std::string>();
    r.hierarchy_root = j.at("hierarchy_root").get<std::string>();
    r.cgroup = j.at("cgroup").get<std::string>();
    for (const nlohmann::json& d : j.at("created")) {
      r.created.push_back(CreatedDir{d.at("path").get<std::string>(),
                                     d.at("inode").get<uint64_t>()});
    }
    r.owner_pid = j.at("owner_pid").get<int64_t>();
    r.owner_start = j.at("owner_start").get<uint64_t>();
    r.confirmed = j.at("confirmed").get<bool>();
    if (!IsValidContainerId(r.id) || r.runtime_root.empty() ||
        r.runtime_root[0] != '/' || r.hierarchy_root.empty() ||
        r.hierarchy_root[0] != '/') {
      return absl::InvalidArgumentError(
          "bad kmemguard state record: id or paths out of shape");
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad kmemguard state record: ", e.what()));
  }
}

std::string RecordPath(const std::string& state_dir,
                       const std::string& canonical_root,
                       const std::string& id) {
  // FNV-1a: runtime roots are paths; a short stable name keeps ids of
  // different roots (containerd namespaces) apart.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : canonical_root) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(state_dir, "/", absl::Hex(h, absl::kZeroPad16), "/", id,
                      ".json");
}

std::string CanonicalRuntimeRoot(const std::string& root,
                                 const std::string& runtime_path,
                                 const std::string& cwd, bool euid_root,
                                 const std::string& xdg_runtime_dir) {
  std::string path = root;
  if (path.empty()) {
    absl::string_view name = runtime_path;
    name = name.substr(name.rfind('/') + 1);
    const char* base = name == "crun" ? "crun" : "runc";
    path = !euid_root && !xdg_runtime_dir.empty()
               ? absl::StrCat(xdg_runtime_dir, "/", base)
               : absl::StrCat("/run/", base);
  } else if (path[0] != '/') {
    // runc: filepath.Abs(root) (main.go), against the caller's directory.
    path = absl::StrCat(cwd, "/", path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

std::string HostCanonicalRuntimeRoot(const std::string& root,
                                     const std::string& runtime_path) {
  std::string cwd;
  if (!root.empty() && root[0] != '/') {
    absl::StatusOr<std::string> wd = WorkingDirectory();
    cwd = wd.ok() ? *wd : "/";
  }
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string lexical = CanonicalRuntimeRoot(root, runtime_path, cwd,
                                             geteuid() == 0, xdg ? xdg : "");
  absl::StatusOr<std::string> real = RealPath(lexical);
  return real.ok() ? *real : lexical;
}

bool IsValidContainerId(absl::string_view id) {
  if (id.empty() || id == "." || id == "..") return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '+' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------ kmem checks

bool KmemOptInKernel(absl::string_view release) {
  absl::StatusOr<KernelRelease> parsed = ParseKernelRelease(release);
  if (!parsed.ok()) return false;
  KernelAssessment a = ClassifyKernel(*parsed);
  return a.kernel_class != KernelClass::kUnknown && !a.kmem_always_accounted;
}

std::vector<std::string> AccountedAncestors(CgroupFs& fs,
                                            const CgroupPath& path,
                                            bool include_self) {
  std::vector<std::string> out;
  for (CgroupPath p = include_self ? path : path.Parent(); !p.IsRoot();
       p = p.Parent()) {
    absl::StatusOr<bool> exists = fs.Exists(p);
    if (!exists.ok() || !*exists) continue;
    std::optional<uint64_t> hierarchy = ReadUint(fs, p, kUseHierarchy);
    if (hierarchy != 1) continue;
    if (InspectKmemState(&fs, p).active) out.push_back(fs.DisplayPath(p));
  }
  return out;
}

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
  std::string record_path;
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
    record.owner_pid = getpid();
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
    record_path =
        RecordPath(ctx.config.state_dir, ctx.canonical_root, a.container_id);
    absl::Status claimed = ClaimRecord(record_path, record);
    if (!claimed.ok()) return claimed;
  }
  absl::StatusOr<MemoryController::CreateResult> done = GuardContainerCgroup(
      fs, target->path, oci->resources, ctx.config, *ctx.log,
      HostKernelRelease());
  if (!done.ok()) {
    // ApplyAndSet removed what it created.
    if (!record_path.empty()) (void)RemoveFile(record_path);
    return done.status();
  }
  for (const std::string& w : done->set.warnings) ctx.log->Warning(w);
  ctx.log->Debug(absl::StrCat(done->apply.created ? "created " : "existing ",
                              target->full_path, ", kmem ",
                              KmemActivationName(done->apply.kmem)));
  if (record_path.empty()) return absl::OkStatus();
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
  if (confirmed.ok()) {
    // No fsync: a record describes cgroups, which a reboot removes too.
    confirmed = WriteFileAtomically(record_path, RecordToJson(record), 0600,
                                    Durability::kVolatile);
  }
  if (!confirmed.ok()) {
    MemoryController undo(&fs, ctx.config.kmem_policy);
    (void)undo.Rollback(done->apply);
    (void)RemoveFile(record_path);
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

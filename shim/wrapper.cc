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
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli_common.h"
#include "kmemguard/doctor.h"
#include "kmemguard/memory.h"
#include "kmemguard/oci.h"
#include "kmemguard/paths.h"
#include "kmemguard/status.h"
#include "nlohmann/json.hpp"
#include "process.h"
#include "seccomp_filter.h"

namespace kmemguard::shim {
namespace {

// Values at or above this read as "no limit" (LLONG_MAX on 3.10's
// res_counter, PAGE_COUNTER_MAX * PAGE_SIZE since 3.19).
constexpr uint64_t kUnlimitedFloor = uint64_t{1} << 62;

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
    j["msg"] = text;
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
  j["created"] = r.created;
  return j.dump(2);
}

absl::StatusOr<CreatedRecord> RecordFromJson(absl::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    CreatedRecord r;
    r.id = j.at("id").get<std::string>();
    r.runtime_root = j.at("runtime_root").get<std::string>();
    r.hierarchy_root = j.at("hierarchy_root").get<std::string>();
    r.cgroup = j.at("cgroup").get<std::string>();
    r.created = j.at("created").get<std::vector<std::string>>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad kmemguard state record: ", e.what()));
  }
}

std::string RecordPath(const std::string& state_dir,
                       const std::string& runtime_root,
                       const std::string& id) {
  // FNV-1a: runtime roots are paths; a short stable name keeps ids of
  // different roots (containerd namespaces) apart.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : runtime_root) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(state_dir, "/", absl::Hex(h, absl::kZeroPad16), "/", id,
                      ".json");
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
    std::optional<uint64_t> limit = ReadUint(fs, p, kKmemLimitInBytes);
    std::optional<uint64_t> usage =
        ReadUint(fs, p, "memory.kmem.usage_in_bytes");
    if ((limit.has_value() && *limit < kUnlimitedFloor) ||
        (usage.has_value() && *usage > 0)) {
      out.push_back(fs.DisplayPath(p));
    }
  }
  return out;
}

// ------------------------------------------------------------ create, delete

absl::Status CleanupRecord(const CreatedRecord& record,
                           const std::string& record_path) {
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(record.hierarchy_root, RootCheck::kRequireCgroupfs);
  if (!fs.ok()) return fs.status();
  MemoryController controller(fs->get(), KmemPolicy::kGuarded);
  absl::StatusOr<CgroupPath> leaf = CgroupPath::Parse(record.cgroup);
  if (!leaf.ok()) return leaf.status();
  absl::Status first;
  bool leaf_ours = false;
  for (const std::string& c : record.created) leaf_ours |= c == record.cgroup;
  if (leaf_ours) {
    RemoveOptions options;
    options.force_empty = true;
    first.Update(controller.Remove(*leaf, options));
  }
  // Parents: one rmdir each, deepest first; a parent that still has
  // children (another container) stays.
  for (auto it = record.created.rbegin(); it != record.created.rend(); ++it) {
    if (*it == record.cgroup) continue;
    absl::StatusOr<CgroupPath> p = CgroupPath::Parse(*it);
    if (!p.ok()) continue;
    (void)(*fs)->RemoveDir(*p);
  }
  if (first.ok()) first.Update(RemoveFile(record_path));
  return first;
}

namespace {

// The runtime's state directory of a container: runc and crun both keep
// one directory per container under --root (runc: state.json; crun:
// status), by default /run/runc or /run/crun.
std::string ContainerStateDir(const std::string& runtime_path,
                              const std::string& root, const std::string& id) {
  std::string base = root;
  if (base.empty()) {
    absl::string_view name = runtime_path;
    name = name.substr(name.rfind('/') + 1);
    base = name == "crun" ? "/run/crun" : "/run/runc";
  }
  return absl::StrCat(base, "/", id);
}

}  // namespace

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

absl::Status ArrangeCleanupAfterExit(const CleanupPlan& plan) {
  return RunAfterExit([plan] {
    // The container still exists: its delete will clean up. (A stat, not
    // `runc state`: no second Go runtime start competing with the next
    // container for the CPU.)
    absl::StatusOr<HostPathInfo> st = StatHostPath(plan.container_state_dir);
    if (!st.ok() || st->exists) return;
    (void)CleanupRecord(plan.record, plan.record_path);
  });
}

absl::StatusOr<std::optional<CleanupPlan>> RunConfined(
    const std::function<absl::StatusOr<std::optional<CleanupPlan>>()>&
        prepare) {
  absl::StatusOr<std::string> reply = RunInChild([&prepare]() -> std::string {
    nlohmann::ordered_json out;
    absl::Status confined = Confine(Confinement::kCgroupWork);
    absl::StatusOr<std::optional<CleanupPlan>> r =
        confined.ok() ? prepare()
                      : absl::StatusOr<std::optional<CleanupPlan>>(
                            Annotate(confined, "seccomp"));
    out["code"] = static_cast<int>(r.status().code());
    out["message"] = std::string(r.status().message());
    if (r.ok() && r->has_value()) {
      const CleanupPlan& p = **r;
      out["record"] = nlohmann::json::parse(RecordToJson(p.record));
      out["record_path"] = p.record_path;
      out["container_state_dir"] = p.container_state_dir;
    }
    return out.dump();
  });
  if (!reply.ok()) return reply.status();
  try {
    nlohmann::json j = nlohmann::json::parse(*reply);
    auto code = static_cast<absl::StatusCode>(j.at("code").get<int>());
    if (code != absl::StatusCode::kOk) {
      return absl::Status(code, j.at("message").get<std::string>());
    }
    if (!j.contains("record")) return std::optional<CleanupPlan>();
    absl::StatusOr<CreatedRecord> record = RecordFromJson(j["record"].dump());
    if (!record.ok()) return record.status();
    return std::optional<CleanupPlan>(
        CleanupPlan{*record, j.at("record_path").get<std::string>(),
                    j.at("container_state_dir").get<std::string>()});
  } catch (const nlohmann::json::exception& e) {
    return absl::InternalError(
        absl::StrCat("bad reply from the confined child: ", e.what()));
  }
}

absl::StatusOr<std::optional<CleanupPlan>> PrepareCreate(const WrapperContext& ctx) {
  const RuntimeArgs& a = ctx.args;
  const std::optional<CleanupPlan> kNothing;
  if (a.container_id.empty()) return kNothing;  // the runtime says why
  std::string bundle = a.bundle;
  if (bundle.empty()) {
    absl::StatusOr<std::string> cwd = WorkingDirectory();
    if (!cwd.ok()) return cwd.status();
    bundle = *cwd;
  }
  std::string config_path = absl::StrCat(bundle, "/config.json");
  absl::StatusOr<std::string> text = ReadHostFile(config_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<OciCgroupConfig> oci =
      ParseOciConfig(*text, a.container_id, a.systemd_cgroup);
  if (!oci.ok()) {
    return WithMessage(
        oci.status(),
        absl::StrCat(config_path, ": ",
                     absl::StripPrefix(oci.status().message(), "config.json: ")));
  }
  if (oci->systemd.has_value()) {
    // runc's systemd v1 driver never calls the fs MemoryGroup.Apply; it
    // enables kmem only when KernelMemory != 0 (apply_systemd.go at
    // 4d6e672 .. rc93), which is the guard already. The scope directory
    // belongs to systemd, so the wrapper does not create it.
    ctx.log->Debug(absl::StrCat("systemd cgroup driver for ", a.container_id,
                                ": pass-through"));
    return kNothing;
  }
  if (!MemoryAssigned(oci->resources)) {
    // runc enables kmem only in memory Apply's create branch, which needs a
    // memory setting (memoryAssigned).
    return kNothing;
  }
  absl::StatusOr<cli::Target> target = cli::TargetFromLocation(oci->location);
  if (!target.ok()) {
    if (absl::IsFailedPrecondition(target.status()) &&
        absl::StrContains(target.status().message(),
                          "no cgroup v1 memory hierarchy")) {
      ctx.log->Debug("no cgroup v1 memory hierarchy: pass-through");
      return kNothing;
    }
    return target.status();
  }
  absl::StatusOr<MemoryController::CreateResult> done = GuardContainerCgroup(
      *target->fs, target->path, oci->resources, ctx.config, *ctx.log,
      HostKernelRelease());
  if (!done.ok()) return done.status();
  for (const std::string& w : done->set.warnings) ctx.log->Warning(w);
  ctx.log->Debug(absl::StrCat(done->apply.created ? "created " : "existing ",
                              target->full_path, ", kmem ",
                              KmemActivationName(done->apply.kmem)));
  if (done->apply.created_dirs.empty()) return kNothing;
  if (!IsValidContainerId(a.container_id)) return kNothing;

  CreatedRecord record;
  record.id = a.container_id;
  record.runtime_root = a.root;
  record.hierarchy_root = target->fs->root();
  record.cgroup = target->path.ToString();
  for (const CgroupPath& p : done->apply.created_dirs) {
    record.created.push_back(p.ToString());
  }
  std::string record_path =
      RecordPath(ctx.config.state_dir, a.root, a.container_id);
  absl::Status s = WriteFileAtomically(record_path, RecordToJson(record));
  if (!s.ok()) {
    // Without the record nobody could clean up later: undo now.
    MemoryController undo(target->fs.get(), ctx.config.kmem_policy);
    (void)undo.Rollback(done->apply);
    return s;
  }
  return std::optional<CleanupPlan>(CleanupPlan{
      record, record_path,
      ContainerStateDir(ctx.runtime_path, a.root, a.container_id)});
}

absl::StatusOr<std::optional<CleanupPlan>> PrepareDelete(
    const WrapperContext& ctx) {
  const std::optional<CleanupPlan> kNothing;
  const RuntimeArgs& a = ctx.args;
  if (!IsValidContainerId(a.container_id)) return kNothing;
  std::string record_path =
      RecordPath(ctx.config.state_dir, a.root, a.container_id);
  absl::StatusOr<std::string> text = ReadHostFile(record_path);
  if (!text.ok()) {
    if (ErrnoOf(text.status()) == ENOENT) return kNothing;
    return text.status();
  }
  absl::StatusOr<CreatedRecord> record = RecordFromJson(*text);
  if (!record.ok()) return record.status();
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(record->hierarchy_root, RootCheck::kRequireCgroupfs);
  if (fs.ok()) {
    absl::StatusOr<CgroupPath> leaf = CgroupPath::Parse(record->cgroup);
    if (leaf.ok()) {
      absl::StatusOr<std::string> procs = (*fs)->ReadFile(*leaf, kCgroupProcs);
      // The runtime removes the cgroup itself without force_empty; emptying
      // the charged page cache first keeps it from lingering as a dying
      // cgroup that holds its ID (spec §9). Only possible without tasks.
      if (procs.ok() && absl::StripAsciiWhitespace(*procs).empty()) {
        (void)(*fs)->WriteFile(*leaf, kForceEmpty, "0");
      }
    }
  }
  return std::optional<CleanupPlan>(CleanupPlan{
      *record, record_path,
      ContainerStateDir(ctx.runtime_path, a.root, a.container_id)});
}

}  // namespace kmemguard::shim

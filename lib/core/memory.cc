// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/memory.h"

#include <unistd.h>

#include <cerrno>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/memory_plan.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {

// A signal can interrupt a write to memory.limit_in_bytes while the kernel
// reclaims (runc has TestWriteCgroupFileHandlesInterrupt for this). The
// filesystem retries its own system calls; this also retries EINTR that a
// seam implementation reports, so fault injection can prove the retry.
constexpr int kMaxEintrRetries = 64;

template <typename Fn>
auto RetryEintr(Fn fn) -> decltype(fn()) {
  auto result = fn();
  for (int i = 0; i < kMaxEintrRetries; ++i) {
    absl::Status s;
    if constexpr (std::is_same_v<decltype(result), absl::Status>) {
      s = result;
    } else {
      s = result.status();
    }
    if (ErrnoOf(s) != EINTR) break;
    result = fn();
  }
  return result;
}

bool IsErrno(const absl::Status& s, int err) { return ErrnoOf(s) == err; }

// Keeps the original error first; a failed cleanup is worth a note, since
// it leaves a directory behind.
absl::Status WithCleanupNote(const absl::Status& error,
                             const absl::Status& cleanup) {
  if (cleanup.ok()) return error;
  return WithMessage(error, absl::StrCat(error.message(),
                                         "; cleanup also failed: ",
                                         cleanup.message()));
}

// runc cgroups.RemovePaths: 5 attempts, sleeping 10 ms doubling before each
// retry.
constexpr int kRemoveAttempts = 5;
constexpr absl::Duration kRemoveFirstDelay = absl::Milliseconds(10);

}  // namespace

absl::string_view KmemActivationName(KmemActivation activation) {
  switch (activation) {
    case KmemActivation::kNotAttempted: return "not attempted";
    case KmemActivation::kEnabled: return "enabled";
    case KmemActivation::kSkippedNoFile: return "skipped (no kmem file)";
    case KmemActivation::kSkippedRefused:
      return "skipped (kernel refuses kmem limits)";
  }
  return "?";
}

absl::Status MemoryController::MakeDirs(const CgroupPath& path,
                                        std::vector<CgroupPath>* created) {
  if (path.IsRoot()) return absl::OkStatus();
  absl::Status s = RetryEintr([&] { return fs_->MakeDir(path); });
  if (s.ok()) {
    created->push_back(path);
    return s;
  }
  if (IsErrno(s, EEXIST)) return absl::OkStatus();
  if (IsErrno(s, ENOENT)) {
    // A parent is missing: create the parents, then try again. One mkdir in
    // the common case instead of runc's stat per component.
    absl::Status parent = MakeDirs(path.Parent(), created);
    if (!parent.ok()) return parent;
    s = RetryEintr([&] { return fs_->MakeDir(path); });
    if (s.ok()) {
      created->push_back(path);
      return s;
    }
    if (IsErrno(s, EEXIST)) return absl::OkStatus();
  }
  if (mkdir_error_hook_) return mkdir_error_hook_(s);
  return s;
}

absl::StatusOr<KmemActivation> MemoryController::EnableKernelMemoryAccounting(
    const CgroupPath& path) {
  // On kernels before 4.6 a memory cgroup accounts kernel memory only once a
  // kmem limit has been set, and the limit can be set only while the cgroup
  // has no tasks and no children; writing 1 then -1 activates accounting and
  // lifts the limit again (runc fs/memory.go EnableKernelMemoryAccounting,
  // PR #962). Since 4.6 (b313aeee2509) accounting is always on in v1.
  for (const char* value : {"1", "-1"}) {
    absl::Status s = RetryEintr(
        [&] { return fs_->WriteFile(path, kKmemLimitInBytes, value); });
    if (s.ok()) continue;
    // runc skips the writes when the file is absent (setKernelMemory's stat).
    if (IsErrno(s, ENOENT)) return KmemActivation::kSkippedNoFile;
    // 5.16 (58056f77502f) until the 6.x restoration refuses kmem limits with
    // EOPNOTSUPP. runc rc4 then fails every new container; skipping is the
    // deliberate fix (spec §6.3).
    if (IsErrno(s, EOPNOTSUPP)) return KmemActivation::kSkippedRefused;
    if (IsErrno(s, EBUSY)) {
      // runc's text (fs/memory.go setKernelMemory).
      return Annotate(s,
                      "failed to set memory.kmem.limit_in_bytes, because "
                      "either tasks have already joined this cgroup or it "
                      "has children");
    }
    return s;
  }
  return KmemActivation::kEnabled;
}

absl::StatusOr<ApplyResult> MemoryController::Apply(
    const CgroupPath& path, const MemoryResources& resources, int64_t pid) {
  if (path.IsRoot()) {
    return absl::InvalidArgumentError("refusing to apply to the hierarchy root");
  }
  if (policy_ == KmemPolicy::kDisabled && resources.kernel_limit_bytes != 0) {
    // runc's nokmem build fails the same request (PR #1939); we fail before
    // creating anything.
    return absl::FailedPreconditionError(absl::StrCat(
        "kernel memory accounting disabled by kmem policy \"disabled\", but "
        "a kernel memory limit of ",
        resources.kernel_limit_bytes, " was requested"));
  }
  ApplyResult result;
  result.joined_pid = -1;
  auto fail = [&](const absl::Status& s) -> absl::Status {
    absl::Status undo = Rollback(result);
    return WithCleanupNote(s, undo);
  };

  if (MemoryAssigned(resources)) {
    absl::Status s = MakeDirs(path, &result.created_dirs);
    if (!s.ok()) return fail(s);
    result.created =
        !result.created_dirs.empty() && result.created_dirs.back() == path;
    // runc@4d6e672 enables kmem for every cgroup it creates (PR #1350); the
    // guard adds PR #1095's condition back: only when a kernel-memory limit
    // was asked for. The join comes after, because the kmem limit can only
    // be initialised while the cgroup is empty.
    bool enable = result.created &&
                  (policy_ == KmemPolicy::kLegacy ||
                   (policy_ == KmemPolicy::kGuarded &&
                    resources.kernel_limit_bytes != 0));
    if (enable) {
      absl::StatusOr<KmemActivation> kmem = EnableKernelMemoryAccounting(path);
      if (!kmem.ok()) return fail(kmem.status());
      result.kmem = *kmem;
    }
  }
  // d.join("memory"): MkdirAll again (this is where a cgroup is created when
  // the config does not touch memory, never with kmem), then the pid. A
  // directory this call just created needs no second mkdir.
  absl::Status s;
  if (!result.created) {
    std::vector<CgroupPath> created_now;
    s = MakeDirs(path, &created_now);
    result.created_dirs.insert(result.created_dirs.end(), created_now.begin(),
                               created_now.end());
    if (!created_now.empty() && created_now.back() == path) {
      result.created = true;
    }
    if (!s.ok()) return fail(s);
  }
  if (pid != -1) {
    std::string value = absl::StrCat(pid);
    s = RetryEintr([&] { return fs_->WriteFile(path, kCgroupProcs, value); });
    if (!s.ok()) return fail(s);
    result.joined_pid = pid;
  }
  return result;
}

absl::StatusOr<ApplyResult> MemoryController::Join(const CgroupPath& path,
                                                   int64_t pid) {
  absl::StatusOr<bool> exists = RetryEintr([&] { return fs_->Exists(path); });
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return absl::NotFoundError(
        absl::StrCat("cgroup ", fs_->DisplayPath(path), " does not exist"));
  }
  ApplyResult result;
  if (pid != -1) {
    std::string value = absl::StrCat(pid);
    absl::Status s =
        RetryEintr([&] { return fs_->WriteFile(path, kCgroupProcs, value); });
    if (!s.ok()) return s;
    result.joined_pid = pid;
  }
  return result;
}

absl::StatusOr<MemoryData> MemoryController::GetMemoryData(
    const CgroupPath& path, absl::string_view prefix) {
  std::string base =
      prefix.empty() ? "memory" : absl::StrCat("memory.", prefix);
  const std::string files[] = {
      absl::StrCat(base, ".usage_in_bytes"),
      absl::StrCat(base, ".max_usage_in_bytes"),
      absl::StrCat(base, ".failcnt"),
      absl::StrCat(base, ".limit_in_bytes"),
  };
  uint64_t values[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::string> text =
        RetryEintr([&] { return fs_->ReadFile(path, files[i]); });
    if (!text.ok()) {
      // Kernels without swap accounting lack memsw, newer ones lack kmem:
      // runc returns all zeros for those families, whichever file is missing.
      if (!prefix.empty() && IsErrno(text.status(), ENOENT)) {
        return MemoryData{};
      }
      return WithMessage(text.status(),
                         absl::StrCat("failed to parse ", files[i], " - ",
                                      text.status().message()));
    }
    absl::StatusOr<uint64_t> v =
        ParseCgroupUint(*text, fs_->DisplayPath(path, files[i]));
    if (!v.ok()) {
      // runc's "failed to parse %s - %v" (fs/memory.go getMemoryData).
      return WithMessage(v.status(), absl::StrCat("failed to parse ", files[i],
                                                  " - ", v.status().message()));
    }
    values[i] = *v;
  }
  return MemoryData{values[0], values[1], values[2], values[3]};
}

absl::StatusOr<SetResult> MemoryController::Set(
    const CgroupPath& path, const MemoryResources& resources) {
  return SetWithKnownLimit(path, resources, std::nullopt);
}

absl::StatusOr<SetResult> MemoryController::SetWithKnownLimit(
    const CgroupPath& path, const MemoryResources& resources,
    std::optional<uint64_t> known_limit) {
  absl::Status valid = ValidateMemoryResources(resources);
  if (!valid.ok()) return valid;
  if (policy_ == KmemPolicy::kDisabled && resources.kernel_limit_bytes != 0) {
    // runc nokmem build's text (PR #1939), with the reason.
    return absl::FailedPreconditionError(
        "kernel memory accounting disabled by kmem policy \"disabled\"");
  }
  SetResult result;
  MemoryResources effective = resources;
  if (resources.limit_bytes == -1) {
    absl::StatusOr<bool> memsw = RetryEintr(
        [&] { return fs_->Exists(path, kMemswLimitInBytes); });
    if (!memsw.ok()) return memsw.status();
    effective = ApplyUnlimitedSwapRule(resources, *memsw);
  }
  uint64_t current_limit = 0;
  if (PlanNeedsCurrentLimit(effective) && known_limit.has_value()) {
    current_limit = *known_limit;
  } else if (PlanNeedsCurrentLimit(effective)) {
    // runc reads all four memory.* data files here (getMemoryData) but
    // uses only the limit; reading just memory.limit_in_bytes saves three
    // opens per Set and decides the same order.
    absl::StatusOr<std::string> text =
        RetryEintr([&] { return fs_->ReadFile(path, kLimitInBytes); });
    absl::StatusOr<uint64_t> limit =
        text.ok() ? ParseCgroupUint(*text, fs_->DisplayPath(path, kLimitInBytes))
                  : absl::StatusOr<uint64_t>(text.status());
    if (!limit.ok()) {
      return WithMessage(limit.status(),
                         absl::StrCat("failed to parse ", kLimitInBytes, " - ",
                                      limit.status().message()));
    }
    current_limit = *limit;
  }
  result.effective = effective;
  WritePlan plan = PlanMemorySet(effective, current_limit);
  for (const ControlWrite& w : plan) {
    absl::Status s =
        RetryEintr([&] { return fs_->WriteFile(path, w.file, w.value); });
    if (w.file == kKmemLimitInBytes) {
      if (IsErrno(s, ENOENT)) {
        // runc silently skips; an explicit request that cannot be honoured
        // is an error (runc #1939's spec-compliance argument).
        return absl::FailedPreconditionError(absl::StrCat(
            "kernel memory limit ", w.value, " requested, but ",
            fs_->DisplayPath(path, w.file),
            " does not exist (kernel without kmem accounting)"));
      }
      if (IsErrno(s, EOPNOTSUPP)) {
        return WithCode(
            Annotate(s, absl::StrCat("kernel memory limit ", w.value,
                                     " requested, but this kernel refuses "
                                     "kmem limits (Linux 5.16+)")),
            absl::StatusCode::kFailedPrecondition);
      }
      if (IsErrno(s, EBUSY)) {
        return Annotate(s,
                        "failed to set memory.kmem.limit_in_bytes, because "
                        "either tasks have already joined this cgroup or it "
                        "has children");
      }
      if (s.ok() && effective.kernel_limit_bytes > 0) {
        // Linux 6.x after the kmem.limit_in_bytes restoration accepts any
        // write and ignores it ("Writing any value to this file has no
        // effect"); a limit never reads back higher than requested.
        absl::StatusOr<std::string> back =
            RetryEintr([&] { return fs_->ReadFile(path, w.file); });
        if (back.ok()) {
          absl::StatusOr<uint64_t> v =
              ParseCgroupUint(*back, fs_->DisplayPath(path, w.file));
          if (v.ok() &&
              *v > static_cast<uint64_t>(effective.kernel_limit_bytes)) {
            result.warnings.push_back(absl::StrCat(
                "the kernel accepted but ignored the kernel memory limit ",
                w.value, ": ", fs_->DisplayPath(path, w.file), " reads ", *v));
          }
        }
      }
    }
    if (!s.ok() && w.file == kLimitInBytes && IsErrno(s, EBUSY)) {
      absl::StatusOr<MemoryData> now = GetMemoryData(path, "");
      if (now.ok()) {
        s = Annotate(s, absl::StrCat("unable to set memory limit to ", w.value,
                                     " (current usage: ", now->usage,
                                     ", peak usage: ", now->max_usage, ")"));
      }
    }
    if (!s.ok()) return s;
  }
  return result;
}

absl::StatusOr<MemoryStats> MemoryController::GetStats(const CgroupPath& path) {
  MemoryStats stats;
  absl::StatusOr<std::string> stat_text =
      RetryEintr([&] { return fs_->ReadFile(path, kMemoryStat); });
  if (!stat_text.ok()) {
    if (IsErrno(stat_text.status(), ENOENT)) return stats;
    return stat_text.status();
  }
  absl::StatusOr<std::map<std::string, uint64_t>> kv =
      ParseMemoryStat(*stat_text);
  if (!kv.ok()) return kv.status();
  stats.present = true;
  stats.stats = *std::move(kv);
  auto cache = stats.stats.find("cache");
  if (cache != stats.stats.end()) stats.cache = cache->second;

  struct Family {
    const char* prefix;
    MemoryData* out;
  };
  const Family families[] = {{"", &stats.usage},
                             {"memsw", &stats.swap_usage},
                             {"kmem", &stats.kernel_usage},
                             {"kmem.tcp", &stats.kernel_tcp_usage}};
  for (const Family& f : families) {
    absl::StatusOr<MemoryData> data = GetMemoryData(path, f.prefix);
    if (!data.ok()) return data.status();
    *f.out = *data;
  }
  absl::StatusOr<std::string> hierarchy =
      RetryEintr([&] { return fs_->ReadFile(path, kUseHierarchy); });
  if (!hierarchy.ok()) return hierarchy.status();
  absl::StatusOr<uint64_t> use =
      ParseCgroupUint(*hierarchy, fs_->DisplayPath(path, kUseHierarchy));
  if (!use.ok()) return use.status();
  stats.use_hierarchy = *use == 1;
  return stats;
}

absl::Status MemoryController::RemoveTree(const CgroupPath& path,
                                          const RemoveOptions& options) {
  if (options.force_empty) return RemoveTreeForceEmpty(path, options);
  // The common case is a cgroup without children: try rmdir first and list
  // the children only when it is refused (cgroupfs: EBUSY; a plain
  // directory: ENOTEMPTY).
  absl::Status s = RetryEintr([&] { return fs_->RemoveDir(path); });
  if (s.ok() || IsErrno(s, ENOENT)) return absl::OkStatus();
  if (!IsErrno(s, EBUSY) && !IsErrno(s, ENOTEMPTY) && !IsErrno(s, EEXIST)) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> children =
      RetryEintr([&] { return fs_->ListDirs(path); });
  if (!children.ok()) {
    if (IsErrno(children.status(), ENOENT)) return absl::OkStatus();
    return children.status();
  }
  if (children->empty()) return s;  // busy with tasks: the caller retries
  absl::Status first_error;
  for (const std::string& child : *children) {
    first_error.Update(RemoveTree(path.Child(child), options));
  }
  if (!first_error.ok()) return first_error;
  s = RetryEintr([&] { return fs_->RemoveDir(path); });
  if (s.ok() || IsErrno(s, ENOENT)) return absl::OkStatus();
  return s;
}

absl::Status MemoryController::RemoveTreeForceEmpty(
    const CgroupPath& path, const RemoveOptions& options) {
  // Children first: force_empty moves a cgroup's charges to its parent, so
  // the parent must be emptied after its children are gone.
  absl::StatusOr<std::vector<std::string>> children =
      RetryEintr([&] { return fs_->ListDirs(path); });
  if (!children.ok()) {
    if (IsErrno(children.status(), ENOENT)) return absl::OkStatus();
    return children.status();
  }
  absl::Status first_error;
  for (const std::string& child : *children) {
    first_error.Update(RemoveTreeForceEmpty(path.Child(child), options));
  }
  absl::Status s =
      RetryEintr([&] { return fs_->WriteFile(path, kForceEmpty, "0"); });
  if (!s.ok() && !IsErrno(s, ENOENT)) first_error.Update(s);
  s = RetryEintr([&] { return fs_->RemoveDir(path); });
  if (!s.ok() && !IsErrno(s, ENOENT)) {
    first_error.Update(s);
    return first_error;
  }
  return absl::OkStatus();
}

absl::Status MemoryController::Remove(const CgroupPath& path,
                                      RemoveOptions options) {
  if (path.IsRoot()) {
    return absl::InvalidArgumentError(
        "refusing to remove the hierarchy root");
  }
  absl::Duration delay = kRemoveFirstDelay;
  absl::Status last;
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    if (attempt > 0) {
      fs_->Sleep(delay);
      delay *= 2;
    }
    last = RemoveTree(path, options);
    if (last.ok()) return last;
    // A cgroup can stay busy for a moment while its last tasks exit.
  }
  return Annotate(last, absl::StrCat("failed to remove ", fs_->DisplayPath(path),
                                     " after ", kRemoveAttempts, " attempts"));
}

absl::Status MemoryController::Rollback(const ApplyResult& result) {
  absl::Status first_error;
  for (auto it = result.created_dirs.rbegin(); it != result.created_dirs.rend();
       ++it) {
    absl::Status s = RetryEintr([&] { return fs_->RemoveDir(*it); });
    if (!s.ok() && !IsErrno(s, ENOENT)) first_error.Update(s);
  }
  return first_error;
}

absl::StatusOr<MemoryController::CreateResult> MemoryController::ApplyAndSet(
    const CgroupPath& path, const MemoryResources& resources, int64_t pid,
    bool explicit_path) {
  CreateResult out;
  if (explicit_path) {
    absl::StatusOr<ApplyResult> joined = Join(path, pid);
    if (!joined.ok()) return joined.status();
    out.apply = *joined;
    out.set.effective = resources;
    return out;
  }
  absl::Status valid = ValidateMemoryResources(resources);
  if (!valid.ok()) return valid;
  absl::StatusOr<ApplyResult> applied = Apply(path, resources, pid);
  if (!applied.ok()) return applied.status();
  out.apply = *applied;
  // A cgroup this call created has the kernel's initial limit, "no limit"
  // (PAGE_COUNTER_MAX pages, UnlimitedLimitBytes); runc reads it back anyway
  // (getMemoryData), which decides nothing here.
  absl::StatusOr<SetResult> set = SetWithKnownLimit(
      path, resources,
      out.apply.created ? std::optional<uint64_t>(UnlimitedLimitBytes(HostPageSize()))
                        : std::nullopt);
  if (!set.ok()) {
    absl::Status undo = Rollback(out.apply);
    return WithCleanupNote(set.status(), undo);
  }
  out.set = *std::move(set);
  return out;
}

}  // namespace kmemguard

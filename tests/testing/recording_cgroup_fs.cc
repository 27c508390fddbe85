// SPDX-License-Identifier: Apache-2.0

#include "testing/recording_cgroup_fs.h"

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "kmemguard/core/status.h"

namespace kmemguard {

absl::string_view FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kMkdir: return "mkdir";
    case FsOp::kRmdir: return "rmdir";
    case FsOp::kRead: return "read";
    case FsOp::kWrite: return "write";
    case FsOp::kStat: return "stat";
    case FsOp::kList: return "readdir";
    case FsOp::kSleep: return "sleep";
  }
  return "?";
}

// --------------------------------------------------------- RecordingCgroupFs

int RecordingCgroupFs::Begin(FsOp op, const std::string& path,
                             absl::string_view value) {
  size_t index = records_.size();
  records_.push_back(FsRecord{op, path, std::string(value), 0});
  if (index == fail_index_) return fail_index_err_;
  for (FsFault& f : faults_) {
    if (f.op != op || f.times == 0) continue;
    if (!f.path_suffix.empty() && !absl::EndsWith(path, f.path_suffix))
      continue;
    if (f.skip > 0) {
      --f.skip;
      continue;
    }
    if (f.times > 0) --f.times;
    return f.err;
  }
  return 0;
}

void RecordingCgroupFs::Finish(const absl::Status& status) {
  if (!status.ok()) records_.back().err = ErrnoOf(status).value_or(-1);
}

#define KMEMGUARD_RECORD(op_kind, path, value, call, op_text)          \
  do {                                                                  \
    std::string display = (path);                                       \
    int injected = Begin(op_kind, display, value);                      \
    if (injected != 0) {                                                \
      records_.back().err = injected;                                   \
      return ErrnoError(injected, op_text, display, value);             \
    }                                                                   \
    auto result = (call);                                               \
    Finish(StatusOf(result));                                           \
    return result;                                                      \
  } while (0)

namespace {
const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace

absl::Status RecordingCgroupFs::MakeDir(const CgroupPath& dir) {
  KMEMGUARD_RECORD(FsOp::kMkdir, DisplayPath(dir), "", inner_->MakeDir(dir),
                   "mkdir");
}

absl::Status RecordingCgroupFs::RemoveDir(const CgroupPath& dir) {
  KMEMGUARD_RECORD(FsOp::kRmdir, DisplayPath(dir), "", inner_->RemoveDir(dir),
                   "rmdir");
}

absl::StatusOr<std::string> RecordingCgroupFs::ReadFile(
    const CgroupPath& dir, absl::string_view name) {
  KMEMGUARD_RECORD(FsOp::kRead, DisplayPath(dir, name), "",
                   inner_->ReadFile(dir, name), "read");
}

absl::Status RecordingCgroupFs::WriteFile(const CgroupPath& dir,
                                          absl::string_view name,
                                          absl::string_view value) {
  KMEMGUARD_RECORD(FsOp::kWrite, DisplayPath(dir, name), value,
                   inner_->WriteFile(dir, name, value), "write");
}

absl::StatusOr<bool> RecordingCgroupFs::Exists(const CgroupPath& dir,
                                               absl::string_view name) {
  KMEMGUARD_RECORD(FsOp::kStat, DisplayPath(dir, name), "",
                   inner_->Exists(dir, name), "stat");
}

absl::StatusOr<std::vector<std::string>> RecordingCgroupFs::ListDirs(
    const CgroupPath& dir) {
  KMEMGUARD_RECORD(FsOp::kList, DisplayPath(dir), "", inner_->ListDirs(dir),
                   "readdir");
}

absl::StatusOr<std::vector<CgroupFs::DirLinks>>
RecordingCgroupFs::ListDirsWithLinkCounts(const CgroupPath& dir) {
  KMEMGUARD_RECORD(FsOp::kList, DisplayPath(dir), "",
                   inner_->ListDirsWithLinkCounts(dir), "readdir");
}

#undef KMEMGUARD_RECORD

void RecordingCgroupFs::Sleep(absl::Duration duration) {
  // A sleep cannot fail; an injected fault at its index is ignored.
  Begin(FsOp::kSleep, "", absl::FormatDuration(duration));
  if (real_sleep_) inner_->Sleep(duration);
}

}  // namespace kmemguard

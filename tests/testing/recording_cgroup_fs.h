// SPDX-License-Identifier: Apache-2.0
//
// RecordingCgroupFs: a test double of the cgroupfs seam that records every
// operation in order and injects faults. It lives with the tests, not in the
// installed library: no runtime needs it, and a header in include/ would make
// it an API we promise to keep (issue 15).

#ifndef KMEMGUARD_TESTING_RECORDING_CGROUP_FS_H_
#define KMEMGUARD_TESTING_RECORDING_CGROUP_FS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kmemguard/core/cgroupfs.h"

namespace kmemguard {

// The operations of the seam, in the words used by records and faults.
enum class FsOp { kMkdir, kRmdir, kRead, kWrite, kStat, kList, kSleep };
absl::string_view FsOpName(FsOp op);

// One recorded operation. `err` is 0 on success.
struct FsRecord {
  FsOp op;
  std::string path;   // full display path
  std::string value;  // written value, or the sleep duration
  int err = 0;
};

// A fault to inject: the matching operations fail with `err` without
// reaching the wrapped filesystem.
struct FsFault {
  FsOp op;
  // Matches when the display path ends with this (e.g. "/memory.limit_in_bytes"
  // or "/ctr"); empty matches every operation of kind `op`.
  std::string path_suffix;
  int err = 0;
  int skip = 0;    // let this many matching operations through first
  int times = 1;   // then fail this many (-1: all further ones)
};

// Wraps another CgroupFs, records every operation in order, and injects
// faults, either by rule (FsFault) or at a given operation index, which is
// how fault-injection tests make each single operation fail in turn.
class RecordingCgroupFs final : public CgroupFs {
 public:
  explicit RecordingCgroupFs(CgroupFs* inner) : inner_(inner) {}

  void AddFault(FsFault fault) { faults_.push_back(std::move(fault)); }
  // Makes operation number `index` (0-based, counting every operation,
  // sleeps included) fail with `err`.
  void FailOperationAt(size_t index, int err) {
    fail_index_ = index;
    fail_index_err_ = err;
  }
  // When false, Sleep is recorded but does not wait.
  void set_real_sleep(bool real_sleep) { real_sleep_ = real_sleep; }

  const std::vector<FsRecord>& records() const { return records_; }
  void ClearRecords() { records_.clear(); }

  absl::Status MakeDir(const CgroupPath& dir) override;
  absl::Status RemoveDir(const CgroupPath& dir) override;
  absl::StatusOr<std::string> ReadFile(const CgroupPath& dir,
                                       absl::string_view name) override;
  absl::Status WriteFile(const CgroupPath& dir, absl::string_view name,
                         absl::string_view value) override;
  absl::StatusOr<bool> Exists(const CgroupPath& dir,
                              absl::string_view name = {}) override;
  absl::StatusOr<std::vector<std::string>> ListDirs(
      const CgroupPath& dir) override;
  absl::StatusOr<std::vector<DirLinks>> ListDirsWithLinkCounts(
      const CgroupPath& dir) override;
  void Sleep(absl::Duration duration) override;
  std::string DisplayPath(const CgroupPath& dir,
                          absl::string_view name = {}) const override {
    return inner_->DisplayPath(dir, name);
  }

 private:
  // Records the operation and returns the errno to inject, or 0.
  int Begin(FsOp op, const std::string& path, absl::string_view value);
  void Finish(const absl::Status& status);

  CgroupFs* inner_;
  std::vector<FsRecord> records_;
  std::vector<FsFault> faults_;
  size_t fail_index_ = static_cast<size_t>(-1);
  int fail_index_err_ = 0;
  bool real_sleep_ = true;
};

}  // namespace kmemguard

#endif  // KMEMGUARD_TESTING_RECORDING_CGROUP_FS_H_

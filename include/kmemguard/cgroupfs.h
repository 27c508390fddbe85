// SPDX-License-Identifier: Apache-2.0
//
// The filesystem seam: the one narrow layer through which kmemguard touches a
// cgroup hierarchy.
//
// Glossary (cgroup v1; kmemguard supports the v1 memory controller only):
//   hierarchy     one mounted cgroup v1 tree, here the one carrying the
//                 `memory` controller, usually /sys/fs/cgroup/memory.
//   hierarchy root  the directory where that tree is mounted. Every path
//                 below is relative to it and every operation is anchored at
//                 a directory fd opened on it.
//   cgroup        a directory in the hierarchy.
//   control file  a file in a cgroup such as memory.limit_in_bytes. Control
//                 files are never created: writing a missing one is ENOENT.
//
// CgroupFs is an interface so that tests can record every operation in order
// and make any single one fail with a chosen errno (RecordingCgroupFs), and
// so that a simulated kernel can stand in for the real one. RealCgroupFs is
// the only implementation that makes system calls.

#ifndef KMEMGUARD_CGROUPFS_H_
#define KMEMGUARD_CGROUPFS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kmemguard {

// A path of a cgroup relative to the hierarchy root, held as components.
// Every component is non-empty, is not "." or "..", contains neither '/' nor
// NUL, and is at most 255 bytes, so a CgroupPath can never name anything
// outside the hierarchy. The empty path is the hierarchy root itself.
class CgroupPath {
 public:
  CgroupPath() = default;

  // Parses "a/b/c" (leading and trailing '/' are ignored). Returns
  // InvalidArgument naming the offending component.
  static absl::StatusOr<CgroupPath> Parse(absl::string_view relative);

  bool IsRoot() const { return components_.empty(); }
  const std::vector<std::string>& components() const { return components_; }
  // Returns the path of the parent; the root's parent is the root.
  CgroupPath Parent() const;
  // Returns the path of the child `component` (which must be valid).
  CgroupPath Child(absl::string_view component) const;
  // Returns the last component, "" for the root.
  absl::string_view Leaf() const;
  // Returns "a/b/c", "" for the root.
  std::string ToString() const;
  // True when `other` equals this path or lies below it.
  bool Contains(const CgroupPath& other) const;

  friend bool operator==(const CgroupPath& a, const CgroupPath& b) {
    return a.components_ == b.components_;
  }
  friend bool operator!=(const CgroupPath& a, const CgroupPath& b) {
    return !(a == b);
  }

 private:
  std::vector<std::string> components_;
};

// The operations of the seam, in the words used by records and faults.
enum class FsOp { kMkdir, kRmdir, kRead, kWrite, kStat, kList, kSleep };
absl::string_view FsOpName(FsOp op);

// One filesystem of one hierarchy. Implementations need not be thread-safe.
// Every error names the operation, the full path (and value, for writes) and
// carries the errno (see status.h).
class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  // Creates the directory `dir` (its parent must exist) with mode 0755.
  // Returns AlreadyExists with errno EEXIST when it exists: this result, not
  // a prior stat, is how callers learn whether they created it.
  virtual absl::Status MakeDir(const CgroupPath& dir) = 0;
  // Removes the (empty of child cgroups) directory `dir`. On a plain
  // directory tree (fixtures) the regular files in it are removed first, as
  // the kernel does for control files on cgroupfs.
  virtual absl::Status RemoveDir(const CgroupPath& dir) = 0;
  // Returns the whole content of control file `name` in `dir`.
  virtual absl::StatusOr<std::string> ReadFile(const CgroupPath& dir,
                                               absl::string_view name) = 0;
  // Writes `value` to the existing control file `name` in `dir` with one
  // write(2). Never creates the file.
  virtual absl::Status WriteFile(const CgroupPath& dir, absl::string_view name,
                                 absl::string_view value) = 0;
  // Returns whether `name` exists in `dir` (whether `dir` exists, for an
  // empty name). Symlinks are not followed.
  virtual absl::StatusOr<bool> Exists(const CgroupPath& dir,
                                      absl::string_view name = {}) = 0;
  // Returns the names of the subdirectories of `dir`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListDirs(
      const CgroupPath& dir) = 0;
  // A subdirectory and its link count: 2 + its own subdirectories on
  // cgroupfs (kernfs) and the usual filesystems, so 2 means "no child
  // cgroups"; 0 when the filesystem cannot tell.
  struct DirLinks {
    std::string name;
    uint64_t link_count = 0;
  };
  // ListDirs with each subdirectory's link count, which lets a walk skip
  // listing leaves. The default asks ListDirs and reports 0 (unknown).
  virtual absl::StatusOr<std::vector<DirLinks>> ListDirsWithLinkCounts(
      const CgroupPath& dir);
  // Waits `duration` (retry back-off). Simulators and tests may not wait.
  virtual void Sleep(absl::Duration duration) = 0;
  // Returns the absolute path of `dir` (and of `name` in it) for messages.
  virtual std::string DisplayPath(const CgroupPath& dir,
                                  absl::string_view name = {}) const = 0;
};

// How RealCgroupFs::Open checks the directory it is given.
enum class RootCheck {
  kRequireCgroupfs,  // the root must be on a cgroup v1 filesystem
  kAllowPlainDir,    // any directory (fixture trees in tests, --allow-plain-dir)
};

// The real filesystem, anchored at a directory fd on the hierarchy root.
// Paths are resolved beneath that fd without following symlinks
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or a component-by-component
// O_NOFOLLOW walk on kernels without openat2). The fd of the last directory
// used is cached, so a sequence of operations on one cgroup resolves it once.
class RealCgroupFs final : public CgroupFs {
 public:
  // Opens `root` (an absolute directory path). With kRequireCgroupfs, returns
  // FailedPrecondition when it is not on a cgroup v1 filesystem.
  static absl::StatusOr<std::unique_ptr<RealCgroupFs>> Open(
      const std::string& root, RootCheck check);
  ~RealCgroupFs() override;

  RealCgroupFs(const RealCgroupFs&) = delete;
  RealCgroupFs& operator=(const RealCgroupFs&) = delete;

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
                          absl::string_view name = {}) const override;

  // True when the root is on cgroupfs (v1), false for a plain directory.
  bool is_cgroupfs() const { return is_cgroupfs_; }
  const std::string& root() const { return root_; }

 private:
  RealCgroupFs(int root_fd, std::string root, bool is_cgroupfs);
  // Returns a borrowed fd on `dir`, resolving it beneath the root.
  absl::StatusOr<int> DirFd(const CgroupPath& dir);
  void ForgetCachedDir();
  // Names in `dir` of subdirectories (or, with directories=false, of
  // everything else), sorted.
  absl::StatusOr<std::vector<std::string>> ListEntries(
      const CgroupPath& dir, bool directories,
      std::vector<uint64_t>* link_counts = nullptr);

  int root_fd_;
  std::string root_;
  bool is_cgroupfs_;
  CgroupPath cached_path_;
  int cached_fd_ = -1;
};

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

// Reads a whole file of the host (for /proc/self/mountinfo and friends).
absl::StatusOr<std::string> ReadHostFile(const std::string& path);

// Facts about a host path, for choosing the hierarchy root of --path DIR.
struct HostPathInfo {
  bool exists = false;
  bool is_dir = false;
  bool on_cgroupfs = false;  // statfs magic is CGROUP_SUPER_MAGIC
  unsigned long long device = 0;
};
absl::StatusOr<HostPathInfo> StatHostPath(const std::string& path);

// Runs `argv` (argv[0] an absolute path, no shell) with stdin on /dev/null
// and returns its exit status and its stdout and stderr combined, truncated
// to `max_bytes`. The child is killed (SIGKILL) after `timeout`: then
// DeadlineExceeded. For `runc --version` and friends in `kmemguard doctor`.
struct HostCommandResult {
  int exit_status = -1;  // WEXITSTATUS, or 128 + signal
  std::string output;
};
absl::StatusOr<HostCommandResult> RunHostCommand(
    const std::vector<std::string>& argv, absl::Duration timeout,
    size_t max_bytes = 65536);

// True when `fd` (e.g. 1 for stdout) is a terminal (isatty).
bool HostFdIsTerminal(int fd);

}  // namespace kmemguard

#endif  // KMEMGUARD_CGROUPFS_H_

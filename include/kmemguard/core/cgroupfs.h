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
// and make any single one fail with a chosen errno (RecordingCgroupFs, in
// tests/testing/), and so that a simulated kernel can stand in for the real
// one (kmemguard::sim). RealCgroupFs is the only implementation that makes
// system calls.
//
// Where the library's system calls live (docs/architecture.md): this seam
// (lib/core/cgroupfs.cc) holds the system calls of kmemguard::core: the
// hierarchy (openat/openat2, mkdirat, unlinkat, fstatat, getdents through
// fdopendir, read, write) and the few host reads below (ReadHostFile,
// StatHostPath, HostFdIsTerminal). The one other place in core is the
// unguarded-start counter's record file (lib/core/unguarded.cc, which says
// why). The doctor's `--version` probe of the runtimes
// (fork, exec, wait, kill) is kmemguard::doctor's own process layer
// (lib/doctor/host_command.cc); the shim's process work is in its own layer.
//
// Why openat/openat2 beneath a root fd, and not Boost.Filesystem or
// std::filesystem: a container's cgroup directory is writable by what runs
// inside it (delegation, a hostile or buggy container), so a component of a
// path below the hierarchy root may be swapped for a symlink between our
// check and our use. Every operation here is resolved beneath one directory
// fd opened on the hierarchy root, with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
// (openat2(2), Linux 5.6) or, on older kernels, a component-by-component
// O_NOFOLLOW | O_DIRECTORY walk, so no path can leave the hierarchy. A path
// library works on whole path strings that the kernel resolves from the root
// each time and follows symlinks: it cannot express "beneath this fd".
// Everything else that is a plain file (records, fixtures, recorded hosts,
// engine configs) uses Boost.Filesystem.

#ifndef KMEMGUARD_CORE_CGROUPFS_H_
#define KMEMGUARD_CORE_CGROUPFS_H_

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

// True when `fd` (e.g. 1 for stdout) is a terminal (isatty).
bool HostFdIsTerminal(int fd);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_CGROUPFS_H_

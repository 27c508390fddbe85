// SPDX-License-Identifier: Apache-2.0
//
// kmemguard::core's system calls, all of them (see the header comment):
// the hierarchy beneath its root fd, and whole-file reads of host files.

#include "kmemguard/core/cgroupfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {

// NAME_MAX on every Linux filesystem cgroupfs sits on (kernfs included).
constexpr size_t kMaxComponentLength = 255;

// A read larger than any control file the memory controller has; memory.stat
// is about 1.5 KiB on v1.
constexpr size_t kReadChunk = 8192;

// When a read loop stops: at EOF (host files such as /proc text), or at the
// first read that does not fill the buffer (control files; see ReadFile).
enum class ReadUntil { kEof, kShortRead };

// Reads `fd` to the end (as `until` says), retrying EINTR, and closes it.
absl::StatusOr<std::string> ReadAndClose(int fd, ReadUntil until,
                                         const std::string& display) {
  std::string out;
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return ErrnoError(err, "read", display);
    }
    out.append(buf, static_cast<size_t>(n));
    if (n == 0 || (until == ReadUntil::kShortRead &&
                   static_cast<size_t>(n) < sizeof(buf))) {
      break;
    }
  }
  close(fd);
  return out;
}

int CloseKeepErrno(int fd) {
  int saved = errno;
  int rc = close(fd);
  errno = saved;
  return rc;
}

// openat2(2) resolving `path` strictly beneath `dirfd` with no symlinks.
// Returns -1 with errno ENOSYS where the kernel predates it (5.6).
int OpenBeneath(int dirfd, const std::string& path, int flags) {
#ifdef SYS_openat2
  struct open_how how;
  std::memset(&how, 0, sizeof(how));
  how.flags = static_cast<unsigned long long>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(
        syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how)));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
#else
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

// ---------------------------------------------------------------- CgroupPath

absl::StatusOr<CgroupPath> CgroupPath::Parse(absl::string_view relative) {
  CgroupPath path;
  for (absl::string_view part :
       absl::StrSplit(relative, '/', absl::SkipEmpty())) {
    if (part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "cgroup path \"", relative, "\": component \"", part,
          "\" is not allowed"));
    }
    if (part.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("cgroup path contains a NUL byte"));
    }
    if (part.size() > kMaxComponentLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cgroup path component of ", part.size(),
          " bytes is longer than 255"));
    }
    path.components_.emplace_back(part);
  }
  // A doubled slash in the middle ("a//b") is a caller bug, not a path.
  if (absl::StrContains(absl::StripSuffix(absl::StripPrefix(relative, "/"),
                                          "/"),
                        "//")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup path \"", relative, "\" has an empty component"));
  }
  return path;
}

CgroupPath CgroupPath::Parent() const {
  CgroupPath parent = *this;
  if (!parent.components_.empty()) parent.components_.pop_back();
  return parent;
}

CgroupPath CgroupPath::Child(absl::string_view component) const {
  CgroupPath child = *this;
  child.components_.emplace_back(component);
  return child;
}

absl::string_view CgroupPath::Leaf() const {
  return components_.empty() ? absl::string_view()
                             : absl::string_view(components_.back());
}

std::string CgroupPath::ToString() const {
  return absl::StrJoin(components_, "/");
}

bool CgroupPath::Contains(const CgroupPath& other) const {
  return other.components_.size() >= components_.size() &&
         std::equal(components_.begin(), components_.end(),
                    other.components_.begin());
}

// -------------------------------------------------------------- RealCgroupFs

absl::StatusOr<std::unique_ptr<RealCgroupFs>> RealCgroupFs::Open(
    const std::string& root, RootCheck check) {
  if (root.empty() || root[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("hierarchy root \"", root, "\" is not an absolute path"));
  }
  int fd;
  do {
    fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError(errno, "open", root);
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "statfs", root);
  }
  bool is_cgroupfs = fs.f_type == CGROUP_SUPER_MAGIC;
  if (check == RootCheck::kRequireCgroupfs && !is_cgroupfs) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        root, " is not on a cgroup v1 filesystem (statfs type 0x",
        absl::Hex(static_cast<unsigned long>(fs.f_type)),
        "); use --allow-plain-dir for a fixture tree"));
  }
  std::string display = root;
  while (display.size() > 1 && display.back() == '/') display.pop_back();
  return std::unique_ptr<RealCgroupFs>(
      new RealCgroupFs(fd, std::move(display), is_cgroupfs));
}

RealCgroupFs::RealCgroupFs(int root_fd, std::string root, bool is_cgroupfs)
    : root_fd_(root_fd), root_(std::move(root)), is_cgroupfs_(is_cgroupfs) {}

RealCgroupFs::~RealCgroupFs() {
  ForgetCachedDir();
  close(root_fd_);
}

void RealCgroupFs::ForgetCachedDir() {
  if (cached_fd_ >= 0) close(cached_fd_);
  cached_fd_ = -1;
  cached_path_ = CgroupPath();
}

std::string RealCgroupFs::DisplayPath(const CgroupPath& dir,
                                      absl::string_view name) const {
  std::string out = root_ == "/" ? "" : root_;
  for (const std::string& c : dir.components()) absl::StrAppend(&out, "/", c);
  if (!name.empty()) absl::StrAppend(&out, "/", name);
  if (out.empty()) out = "/";
  return out;
}

absl::StatusOr<int> RealCgroupFs::DirFd(const CgroupPath& dir) {
  if (dir.IsRoot()) return root_fd_;
  if (cached_fd_ >= 0 && cached_path_ == dir) return cached_fd_;
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
  int fd = OpenBeneath(root_fd_, dir.ToString(), flags);
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: walk one component at a time, never following a
    // symlink (the way crun and oomd open cgroup directories).
    int parent = root_fd_;
    fd = -1;
    for (const std::string& c : dir.components()) {
      int next;
      do {
        next = openat(parent, c.c_str(), flags);
      } while (next < 0 && errno == EINTR);
      if (parent != root_fd_) CloseKeepErrno(parent);
      if (next < 0) {
        fd = -1;
        break;
      }
      parent = next;
      fd = next;
    }
  }
  if (fd < 0) return ErrnoError(errno, "open", DisplayPath(dir));
  ForgetCachedDir();
  cached_fd_ = fd;
  cached_path_ = dir;
  return fd;
}

absl::Status RealCgroupFs::MakeDir(const CgroupPath& dir) {
  if (dir.IsRoot()) return ErrnoError(EEXIST, "mkdir", DisplayPath(dir));
  absl::StatusOr<int> parent = DirFd(dir.Parent());
  if (!parent.ok()) return parent.status();
  std::string leaf(dir.Leaf());
  if (mkdirat(*parent, leaf.c_str(), 0755) != 0) {
    return ErrnoError(errno, "mkdir", DisplayPath(dir));
  }
  return absl::OkStatus();
}

absl::Status RealCgroupFs::RemoveDir(const CgroupPath& dir) {
  if (dir.IsRoot()) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to remove the hierarchy root ", root_));
  }
  if (cached_path_ == dir || dir.Contains(cached_path_)) ForgetCachedDir();
  if (!is_cgroupfs_) {
    // Plain fixture trees: control files are ordinary files here, which the
    // kernel would drop with the cgroup. Remove them so rmdir can succeed.
    absl::StatusOr<std::vector<std::string>> files =
        ListEntries(dir, /*directories=*/false);
    if (!files.ok()) return files.status();
    absl::StatusOr<int> fd = DirFd(dir);
    if (!fd.ok()) return fd.status();
    for (const std::string& f : *files) {
      if (unlinkat(*fd, f.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoError(errno, "unlink", DisplayPath(dir, f));
      }
    }
    ForgetCachedDir();
  }
  absl::StatusOr<int> parent = DirFd(dir.Parent());
  if (!parent.ok()) return parent.status();
  std::string leaf(dir.Leaf());
  if (unlinkat(*parent, leaf.c_str(), AT_REMOVEDIR) != 0) {
    return ErrnoError(errno, "rmdir", DisplayPath(dir));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RealCgroupFs::ReadFile(const CgroupPath& dir,
                                                   absl::string_view name) {
  absl::StatusOr<int> dfd = DirFd(dir);
  if (!dfd.ok()) return dfd.status();
  std::string file(name);
  int fd;
  do {
    fd = openat(*dfd, file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError(errno, "open", DisplayPath(dir, name));
  // Control files report st_size 0, so the size is learnt by reading. A
  // read that does not fill the buffer has reached EOF: cgroup control files
  // are single-record seq_files, and seq_read_iter (fs/seq_file.c) copies
  // the whole record when it fits; a regular file (fixture trees) returns
  // short only at EOF. So one read(2) per file, and another only when the
  // buffer came back full.
  return ReadAndClose(fd, ReadUntil::kShortRead, DisplayPath(dir, name));
}

absl::Status RealCgroupFs::WriteFile(const CgroupPath& dir,
                                     absl::string_view name,
                                     absl::string_view value) {
  absl::StatusOr<int> dfd = DirFd(dir);
  if (!dfd.ok()) return dfd.status();
  std::string file(name);
  // Never O_CREAT: a missing control file must be ENOENT here exactly as on
  // cgroupfs (runc's ioutil.WriteFile passes O_CREAT, so its fake-directory
  // tests cannot see a missing file).
  int fd;
  do {
    fd = openat(*dfd, file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError(errno, "open", DisplayPath(dir, name), value);
  // One write(2) with the whole value: the kernel parses each write as one
  // complete value (systemd cgroup-util writes unbuffered for this reason).
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "write", DisplayPath(dir, name), value);
  }
  if (close(fd) != 0 && errno != EINTR) {
    return ErrnoError(errno, "close", DisplayPath(dir, name), value);
  }
  if (static_cast<size_t>(n) != value.size()) {
    return absl::DataLossError(absl::StrCat(
        "write \"", value, "\" to ", DisplayPath(dir, name), ": short write of ",
        n, " of ", value.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> RealCgroupFs::Exists(const CgroupPath& dir,
                                          absl::string_view name) {
  if (name.empty()) {
    if (dir.IsRoot()) return true;
    absl::StatusOr<int> parent = DirFd(dir.Parent());
    if (!parent.ok()) {
      std::optional<int> err = ErrnoOf(parent.status());
      if (err == ENOENT || err == ENOTDIR) return false;
      return parent.status();
    }
    name = dir.Leaf();
    struct stat st;
    std::string leaf(name);
    if (fstatat(*parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      return ErrnoError(errno, "stat", DisplayPath(dir));
    }
    return S_ISDIR(st.st_mode);
  }
  absl::StatusOr<int> dfd = DirFd(dir);
  if (!dfd.ok()) return dfd.status();
  struct stat st;
  std::string file(name);
  if (fstatat(*dfd, file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoError(errno, "stat", DisplayPath(dir, name));
  }
  return true;
}

absl::StatusOr<std::vector<CgroupFs::DirLinks>>
CgroupFs::ListDirsWithLinkCounts(const CgroupPath& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListDirs(dir);
  if (!names.ok()) return names.status();
  std::vector<DirLinks> out;
  out.reserve(names->size());
  for (std::string& n : *names) out.push_back(DirLinks{std::move(n), 0});
  return out;
}

absl::StatusOr<std::vector<std::string>> RealCgroupFs::ListEntries(
    const CgroupPath& dir, bool directories,
    std::vector<uint64_t>* link_counts) {
  absl::StatusOr<int> dfd = DirFd(dir);
  if (!dfd.ok()) return dfd.status();
  int fd = openat(*dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", DisplayPath(dir));
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "readdir", DisplayPath(dir));
  }
  std::vector<std::pair<std::string, uint64_t>> found;
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
      continue;
    bool is_dir = e->d_type == DT_DIR;
    uint64_t links = 0;
    if (e->d_type == DT_UNKNOWN || (is_dir && link_counts != nullptr)) {
      struct stat st;
      bool ok = fstatat(*dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
      is_dir = ok && S_ISDIR(st.st_mode);
      if (ok) links = static_cast<uint64_t>(st.st_nlink);
    }
    if (is_dir == directories) found.emplace_back(e->d_name, links);
  }
  closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  if (link_counts != nullptr) link_counts->clear();
  for (auto& [name, links] : found) {
    out.push_back(std::move(name));
    if (link_counts != nullptr) link_counts->push_back(links);
  }
  return out;
}

absl::StatusOr<std::vector<CgroupFs::DirLinks>>
RealCgroupFs::ListDirsWithLinkCounts(const CgroupPath& dir) {
  std::vector<uint64_t> links;
  absl::StatusOr<std::vector<std::string>> names =
      ListEntries(dir, /*directories=*/true, &links);
  if (!names.ok()) return names.status();
  std::vector<DirLinks> out;
  out.reserve(names->size());
  for (size_t i = 0; i < names->size(); ++i) {
    out.push_back(DirLinks{std::move((*names)[i]), links[i]});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> RealCgroupFs::ListDirs(
    const CgroupPath& dir) {
  return ListEntries(dir, /*directories=*/true);
}

void RealCgroupFs::Sleep(absl::Duration duration) { absl::SleepFor(duration); }

// ------------------------------------------------------------- host helpers

absl::StatusOr<std::string> ReadHostFile(const std::string& path) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError(errno, "open", path);
  return ReadAndClose(fd, ReadUntil::kEof, path);
}

absl::StatusOr<HostPathInfo> StatHostPath(const std::string& path) {
  HostPathInfo info;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return info;
    return ErrnoError(errno, "stat", path);
  }
  info.exists = true;
  info.is_dir = S_ISDIR(st.st_mode);
  info.device = static_cast<unsigned long long>(st.st_dev);
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return ErrnoError(errno, "statfs", path);
  info.on_cgroupfs = fs.f_type == CGROUP_SUPER_MAGIC;
  return info;
}

bool HostFdIsTerminal(int fd) { return isatty(fd) == 1; }

}  // namespace kmemguard

// SPDX-License-Identifier: Apache-2.0

#include "common/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/lean_path.h"
#include "kmemguard/core/status.h"

extern char** environ;

namespace kmemguard::shim {
namespace {

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

absl::Status MakeParents(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  std::string dir = path.substr(0, slash);
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return absl::OkStatus();
  if (errno != ENOENT) return ErrnoError(errno, "mkdir", dir);
  absl::Status s = MakeParents(dir);
  if (!s.ok()) return s;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "mkdir", dir);
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// An executable regular file that is not this program (by device and
// inode, so the wrapper installed as "runc" cannot exec itself).
KMEMGUARD_LEAN_PATH bool UsableRuntime(const char* path) {
  struct stat st, self;
  if (stat(path, &st) != 0) return false;
  if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) return false;
  return !(stat("/proc/self/exe", &self) == 0 && SameFile(st, self));
}

// <dir>/<name> (or `name` alone for an empty dir) into `out`.
KMEMGUARD_LEAN_PATH bool JoinInto(std::string_view dir, std::string_view name,
                                  char* out, size_t size) {
  if (dir.size() + (dir.empty() ? 0 : 1) + name.size() >= size) return false;
  char* p = out;
  if (!dir.empty()) {
    p += dir.copy(p, dir.size());
    *p++ = '/';
  }
  p += name.copy(p, name.size());
  *p = '\0';
  return true;
}

bool IsAbsolute(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

// A runtime named by a bare name, looked up on PATH.
bool IsBareName(std::string_view name) {
  return !name.empty() && name.find('/') == std::string_view::npos;
}

}  // namespace

KMEMGUARD_LEAN_PATH bool FindRuntimeInto(std::string_view name_or_path,
                                         std::string_view path_env, char* out,
                                         size_t size) {
  if (IsAbsolute(name_or_path)) {
    return JoinInto({}, name_or_path, out, size) && UsableRuntime(out);
  }
  if (!IsBareName(name_or_path)) return false;
  for (size_t at = 0; at <= path_env.size();) {
    size_t end = path_env.find(':', at);
    if (end == std::string_view::npos) end = path_env.size();
    std::string_view dir = path_env.substr(at, end - at);
    at = end + 1;
    if (!dir.empty() && JoinInto(dir, name_or_path, out, size) &&
        UsableRuntime(out)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::string> FindRealRuntime(const std::string& name_or_path,
                                            const std::string& path_env) {
  char found[PATH_MAX];
  if (FindRuntimeInto(name_or_path, path_env, found, sizeof(found))) {
    return std::string(found);
  }
  if (IsAbsolute(name_or_path)) {
    return absl::NotFoundError(absl::StrCat(
        "runtime ", name_or_path,
        " is not an executable regular file (or is kmemguard-runtime "
        "itself)"));
  }
  if (!IsBareName(name_or_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime \"", name_or_path, "\" must be an absolute path or a name"));
  }
  return absl::NotFoundError(absl::StrCat(
      "no \"", name_or_path, "\" other than kmemguard-runtime on PATH (",
      path_env, "); set runtime in /etc/kmemguard/config.toml"));
}

namespace {

// execve's argv: `path`, then `args`, then NULL (pointing into both).
std::vector<char*> Argv(const std::string& path,
                        const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

KMEMGUARD_LEAN_PATH void ExecArgv(const char* path, char* const* argv) {
  execve(path, argv, environ);
}

KMEMGUARD_LEAN_PATH long ReadSmallFile(const char* path, char* buf, size_t size) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return -1;
  size_t done = 0;
  for (;;) {
    ssize_t n = read(fd, buf + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      errno = err;
      return n == 0 ? static_cast<long>(done) : -1;
    }
    done += static_cast<size_t>(n);
    if (done == size) {  // too big to be sure it is all
      close(fd);
      errno = EFBIG;
      return -1;
    }
  }
}

absl::Status ExecRuntime(const std::string& path,
                         const std::vector<std::string>& args) {
  std::vector<char*> argv = Argv(path, args);
  execve(path.c_str(), argv.data(), environ);
  return ErrnoError(errno, "execve", path);
}

namespace {

// The child of SpawnAndWait, for the signal handler.
volatile sig_atomic_t g_spawned_child = 0;

void ForwardSignal(int sig) {
  pid_t child = g_spawned_child;
  if (child > 0) kill(child, sig);
}

}  // namespace

absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& args) {
  std::vector<char*> argv = Argv(path, args);
  // Block the forwarded signals across fork so none is lost between fork
  // and recording the child's pid; the child restores the mask before its
  // execve, so the runtime starts with the caller's dispositions.
  static constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : kForwarded) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return ErrnoError(err, "fork", path);
  }
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execve(path.c_str(), argv.data(), environ);
    int err = errno;
    std::fprintf(stderr, "kmemguard-runtime: execve %s: %s\n", path.c_str(),
                 std::strerror(err));
    _exit(127);
  }
  g_spawned_child = pid;
  struct sigaction forward = {};
  forward.sa_handler = ForwardSignal;
  struct sigaction saved[4];
  for (int i = 0; i < 4; ++i) sigaction(kForwarded[i], &forward, &saved[i]);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  int err = errno;
  for (int i = 0; i < 4; ++i) sigaction(kForwarded[i], &saved[i], nullptr);
  g_spawned_child = 0;
  if (r < 0) return ErrnoError(err, "waitpid", path);
  return status;
}

int ExitLikeChild(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    // Die of the same signal, as the child did.
    signal(WTERMSIG(wait_status), SIG_DFL);
    raise(WTERMSIG(wait_status));
  }
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1;
}

int64_t SelfPid() { return getpid(); }

bool EffectiveUidIsRoot() { return geteuid() == 0; }

namespace {

volatile sig_atomic_t g_stop_signal = 0;

void OnStopSignal(int sig) { g_stop_signal = sig; }

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void CatchStopSignals() {
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // A parent may have left them blocked.
  sigset_t stop = StopSignals();
  sigprocmask(SIG_UNBLOCK, &stop, nullptr);
}

int WaitForStopSignal(absl::Duration d) {
  sigset_t stop = StopSignals();
  sigset_t during_sleep;
  sigprocmask(SIG_BLOCK, &stop, &during_sleep);
  sigdelset(&during_sleep, SIGTERM);
  sigdelset(&during_sleep, SIGINT);
  const absl::Time deadline = absl::Now() + d;
  while (g_stop_signal == 0) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    timespec ts = absl::ToTimespec(left);
    ppoll(nullptr, 0, left == absl::InfiniteDuration() ? nullptr : &ts,
          &during_sleep);
  }
  sigprocmask(SIG_UNBLOCK, &stop, nullptr);
  return g_stop_signal;
}

std::string ReadFd(int fd, size_t limit) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) break;
  }
  return out;
}

absl::StatusOr<FileOwnership> OwnershipOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
  return FileOwnership{st.st_uid, st.st_gid, st.st_mode & 07777u};
}

absl::Status ChangeOwner(const std::string& path, int64_t uid, int64_t gid) {
  if (chown(path.c_str(), uid < 0 ? static_cast<uid_t>(-1) : static_cast<uid_t>(uid),
            gid < 0 ? static_cast<gid_t>(-1) : static_cast<gid_t>(gid)) != 0) {
    return ErrnoError(errno, "chown", path, absl::StrCat(uid, ":", gid));
  }
  return absl::OkStatus();
}

uint64_t StartTimeFromStat(const std::string& stat) {
  size_t paren = stat.rfind(')');  // the command name may hold ')' and ' '
  if (paren == std::string::npos || paren + 2 > stat.size()) return 0;
  // After ") " comes field 3 (state); the start time is field 22.
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  uint64_t v = 0;
  if (fields.size() <= 19 || !absl::SimpleAtoi(fields[19], &v)) return 0;
  return v;
}

uint64_t ProcessStartTime(int64_t pid) {
  if (pid <= 0) return 0;
  int fd = open(absl::StrCat("/proc/", pid, "/stat").c_str(),
                O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR) {
  }
  close(fd);
  if (n <= 0) return 0;
  return StartTimeFromStat(std::string(buf, static_cast<size_t>(n)));
}

namespace {

absl::Status WriteAll(int fd, const std::string& content,
                      const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<OwnedFd> CreateFileExclusive(const std::string& path,
                                            const std::string& content) {
  // Written in full under a temporary name, then link()ed into place:
  // link fails with EEXIST like O_EXCL, and a crash at any point leaves
  // either no file or a complete one (never an empty record), plus at
  // worst the temporary file, named after its writer for gc. The open fd
  // then refers to the file at `path`.
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    absl::Status s = MakeParents(path);
    if (!s.ok()) return s;
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  if (fd < 0) return ErrnoError(errno, "open", tmp);
  OwnedFd file(fd);
  absl::Status s = WriteAll(fd, content, tmp);
  if (s.ok() && link(tmp.c_str(), path.c_str()) != 0) {
    s = errno == EEXIST
            ? absl::AlreadyExistsError(absl::StrCat(path, " already exists"))
            : ErrnoError(errno, "link", path);
  }
  unlink(tmp.c_str());
  if (!s.ok()) return s;
  return file;
}

absl::Status OverwriteFile(int fd, const std::string& content,
                           const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = pwrite(fd, content.data() + done, content.size() - done,
                       static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "pwrite", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> InodeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat", path);
  return static_cast<uint64_t>(st.st_ino);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 || errno != ENOENT;
}

std::vector<std::string> ListDirectory(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(std::move(name));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    return ErrnoError(errno, "realpath", path);
  }
  return std::string(buf);
}

std::optional<int64_t> ModificationTime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_mtime);
}

int64_t BootTime() {
  struct timespec real, boot;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  return static_cast<int64_t>(real.tv_sec) - static_cast<int64_t>(boot.tv_sec) -
         (real.tv_nsec < boot.tv_nsec ? 1 : 0);
}

absl::Status Touch(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    absl::Status s = MakeParents(path);
    if (!s.ok()) return s;
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  }
  if (fd < 0) return ErrnoError(errno, "open", path);
  int rc = futimens(fd, nullptr);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, "futimens", path);
  return absl::OkStatus();
}

std::string HostKernelRelease() {
  struct utsname u;
  if (uname(&u) != 0) return "";
  return u.release;
}

absl::StatusOr<std::string> WorkingDirectory() {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof(buf)) == nullptr) return ErrnoError(errno, "getcwd", ".");
  return std::string(buf);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& content, unsigned mode,
                                 Durability durability) {
  absl::Status s = MakeParents(path);
  if (!s.ok()) return s;
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, "open", tmp);
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return ErrnoError(err, "fchmod", tmp);
  }
  s = WriteAll(fd, content, tmp);
  if (!s.ok()) {
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  if ((durability == Durability::kDurable && fsync(fd) != 0) ||
      close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, "fsync", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, "rename", path);
  }
  return absl::OkStatus();
}

absl::Status RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(errno, "unlink", path);
  }
  return absl::OkStatus();
}

absl::Status AppendLine(const std::string& path, const std::string& line) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(errno, "open", path);
  std::string data = line + "\n";
  ssize_t n;
  do {
    n = write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (err != 0) return ErrnoError(err, "write", path);
  return absl::OkStatus();
}

bool IsTerminal(int fd) { return isatty(fd) == 1; }

}  // namespace kmemguard::shim

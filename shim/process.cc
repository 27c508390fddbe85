// SPDX-License-Identifier: Apache-2.0

#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kmemguard/status.h"

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

absl::StatusOr<std::string> FindRealRuntime(const std::string& name_or_path,
                                            const std::string& path_env) {
  struct stat self;
  bool have_self = stat("/proc/self/exe", &self) == 0;
  auto usable = [&](const std::string& candidate) {
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0) return false;
    if (!S_ISREG(st.st_mode) || access(candidate.c_str(), X_OK) != 0) {
      return false;
    }
    return !(have_self && SameFile(st, self));
  };
  if (!name_or_path.empty() && name_or_path[0] == '/') {
    if (!usable(name_or_path)) {
      return absl::NotFoundError(absl::StrCat(
          "runtime ", name_or_path,
          " is not an executable regular file (or is kmemguard-runtime "
          "itself)"));
    }
    return name_or_path;
  }
  if (name_or_path.find('/') != std::string::npos || name_or_path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "runtime \"", name_or_path, "\" must be an absolute path or a name"));
  }
  for (absl::string_view dir : absl::StrSplit(path_env, ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", name_or_path);
    if (usable(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      "no \"", name_or_path, "\" other than kmemguard-runtime on PATH (",
      path_env, "); set runtime in /etc/kmemguard/config.toml"));
}

absl::Status ExecRuntime(const std::string& path,
                         const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execve(path.c_str(), argv.data(), environ);
  return ErrnoError(errno, "execve", path);
}

namespace {

// Field 22 of /proc/<pid>/stat: the start time, which tells a pid's process
// from a later one that reuses the pid.
std::string StartTime(pid_t pid) {
  int fd = open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return "";
  std::string stat(buf, static_cast<size_t>(n));
  size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return "";
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(paren + 2), ' ');
  return fields.size() > 19 ? fields[19] : "";
}

}  // namespace

absl::Status RunAfterExit(std::function<void()> fn) {
  // A pidfd on ourselves keeps tracking this process across the exec. On
  // kernels before 5.3 (no pidfd_open) the watcher polls /proc instead.
  const pid_t self = getpid();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, self, 0));
  std::string start_time;
  if (pidfd < 0) {
    if (errno != ENOSYS) return ErrnoError(errno, "pidfd_open", "self");
    start_time = StartTime(self);
    if (start_time.empty()) return absl::InternalError("no start time for self");
  }
  pid_t child = fork();
  if (child < 0) {
    int err = errno;
    if (pidfd >= 0) close(pidfd);
    return ErrnoError(err, "fork", "watcher");
  }
  if (child == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(0);
    // Hold nothing of the caller's: containerd reads the runtime's pipes
    // until EOF, so a stray copy would hang it.
    if (pidfd >= 0 && dup2(pidfd, 3) < 0) _exit(1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    syscall(SYS_close_range, pidfd >= 0 ? 4U : 3U, ~0U, 0U);
    if (chdir("/") != 0) _exit(1);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (pidfd >= 0) {
      struct pollfd p = {3, POLLIN, 0};
      while (poll(&p, 1, -1) < 0 && errno == EINTR) {
      }
    } else {
      while (StartTime(self) == start_time) usleep(50 * 1000);
    }
    fn();
    _exit(0);
  }
  if (pidfd >= 0) close(pidfd);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RunInChild(
    const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe", "child");
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return ErrnoError(err, "fork", "child");
  }
  if (pid == 0) {
    close(fds[0]);
    std::string out = fn();
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(1);
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string reply;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty()) {
    return absl::InternalError(absl::StrCat(
        "the confined child failed (",
        WIFSIGNALED(status) ? absl::StrCat("signal ", WTERMSIG(status))
                            : absl::StrCat("exit ", WEXITSTATUS(status)),
        ")"));
  }
  return reply;
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
                                 const std::string& content, unsigned mode) {
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
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ErrnoError(err, "write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
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

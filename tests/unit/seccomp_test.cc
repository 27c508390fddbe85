// SPDX-License-Identifier: Apache-2.0
//
// The seccomp allowlist: in a confined child, what a cgroup writer needs
// works and anything else is refused with EPERM.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "catch2/catch.hpp"
#include "common/seccomp_filter.h"

namespace kmemguard::shim {
namespace {

// Runs `probe` in a child after Confine(); returns the child's exit code.
template <typename Probe>
int InConfinedChild(Confinement c, Probe probe) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!Confine(c).ok()) _exit(100);
    _exit(probe());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

TEST_CASE("Confined, a cgroup writer can read, write, mkdir and rmdir",
          "[unit]") {
  std::string dir = "/tmp/kmemguard-seccomp-" + std::to_string(getpid());
  int rc = InConfinedChild(Confinement::kCgroupWork, [&] {
    int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    char buf[64];
    if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) return 1;
    close(fd);
    if (mkdirat(AT_FDCWD, dir.c_str(), 0755) != 0) return 2;
    std::string file = dir + "/f";
    fd = openat(AT_FDCWD, file.c_str(), O_WRONLY | O_CREAT, 0600);
    if (fd < 0 || write(fd, "1", 1) != 1) return 3;
    close(fd);
    if (unlinkat(AT_FDCWD, file.c_str(), 0) != 0) return 4;
    if (unlinkat(AT_FDCWD, dir.c_str(), AT_REMOVEDIR) != 0) return 5;
    return 0;
  });
  CHECK(rc == 0);
}

TEST_CASE("Confined, exec, fork, sockets and ptrace are refused with EPERM",
          "[unit]") {
  CHECK(InConfinedChild(Confinement::kCgroupWork, [] {
          char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
          execv("/bin/true", argv);
          return errno == EPERM ? 0 : 1;
        }) == 0);
  CHECK(InConfinedChild(Confinement::kCgroupWork, [] {
          return socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM ? 0 : 1;
        }) == 0);
#ifndef KMEMGUARD_SANITIZED  // LeakSanitizer needs clone (seccomp_filter.cc)
  CHECK(InConfinedChild(Confinement::kCgroupWork, [] {
          pid_t p = fork();
          if (p == 0) _exit(0);
          return p < 0 && errno == EPERM ? 0 : 1;
        }) == 0);
#endif
  CHECK(InConfinedChild(Confinement::kCgroupWorkSyslog, [] {
          return socket(AF_UNIX, SOCK_DGRAM, 0) < 0 && errno == EPERM ? 0 : 1;
        }) == 0);
}

TEST_CASE("The allowlist has what the writer needs and none of the "
          "dangerous calls",
          "[unit]") {
  auto list = AllowedSyscalls(Confinement::kCgroupWork);
  auto has = [&](const char* n) {
    return std::find(list.begin(), list.end(), n) != list.end();
  };
  // fchmod: the state record's temporary file (WriteFileAtomically).
  for (const char* n : {"openat", "openat2", "write", "mkdirat", "unlinkat",
                        "getdents64", "fstatfs", "fchmod"}) {
    CHECK(has(n));
  }
  for (const char* n : {"execve", "execveat", "fork", "socket", "connect",
                        "mount", "setns", "unshare", "chmod", "fchmodat", "chown",
                        "sendto",
#ifndef KMEMGUARD_SANITIZED
                        "clone", "clone3", "ptrace", "kill"
#endif
       }) {
    INFO(n);
    CHECK_FALSE(has(n));
  }
  auto syslog = AllowedSyscalls(Confinement::kCgroupWorkSyslog);
  CHECK(std::find(syslog.begin(), syslog.end(), "sendto") != syslog.end());
}

}  // namespace
}  // namespace kmemguard::shim

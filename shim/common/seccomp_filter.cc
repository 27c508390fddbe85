// SPDX-License-Identifier: Apache-2.0

#include "common/seccomp_filter.h"

#include <errno.h>
#include <seccomp.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "kmemguard/core/status.h"

namespace kmemguard::shim {
namespace {

// What reading, parsing and writing cgroup files needs, plus what libc,
// libstdc++ and the sanitizers' runtimes use on the way (memory, signals,
// time, thread-local setup). Deliberately absent: execve, fork/clone,
// socket/connect, ptrace, mount, setns/unshare, kill of other processes,
// chmod/chown, link/symlink/rename outside the state directory... anything
// a cgroup writer has no business doing.
const char* const kCgroupWork[] = {
    // files and directories
    "read", "pread64", "readv", "write", "pwrite64", "writev", "open",
    "openat", "openat2", "close", "close_range", "lseek", "fstat", "stat",
    "lstat", "newfstatat", "statx", "statfs", "fstatfs", "getdents64",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "fsync", "fdatasync", "fcntl", "dup", "dup2", "dup3",
    "readlink", "readlinkat", "access", "faccessat", "faccessat2", "getcwd",
    "ioctl", "umask", "pipe2",
    // WriteFileAtomically sets the mode of the temporary file it just
    // created (fchmod on its own descriptor, not chmod of a path): without
    // it every state record failed with EPERM and, under fail-open, every
    // container started unguarded (issue 10's counter showed it).
    "fchmod",
    // memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    // signals, time, identity, exit
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
    "uname", "getrandom", "futex", "sched_yield", "sched_getaffinity",
    "getrlimit", "prlimit64", "prctl", "arch_prctl", "set_robust_list",
    "rseq", "restart_syscall", "exit", "exit_group", "tgkill", "poll",
};

const char* const kSyslog[] = {"sendto", "sendmsg", "send"};

#ifdef KMEMGUARD_SANITIZED
// Sanitizer builds only (tests): LeakSanitizer's StopTheWorld at exit
// clones a tracer thread that ptrace-attaches the others
// (compiler-rt sanitizer_stoptheworld_linux_libcdep.cpp).
const char* const kSanitizerRuntime[] = {"clone", "clone3", "ptrace", "wait4", "getdents",
                                         "waitid", "process_vm_readv", "kill"};
#endif

}  // namespace

std::vector<std::string> AllowedSyscalls(Confinement confinement) {
  std::vector<std::string> out(std::begin(kCgroupWork), std::end(kCgroupWork));
  if (confinement == Confinement::kCgroupWorkSyslog) {
    out.insert(out.end(), std::begin(kSyslog), std::end(kSyslog));
  }
#ifdef KMEMGUARD_SANITIZED
  out.insert(out.end(), std::begin(kSanitizerRuntime),
             std::end(kSanitizerRuntime));
#endif
  return out;
}

absl::Status Confine(Confinement confinement) {
  if (const char* off = std::getenv("KMEMGUARD_NO_SECCOMP");
      off != nullptr && std::string(off) == "1") {
    return absl::OkStatus();
  }
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(
      seccomp_init(SCMP_ACT_ERRNO(EPERM)), seccomp_release);
  if (ctx == nullptr) {
    return absl::InternalError("seccomp_init failed");
  }
  for (const std::string& name : AllowedSyscalls(confinement)) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0);
    // libseccomp returns a negative errno.
    if (rc < 0) return ErrnoError(-rc, "seccomp_rule_add", name);
  }
  int rc = seccomp_load(ctx.get());
  if (rc < 0) return ErrnoError(-rc, "seccomp_load", "filter");
  return absl::OkStatus();
}

}  // namespace kmemguard::shim

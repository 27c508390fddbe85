// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-jail310 [--list | --probe | COMMAND ARGS...]: runs COMMAND as if
// on Linux 3.10 (RHEL/CentOS 7), as far as system calls go: every call that
// x86_64 gained after 3.10 fails with ENOSYS, as it would there. The filter
// is inherited by every child and kept across execve, so COMMAND's whole
// process tree (a test script, our binaries, the runc they exec, the
// container) is jailed.
//
//   --list   print the named calls: number, kernel version, whether this
//            libseccomp knows the name
//   --probe  install the filter, then call a set of harmless blocked calls
//            and fail unless each returns ENOSYS (the jail's self-test)
//
// Sources for "added in": the kernel's x86_64 syscall table history
// (arch/x86/entry/syscalls/syscall_64.tbl, git log -S per entry) and the
// VERSIONS sections of man-pages 6.x (e.g. seccomp(2): "Linux 3.17",
// openat2(2): "Linux 5.6", close_range(2): "Linux 5.9").
//
// On x86_64 the numbers are assigned in order: 3.10's last new call is
// finit_module (313, Linux 3.8), so every number from 314 up is a later call.
// The filter blocks the named calls and, so that a call newer than this list
// is blocked too, every unnamed number from 314 to kLastBlocked (the range
// 336..423 is the hole left when 5.1 aligned the numbers of all
// architectures at 424).

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>

namespace {

struct Call {
  const char* name;
  int nr;  // x86_64
  const char* added;
};

// Every x86_64 system call added after Linux 3.10, oldest first.
constexpr Call kCalls[] = {
    {"sched_setattr", 314, "3.14"},
    {"sched_getattr", 315, "3.14"},
    {"renameat2", 316, "3.15"},
    {"seccomp", 317, "3.17"},
    {"getrandom", 318, "3.17"},
    {"memfd_create", 319, "3.17"},
    {"kexec_file_load", 320, "3.17"},
    {"bpf", 321, "3.18"},
    {"execveat", 322, "3.19"},
    {"userfaultfd", 323, "4.3"},
    {"membarrier", 324, "4.3"},
    {"mlock2", 325, "4.4"},
    {"copy_file_range", 326, "4.5"},
    {"preadv2", 327, "4.6"},
    {"pwritev2", 328, "4.6"},
    {"pkey_mprotect", 329, "4.9"},
    {"pkey_alloc", 330, "4.9"},
    {"pkey_free", 331, "4.9"},
    {"statx", 332, "4.11"},
    {"io_pgetevents", 333, "4.18"},
    {"rseq", 334, "4.18"},
    {"uretprobe", 335, "6.11"},
    {"pidfd_send_signal", 424, "5.1"},
    {"io_uring_setup", 425, "5.1"},
    {"io_uring_enter", 426, "5.1"},
    {"io_uring_register", 427, "5.1"},
    {"open_tree", 428, "5.2"},
    {"move_mount", 429, "5.2"},
    {"fsopen", 430, "5.2"},
    {"fsconfig", 431, "5.2"},
    {"fsmount", 432, "5.2"},
    {"fspick", 433, "5.2"},
    {"pidfd_open", 434, "5.3"},
    {"clone3", 435, "5.3"},
    {"close_range", 436, "5.9"},
    {"openat2", 437, "5.6"},
    {"pidfd_getfd", 438, "5.6"},
    {"faccessat2", 439, "5.8"},
    {"process_madvise", 440, "5.10"},
    {"epoll_pwait2", 441, "5.11"},
    {"mount_setattr", 442, "5.12"},
    {"quotactl_fd", 443, "5.14"},
    {"landlock_create_ruleset", 444, "5.13"},
    {"landlock_add_rule", 445, "5.13"},
    {"landlock_restrict_self", 446, "5.13"},
    {"memfd_secret", 447, "5.14"},
    {"process_mrelease", 448, "5.15"},
    {"futex_waitv", 449, "5.16"},
    {"set_mempolicy_home_node", 450, "5.17"},
    {"cachestat", 451, "6.5"},
    {"fchmodat2", 452, "6.6"},
    {"map_shadow_stack", 453, "6.6"},
    {"futex_wake", 454, "6.7"},
    {"futex_wait", 455, "6.7"},
    {"futex_requeue", 456, "6.7"},
    {"statmount", 457, "6.8"},
    {"listmount", 458, "6.8"},
    {"lsm_get_self_attr", 459, "6.8"},
    {"lsm_set_self_attr", 460, "6.8"},
    {"lsm_list_modules", 461, "6.8"},
    {"mseal", 462, "6.10"},
    {"setxattrat", 463, "6.13"},
    {"getxattrat", 464, "6.13"},
    {"listxattrat", 465, "6.13"},
    {"removexattrat", 466, "6.13"},
    {"open_tree_attr", 467, "6.15"},
    {"file_getattr", 468, "6.17"},
    {"file_setattr", 469, "6.17"},
};
constexpr int kFirstAfter310 = 314;
// Unnamed numbers up to here are blocked too (calls newer than the table).
constexpr int kLastBlocked = 511;

int Die(const char* what, int err) {
  std::fprintf(stderr, "kmemguard-jail310: %s: %s\n", what, std::strerror(err));
  return 125;
}

// Returns 0 or a negative errno. A name libseccomp 2.5.4 knows must map to
// the table's number (catches a typo in the table); names it does not know
// (everything after 5.x's futex_waitv, roughly) are added by number, which
// libseccomp accepts for the native architecture.
int CheckTable() {
  for (const Call& c : kCalls) {
    int known = seccomp_syscall_resolve_name(c.name);
    if (known != __NR_SCMP_ERROR && known != c.nr) {
      std::fprintf(stderr,
                   "kmemguard-jail310: table says %s is %d, libseccomp %d\n",
                   c.name, c.nr, known);
      return -EINVAL;
    }
  }
  return 0;
}

int Install() {
#if !defined(__x86_64__)
  std::fprintf(stderr, "kmemguard-jail310: the table is x86_64 only\n");
  return -ENOTSUP;
#else
  if (int rc = CheckTable(); rc < 0) return rc;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return -ENOMEM;
  std::set<int> blocked;
  for (const Call& c : kCalls) blocked.insert(c.nr);
  for (int nr = kFirstAfter310; nr <= kLastBlocked; ++nr) blocked.insert(nr);
  for (int nr : blocked) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (rc < 0) {
      seccomp_release(ctx);
      return rc;
    }
  }
  // The jail itself loads the filter with seccomp(2) where it exists; the
  // jailed programs then see ENOSYS for it and must use prctl.
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc;
#endif
}

// Harmless invocations of blocked calls (bad fds, null pointers, zero
// lengths): each must come back ENOSYS, not EBADF/EFAULT/EINVAL/success.
int Probe() {
  int bad = 0;
  struct Q {
    const char* name;
    long (*call)();
  };
  static char b[1];
  const Q calls[] = {
      {"getrandom", [] { return syscall(318, b, 1, 0x1); }},
      {"memfd_create", [] { return syscall(319, "jail-probe", 0); }},
      {"seccomp", [] { return syscall(317, 99, 0, nullptr); }},
      {"renameat2", [] { return syscall(316, -1, "", -1, "", 0); }},
      {"execveat", [] { return syscall(322, -1, "", nullptr, nullptr, 0); }},
      {"statx", [] { return syscall(332, -1, "", 0, 0, nullptr); }},
      {"rseq", [] { return syscall(334, nullptr, 0, 0, 0); }},
      {"pidfd_open", [] { return syscall(434, getpid(), 0); }},
      {"clone3", [] { return syscall(435, nullptr, 0); }},
      {"close_range", [] { return syscall(436, ~0U, ~0U, 0); }},
      {"openat2", [] { return syscall(437, -1, "", nullptr, 0); }},
      {"faccessat2", [] { return syscall(439, -1, "", 0, 0); }},
      {"epoll_pwait2",
       [] { return syscall(441, -1, nullptr, 0, nullptr, nullptr, 0); }},
      {"futex_waitv", [] { return syscall(449, nullptr, 0, 0, nullptr, 0); }},
      {"cachestat", [] { return syscall(451, -1, nullptr, nullptr, 0); }},
      {"mseal", [] { return syscall(462, 0, 0, 0); }},
      {"unnamed 500", [] { return syscall(500, 0, 0, 0); }},
  };
  for (const Q& q : calls) {
    errno = 0;
    long rc = q.call();
    int err = errno;
    if (rc != -1 || err != ENOSYS) {
      std::fprintf(stderr, "probe %s: rc %ld errno %s, want ENOSYS\n", q.name,
                   rc, std::strerror(err));
      ++bad;
    }
  }
  // An old call must still work.
  if (syscall(SYS_getppid) < 0) {
    std::fprintf(stderr, "probe getppid failed: %s\n", std::strerror(errno));
    ++bad;
  }
  if (bad == 0) std::printf("all probes ENOSYS\n");
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: kmemguard-jail310 --list | --probe | COMMAND ARGS...\n");
    return 2;
  }
  std::string first = argv[1];
  if (first == "--list") {
    if (int rc = CheckTable(); rc < 0) return Die("table", -rc);
    for (const Call& c : kCalls) {
      bool known = seccomp_syscall_resolve_name(c.name) != __NR_SCMP_ERROR;
      std::printf("%-24s %3d  Linux %-5s %s\n", c.name, c.nr, c.added,
                  known ? "libseccomp-name" : "number-only");
    }
    std::printf("%-24s %d..%d  (every other number)\n", "unnamed",
                kFirstAfter310, kLastBlocked);
    return 0;
  }
  if (int rc = Install(); rc < 0) return Die("installing the filter", -rc);
  if (first == "--probe") return Probe();
  if (first == "--") {
    ++argv;
    --argc;
    if (argc < 2) return Die("no command", EINVAL);
  }
  execvp(argv[1], argv + 1);
  return Die(argv[1], errno);
}

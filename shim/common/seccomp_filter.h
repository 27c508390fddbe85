// SPDX-License-Identifier: Apache-2.0
//
// A libseccomp allowlist for the processes that write cgroups: the CLI's
// apply/set/stats/remove and gc, and the hook. Not kmemguard-runtime: it
// execs the real runtime from the process that does its cgroup work, and a
// filter survives execve (docs/process-model.md).
// Installed after argument parsing. A system call outside the list fails
// with EPERM (an error the code reports) rather than killing the process, so
// a kernel or libc that needs one more call degrades to a clear error.

#ifndef KMEMGUARD_SHIM_COMMON_SECCOMP_FILTER_H_
#define KMEMGUARD_SHIM_COMMON_SECCOMP_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kmemguard::shim {

enum class Confinement {
  kCgroupWork,        // files, directories, memory, time: no exec, no network
  kCgroupWorkSyslog,  // the same plus sending to an already open syslog socket
};

// The names of the allowed system calls, for documentation and tests.
std::vector<std::string> AllowedSyscalls(Confinement confinement);

// Installs the filter on the calling thread (and its future children); sets
// no_new_privs. $KMEMGUARD_NO_SECCOMP=1 skips it (debugging only).
absl::Status Confine(Confinement confinement);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_COMMON_SECCOMP_FILTER_H_

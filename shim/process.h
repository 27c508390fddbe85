// SPDX-License-Identifier: Apache-2.0
//
// Process plumbing of the wrapper, gc and the hook: finding the real
// runtime, exec, spawn-and-wait, process identity, record files, small host
// facts. These are the shim's only system calls outside lib/cgroupfs.cc.
// Nothing here starts a process that outlives its caller.

#ifndef KMEMGUARD_SHIM_PROCESS_H_
#define KMEMGUARD_SHIM_PROCESS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kmemguard::shim {

// Returns the absolute path of the real runtime: `name_or_path` itself when
// absolute, else the first match on `path_env` that is a regular executable
// file and is not this program (compared with /proc/self/exe by device and
// inode, so installing the wrapper as "runc" cannot recurse).
absl::StatusOr<std::string> FindRealRuntime(const std::string& name_or_path,
                                            const std::string& path_env);

// execve()s `path` with argv[0] = path and `args`, in the current
// environment. Returns only on failure.
absl::Status ExecRuntime(const std::string& path,
                         const std::vector<std::string>& args);

// Forks, execve()s `path` with `args` in the child (which inherits every
// fd, as a direct exec would) and waits for it. While waiting, SIGINT,
// SIGTERM, SIGHUP and SIGQUIT sent to this process are passed on to the
// child. Returns the child's wait status.
absl::StatusOr<int> SpawnAndWait(const std::string& path,
                                 const std::vector<std::string>& args);

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), which
// tells a pid's process from a later one that reuses the pid; 0 when there
// is no such process. Works on every kernel (no pidfd, which needs 5.3).
uint64_t ProcessStartTime(int64_t pid);
// Parses the text of /proc/<pid>/stat: the field after the last ')' (the
// command name may hold spaces and parentheses) counts as field 3. 0 when
// malformed.
uint64_t StartTimeFromStat(const std::string& stat_text);

// Creates `path` with `content`, failing with AlreadyExists when it exists
// (as O_EXCL, but never visible half-written: a temporary file link()ed
// into place); missing parent directories are created with mode 0700.
absl::Status CreateFileExclusive(const std::string& path,
                                 const std::string& content);
// The inode number of `path` (stat, following symlinks).
absl::StatusOr<uint64_t> InodeOf(const std::string& path);
// True when `path` exists (lstat).
bool PathExists(const std::string& path);
// Names in directory `path` (without . and ..); empty when unreadable.
std::vector<std::string> ListDirectory(const std::string& path);
// realpath(3); NotFound etc. with errno.
absl::StatusOr<std::string> RealPath(const std::string& path);
// Modification time of `path` in seconds since the epoch; nullopt if absent.
std::optional<int64_t> ModificationTime(const std::string& path);
// When this boot began, in seconds since the epoch: CLOCK_REALTIME minus
// CLOCK_BOOTTIME (both since 2.6.39), as the kernel computes /proc/stat's
// btime. A file last modified before it was written before a reboot.
int64_t BootTime();
// Sets the modification time of `path` to now, creating it (mode 0600).
absl::Status Touch(const std::string& path);

// The kernel release (uname -r).
std::string HostKernelRelease();
// The current working directory.
absl::StatusOr<std::string> WorkingDirectory();
// Whether WriteFileAtomically fsyncs the file before the rename.
enum class Durability {
  // The file must survive a power loss (engine configurations, configure's
  // undo record, the doctor's textfile).
  kDurable,
  // It need not: the wrapper's state records describe cgroups and
  // processes, which no reboot keeps either. The rename alone makes the
  // replacement atomic for every process (the page cache is shared); after
  // a power loss a record may be empty or torn, and gc drops a record
  // written before the current boot without touching any cgroup
  // (docs/process-model.md). fsync cost 1.2-1.5 ms per create on an ext4
  // state directory (docs/benchmarks.md).
  kVolatile,
};
// Writes `content` to `path` atomically (temporary file, fsync unless
// kVolatile, rename), creating missing parent directories with mode 0700.
// The file gets `mode` (not reduced by the umask) before it becomes visible
// under `path`.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& content,
                                 unsigned mode = 0600,
                                 Durability durability = Durability::kDurable);
// Removes a file; a missing one is fine.
absl::Status RemoveFile(const std::string& path);
// Appends one line to `path` (O_APPEND|O_CREAT, 0644), as runc opens --log.
absl::Status AppendLine(const std::string& path, const std::string& line);
// True when `fd` is a terminal.
bool IsTerminal(int fd);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_PROCESS_H_

// SPDX-License-Identifier: Apache-2.0
//
// The shim's process layer: the one place in shim/ that makes system calls
// (lib/core's cgroupfs seam makes the library's). Programs and rooms above
// it call these functions, never the kernel.
//   processes:  fork, execve, waitpid (SpawnAndWait, ExecRuntime), getpid,
//               geteuid, /proc/<pid>/stat (identity), /proc/self/exe;
//   signals:    sigaction, sigprocmask, kill (forwarding), raise
//               (ExitLikeChild), ppoll (WaitForStopSignal);
//   fds:        read of an inherited fd (ReadFd), isatty;
//   host facts: uname, getcwd;
//   files the runtime's hot path and gc need (records, stamps, logs):
//               open/O_EXCL, link, pwrite, rename, fsync, unlink, stat,
//               utimensat,
//               opendir, realpath. These stay on raw calls rather than
//               Boost.Filesystem: the runtime links no Boost (its start-up
//               is benchmarked, docs/process-model.md), and Boost has no
//               O_EXCL, link() or fsync;
//   ownership:  stat/chown of a file (Boost.Filesystem has neither).
// Path and directory work elsewhere in shim/ (configure, node-agent,
// doctor's roots) uses Boost.Filesystem. Nothing here starts a process that
// outlives its caller.

#ifndef KMEMGUARD_SHIM_COMMON_PROCESS_H_
#define KMEMGUARD_SHIM_COMMON_PROCESS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kmemguard::shim {

// $PATH when it is not set, for the runtime lookup.
inline constexpr char kDefaultPathEnv[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// FindRealRuntime's lookup without allocating, for the lean path too:
// writes the runtime's path into `out` (`size` bytes, NUL-terminated) and
// returns true, or false when there is none or it does not fit.
bool FindRuntimeInto(std::string_view name_or_path, std::string_view path_env,
                     char* out, size_t size);

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
// The exit status to give for a child's wait status: its exit code; when
// it died of a signal, the calling process dies of the same signal
// (default disposition, then raise), as if it were the child; else 1.
int ExitLikeChild(int wait_status);

// The calling process's pid, and whether it runs with euid 0.
int64_t SelfPid();
bool EffectiveUidIsRoot();

// SIGTERM and SIGINT, caught by a handler that only records them (not a
// blocked mask: a mask is inherited across fork and execve, signal(7), so
// every program started meanwhile would start unable to be stopped). A
// caught signal's disposition is reset by execve, so children see nothing
// of ours. SA_RESTART: file reads and writes in progress finish.
void CatchStopSignals();
// Waits up to `d` (absl::InfiniteDuration() for ever) for a stop signal;
// returns it, or 0 when none came. One that came before the call counts.
// The signals are blocked only while the flag is tested, and ppoll unblocks
// them atomically for the sleep, so none is lost in between.
int WaitForStopSignal(absl::Duration d);

// Reads `fd` (e.g. 0, a hook's stdin) to its end or a little past `limit`.
std::string ReadFd(int fd, size_t limit);

// The file's owner (uid, gid) and permission bits; NotFound etc. with errno.
struct FileOwnership {
  int64_t uid = -1;
  int64_t gid = -1;
  unsigned mode = 0;
};
absl::StatusOr<FileOwnership> OwnershipOf(const std::string& path);
// chown(2); -1 leaves that id as it is.
absl::Status ChangeOwner(const std::string& path, int64_t uid, int64_t gid);

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), which
// tells a pid's process from a later one that reuses the pid; 0 when there
// is no such process. Works on every kernel (no pidfd, which needs 5.3).
uint64_t ProcessStartTime(int64_t pid);
// Parses the text of /proc/<pid>/stat: the field after the last ')' (the
// command name may hold spaces and parentheses) counts as field 3. 0 when
// malformed.
uint64_t StartTimeFromStat(const std::string& stat_text);

// Reads all of `path` into `buf` without allocating: the number of bytes,
// or -1 with errno set (EFBIG when it holds `size` bytes or more).
long ReadSmallFile(const char* path, char* buf, size_t size);
// execve(path, argv, environ) for the lean path, which passes argv on as it
// came (argv[0] replaced by the caller); returns only when it failed.
void ExecArgv(const char* path, char* const* argv);

// A file descriptor this process owns, closed when destroyed.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// Creates `path` with `content`, failing with AlreadyExists when it exists
// (as O_EXCL, but never visible half-written: a temporary file link()ed
// into place); missing parent directories are created with mode 0700.
// Returns the file, still open for writing, for OverwriteFile.
absl::StatusOr<OwnedFd> CreateFileExclusive(const std::string& path,
                                            const std::string& content);
// The largest content OverwriteFile writes in one piece that no signal can
// split: the kernel copies a write into the page cache a page at a time
// and stops for a fatal signal only between pages (mm/filemap.c,
// generic_perform_write), and pages are at least 4096 bytes.
inline constexpr size_t kUnsplittableWrite = 4096;
// Writes `content` over the start of the open file `fd` with one pwrite at
// offset 0; `path` names it in errors. A longer file keeps its tail: the
// caller pads. Unsplittable by SIGKILL up to kUnsplittableWrite bytes; a
// reader that races it may see old and new bytes mixed.
absl::Status OverwriteFile(int fd, const std::string& content,
                           const std::string& path);
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

#endif  // KMEMGUARD_SHIM_COMMON_PROCESS_H_

// SPDX-License-Identifier: Apache-2.0
//
// Process plumbing of the wrapper and the hook: finding the real runtime,
// exec, a detached watcher that outlives the exec, small host facts. These
// are the shim's only system calls outside lib/cgroupfs.cc.

#ifndef KMEMGUARD_SHIM_PROCESS_H_
#define KMEMGUARD_SHIM_PROCESS_H_

#include <functional>
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

// Runs `fn` in a detached grandchild once this process (which is about to
// exec the real runtime, keeping its pid) has exited. The grandchild closes
// every inherited fd (so no caller's pipe stays open), moves to "/" and a
// new session. Returns once the grandchild is started.
absl::Status RunAfterExit(std::function<void()> fn);

// Runs `fn` in a forked child and returns the string it produced (sent
// back through a pipe). Internal error when the child dies without
// answering.
absl::StatusOr<std::string> RunInChild(const std::function<std::string()>& fn);

// The kernel release (uname -r).
std::string HostKernelRelease();
// The current working directory.
absl::StatusOr<std::string> WorkingDirectory();
// Writes `content` to `path` atomically (temporary file, fsync, rename),
// creating missing parent directories with mode 0700. The file gets `mode`
// (not reduced by the umask) before it becomes visible under `path`.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& content,
                                 unsigned mode = 0600);
// Removes a file; a missing one is fine.
absl::Status RemoveFile(const std::string& path);
// Appends one line to `path` (O_APPEND|O_CREAT, 0644), as runc opens --log.
absl::Status AppendLine(const std::string& path, const std::string& line);
// True when `fd` is a terminal.
bool IsTerminal(int fd);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_PROCESS_H_

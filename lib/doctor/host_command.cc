// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/doctor/host_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {
constexpr size_t kReadChunk = 8192;
}  // namespace

absl::StatusOr<HostCommandResult> RunHostCommand(
    const std::vector<std::string>& argv, absl::Duration timeout,
    size_t max_bytes) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return ErrnoError(errno, "pipe for", argv[0]);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return ErrnoError(err, "fork for", argv[0]);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until execv.
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  HostCommandResult result;
  absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  char buf[kReadChunk];
  for (;;) {
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {pipe_fds[0], POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 60000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t room = max_bytes - std::min(max_bytes, result.output.size());
    result.output.append(buf, std::min(room, static_cast<size_t>(n)));
  }
  close(pipe_fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return ErrnoError(errno, "waitpid for", argv[0]);
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        argv[0], ": no answer within ", absl::FormatDuration(timeout)));
  }
  if (WIFEXITED(wstatus)) {
    result.exit_status = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_status = 128 + WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace kmemguard

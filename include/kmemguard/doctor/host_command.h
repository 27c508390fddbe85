// SPDX-License-Identifier: Apache-2.0
//
// kmemguard::doctor's process layer: the one place of the library that
// forks and execs (the `--version` probe of runc, crun and the kubelet).
// kmemguard::core never starts a process (docs/architecture.md).

#ifndef KMEMGUARD_DOCTOR_HOST_COMMAND_H_
#define KMEMGUARD_DOCTOR_HOST_COMMAND_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kmemguard {

// Runs `argv` (argv[0] an absolute path, no shell) with stdin on /dev/null
// and returns its exit status and its stdout and stderr combined, truncated
// to `max_bytes`. The child is killed (SIGKILL) after `timeout`: then
// DeadlineExceeded. For `runc --version` and friends in `kmemguard doctor`.
struct HostCommandResult {
  int exit_status = -1;  // WEXITSTATUS, or 128 + signal
  std::string output;
};
absl::StatusOr<HostCommandResult> RunHostCommand(
    const std::vector<std::string>& argv, absl::Duration timeout,
    size_t max_bytes = 65536);

}  // namespace kmemguard

#endif  // KMEMGUARD_DOCTOR_HOST_COMMAND_H_

// SPDX-License-Identifier: Apache-2.0
//
// The cgroup subcommands of `kmemguard`: apply, set, stats, remove.

#ifndef KMEMGUARD_SHIM_CLI_CMD_CGROUP_H_
#define KMEMGUARD_SHIM_CLI_CMD_CGROUP_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace kmemguard::cli {

// Adds the subcommands to `app`. Each sets `*run` to its action when chosen;
// the action returns the exit status.
void RegisterCgroupCommands(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CMD_CGROUP_H_

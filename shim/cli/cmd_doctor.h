// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard doctor`: memory-cgroup ID headroom, dying cgroups, kmem state
// and runtimes of the host (docs/doctor.md).

#ifndef KMEMGUARD_SHIM_CLI_CMD_DOCTOR_H_
#define KMEMGUARD_SHIM_CLI_CMD_DOCTOR_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace kmemguard::cli {

// Adds `doctor` to `app`; sets `*run` to its action when chosen. The action
// returns 0 ok, 1 warning, 2 critical, 3 could not inspect.
void RegisterDoctorCommand(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CMD_DOCTOR_H_

// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard simulate`: pod churn on a simulated 3.10 kernel under each kmem
// policy (lib/churn.cc, docs/simulation.md).

#ifndef KMEMGUARD_SHIM_CLI_CMD_SIMULATE_H_
#define KMEMGUARD_SHIM_CLI_CMD_SIMULATE_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace kmemguard::cli {

// Adds the `simulate` subcommand to `app`; sets `*run` when it is chosen.
void RegisterSimulateCommand(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CMD_SIMULATE_H_

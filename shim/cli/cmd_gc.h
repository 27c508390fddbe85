// SPDX-License-Identifier: Apache-2.0
//
// kmemguard gc: reap what kmemguard-runtime created for containers that no
// longer exist (shim/runtime/gc.h, docs/process-model.md).

#ifndef KMEMGUARD_SHIM_CLI_CMD_GC_H_
#define KMEMGUARD_SHIM_CLI_CMD_GC_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace kmemguard::cli {

void RegisterGcCommand(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CMD_GC_H_

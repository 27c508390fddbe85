// SPDX-License-Identifier: Apache-2.0
//
// kmemguard: the command line over the library.

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/cli_common.h"
#include "cli/cmd_cgroup.h"
#include "cli/cmd_configure.h"
#include "cli/cmd_doctor.h"
#include "cli/cmd_gc.h"
#include "cli/cmd_node_agent.h"
#include "cli/cmd_simulate.h"

int main(int argc, char** argv) {
  CLI::App app{
      "kmemguard: runc-compatible cgroup v1 memory operations with the kmem "
      "guard, and diagnostics for memory-cgroup ID exhaustion",
      "kmemguard"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string("kmemguard " KMEMGUARD_VERSION));
  std::function<int()> run;
  kmemguard::cli::RegisterCgroupCommands(app, &run);
  kmemguard::cli::RegisterConfigureCommand(app, &run);
  kmemguard::cli::RegisterDoctorCommand(app, &run);
  kmemguard::cli::RegisterNodeAgentCommand(app, &run);
  kmemguard::cli::RegisterGcCommand(app, &run);
  kmemguard::cli::RegisterSimulateCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kmemguard::cli::kExitOk : kmemguard::cli::kExitUsage;
  }
  return run ? run() : kmemguard::cli::kExitUsage;
}

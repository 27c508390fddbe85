// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard configure --runtime docker|containerd|crio|podman`: registers
// kmemguard-runtime with an engine, without clobbering other settings.

#ifndef KMEMGUARD_SHIM_CMD_CONFIGURE_H_
#define KMEMGUARD_SHIM_CMD_CONFIGURE_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace kmemguard::cli {

struct ConfigureOptions {
  std::string engine;        // docker, containerd, crio, podman
  std::string runtime_path = "/usr/local/bin/kmemguard-runtime";
  std::string name = "kmemguard";
  std::string config_file;   // default per engine
  bool set_as_default = false;
  bool dry_run = false;
};

// The default file `configure` writes for `engine`.
std::string DefaultConfigureTarget(const std::string& engine);

// Returns the new content of the target file. `existing` is the current
// content ("" when the file is missing); for Docker it is merged (other
// keys and runtimes are kept), for the others the file is a drop-in of our
// own and is generated whole.
absl::StatusOr<std::string> RenderEngineConfig(const ConfigureOptions& o,
                                               const std::string& existing);

void RegisterConfigureCommand(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CMD_CONFIGURE_H_

// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard node-agent`: the entrypoint of the DaemonSet's FROM-scratch
// image (deploy/kubernetes/, docs/fleet.md). With the node's root mounted at
// --host-root it installs the binaries onto the node atomically, runs
// `configure` for the node's engine, then writes doctor's Prometheus report
// into node-exporter's textfile directory every --period until SIGTERM.
// With --remove it undoes configure and removes the report instead.

#ifndef KMEMGUARD_SHIM_CLI_CMD_NODE_AGENT_H_
#define KMEMGUARD_SHIM_CLI_CMD_NODE_AGENT_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace kmemguard::cli {

// The engine to configure under `host_root` for --runtime auto: "docker"
// when <host_root>/run/docker.sock is a socket, else "containerd" when
// <host_root>/run/containerd/containerd.sock is; NotFound otherwise.
absl::StatusOr<std::string> DetectNodeEngine(const std::string& host_root);

// Whether containerd's main config.toml imports the drop-in configure
// writes (/etc/containerd/conf.d/99-kmemguard.toml): a top-level, not
// commented-out `imports` array naming conf.d/*.toml or the file itself.
bool ContainerdImportsConfD(const std::string& config_toml);

void RegisterNodeAgentCommand(CLI::App& app, std::function<int()>* run);

}  // namespace kmemguard::cli

#endif  // KMEMGUARD_SHIM_CLI_CMD_NODE_AGENT_H_

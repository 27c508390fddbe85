// SPDX-License-Identifier: Apache-2.0
//
// The runtime command line, as containerd, CRI-O, Podman and Docker send it
// to runc (runtime-integration.md §2):
//   <runtime> [global options] <command> [command options] <container-id>
// parsed only far enough to find the command, the bundle and the id. It
// never rejects a flag it does not know: every argument is passed on.

#ifndef KMEMGUARD_SHIM_RUNTIME_RUNTIME_ARGS_H_
#define KMEMGUARD_SHIM_RUNTIME_RUNTIME_ARGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kmemguard::shim {

struct RuntimeArgs {
  // Global options the wrapper reads.
  std::string root;          // --root
  std::string log;           // --log
  std::string log_format;    // --log-format (text|json)
  bool debug = false;        // --debug
  bool systemd_cgroup = false;  // --systemd-cgroup, or crun --cgroup-manager systemd
  bool cgroup_manager_disabled = false;  // crun --cgroup-manager disabled
  // The subcommand ("create", "run", ...), empty when there is none (e.g.
  // `runc --version`).
  std::string command;
  // Command options the wrapper reads (create, run, restore).
  std::string bundle;        // --bundle / -b; empty = the working directory
  std::string container_id;  // the positional argument
  // Our own flags, stripped from `passthrough`.
  std::string kmemguard_config;   // --kmemguard-config
  std::string kmemguard_runtime;  // --kmemguard-runtime
  // The arguments to give the real runtime (without argv[0]).
  std::vector<std::string> passthrough;
};

// Parses argv[1..]. Flags may be written -x or --x, "--x v" or "--x=v".
// Values equal to subcommand names ("--root create") are values. "--" ends
// the options. An unknown global flag takes the next argument as its value
// when that argument is not a runtime command (IsRuntimeCommand), so
// "--x v create" finds "create". Fails only on our own flags without a
// value.
absl::StatusOr<RuntimeArgs> ParseRuntimeArgs(
    const std::vector<std::string>& args);

// The command of argv, found without allocating (kmemguard-runtime's lean
// path, runtime/lean_passthrough.h), when args (argv[1..]) hold one and no
// kmemguard flag or "--" comes before it. Then it is exactly
// ParseRuntimeArgs(args).command, and ParseRuntimeArgs passes args on
// unchanged (tests/unit/shim_test.cc; runtime_args_fuzz checks it on every
// input). nullopt otherwise, and for a call without a command.
std::optional<absl::string_view> UnchangedCommand(
    absl::Span<const char* const> args);

// True for the subcommands of runc 1.x and crun.
bool IsRuntimeCommand(const std::string& word);

// True for the subcommands that create a container's cgroups.
bool CreatesCgroups(const std::string& command);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_RUNTIME_ARGS_H_

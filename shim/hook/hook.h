// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-hook: an OCI hook for createRuntime/prestart and poststop. A
// hook runs after the runtime created the cgroup, so it cannot prevent kmem
// activation; it reports (kmem active on the container's cgroup or a
// parent; memory-cgroup ID headroom low) and, at poststop, removes a
// leftover memory cgroup when configured to.

#ifndef KMEMGUARD_SHIM_HOOK_HOOK_H_
#define KMEMGUARD_SHIM_HOOK_HOOK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/shim_config.h"
#include "kmemguard/core/oci.h"

namespace kmemguard::shim {

enum class HookStage { kCreateRuntime, kPoststop };

// The stage from the hook's first argument (prestart and createRuntime are
// treated alike), else from the state: "creating"/"created"/"running" or a
// pid > 0 mean createRuntime, "stopped" means poststop (the rule of
// oci-register-machine). InvalidArgument for an unknown stage argument.
absl::StatusOr<HookStage> HookStageFrom(const std::vector<std::string>& args,
                                        const OciState& state);

struct HookEnvironment {
  std::string proc_root = "/proc";
  std::string kernel_release;
};

struct HookOutcome {
  std::vector<std::string> reports;  // one line each, for syslog/the log
  // Set when the hook must fail (hook.fail-on-kmem): the one stderr line.
  std::string failure;
};

// Runs the hook's checks for `state` (its bundle's config.json is read).
absl::StatusOr<HookOutcome> RunHook(HookStage stage, const OciState& state,
                                    const ShimConfig& config,
                                    const HookEnvironment& env);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_HOOK_HOOK_H_

// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-hook [createRuntime|prestart|poststop]: the OCI state arrives on
// stdin. Reports go to syslog (the runtime captures a hook's stdout and
// stderr and shows them only on failure) and to the debug log if one is
// configured; a failure is one short line on stderr.

#include <syslog.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "common/runtime_log.h"
#include "common/seccomp_filter.h"
#include "common/shim_config.h"
#include "hook/hook.h"
#include "kmemguard/core/oci.h"

namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "kmemguard-hook: %s\n", msg.c_str());
  syslog(LOG_ERR, "%s", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::printf("kmemguard-hook %s\n", KMEMGUARD_VERSION);
    return 0;
  }
  // LOG_NDELAY: connect now, so the confined process only sends.
  openlog("kmemguard-hook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string input = kmemguard::shim::ReadFd(0, kmemguard::kMaxOciConfigBytes);
  absl::StatusOr<kmemguard::OciState> state = kmemguard::ParseOciState(input);
  if (!state.ok()) return Fail(std::string(state.status().message()));
  absl::StatusOr<kmemguard::shim::HookStage> stage =
      kmemguard::shim::HookStageFrom(args, *state);
  if (!stage.ok()) return Fail(std::string(stage.status().message()));
  absl::StatusOr<kmemguard::shim::ShimConfig> config =
      kmemguard::shim::LoadShimConfig("", "");
  if (!config.ok()) return Fail(std::string(config.status().message()));
  kmemguard::shim::RuntimeLog log("", "", config->debug_log, "kmemguard-hook");
  if (absl::Status c = kmemguard::shim::Confine(
          kmemguard::shim::Confinement::kCgroupWorkSyslog);
      !c.ok()) {
    return Fail(absl::StrCat("seccomp: ", c.message()));
  }
  kmemguard::shim::HookEnvironment env;
  env.kernel_release = kmemguard::shim::HostKernelRelease();
  absl::StatusOr<kmemguard::shim::HookOutcome> outcome =
      kmemguard::shim::RunHook(*stage, *state, *config, env);
  if (!outcome.ok()) {
    // A hook that cannot inspect must not stop the container.
    log.Warning(outcome.status().message());
    syslog(LOG_WARNING, "%s", std::string(outcome.status().message()).c_str());
    return 0;
  }
  for (const std::string& line : outcome->reports) {
    log.Warning(line);
    syslog(LOG_NOTICE, "%s", line.c_str());
  }
  if (!outcome->failure.empty()) return Fail(outcome->failure);
  return 0;
}

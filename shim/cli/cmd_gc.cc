// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_gc.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/cli_common.h"
#include "common/seccomp_filter.h"
#include "common/shim_config.h"
#include "runtime/gc.h"

namespace kmemguard::cli {

void RegisterGcCommand(CLI::App& app, std::function<int()>* run) {
  struct Options {
    bool dry_run = false;
    std::string format = "text";
    std::string state_dir;
    std::string config;
  };
  static Options o;
  CLI::App* sub = app.add_subcommand(
      "gc",
      "remove what kmemguard-runtime created for containers that no longer "
      "exist (only when every identity check agrees)");
  sub->add_flag("--dry-run", o.dry_run, "report, remove nothing");
  sub->add_option("--format", o.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--state-dir", o.state_dir,
                  "the records (default: state-dir of the config file)");
  sub->add_option("--config", o.config,
                  "the config file (default: $KMEMGUARD_CONFIG, then "
                  "/etc/kmemguard/config.toml)");
  sub->callback([run] {
    *run = [] {
      std::string state_dir = o.state_dir;
      if (state_dir.empty()) {
        absl::StatusOr<shim::ShimConfig> config =
            shim::LoadShimConfig(o.config, "");
        if (!config.ok()) {
          PrintError(config.status().message());
          return kExitError;
        }
        state_dir = config->state_dir;
      }
      absl::Status confined = shim::Confine(shim::Confinement::kCgroupWork);
      if (!confined.ok()) {
        PrintError(absl::StrCat("seccomp: ", confined.message()));
        return kExitError;
      }
      shim::GcOptions options;
      options.dry_run = o.dry_run;
      std::vector<shim::GcEntry> entries =
          shim::CollectGarbage(state_dir, options);
      std::string out = o.format == "json"
                            ? shim::GcEntriesToJson(entries, o.dry_run)
                            : shim::GcEntriesToText(entries);
      std::fputs(out.c_str(), stdout);
      for (const shim::GcEntry& e : entries) {
        if (e.action == shim::GcAction::kError) return kExitError;
      }
      return kExitOk;
    };
  });
}

}  // namespace kmemguard::cli

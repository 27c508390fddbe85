// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_doctor.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "boost/filesystem.hpp"
#include "cli/cli_common.h"
#include "common/process.h"
#include "common/shim_config.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/doctor/doctor.h"

namespace kmemguard::cli {
namespace {

// `doctor` has its own exit codes; usage errors there are "could not
// inspect".
constexpr int kExitCouldNotInspect = 3;

struct DoctorFlags {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string format = "text";
  std::string color = "auto";
  double warning_percent = 50;
  double critical_percent = 80;
  std::string watch;
  std::string interval;
  std::string runtime_path;  // unset: $PATH
  bool runtime_path_set = false;
  std::vector<std::string> runtimes = {"runc", "crun"};
  bool no_runtimes = false;
  int64_t run_scope_threshold = 500;
  std::string output;  // "": stdout
  std::string state_dir;  // unset: config.toml's state-dir, else the default
};

// kmemguard-runtime's state directory as its configuration says
// (/etc/kmemguard/config.toml, or $KMEMGUARD_CONFIG), else /run/kmemguard.
std::string ConfiguredStateDir() {
  absl::StatusOr<shim::ShimConfig> config = shim::LoadShimConfig("", "");
  return config.ok() ? config->state_dir : std::string(kDefaultStateDir);
}

// `root` made absolute against the working directory, "." and ".."
// removed (lexically: a recorded tree may hold symbolic links of the host
// it was recorded on, which must not be followed here).
std::string AbsoluteRoot(const std::string& root) {
  boost::system::error_code ec;
  boost::filesystem::path cwd = boost::filesystem::current_path(ec);
  if (ec) cwd = "/";
  return boost::filesystem::absolute(root, cwd).lexically_normal().string();
}

int RunDoctorCommand(const DoctorFlags& f) {
  DoctorOptions o;
  // The roots may be given relative (recorded trees in tests).
  o.proc_root = AbsoluteRoot(f.proc_root);
  o.sys_root = AbsoluteRoot(f.sys_root);
  for (std::string* root : {&o.proc_root, &o.sys_root}) {
    while (root->size() > 1 && root->back() == '/') root->pop_back();
  }
  if (f.warning_percent <= 0 || f.critical_percent > 100 ||
      f.warning_percent > f.critical_percent) {
    PrintError("need 0 < --warning-percent <= --critical-percent <= 100");
    return kExitCouldNotInspect;
  }
  o.warning_ratio = f.warning_percent / 100;
  o.critical_ratio = f.critical_percent / 100;
  for (const auto& [text, out] :
       {std::pair{&f.watch, &o.watch}, std::pair{&f.interval, &o.interval}}) {
    if (text->empty()) continue;
    if (!absl::ParseDuration(*text, out) || *out < absl::ZeroDuration()) {
      PrintError("invalid duration \"" + *text +
                 "\" (examples: 30s, 10m, 1h30m)");
      return kExitCouldNotInspect;
    }
  }
  if (o.interval > absl::ZeroDuration() && o.watch == absl::ZeroDuration()) {
    PrintError("--interval needs --watch");
    return kExitCouldNotInspect;
  }
  std::string path = f.runtime_path;
  if (!f.runtime_path_set) {
    const char* env = std::getenv("PATH");
    path = env != nullptr ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  }
  o.search_path = absl::StrSplit(path, ':', absl::SkipEmpty());
  o.runtimes = f.runtimes;
  o.inspect_runtimes = !f.no_runtimes;
  o.run_scope_threshold = f.run_scope_threshold;
  o.state_dir = f.state_dir.empty() ? ConfiguredStateDir() : f.state_dir;

  DoctorReport report = RunDoctor(o);
  std::string out;
  if (f.format == "json") {
    out = DoctorReportToJson(report) + "\n";
  } else if (f.format == "prometheus") {
    out = DoctorReportToPrometheus(report);
  } else {
    bool color = f.color == "always" ||
                 (f.color == "auto" && HostFdIsTerminal(1) &&
                  std::getenv("NO_COLOR") == nullptr);
    out = DoctorReportToText(report, color);
  }
  if (!f.output.empty()) {
    // A scraper (node-exporter's textfile collector) must never read a
    // half-written file: temporary file, fsync, rename; world-readable, as
    // node-exporter runs as its own user.
    absl::Status s = shim::WriteFileAtomically(f.output, out, 0644);
    if (!s.ok()) {
      PrintError(s.message());
      return kExitCouldNotInspect;
    }
    return VerdictExitCode(report.verdict);
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return VerdictExitCode(report.verdict);
}

}  // namespace

void RegisterDoctorCommand(CLI::App& app, std::function<int()>* run) {
  static DoctorFlags f;
  CLI::App* doctor = app.add_subcommand(
      "doctor",
      "report memory-cgroup ID headroom, dying cgroups, kmem accounting and "
      "runtimes; exit 0 ok, 1 warning, 2 critical, 3 could not inspect");
  doctor->add_option("--proc", f.proc_root, "procfs root (default /proc)");
  doctor->add_option("--sys", f.sys_root,
                     "sysfs root (default /sys); cgroup mount points from "
                     "mountinfo under /sys are rebased onto it");
  doctor->add_option("--format", f.format, "text (default), json, prometheus")
      ->check(CLI::IsMember({"text", "json", "prometheus"}));
  doctor->add_option("--color", f.color,
                     "colour the text report: auto (a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  doctor->add_option("--warning-percent", f.warning_percent,
                     "warn at this share of the 65,535 IDs in use (default 50)");
  doctor->add_option("--critical-percent", f.critical_percent,
                     "critical at this share (default 80)");
  doctor->add_option("--watch", f.watch,
                     "sample for this long (e.g. 10m) and report the growth "
                     "of dying cgroups and the time to the ID limit");
  doctor->add_option("--interval", f.interval,
                     "sample every DURATION while watching (default: once, "
                     "at the end)");
  doctor
      ->add_option_function<std::string>(
          "--runtime-path",
          [](const std::string& v) {
            f.runtime_path = v;
            f.runtime_path_set = true;
          },
          "colon-separated directories searched for the runtimes and the "
          "kubelet (default $PATH)");
  doctor->add_option("--runtime", f.runtimes,
                     "runtime names to look for (default runc crun)");
  doctor->add_flag("--no-runtimes", f.no_runtimes,
                   "do not look for or run runtimes and the kubelet");
  doctor->add_option("--run-scope-threshold", f.run_scope_threshold,
                     "this many systemd run-*.scope cgroups point at "
                     "kubernetes#70324 (default 500)");
  doctor->add_option("--output", f.output,
                     "write the report to this file atomically (temporary "
                     "file and rename, mode 0644) instead of stdout");
  doctor->add_option("--state-dir", f.state_dir,
                     "kmemguard-runtime's state directory, where it counts "
                     "containers started without the guard (default: "
                     "state-dir of /etc/kmemguard/config.toml, else "
                     "/run/kmemguard)");
  doctor->callback([run] { *run = [] { return RunDoctorCommand(f); }; });
}

}  // namespace kmemguard::cli

// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_node_agent.h"

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "boost/filesystem.hpp"
#include "cli/cli_common.h"
#include "cli/cmd_configure.h"
#include "common/process.h"
#include "common/shim_config.h"
#include "kmemguard/core/status.h"
#include "kmemguard/doctor/doctor.h"

namespace kmemguard::cli {
namespace {

struct NodeAgentFlags {
  std::string host_root = "/host";
  std::string bin_dir;  // "": the directory of this executable
  std::string install_dir = "/usr/local/bin";
  std::vector<std::string> binaries = {"kmemguard", "kmemguard-runtime",
                                       "kmemguard-hook"};
  std::string engine = "auto";
  bool set_as_default = false;
  std::string textfile_dir = "/var/lib/prometheus/node-exporter";
  std::string period = "5m";
  std::string proc_root = "/proc";
  std::string sys_root;  // "": <host-root>/sys
  std::string runtime_path;  // "": the node's usual directories
  bool remove = false;
  bool once = false;
};

void Log(const std::string& line) {
  std::printf("kmemguard node-agent: %s\n", line.c_str());
  std::fflush(stdout);
}

namespace fs = boost::filesystem;

bool IsSocket(const std::string& path) {
  boost::system::error_code ec;
  return fs::status(path, ec).type() == fs::socket_file;
}

// Copies `src` to `dst` as a new file renamed into place, so a container
// starting meanwhile runs either the old or the new binary, never half of
// one. Unchanged binaries are left alone (the same inode keeps running).
absl::StatusOr<bool> InstallBinary(const std::string& src,
                                   const std::string& dst) {
  absl::StatusOr<std::string> content = ReadFileText(src);
  if (!content.ok()) return content.status();
  absl::StatusOr<std::string> old = ReadFileText(dst);
  boost::system::error_code ec;
  if (old.ok() && *old == *content &&
      (fs::status(dst, ec).permissions() & fs::perms_mask) == 0755) {
    return false;
  }
  absl::Status s = shim::WriteFileAtomically(dst, *content, 0755);
  if (!s.ok()) return s;
  return true;
}

ConfigureOptions NodeConfigureOptions(const NodeAgentFlags& f,
                                      const std::string& engine) {
  ConfigureOptions o;
  o.engine = engine;
  // The engine runs the wrapper at its path on the node, not in the pod.
  o.runtime_path = absl::StrCat(f.install_dir, "/kmemguard-runtime");
  o.config_file = absl::StrCat(f.host_root, DefaultConfigureTarget(engine));
  o.state_dir = absl::StrCat(f.host_root, "/var/lib/kmemguard/configure");
  o.set_as_default = f.set_as_default;
  o.remove = f.remove;
  o.host_root = f.host_root;
  return o;
}

// The node's kmemguard-runtime state directory, as the pod sees it: the
// node's /etc/kmemguard/config.toml `state-dir` (else the default
// /run/kmemguard) under --host-root. Doctor reads the unguarded-starts
// counter there; the pod's own /run has none, and the count would be
// missing on every node of the DaemonSet.
std::string NodeStateDir(const NodeAgentFlags& f) {
  const std::string path =
      absl::StrCat(f.host_root, "/etc/kmemguard/config.toml");
  std::string dir = kDefaultStateDir;
  absl::StatusOr<std::string> text = ReadFileText(path);
  if (text.ok()) {
    absl::StatusOr<shim::ShimConfig> config = shim::ParseShimConfig(*text, path);
    if (config.ok()) {
      dir = config->state_dir;
    } else {
      PrintWarning(absl::StrCat(config.status().message(),
                                "; reading the counter in ", dir));
    }
  }
  return absl::StrCat(f.host_root, dir);
}

DoctorOptions NodeDoctorOptions(const NodeAgentFlags& f) {
  DoctorOptions o;
  o.proc_root = f.proc_root;
  o.state_dir = NodeStateDir(f);
  o.sys_root = f.sys_root.empty() ? absl::StrCat(f.host_root, "/sys") : f.sys_root;
  if (!f.runtime_path.empty()) {
    o.search_path = absl::StrSplit(f.runtime_path, ':', absl::SkipEmpty());
  } else {
    for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                            "/usr/bin", "/sbin", "/bin"}) {
      o.search_path.push_back(absl::StrCat(f.host_root, dir));
    }
  }
  return o;
}

std::string TextfilePath(const NodeAgentFlags& f) {
  return absl::StrCat(f.host_root, f.textfile_dir, "/kmemguard.prom");
}

// Creates the missing directories of `dir` with mode 0755. The textfile
// directory must be searchable by node-exporter, which runs as its own user
// (Debian: prometheus); WriteFileAtomically would create it 0700, and
// node-exporter would then serve nothing of ours without a word.
absl::Status MakeReadableDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    boost::system::error_code ec;
    if (!prefix.empty() && fs::create_directory(prefix, ec)) {
      fs::permissions(prefix, static_cast<fs::perms>(0755), ec);
    }
    if (ec) return ErrnoError(ec.value(), "mkdir", prefix);
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

absl::Status WriteDoctorTextfile(const NodeAgentFlags& f) {
  DoctorReport report = RunDoctor(NodeDoctorOptions(f));
  absl::Status s = MakeReadableDirs(absl::StrCat(f.host_root, f.textfile_dir));
  if (!s.ok()) return s;
  return shim::WriteFileAtomically(TextfilePath(f),
                                   DoctorReportToPrometheus(report), 0644);
}

// Waits up to `d` for SIGTERM (the kubelet stopping the pod) or SIGINT;
// true when one came (now or during the step before).
bool WaitForStop(absl::Duration d) {
  int sig = shim::WaitForStopSignal(d);
  if (sig == 0) return false;
  Log(absl::StrCat("signal ", sig, ", exiting"));
  return true;
}

int RunNodeAgent(NodeAgentFlags f) {
  absl::Duration period;
  if (!absl::ParseDuration(f.period, &period) || period <= absl::ZeroDuration()) {
    PrintError(absl::StrCat("--period: invalid duration \"", f.period,
                            "\" (examples: 30s, 5m)"));
    return kExitUsage;
  }
  while (f.host_root.size() > 1 && f.host_root.back() == '/') {
    f.host_root.pop_back();
  }
  if (f.host_root == "/") f.host_root.clear();
  // SIGTERM (the kubelet stopping the pod) ends the agent between steps.
  shim::CatchStopSignals();

  std::string engine = f.engine;
  if (engine == "auto") {
    absl::StatusOr<std::string> detected = DetectNodeEngine(f.host_root);
    if (!detected.ok()) {
      PrintError(detected.status().message());
      return kExitError;
    }
    engine = *detected;
    Log(absl::StrCat("engine: ", engine, " (detected)"));
  }

  if (f.remove) {
    // Rollback. The binaries stay: containers created through the wrapper
    // are still managed through it (kill, delete) until they are gone.
    if (engine != "none") {
      absl::Status s = RunConfigure(NodeConfigureOptions(f, engine),
                                    NodeConfigureOptions(f, engine).config_file);
      if (!s.ok()) {
        PrintError(s.message());
        return kExitError;
      }
    }
    absl::Status s = shim::RemoveFile(TextfilePath(f));
    if (!s.ok()) {
      PrintError(s.message());
      return kExitError;
    }
    Log("configuration removed; binaries left in place");
    if (f.once) return kExitOk;
    WaitForStop(absl::InfiniteDuration());
    return kExitOk;
  }

  std::string bin_dir = f.bin_dir;
  if (bin_dir.empty()) {
    absl::StatusOr<std::string> own = OwnBinaryDirectory();
    if (!own.ok()) {
      PrintError(own.status().message());
      return kExitError;
    }
    bin_dir = *own;
  }
  for (const std::string& name : f.binaries) {
    std::string dst = absl::StrCat(f.host_root, f.install_dir, "/", name);
    absl::StatusOr<bool> changed =
        InstallBinary(absl::StrCat(bin_dir, "/", name), dst);
    if (!changed.ok()) {
      PrintError(changed.status().message());
      return kExitError;
    }
    Log(absl::StrCat(*changed ? "installed " : "up to date: ", dst));
  }
  if (engine != "none") {
    ConfigureOptions o = NodeConfigureOptions(f, engine);
    if (engine == "containerd") {
      absl::StatusOr<std::string> main_config =
          ReadFileText(absl::StrCat(f.host_root, "/etc/containerd/config.toml"));
      if (!main_config.ok() || !ContainerdImportsConfD(*main_config)) {
        PrintWarning(
            "/etc/containerd/config.toml does not import "
            "/etc/containerd/conf.d/*.toml; containerd will not see the "
            "kmemguard runtime (docs/fleet.md)");
      }
    }
    absl::Status s = RunConfigure(o, o.config_file);
    if (!s.ok()) {
      PrintError(s.message());
      return kExitError;
    }
  }
  while (true) {
    absl::Status s = WriteDoctorTextfile(f);
    // A failed write is reported and retried next period; the stale file
    // then trips KmemguardDoctorMetricsStale.
    if (!s.ok()) PrintWarning(s.message());
    if (f.once) return s.ok() ? kExitOk : kExitError;
    if (WaitForStop(period)) return kExitOk;
  }
}

}  // namespace

bool ContainerdImportsConfD(const std::string& config_toml) {
  // Top-level `imports = [...]` (containerd's config.toml, version 2), the
  // array possibly over several lines; comments dropped. A commented-out
  // imports line, or one inside a [table], imports nothing.
  std::string imports;
  bool in_imports = false;
  for (absl::string_view line : absl::StrSplit(config_toml, '\n')) {
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (!in_imports) {
      if (absl::StartsWith(line, "[")) break;  // the first table: too late
      if (!absl::StartsWith(line, "imports")) continue;
      absl::string_view rest =
          absl::StripLeadingAsciiWhitespace(line.substr(7));
      if (!absl::StartsWith(rest, "=")) continue;
      in_imports = true;
    }
    absl::StrAppend(&imports, line, "\n");
    if (absl::StrContains(line, "]")) break;
  }
  return absl::StrContains(imports, "\"/etc/containerd/conf.d/*.toml\"") ||
         absl::StrContains(imports, "\"/etc/containerd/conf.d/99-kmemguard.toml\"");
}

absl::StatusOr<std::string> DetectNodeEngine(const std::string& host_root) {
  // Docker first: on a dockershim node dockerd runs on top of containerd,
  // and the kubelet talks to dockerd.
  if (IsSocket(absl::StrCat(host_root, "/run/docker.sock"))) return "docker";
  if (IsSocket(absl::StrCat(host_root, "/run/containerd/containerd.sock"))) {
    return std::string("containerd");
  }
  return absl::NotFoundError(absl::StrCat(
      "no engine socket at ", host_root, "/run/docker.sock or ", host_root,
      "/run/containerd/containerd.sock; set --runtime"));
}

void RegisterNodeAgentCommand(CLI::App& app, std::function<int()>* run) {
  static NodeAgentFlags f;
  CLI::App* sub = app.add_subcommand(
      "node-agent",
      "DaemonSet entrypoint: install the binaries on the node, configure its "
      "engine, write doctor's metrics every --period until SIGTERM");
  sub->add_option("--host-root", f.host_root,
                  "where the node's / is mounted (default /host)");
  sub->add_option("--bin-dir", f.bin_dir,
                  "where the binaries to install are (default: this "
                  "executable's directory)");
  sub->add_option("--install-dir", f.install_dir,
                  "where they go on the node (default /usr/local/bin)");
  sub->add_option("--binary", f.binaries, "binaries to install");
  sub->add_option("--runtime", f.engine,
                  "engine to configure: auto (default), docker, containerd, "
                  "crio, podman, none")
      ->check(CLI::IsMember({"auto", "docker", "containerd", "crio", "podman",
                             "none"}));
  sub->add_flag("--set-as-default", f.set_as_default,
                "make kmemguard the engine's default runtime");
  sub->add_option("--textfile-dir", f.textfile_dir,
                  "node-exporter's textfile directory on the node (default "
                  "/var/lib/prometheus/node-exporter)");
  sub->add_option("--period", f.period, "doctor period (default 5m)");
  sub->add_option("--proc", f.proc_root, "procfs root for doctor (default /proc)");
  sub->add_option("--sys", f.sys_root,
                  "sysfs root for doctor (default <host-root>/sys)");
  sub->add_option("--runtime-path", f.runtime_path,
                  "directories doctor searches for runc and the kubelet "
                  "(default: the node's /usr/local/sbin ... /bin)");
  sub->add_flag("--remove", f.remove,
                "roll back: configure --remove and delete the metrics file");
  sub->add_flag("--once", f.once, "one pass, then exit");
  sub->callback([run] { *run = [] { return RunNodeAgent(f); }; });
}

}  // namespace kmemguard::cli

// SPDX-License-Identifier: Apache-2.0

#include "runtime/runtime_args.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/lean_path.h"

namespace kmemguard::shim {
namespace {

// The word lists below are constant arrays searched in order: the wrapper
// parses argv on every runtime call, and a handful of comparisons beat
// building a std::set of strings first.
bool OneOf(absl::Span<const absl::string_view> words, absl::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

// Global options that take a value: runc main.go (root, log, log-format,
// rootless, criu) and crun (cgroup-manager, log-level).
constexpr absl::string_view kGlobalValueFlags[] = {
    "root", "log", "log-format", "rootless", "criu", "cgroup-manager",
    "log-level"};

// Command options that take a value, for the commands we look into: runc
// create.go, run.go and restore.go.
constexpr absl::string_view kCommandValueFlags[] = {
    "bundle", "b", "console-socket", "pidfd-socket", "pid-file",
    "preserve-fds", "image-path", "work-path", "parent-path",
    "manage-cgroups-mode", "empty-ns", "lsm-profile", "lsm-mount-context",
    "status-fd", "page-server", "criu"};

// Global boolean options of runc (debug, systemd-cgroup, help, version)
// and crun (systemd-cgroup, debug, help, version, usage).
constexpr absl::string_view kBooleanGlobals[] = {
    "debug", "systemd-cgroup", "help", "h", "version", "v", "usage", "V"};

// runc 1.1 main.go app.Commands, and crun's commands (crun.c).
constexpr absl::string_view kCommands[] = {
    "checkpoint", "create", "delete", "events", "exec", "features", "init",
    "kill", "list", "pause", "ps", "restore", "resume", "run", "spec",
    "start", "state", "update", "help", "h", "mounts"};

struct Flag {
  std::string name;                  // without dashes
  std::optional<std::string> value;  // from "--x=v"
};

// "-x", "--x", "-x=v", "--x=v" -> Flag; anything else -> nullopt.
std::optional<Flag> AsFlag(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::nullopt;
  absl::string_view body = arg;
  body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
  if (body.empty()) return std::nullopt;
  Flag f;
  size_t eq = body.find('=');
  if (eq == absl::string_view::npos) {
    f.name = std::string(body);
  } else {
    f.name = std::string(body.substr(0, eq));
    f.value = std::string(body.substr(eq + 1));
  }
  return f;
}

// AsFlag without copies: the name, and whether "=v" was attached.
struct FlagView {
  absl::string_view name;
  bool has_value = false;
};
KMEMGUARD_LEAN_PATH std::optional<FlagView> AsFlagView(absl::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::nullopt;
  arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
  if (arg.empty()) return std::nullopt;
  size_t eq = std::string_view(arg.data(), arg.size()).find('=');
  return FlagView{arg.substr(0, eq), eq != std::string_view::npos};
}

bool IsOwnFlag(absl::string_view name) {
  return name == "kmemguard-config" || name == "kmemguard-runtime";
}

}  // namespace

KMEMGUARD_LEAN_PATH std::optional<absl::string_view> UnchangedCommand(
    absl::Span<const char* const> args) {
  // ParseRuntimeArgs's global loop, reading only.
  bool unknown_without_value = false;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") return std::nullopt;
    std::optional<FlagView> f = AsFlagView(arg);
    if (!f.has_value()) {
      if (unknown_without_value && !OneOf(kCommands, arg)) {
        unknown_without_value = false;
        continue;
      }
      // After the command ParseRuntimeArgs strips nothing (it reads the
      // options of create, run, restore and delete, and passes them on).
      return arg;
    }
    if (IsOwnFlag(f->name)) return std::nullopt;
    unknown_without_value = false;
    bool takes_value = OneOf(kGlobalValueFlags, f->name);
    if (f->has_value) continue;
    if (takes_value && i + 1 < args.size()) {
      ++i;
    } else if (!takes_value && !OneOf(kBooleanGlobals, f->name)) {
      unknown_without_value = true;
    }
  }
  return std::nullopt;  // no command: `runc --version` and the like
}

bool IsRuntimeCommand(const std::string& word) {
  return OneOf(kCommands, word);
}

bool CreatesCgroups(const std::string& command) {
  return command == "create" || command == "run" || command == "restore";
}

absl::StatusOr<RuntimeArgs> ParseRuntimeArgs(
    const std::vector<std::string>& args) {
  RuntimeArgs out;
  size_t i = 0;
  // The last global flag was unknown, without "=v": it may take a value.
  bool unknown_without_value = false;
  // Global options, up to the subcommand.
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.passthrough.push_back(arg);
      ++i;
      break;
    }
    std::optional<Flag> f = AsFlag(arg);
    if (!f.has_value()) {
      if (unknown_without_value && !IsRuntimeCommand(arg)) {
        // An unknown flag followed by a word that is no command: that word
        // is its value ("--x v create"), not the command. Decided here, on
        // the word, so that stripping our own flags between the two gives
        // the same reading when the runtime parses what we pass on.
        unknown_without_value = false;
        out.passthrough.push_back(arg);
        continue;
      }
      break;  // the subcommand
    }
    if (f->name == "kmemguard-config" || f->name == "kmemguard-runtime") {
      std::string value;
      if (f->value.has_value()) {
        value = *f->value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", f->name, " needs a value"));
      }
      (f->name == "kmemguard-config" ? out.kmemguard_config
                                     : out.kmemguard_runtime) = value;
      continue;  // stripped
    }
    out.passthrough.push_back(arg);
    unknown_without_value = false;
    std::string value;
    bool takes_value = OneOf(kGlobalValueFlags, f->name);
    if (f->value.has_value()) {
      value = *f->value;
    } else if (takes_value && i + 1 < args.size()) {
      value = args[++i];
      out.passthrough.push_back(value);
    } else if (!takes_value && !OneOf(kBooleanGlobals, f->name)) {
      unknown_without_value = true;
      continue;
    }
    if (f->name == "root") out.root = value;
    if (f->name == "log") out.log = value;
    if (f->name == "log-format") out.log_format = value;
    if (f->name == "debug") out.debug = true;
    if (f->name == "systemd-cgroup" &&
        (!f->value.has_value() || *f->value != "false")) {
      out.systemd_cgroup = true;
    }
    if (f->name == "cgroup-manager") {
      out.systemd_cgroup = value == "systemd";
      out.cgroup_manager_disabled = value == "disabled";
    }
  }
  if (i >= args.size()) return out;
  out.command = args[i];
  out.passthrough.push_back(args[i]);
  ++i;
  // Command options and the container id.
  bool options_ended = false;
  const bool look = CreatesCgroups(out.command) || out.command == "delete";
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    out.passthrough.push_back(arg);
    if (!look) continue;
    if (!options_ended && arg == "--") {
      options_ended = true;
      continue;
    }
    std::optional<Flag> f = options_ended ? std::nullopt : AsFlag(arg);
    if (!f.has_value()) {
      if (out.container_id.empty()) out.container_id = arg;
      continue;
    }
    std::string value;
    if (f->value.has_value()) {
      value = *f->value;
    } else if (OneOf(kCommandValueFlags, f->name) && i + 1 < args.size()) {
      value = args[++i];
      out.passthrough.push_back(value);
    }
    if (f->name == "bundle" || f->name == "b") out.bundle = value;
  }
  return out;
}

}  // namespace kmemguard::shim

// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_configure.h"

#include <cerrno>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/filesystem.hpp"
#include "cli/cli_common.h"
#include "common/process.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/status.h"
#include "nlohmann/json.hpp"

namespace kmemguard::cli {
namespace {

std::string TomlString(const std::string& s) {
  // Basic TOML string: quote and escape like JSON (a subset TOML accepts).
  return nlohmann::json(s).dump();
}

// Every drop-in configure writes starts with this; --remove deletes only
// drop-ins that do.
constexpr absl::string_view kDropInHeader = "# Written by `kmemguard configure";

absl::StatusOr<nlohmann::ordered_json> ParseDaemonJson(const std::string& text) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  if (text.empty()) return doc;
  try {
    doc = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("existing daemon.json is not valid JSON: ", e.what()));
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("existing daemon.json is not an object");
  }
  if (doc.contains("runtimes") && !doc["runtimes"].is_object()) {
    return absl::InvalidArgumentError("daemon.json: runtimes is not an object");
  }
  return doc;
}

// daemon.json without what configure adds: runtimes.<name>, "runtimes" when
// that leaves it empty and the original had none, and default-runtime when
// it names us (set back to the original's value when there was one).
absl::StatusOr<FileChange> RemoveDockerKeys(
    const ConfigureOptions& o, const std::string& current,
    const std::optional<ConfigureRecord>& record) {
  absl::StatusOr<nlohmann::ordered_json> doc = ParseDaemonJson(current);
  if (!doc.ok()) return doc.status();
  nlohmann::ordered_json original = nlohmann::ordered_json::object();
  if (record.has_value() && record->existed) {
    absl::StatusOr<nlohmann::ordered_json> parsed =
        ParseDaemonJson(record->original);
    if (parsed.ok()) original = *parsed;
  }
  bool changed = false;
  if (doc->contains("runtimes")) {
    nlohmann::ordered_json& runtimes = (*doc)["runtimes"];
    changed |= runtimes.erase(o.name) > 0;
    if (runtimes.empty() && !original.contains("runtimes")) {
      doc->erase("runtimes");
      changed = true;
    }
  }
  if (doc->contains("default-runtime") && (*doc)["default-runtime"] == o.name) {
    if (original.contains("default-runtime") &&
        original["default-runtime"] != o.name) {
      (*doc)["default-runtime"] = original["default-runtime"];
    } else {
      doc->erase("default-runtime");
    }
    changed = true;
  }
  FileChange c;
  if (!changed) return c;
  if (doc->empty() && record.has_value() && !record->existed) {
    c.action = FileChange::Action::kRemove;
    return c;
  }
  c.action = FileChange::Action::kWrite;
  c.content = doc->dump(2) + "\n";
  return c;
}

// Reads `path`; nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadIfExists(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileText(path);
  if (text.ok()) return std::optional<std::string>(*text);
  if (ErrnoOf(text.status()) == ENOENT) return std::optional<std::string>();
  return text.status();
}

// Mode and owner a configuration file is written with.
struct FileOwner {
  unsigned mode = 0644;
  int64_t uid = -1;  // -1: as created (root)
  int64_t gid = -1;
};

// The file at `path` now: its mode and owner; the defaults when missing.
FileOwner CurrentOwner(const std::string& path) {
  FileOwner m;
  absl::StatusOr<shim::FileOwnership> now = shim::OwnershipOf(path);
  if (now.ok()) {
    m.mode = now->mode;
    m.uid = now->uid;
    m.gid = now->gid;
  }
  return m;
}

// Writes `content` to `path` atomically with `m`'s mode, then gives it `m`'s
// owner: a daemon.json of root:docker 0640 stays so. (The rename creates a
// new inode owned by us; chown right after it, as WriteFileAtomically sets
// only the mode.) The write itself is the process layer's: Boost.Filesystem
// cannot fsync, and an engine's configuration must survive a power loss.
absl::Status WriteConfigFile(const std::string& path, const std::string& content,
                             const FileOwner& m) {
  absl::Status s = shim::WriteFileAtomically(path, content, m.mode);
  if (!s.ok()) return s;
  if (m.uid < 0 && m.gid < 0) return absl::OkStatus();
  absl::StatusOr<shim::FileOwnership> now = shim::OwnershipOf(path);
  if (now.ok() && (m.uid < 0 || now->uid == m.uid) &&
      (m.gid < 0 || now->gid == m.gid)) {
    return absl::OkStatus();
  }
  return shim::ChangeOwner(path, m.uid, m.gid);
}

// The file configure reads and writes for `target`: the target itself, or,
// when it is a symbolic link, the file the link names (so the link stays,
// as an administrator who keeps daemon.json elsewhere set it). An absolute
// link is taken under `host_root` ("" for /): node-agent sees the node's
// /etc at /host/etc, and the node's links point into the node's /.
absl::StatusOr<std::string> ResolveTarget(const std::string& target,
                                          const std::string& host_root) {
  namespace fs = boost::filesystem;
  std::string path = target;
  // 40: the kernel's own limit on links followed in one lookup
  // (MAXSYMLINKS, path_resolution(7)).
  for (int hops = 0;; ++hops) {
    boost::system::error_code ec;
    fs::file_status st = fs::symlink_status(path, ec);
    if (st.type() == fs::file_not_found) {
      if (hops == 0) return target;
      // A dangling link: writing would replace the link with a file.
      return ErrnoError(ENOENT, "follow the symbolic link", target, path);
    }
    if (ec) return ErrnoError(ec.value(), "follow the symbolic link", target, path);
    if (st.type() != fs::symlink_file) return path;
    if (hops == 40) return ErrnoError(ELOOP, "follow the symbolic link", target);
    fs::path link = fs::read_symlink(path, ec);
    if (ec) return ErrnoError(ec.value(), "readlink", path);
    path = link.is_absolute()
               ? absl::StrCat(host_root, link.string())
               : (fs::path(path).parent_path() / link).string();
  }
}

const char* EngineReloadHint(const std::string& engine) {
  // dockerd re-reads "runtimes" and "default-runtime" on SIGHUP (dockerd(8),
  // "Configuration reload behavior"); containerd reads its config only at
  // start; CRI-O's SIGHUP reload covers only some options, depending on the
  // version (crio(8)), so restart it; Podman reads containers.conf on every
  // command.
  if (engine == "docker") return "systemctl reload docker (SIGHUP to dockerd)";
  if (engine == "containerd") return "systemctl restart containerd";
  if (engine == "crio") return "systemctl restart crio";
  return "nothing (podman reads it on each run)";
}

}  // namespace

std::string ConfigureRecordToJson(const ConfigureRecord& r) {
  // The bytes go base64-encoded: a file need not be UTF-8.
  nlohmann::ordered_json j = {
      {"target", r.target},
      {"existed", r.existed},
      {"original_base64", absl::Base64Escape(r.original)},
      {"mode", r.mode},
      {"uid", r.uid},
      {"gid", r.gid},
      {"written_base64", absl::Base64Escape(r.written)}};
  return j.dump(2) + "\n";
}

absl::StatusOr<ConfigureRecord> ConfigureRecordFromJson(
    const std::string& text, const std::string& source) {
  ConfigureRecord r;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    r.target = j.at("target").get<std::string>();
    r.existed = j.at("existed").get<bool>();
    r.mode = j.at("mode").get<unsigned>() & 07777;
    // Absent from records of older versions: the owner is then left as is.
    r.uid = j.value("uid", int64_t{-1});
    r.gid = j.value("gid", int64_t{-1});
    if (!absl::Base64Unescape(j.at("original_base64").get<std::string>(),
                              &r.original) ||
        !absl::Base64Unescape(j.at("written_base64").get<std::string>(),
                              &r.written)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": invalid base64 in the configure record"));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a configure record: ", e.what()));
  }
  return r;
}

std::string ConfigureRecordPath(const ConfigureOptions& o,
                                const std::string& target) {
  std::string base = target.substr(target.find_last_of('/') + 1);
  return absl::StrCat(o.state_dir, "/", o.engine, "-", base, ".json");
}

namespace {
// The original bytes go back (with the record's mode and owner) when the
// file existed before configure; otherwise the file goes.
void RestoreOriginal(const std::optional<ConfigureRecord>& record,
                     FileChange& c) {
  if (record.has_value() && record->existed) {
    c.action = FileChange::Action::kWrite;
    c.content = record->original;
    c.restores_original = true;
  } else {
    c.action = FileChange::Action::kRemove;
  }
}
}  // namespace

absl::StatusOr<FileChange> PlanConfigureRemove(
    const ConfigureOptions& o, const std::optional<std::string>& current,
    const std::optional<ConfigureRecord>& record) {
  FileChange c;
  if (!current.has_value()) {
    if (record.has_value() && record->existed) {
      c.note = "the file is gone; the original is not put back";
    }
    return c;
  }
  if (record.has_value() && *current == record->written) {
    RestoreOriginal(record, c);
    return c;
  }
  if (o.engine == "docker") return RemoveDockerKeys(o, *current, record);
  if (!absl::StartsWith(*current, kDropInHeader)) {
    // Somebody else's file (or ours already restored): nothing to undo, so
    // a repeated --remove succeeds.
    c.note = "not written by kmemguard configure (no header); left alone";
    return c;
  }
  c.note = "changed since configure wrote it; removing it all the same";
  RestoreOriginal(record, c);
  return c;
}

absl::Status RunConfigure(const ConfigureOptions& o, const std::string& target) {
  absl::StatusOr<std::string> file = ResolveTarget(target, o.host_root);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::optional<std::string>> current = ReadIfExists(*file);
  if (!current.ok()) return current.status();
  const FileOwner current_owner = CurrentOwner(*file);
  const std::string record_path = ConfigureRecordPath(o, target);
  absl::StatusOr<std::optional<std::string>> record_text =
      ReadIfExists(record_path);
  if (!record_text.ok()) return record_text.status();
  std::optional<ConfigureRecord> record;
  if (record_text->has_value()) {
    absl::StatusOr<ConfigureRecord> r =
        ConfigureRecordFromJson(**record_text, record_path);
    if (!r.ok()) return r.status();
    // Records are named by engine and file name only: another file of the
    // same name would otherwise get this one's original bytes on --remove.
    if (r->target != target) {
      return absl::FailedPreconditionError(absl::StrCat(
          record_path, " records ", r->target, ", not ", target,
          "; configure that one with its own --state-dir"));
    }
    record = *r;
  }

  if (o.remove) {
    absl::StatusOr<FileChange> change = PlanConfigureRemove(o, *current, record);
    if (!change.ok()) {
      return absl::Status(change.status().code(),
                          absl::StrCat(target, ": ", change.status().message()));
    }
    if (!change->note.empty()) {
      PrintWarning(absl::StrCat(target, ": ", change->note));
    }
    if (o.dry_run) {
      std::printf("# %s: %s\n%s", target.c_str(),
                  change->action == FileChange::Action::kWrite    ? "write"
                  : change->action == FileChange::Action::kRemove ? "remove"
                                                                  : "unchanged",
                  change->content.c_str());
      return absl::OkStatus();
    }
    absl::Status s;
    if (change->action == FileChange::Action::kWrite) {
      FileOwner owner = current_owner;
      if (change->restores_original && record.has_value()) {
        owner = {record->mode, record->uid, record->gid};
      }
      s = WriteConfigFile(*file, change->content, owner);
    } else if (change->action == FileChange::Action::kRemove) {
      s = shim::RemoveFile(*file);
    }
    if (!s.ok()) return s;
    // The record goes last: a failure above leaves it for another try.
    s = shim::RemoveFile(record_path);
    if (!s.ok()) return s;
    std::printf("%s %s; then: %s\n",
                change->action == FileChange::Action::kKeep ? "nothing to undo in"
                : change->action == FileChange::Action::kRemove ? "removed"
                                                                : "restored",
                target.c_str(), EngineReloadHint(o.engine));
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> content = RenderEngineConfig(
      o, o.engine == "docker" ? current->value_or("") : std::string());
  if (!content.ok()) {
    return absl::Status(content.status().code(),
                        absl::StrCat(target, ": ", content.status().message()));
  }
  if (o.dry_run) {
    std::printf("# %s\n%s", target.c_str(), content->c_str());
    return absl::OkStatus();
  }
  if (*current == *content) {
    // Idempotent: nothing written, the record (the true original) kept.
    std::printf("%s already configured\n", target.c_str());
    return absl::OkStatus();
  }
  if (!record.has_value()) {
    record = ConfigureRecord{};
    record->target = target;
    record->existed = current->has_value();
    record->original = current->value_or("");
    if (record->existed) {
      record->mode = current_owner.mode;
      record->uid = current_owner.uid;
      record->gid = current_owner.gid;
    }
  }
  record->written = *content;
  // The record first: once the file changes, --remove can undo it.
  absl::Status s = shim::WriteFileAtomically(record_path,
                                             ConfigureRecordToJson(*record));
  if (s.ok()) s = WriteConfigFile(*file, *content, current_owner);
  if (!s.ok()) return s;
  std::printf("wrote %s; then: %s\n", target.c_str(),
              EngineReloadHint(o.engine));
  return absl::OkStatus();
}

std::string DefaultConfigureTarget(const std::string& engine) {
  if (engine == "docker") return "/etc/docker/daemon.json";
  if (engine == "containerd") return "/etc/containerd/conf.d/99-kmemguard.toml";
  if (engine == "crio") return "/etc/crio/crio.conf.d/99-kmemguard.conf";
  if (engine == "podman") {
    return "/etc/containers/containers.conf.d/99-kmemguard.conf";
  }
  return "";
}

absl::StatusOr<std::string> RenderEngineConfig(const ConfigureOptions& o,
                                               const std::string& existing) {
  // Both go into a config file as JSON/TOML strings: refuse bytes that are
  // not UTF-8 rather than let the JSON writer throw or rewrite the path.
  for (const std::string* v : {&o.name, &o.runtime_path}) {
    if (!GoIsValidUtf8(*v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "configure: '", GoCoerceUtf8(*v), "' is not valid UTF-8"));
    }
  }
  const std::string name = TomlString(o.name);
  const std::string path = TomlString(o.runtime_path);
  if (o.engine == "docker") {
    // daemon.json: dockerd reference, "runtimes" and "default-runtime".
    absl::StatusOr<nlohmann::ordered_json> parsed = ParseDaemonJson(existing);
    if (!parsed.ok()) return parsed.status();
    nlohmann::ordered_json& doc = *parsed;
    doc["runtimes"][o.name] = {{"path", o.runtime_path}};
    if (o.set_as_default) doc["default-runtime"] = o.name;
    return doc.dump(2) + "\n";
  }
  const std::string header = absl::StrCat(
      kDropInHeader, " --runtime ", o.engine,
      "`: registers kmemguard-runtime,\n# which prepares each container's "
      "memory cgroup with the kmem guard and then\n# runs the real runtime "
      "(see /etc/kmemguard/config.toml).\n");
  if (o.engine == "containerd") {
    // containerd 1.x config version 2 (docs/cri/config.md); the main
    // config.toml must import this directory:
    //   imports = ["/etc/containerd/conf.d/*.toml"]
    const std::string cri = "plugins.\"io.containerd.grpc.v1.cri\".containerd";
    std::string out = absl::StrCat(
        header,
        "# containerd reads it when /etc/containerd/config.toml has\n"
        "#   imports = [\"/etc/containerd/conf.d/*.toml\"]\n"
        "version = 2\n\n");
    if (o.set_as_default) {
      absl::StrAppend(&out, "[", cri, "]\n  default_runtime_name = ", name,
                      "\n\n");
    }
    absl::StrAppend(&out, "[", cri, ".runtimes.", name, "]\n",
                    "  runtime_type = \"io.containerd.runc.v2\"\n\n", "[", cri,
                    ".runtimes.", name, ".options]\n", "  BinaryName = ", path,
                    "\n");
    return out;
  }
  if (o.engine == "crio") {
    // crio.conf(5): [crio.runtime.runtimes.<name>] in a crio.conf.d drop-in.
    std::string out = header + "\n";
    if (o.set_as_default) {
      absl::StrAppend(&out, "[crio.runtime]\ndefault_runtime = ", name, "\n\n");
    }
    absl::StrAppend(&out, "[crio.runtime.runtimes.", name, "]\n",
                    "runtime_path = ", path, "\n", "runtime_type = \"oci\"\n",
                    "runtime_root = \"/run/runc\"\n");
    return out;
  }
  if (o.engine == "podman") {
    // containers.conf(5): Podman passes --log-format=json only to runtimes
    // in runtime_supports_json (containers/podman PR #3311), so list ours
    // next to the defaults.
    std::string out = absl::StrCat(
        header, "\n[engine]\n",
        o.set_as_default ? absl::StrCat("runtime = ", name, "\n") : "",
        "runtime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", "
        "\"youki\", \"krun\", ",
        name, "]\n\n[engine.runtimes]\n", name, " = [", path, "]\n");
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown engine \"", o.engine, "\" (want docker, containerd, crio or "
      "podman)"));
}

namespace {

// The default --runtime-path: the kmemguard-runtime installed beside this
// binary. A fixed default sent package users (/usr/bin) to a path that did
// not exist (/usr/local/bin), and the engine failed only at the first
// container start; a missing runtime is refused here instead.
absl::StatusOr<std::string> RuntimeBesideThisBinary() {
  absl::StatusOr<std::string> dir = OwnBinaryDirectory();
  if (!dir.ok()) return dir.status();
  std::string path = absl::StrCat(*dir, "/kmemguard-runtime");
  boost::system::error_code ec;
  if (!boost::filesystem::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no kmemguard-runtime beside this kmemguard (", path,
        ": not found); pass --runtime-path"));
  }
  return path;
}

}  // namespace

void RegisterConfigureCommand(CLI::App& app, std::function<int()>* run) {
  static ConfigureOptions o;
  CLI::App* sub = app.add_subcommand(
      "configure",
      "register kmemguard-runtime with Docker, containerd, CRI-O or Podman");
  sub->add_option("--runtime", o.engine, "the engine to configure")
      ->required()
      ->check(CLI::IsMember({"docker", "containerd", "crio", "podman"}));
  CLI::Option* runtime_path = sub->add_option(
      "--runtime-path", o.runtime_path,
      "where kmemguard-runtime is installed (default: beside this kmemguard, "
      "as the packages install it in /usr/bin)");
  sub->add_option("--name", o.name, "the runtime name to register");
  sub->add_option("--config-file", o.config_file,
                  "the file to write (default: the engine's usual place)");
  sub->add_flag("--set-as-default", o.set_as_default,
                "make it the engine's default runtime");
  sub->add_flag("--dry-run", o.dry_run, "print the result, write nothing");
  sub->add_flag("--remove", o.remove,
                "undo configure: restore the file's original bytes when "
                "nothing else changed it, else remove only what configure "
                "added");
  sub->add_option("--state-dir", o.state_dir,
                  "where configure keeps the original bytes for --remove "
                  "(default /var/lib/kmemguard/configure)");
  sub->callback([run, runtime_path] {
    *run = [runtime_path] {
      if (runtime_path->count() == 0) {
        absl::StatusOr<std::string> beside = RuntimeBesideThisBinary();
        if (!beside.ok()) {
          PrintError(beside.status().message());
          return kExitError;
        }
        o.runtime_path = *beside;
      }
      std::string target =
          o.config_file.empty() ? DefaultConfigureTarget(o.engine) : o.config_file;
      absl::Status s = RunConfigure(o, target);
      if (!s.ok()) {
        PrintError(s.message());
        return kExitError;
      }
      return kExitOk;
    };
  });
}

}  // namespace kmemguard::cli

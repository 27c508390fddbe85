// SPDX-License-Identifier: Apache-2.0
//
// `kmemguard configure --runtime docker|containerd|crio|podman`: registers
// kmemguard-runtime with an engine, without clobbering other settings;
// `--remove` undoes it. configure is idempotent (a second run writes
// nothing), and it keeps a record of the file's bytes before the first
// change (in --state-dir, outside the engines' drop-in directories, which
// CRI-O reads whole), so that --remove restores them byte for byte when
// nothing else changed the file in between.

#ifndef KMEMGUARD_SHIM_CLI_CMD_CONFIGURE_H_
#define KMEMGUARD_SHIM_CLI_CMD_CONFIGURE_H_

#include <cstdint>
#include <functional>
#include <optional>
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
  bool remove = false;
  std::string state_dir = "/var/lib/kmemguard/configure";
  // Where absolute symbolic links in the target point into: "" (/) or, in
  // node-agent, the node's root as mounted in the pod.
  std::string host_root;
};

// What configure changed in one engine file, kept to undo it.
struct ConfigureRecord {
  std::string target;
  bool existed = false;    // the file existed before the first configure
  std::string original;    // its bytes then
  unsigned mode = 0644;    // its permission bits then
  int64_t uid = -1;        // its owner then; -1: not recorded (older
  int64_t gid = -1;        // records, or no file): leave the owner alone
  std::string written;     // the bytes the last configure wrote
};

std::string ConfigureRecordToJson(const ConfigureRecord& r);
// `source` names the record in errors.
absl::StatusOr<ConfigureRecord> ConfigureRecordFromJson(
    const std::string& text, const std::string& source);
// The record's file: one per engine and target file name.
std::string ConfigureRecordPath(const ConfigureOptions& o,
                                const std::string& target);

// The planned change to the target file. kWrite with `content`, kRemove
// (unlink), or kKeep (nothing to do).
struct FileChange {
  enum class Action { kKeep, kWrite, kRemove };
  Action action = Action::kKeep;
  std::string content;
  // kWrite of the record's original bytes: they go back with the record's
  // mode and owner. Any other kWrite keeps the file's current mode and
  // owner (somebody else's edit in between is theirs to keep).
  bool restores_original = false;
  std::string note;  // a warning for the operator, or ""
};

// --remove, pure: `current` is the file now (nullopt: missing), `record`
// what configure kept (nullopt: none, e.g. configured by hand or by an
// older kmemguard). With the file exactly as configure left it, the
// original bytes come back (or the file goes when it did not exist).
// Otherwise Docker's daemon.json loses exactly the keys configure adds, and
// a drop-in that still carries configure's header is removed; a drop-in
// without it is somebody else's and left alone (kKeep with a note).
absl::StatusOr<FileChange> PlanConfigureRemove(
    const ConfigureOptions& o, const std::optional<std::string>& current,
    const std::optional<ConfigureRecord>& record);

// Runs configure (or --remove with o.remove) on `target`: reads the file and
// the record, writes both. A symbolic link is followed: the file it names is
// changed in place and the link stays. A file written over keeps its mode
// and owner. Prints what it did to stdout. Used by the
// `configure` subcommand and by `node-agent`.
absl::Status RunConfigure(const ConfigureOptions& o, const std::string& target);

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

#endif  // KMEMGUARD_SHIM_CLI_CMD_CONFIGURE_H_

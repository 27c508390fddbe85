// SPDX-License-Identifier: Apache-2.0

#include "cmd_configure.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "kmemguard/status.h"
#include "nlohmann/json.hpp"
#include "process.h"

namespace kmemguard::cli {
namespace {

std::string TomlString(const std::string& s) {
  // Basic TOML string: quote and escape like JSON (a subset TOML accepts).
  return nlohmann::json(s).dump();
}

}  // namespace

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
  const std::string name = TomlString(o.name);
  const std::string path = TomlString(o.runtime_path);
  if (o.engine == "docker") {
    // daemon.json: dockerd reference, "runtimes" and "default-runtime".
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    if (!existing.empty()) {
      try {
        doc = nlohmann::ordered_json::parse(existing);
      } catch (const nlohmann::json::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat("existing daemon.json is not valid JSON: ", e.what()));
      }
      if (!doc.is_object()) {
        return absl::InvalidArgumentError("existing daemon.json is not an object");
      }
    }
    if (doc.contains("runtimes") && !doc["runtimes"].is_object()) {
      return absl::InvalidArgumentError("daemon.json: runtimes is not an object");
    }
    doc["runtimes"][o.name] = {{"path", o.runtime_path}};
    if (o.set_as_default) doc["default-runtime"] = o.name;
    return doc.dump(2) + "\n";
  }
  const std::string header = absl::StrCat(
      "# Written by `kmemguard configure --runtime ", o.engine,
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

void RegisterConfigureCommand(CLI::App& app, std::function<int()>* run) {
  static ConfigureOptions o;
  CLI::App* sub = app.add_subcommand(
      "configure",
      "register kmemguard-runtime with Docker, containerd, CRI-O or Podman");
  sub->add_option("--runtime", o.engine, "the engine to configure")
      ->required()
      ->check(CLI::IsMember({"docker", "containerd", "crio", "podman"}));
  sub->add_option("--runtime-path", o.runtime_path,
                  "where kmemguard-runtime is installed");
  sub->add_option("--name", o.name, "the runtime name to register");
  sub->add_option("--config-file", o.config_file,
                  "the file to write (default: the engine's usual place)");
  sub->add_flag("--set-as-default", o.set_as_default,
                "make it the engine's default runtime");
  sub->add_flag("--dry-run", o.dry_run, "print the result, write nothing");
  sub->callback([run] {
    *run = [] {
      std::string target =
          o.config_file.empty() ? DefaultConfigureTarget(o.engine) : o.config_file;
      std::string existing;
      if (o.engine == "docker") {
        absl::StatusOr<std::string> text = ReadFileText(target);
        if (text.ok()) {
          existing = *text;
        } else if (ErrnoOf(text.status()) != ENOENT) {
          PrintError(text.status().message());
          return kExitError;
        }
      }
      absl::StatusOr<std::string> content = RenderEngineConfig(o, existing);
      if (!content.ok()) {
        PrintError(absl::StrCat(target, ": ", content.status().message()));
        return kExitError;
      }
      if (o.dry_run) {
        std::printf("# %s\n%s", target.c_str(), content->c_str());
        return kExitOk;
      }
      absl::Status s = shim::WriteFileAtomically(target, *content);
      if (!s.ok()) {
        PrintError(s.message());
        return kExitError;
      }
      const char* reload = o.engine == "docker"       ? "systemctl reload docker"
                           : o.engine == "containerd" ? "systemctl restart containerd"
                           : o.engine == "crio"       ? "systemctl reload crio"
                                                      : "(podman reads it on each run)";
      std::printf("wrote %s; then: %s\n", target.c_str(), reload);
      return kExitOk;
    };
  });
}

}  // namespace kmemguard::cli

// SPDX-License-Identifier: Apache-2.0
//
// OCI runtime-spec config.json -> kmemguard types, as runc@4d6e672
// libcontainer/specconv/spec_linux.go createCgroupConfig maps them. This is
// the only code that knows OCI JSON.

#ifndef KMEMGUARD_OCI_H_
#define KMEMGUARD_OCI_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/resources.h"

namespace kmemguard {

// Input bounds: config.json is tenant-controlled input to a root process.
inline constexpr size_t kMaxOciConfigBytes = 8 << 20;  // 8 MiB
inline constexpr int kMaxJsonDepth = 64;

// A systemd cgroupsPath "slice:prefix:name" (runc --systemd-cgroup).
struct SystemdCgroupPath {
  std::string slice;
  std::string scope_prefix;
  std::string name;
};

struct OciCgroupConfig {
  CgroupLocation location;     // fs driver form (Path, or Name = id)
  MemoryResources resources;   // linux.resources.memory
  bool has_memory_section = false;
  std::string cgroups_path;    // linux.cgroupsPath as written
  // Set when parsed for the systemd driver.
  std::optional<SystemdCgroupPath> systemd;
};

// Parses config.json text. `container_id` becomes the cgroup Name when
// cgroupsPath is empty (runc utils_linux.go CgroupName: id). With
// `systemd_cgroup`, a non-empty cgroupsPath must be "slice:prefix:name"
// (runc's error text otherwise) and an empty one means
// system.slice:runc:<id>. Values are checked before anything is used:
// sizes must be integers in int64, swappiness an integer in uint64 (runc's
// Go decoder rejects the rest too). InvalidArgument names the field.
absl::StatusOr<OciCgroupConfig> ParseOciConfig(absl::string_view json_text,
                                               absl::string_view container_id,
                                               bool systemd_cgroup = false);

// The fields of an OCI state (runtime-spec runtime.md "State") that hooks
// use.
struct OciState {
  std::string oci_version;
  std::string id;
  std::string status;
  int64_t pid = 0;
  std::string bundle;
};
absl::StatusOr<OciState> ParseOciState(absl::string_view json_text);

}  // namespace kmemguard

#endif  // KMEMGUARD_OCI_H_

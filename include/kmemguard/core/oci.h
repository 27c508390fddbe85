// SPDX-License-Identifier: Apache-2.0
//
// OCI runtime-spec config.json -> kmemguard types, as runc@4d6e672
// libcontainer/specconv/spec_linux.go createCgroupConfig maps them. This is
// the only code that knows OCI JSON.

#ifndef KMEMGUARD_CORE_OCI_H_
#define KMEMGUARD_CORE_OCI_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/resources.h"

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
// system.slice:runc:<id>. Decoded as runc@4d6e672's
// json.NewDecoder(f).Decode(&spec) does (Go encoding/json): only the first
// JSON value is read; keys match field names exactly, else
// case-insensitively (Go's fold); a later duplicate key overwrites; null
// resets a pointer field; sizes must be integer literals in int64,
// swappiness one in uint64; invalid UTF-8 in strings becomes U+FFFD.
// Deliberately stricter than Go (README): input over kMaxOciConfigBytes,
// nesting deeper than kMaxJsonDepth, and a NUL in cgroupsPath are refused.
// Only linux.cgroupsPath and linux.resources.memory are type-checked.
// InvalidArgument names the field.
absl::StatusOr<OciCgroupConfig> ParseOciConfig(absl::string_view json_text,
                                               absl::string_view container_id,
                                               bool systemd_cgroup = false);

// The same result as ParseOciConfig, field for field and error class for
// error class (tests/fuzz/oci_lean_fuzz.cc), in one pass over the text with
// no DOM and no allocation beyond the strings it keeps: for the runtime
// wrapper's create path.
absl::StatusOr<OciCgroupConfig> ParseOciCgroupConfigLean(
    absl::string_view json_text, absl::string_view container_id,
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

#endif  // KMEMGUARD_CORE_OCI_H_

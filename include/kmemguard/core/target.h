// SPDX-License-Identifier: Apache-2.0
//
// From what a runtime is given to the cgroup to work on: a container's
// config.json read and parsed (lean or full decoder), and a cgroup location
// resolved on this host to an open RealCgroupFs and a path in it. Shared by
// kmemguard-runtime, kmemguard-hook and the kmemguard CLI; errors are typed
// (status.h ErrorKind) and name the path, so no caller reads message text.

#ifndef KMEMGUARD_CORE_TARGET_H_
#define KMEMGUARD_CORE_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/resources.h"

namespace kmemguard {

// The cgroup a command works on: its filesystem and its path in it.
struct CgroupTarget {
  std::unique_ptr<RealCgroupFs> fs;
  CgroupPath path;
  std::string full_path;
  bool explicit_path = false;  // per-controller paths: runc only joins
};

// Resolves `location` as runc does (ResolveMemoryCgroupOnHost) and opens the
// memory hierarchy, which must be cgroupfs. When the host has no cgroup v1
// memory hierarchy: FailedPrecondition "no cgroup v1 memory hierarchy on
// this host (...)" carrying ErrorKind::kNoMemoryHierarchy.
absl::StatusOr<CgroupTarget> OpenTarget(const CgroupLocation& location);

// True when `status` says the host has no cgroup v1 memory hierarchy.
bool IsNoMemoryHierarchy(const absl::Status& status);

// Which config.json decoder to use: the lean one on the runtime wrapper's
// hot path, the full one elsewhere (they agree field for field;
// tests/fuzz/oci_lean_fuzz.cc).
enum class OciDecoder { kFull, kLean };

// Reads the OCI config at `path` and parses it (ParseOciConfig's arguments;
// both decoders refuse more than kMaxOciConfigBytes). Every error names `path`:
//   open /b/config.json: No such file or directory (ENOENT)
//   /b/config.json: linux.resources.memory: [] is not an object
absl::StatusOr<OciCgroupConfig> LoadOciConfigFile(
    const std::string& path, absl::string_view container_id,
    bool systemd_cgroup, OciDecoder decoder);
// LoadOciConfigFile on `bundle`/config.json.
absl::StatusOr<OciCgroupConfig> LoadBundleConfig(
    const std::string& bundle, absl::string_view container_id,
    bool systemd_cgroup, OciDecoder decoder);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_TARGET_H_

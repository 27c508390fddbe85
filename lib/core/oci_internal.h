// SPDX-License-Identifier: Apache-2.0
//
// Shared by the two config.json decoders (lib/core/oci.cc on nlohmann's tokenizer,
// lib/core/oci_lean.cc hand-written): the part of runtime-spec's Go types that
// runc's json.NewDecoder(f).Decode(&spec) fills and that we use, and the
// specconv mapping from it. Not installed.

#ifndef KMEMGUARD_LIB_OCI_INTERNAL_H_
#define KMEMGUARD_LIB_OCI_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/oci.h"

namespace kmemguard::oci_internal {

// specs.LinuxMemory: every field a pointer (nil = absent or null).
struct GoLinuxMemory {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
};
// specs.LinuxResources (Memory *LinuxMemory) and specs.Linux (CgroupsPath
// string, Resources *LinuxResources); Spec.Linux is *Linux.
struct GoLinuxResources {
  std::optional<GoLinuxMemory> memory;
};
struct GoLinux {
  std::string cgroups_path;
  std::optional<GoLinuxResources> resources;
};
struct GoSpec {
  std::optional<GoLinux> linux;
};

// JSON names of the fields, in Go declaration order.
inline constexpr const char* kMemoryInt64Fields[] = {
    "limit", "reservation", "swap", "kernel", "kernelTCP"};
inline std::optional<int64_t> GoLinuxMemory::*const kMemoryInt64Members[] = {
    &GoLinuxMemory::limit, &GoLinuxMemory::reservation, &GoLinuxMemory::swap,
    &GoLinuxMemory::kernel, &GoLinuxMemory::kernel_tcp};

// Error texts both decoders use (the class, InvalidArgument, is what the
// differential fuzzer compares).
absl::Status TooLarge(size_t size);
absl::Status TooDeep();
absl::Status InvalidJson(absl::string_view detail);
// "config.json: <field>: <value> is not <want>", the value as written (cut
// to 64 bytes).
absl::Status WrongType(absl::string_view field, absl::string_view value,
                       absl::string_view want);

// specconv createCgroupConfig's mapping of the decoded spec (see
// ParseOciConfig in kmemguard/core/oci.h).
absl::StatusOr<OciCgroupConfig> MapGoSpec(const GoSpec& spec,
                                          absl::string_view container_id,
                                          bool systemd_cgroup);

}  // namespace kmemguard::oci_internal

#endif  // KMEMGUARD_LIB_OCI_INTERNAL_H_

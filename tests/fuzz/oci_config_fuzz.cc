// SPDX-License-Identifier: Apache-2.0
//
// config.json (tenant-controlled) -> ParseOciConfig, for the cgroupfs and the
// systemd driver, then on to ResolveMemoryCgroup as the wrapper does.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "kmemguard/core/oci.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/resources.h"

using namespace kmemguard;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<OciCgroupConfig> fs = ParseOciConfig(text, "ctr-abcd", false);
  if (fs.ok()) {
    FUZZ_CHECK(!fs->systemd.has_value());
    FUZZ_CHECK(fs->cgroups_path.find('\0') == std::string::npos);
    if (fs->cgroups_path.empty()) {
      FUZZ_CHECK(fs->location.name == "ctr-abcd" && fs->location.path.empty());
    } else {
      // The path is cleaned and can never climb out of its parent.
      FUZZ_CHECK(fs->location.path == CleanPath(fs->cgroups_path));
      FUZZ_CHECK(!fuzz::HasDotDotComponent(fs->location.path));
    }
    // Values the kernel cannot take are refused by the validation that runs
    // before any write; it must not crash on whatever was accepted.
    (void)ValidateMemoryResources(fs->resources);
    (void)MemoryAssigned(fs->resources);
    for (const auto& [mi, pc] :
         {std::pair{fuzz::kHostMountinfo, fuzz::kHostProcCgroup},
          std::pair{fuzz::kNestedMountinfo, fuzz::kNestedProcCgroup}}) {
      absl::StatusOr<ResolvedCgroup> r =
          ResolveMemoryCgroup(fs->location, mi, pc);
      if (r.ok()) fuzz::CheckResolved(*r);
    }
  }

  absl::StatusOr<OciCgroupConfig> sd = ParseOciConfig(text, "ctr-abcd", true);
  if (sd.ok()) {
    FUZZ_CHECK(sd->systemd.has_value());
    if (sd->cgroups_path.empty()) {
      FUZZ_CHECK(sd->systemd->slice == "system.slice" &&
                 sd->systemd->scope_prefix == "runc" &&
                 sd->systemd->name == "ctr-abcd");
    } else {
      FUZZ_CHECK(sd->systemd->slice + ":" + sd->systemd->scope_prefix + ":" +
                     sd->systemd->name == sd->cgroups_path);
    }
  }
  // The driver changes only the location, never the verdict on the rest.
  if (fs.ok() && sd.ok()) FUZZ_CHECK(fs->resources == sd->resources);
  // Only the cgroupsPath format can fail one driver and not the other.
  if (fs.ok() && !sd.ok()) FUZZ_CHECK(!fs->cgroups_path.empty());
  if (sd.ok()) FUZZ_CHECK(fs.ok());
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
//
// Field-for-field comparison of two OciCgroupConfig results, for the unit
// tests and the differential fuzzer that hold ParseOciCgroupConfigLean to
// ParseOciConfig. Header-only: the fuzzers do not link Catch2.

#ifndef KMEMGUARD_TESTS_TESTING_OCI_COMPARE_H_
#define KMEMGUARD_TESTS_TESTING_OCI_COMPARE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "kmemguard/core/oci.h"

namespace kmemguard::testing {

// "" when `a` and `b` agree (same status code; on success every field),
// else what differs.
inline std::string OciResultDifference(const absl::StatusOr<OciCgroupConfig>& a,
                                       const absl::StatusOr<OciCgroupConfig>& b) {
  if (a.status().code() != b.status().code()) {
    return absl::StrCat("status: ", a.status().ToString(), " vs ",
                        b.status().ToString());
  }
  if (!a.ok()) return "";
  std::string d;
  auto field = [&](const char* name, bool same) {
    if (!same) absl::StrAppend(&d, name, " ");
  };
  field("location.path", a->location.path == b->location.path);
  field("location.parent", a->location.parent == b->location.parent);
  field("location.name", a->location.name == b->location.name);
  field("location.controller_paths",
        a->location.controller_paths == b->location.controller_paths);
  field("resources", a->resources == b->resources);
  field("has_memory_section", a->has_memory_section == b->has_memory_section);
  field("cgroups_path", a->cgroups_path == b->cgroups_path);
  field("systemd", a->systemd.has_value() == b->systemd.has_value());
  if (a->systemd.has_value() && b->systemd.has_value()) {
    field("systemd.slice", a->systemd->slice == b->systemd->slice);
    field("systemd.scope_prefix",
          a->systemd->scope_prefix == b->systemd->scope_prefix);
    field("systemd.name", a->systemd->name == b->systemd->name);
  }
  return d;
}

}  // namespace kmemguard::testing

#endif  // KMEMGUARD_TESTS_TESTING_OCI_COMPARE_H_

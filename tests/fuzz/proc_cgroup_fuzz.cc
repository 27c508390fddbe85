// SPDX-License-Identifier: Apache-2.0
//
// /proc/self/cgroup -> ParseProcCgroup, and ResolveMemoryCgroup with a fixed
// mountinfo and fixed locations (the caller's own cgroup decides where a
// relative location lands).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz_common.h"
#include "kmemguard/core/paths.h"

using namespace kmemguard;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup(text);
  if (!own.ok()) return 0;
  for (const auto& [controller, path] : *own) {
    FUZZ_CHECK(controller.find(',') == std::string::npos);
    FUZZ_CHECK(controller.find('\n') == std::string::npos);
    FUZZ_CHECK(path.find('\n') == std::string::npos);
    FUZZ_CHECK(path.find('\0') == std::string::npos);
  }
  // A line we cannot read is skipped unless it may be the memory line; the
  // memory entry never depends on the skipped lines (issue 10).
  std::string well_formed;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::StatusOr<std::map<std::string, std::string>> alone =
        ParseProcCgroup(line);
    FUZZ_CHECK(alone.ok());
    if (!alone->empty()) absl::StrAppend(&well_formed, line, "\n");
  }
  absl::StatusOr<std::map<std::string, std::string>> clean =
      ParseProcCgroup(well_formed);
  FUZZ_CHECK(clean.ok());
  FUZZ_CHECK(clean->count("memory") == own->count("memory"));
  if (own->count("memory")) FUZZ_CHECK(clean->at("memory") == own->at("memory"));

  CgroupLocation by_name;
  by_name.parent = "kubepods";
  by_name.name = "abcd";
  CgroupLocation by_rel;
  by_rel.path = "a/../../b";
  CgroupLocation by_abs;
  by_abs.path = "/abs/x";
  for (const CgroupLocation* loc : {&by_name, &by_rel, &by_abs}) {
    for (const char* mi : {fuzz::kHostMountinfo, fuzz::kNestedMountinfo}) {
      absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(*loc, mi, text);
      if (!r.ok()) continue;
      FUZZ_CHECK(r->hierarchy_root == "/sys/fs/cgroup/memory");
      fuzz::CheckResolved(*r);
    }
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
//
// cgroupsPath resolution and path cleaning. The input is up to four fields
// separated by NUL: Path, Parent, Name and an explicit memory path
// (configs.Cgroup Paths["memory"], only when the fourth field is present).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz_common.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/paths.h"

using namespace kmemguard;  // NOLINT

namespace {

void CheckCleaning(absl::string_view s) {
  const std::string g = GoClean(s);
  FUZZ_CHECK(!g.empty());
  FUZZ_CHECK(GoClean(g) == g);  // idempotent
  FUZZ_CHECK((g[0] == '/') == (!s.empty() && s[0] == '/'));
  if (g[0] == '/') FUZZ_CHECK(!fuzz::HasDotDotComponent(g));

  const std::string c = CleanPath(s);
  FUZZ_CHECK(s.empty() == c.empty());
  if (c.empty()) return;
  FUZZ_CHECK(CleanPath(c) == c);
  FUZZ_CHECK(GoClean(c) == c);
  if (s[0] != '/') {
    // A relative path stays relative and can never climb out.
    FUZZ_CHECK(c[0] != '/');
    FUZZ_CHECK(!fuzz::HasDotDotComponent(c));
  } else {
    FUZZ_CHECK(c == g);
  }
}

void CheckRel(absl::string_view base, absl::string_view target) {
  absl::StatusOr<std::string> rel = GoRel(base, target);
  if (!rel.ok()) return;
  FUZZ_CHECK(!rel->empty() && (*rel)[0] != '/');
  // Go: Join(base, Rel(base, target)) is lexically equal to Clean(target).
  FUZZ_CHECK(GoJoin({GoClean(base), *rel}) == GoClean(target));
}

void CheckCgroupPath(absl::string_view s) {
  absl::StatusOr<CgroupPath> p = CgroupPath::Parse(s);
  if (!p.ok()) return;
  for (const std::string& c : p->components()) {
    FUZZ_CHECK(!c.empty() && c != "." && c != "..");
    FUZZ_CHECK(c.find('/') == std::string::npos);
    FUZZ_CHECK(c.find('\0') == std::string::npos);
    FUZZ_CHECK(c.size() <= 255);
  }
  absl::StatusOr<CgroupPath> again = CgroupPath::Parse(p->ToString());
  FUZZ_CHECK(again.ok() && *again == *p);
  FUZZ_CHECK(p->Contains(*p));
  FUZZ_CHECK(p->Contains(p->Parent()) == p->IsRoot());
  FUZZ_CHECK(p->Parent().Contains(*p));
  if (!p->IsRoot()) {
    FUZZ_CHECK(p->Parent().Child(p->Leaf()) == *p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> f = absl::StrSplit(text, '\0');

  CheckCleaning(text);
  for (absl::string_view s : f) CheckCleaning(s);
  CheckCgroupPath(f[0]);
  if (f.size() >= 2) CheckRel(f[0], f[1]);
  CheckRel("/", text);
  CheckRel("/sys/fs/cgroup/memory", f[0]);

  CgroupLocation loc;
  loc.path = std::string(f[0]);
  if (f.size() >= 2) loc.parent = std::string(f[1]);
  if (f.size() >= 3) loc.name = std::string(f[2]);
  if (f.size() >= 4) loc.controller_paths["memory"] = std::string(f[3]);
  for (const auto& [mi, pc] :
       {std::pair{fuzz::kHostMountinfo, fuzz::kHostProcCgroup},
        std::pair{fuzz::kNestedMountinfo, fuzz::kNestedProcCgroup}}) {
    absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(loc, mi, pc);
    if (!r.ok()) continue;
    fuzz::CheckResolved(*r);
    FUZZ_CHECK(r->hierarchy_root == "/sys/fs/cgroup/memory");
    FUZZ_CHECK(r->explicit_path == (f.size() >= 4));
  }
  return 0;
}

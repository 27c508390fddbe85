// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/memcg.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kmemguard/core/status.h"

namespace kmemguard {

absl::StatusOr<ProcCgroupsRow> ParseProcCgroupsMemory(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.empty() || f[0] != "memory") continue;
    ProcCgroupsRow row;
    int enabled = 0;
    if (f.size() < 4 || !absl::SimpleAtoi(f[1], &row.hierarchy) ||
        !absl::SimpleAtoi(f[2], &row.num_cgroups) ||
        !absl::SimpleAtoi(f[3], &enabled) || row.num_cgroups < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed memory row in /proc/cgroups: \"", line, "\""));
    }
    row.subsys_name = "memory";
    row.enabled = enabled != 0;
    return row;
  }
  return absl::NotFoundError(
      "/proc/cgroups has no memory row (kernel without CONFIG_MEMCG)");
}

std::string WithThousands(int64_t n) {
  // Negate in uint64: -INT64_MIN does not fit in int64 (found by fuzzing).
  uint64_t magnitude =
      n < 0 ? uint64_t{0} - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string digits = absl::StrCat(magnitude);
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i > 0; --i) {
    out.insert(out.begin(), digits[i - 1]);
    if (++count % 3 == 0 && i > 1) out.insert(out.begin(), ',');
  }
  return n < 0 ? "-" + out : out;
}

// --------------------------------------------------- exhaustion-aware errors

bool IdSpaceExhausted(int64_t in_use, int64_t limit) {
  return limit - in_use < kExhaustionFreeIds ||
         static_cast<double>(in_use) >= kExhaustionRatio * limit;
}

absl::Status ExhaustionAwareMkdirError(const absl::Status& mkdir_status,
                                       absl::string_view proc_cgroups_text,
                                       std::optional<int64_t> visible) {
  std::optional<int> err = ErrnoOf(mkdir_status);
  if (mkdir_status.ok() || (err != ENOSPC && err != EBUSY)) return mkdir_status;
  absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(proc_cgroups_text);
  if (!row.ok() || !IdSpaceExhausted(row->num_cgroups)) return mkdir_status;
  std::string message = absl::StrCat(
      "memory cgroup IDs exhausted: ", WithThousands(row->num_cgroups), " of ",
      WithThousands(kMemcgIdLimit), " in use");
  if (visible.has_value()) {
    absl::StrAppend(&message, ", ",
                    WithThousands(std::max<int64_t>(0, row->num_cgroups -
                                                           *visible)),
                    " dying");
  }
  absl::StrAppend(&message, "; run kmemguard doctor (", mkdir_status.message(),
                  ")");
  absl::Status out(absl::StatusCode::kResourceExhausted, message);
  mkdir_status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& p) {
        out.SetPayload(url, p);
      });
  return out;
}

MkdirErrorHook ExhaustionAwareMkdirHook(CgroupFs* fs, std::string proc_root) {
  return [fs, proc_root = std::move(proc_root)](const absl::Status& s) {
    std::optional<int> err = ErrnoOf(s);
    if (err != ENOSPC && err != EBUSY) return s;
    absl::StatusOr<std::string> text =
        ReadHostFile(absl::StrCat(proc_root, "/cgroups"));
    if (!text.ok()) return s;
    absl::StatusOr<ProcCgroupsRow> row = ParseProcCgroupsMemory(*text);
    if (!row.ok() || !IdSpaceExhausted(row->num_cgroups)) return s;
    std::optional<int64_t> visible;
    if (fs != nullptr) {
      absl::StatusOr<int64_t> n = CountCgroups(fs);
      if (n.ok()) visible = *n;
    }
    return ExhaustionAwareMkdirError(s, *text, visible);
  };
}

// ------------------------------------------------------------ the one walk

absl::StatusOr<int64_t> WalkCgroups(CgroupFs* fs, const CgroupPath& dir,
                                    const CgroupVisitor& visitor) {
  int64_t count = 0;
  std::vector<CgroupPath> stack = {dir};
  while (!stack.empty()) {
    CgroupPath p = std::move(stack.back());
    stack.pop_back();
    absl::StatusOr<std::vector<CgroupFs::DirLinks>> children =
        fs->ListDirsWithLinkCounts(p);
    if (!children.ok()) {
      // A cgroup removed while we walk is simply gone.
      if (ErrnoOf(children.status()) == ENOENT && !p.IsRoot()) continue;
      return children.status();
    }
    ++count;
    for (const CgroupFs::DirLinks& c : *children) {
      CgroupPath child = p.Child(c.name);
      if (c.link_count == 2 && !(visitor.open_leaf && visitor.open_leaf(child))) {
        ++count;
        continue;
      }
      stack.push_back(std::move(child));
    }
    if (visitor.visit) visitor.visit(p, *children);
  }
  return count;
}

bool IsRunScope(absl::string_view name) {
  return absl::StartsWith(name, "run-") && absl::EndsWith(name, ".scope");
}

absl::StatusOr<int64_t> CountCgroups(CgroupFs* fs, const CgroupPath& dir,
                                     int64_t* run_scopes) {
  CgroupVisitor visitor;
  if (run_scopes != nullptr) {
    visitor.visit = [run_scopes](const CgroupPath&,
                                 const std::vector<CgroupFs::DirLinks>& kids) {
      for (const CgroupFs::DirLinks& c : kids) {
        if (IsRunScope(c.name)) ++*run_scopes;
      }
    };
  }
  return WalkCgroups(fs, dir, visitor);
}

// ------------------------------------------------------------- kmem state

uint64_t UnlimitedLimitBytes(uint64_t page_size) {
  constexpr uint64_t kLongMax =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (page_size == 0) page_size = 4096;
  return kLongMax / page_size * page_size;
}

uint64_t HostPageSize() {
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<uint64_t>(page) : 4096;
}

bool LimitIsSet(uint64_t limit_in_bytes, uint64_t page_size) {
  return limit_in_bytes < UnlimitedLimitBytes(page_size);
}

absl::StatusOr<int64_t> ReadControlInt(CgroupFs* fs, const CgroupPath& p,
                                       absl::string_view name) {
  absl::StatusOr<std::string> text = fs->ReadFile(p, name);
  if (!text.ok()) return text.status();
  absl::string_view value = absl::StripAsciiWhitespace(*text);
  int64_t v = 0;
  if (absl::SimpleAtoi(value, &v)) return v;
  // Values above INT64_MAX cannot be limits we care about.
  uint64_t above = 0;
  if (absl::SimpleAtoi(value, &above)) return std::numeric_limits<int64_t>::max();
  // Anything else is not a value the kernel writes: say so rather than
  // take it for "unlimited".
  return absl::InvalidArgumentError(absl::StrCat(
      "not a number in ", fs->DisplayPath(p, name), ": \"", value, "\""));
}

namespace {

// memory.kmem.slabinfo lists per-cgroup slab caches once accounting is
// active; its header lines ("slabinfo - version: 2.1", "# name ...") do not
// count.
std::optional<KmemState> SlabinfoState(CgroupFs* fs, const CgroupPath& p) {
  absl::StatusOr<std::string> slab = fs->ReadFile(p, "memory.kmem.slabinfo");
  if (!slab.ok()) {
    std::optional<int> err = ErrnoOf(slab.status());
    return KmemState{false, absl::StrCat(
        "kmem limit unlimited, usage 0, slabinfo ",
        err.has_value() ? ErrnoName(*err) : "unreadable")};
  }
  for (absl::string_view line :
       absl::StrSplit(*slab, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "slabinfo -") || absl::StartsWith(line, "#"))
      continue;
    return KmemState{true, "per-cgroup slab caches in memory.kmem.slabinfo"};
  }
  return std::nullopt;
}

}  // namespace

KmemState InspectKmemState(CgroupFs* fs, const CgroupPath& p,
                           uint64_t page_size) {
  absl::StatusOr<int64_t> limit = ReadControlInt(fs, p, kKmemLimitInBytes);
  if (!limit.ok()) {
    return KmemState{false,
                     ErrnoOf(limit.status()) == ENOENT
                         ? "no memory.kmem.limit_in_bytes (no CONFIG_MEMCG_KMEM)"
                         : std::string(limit.status().message())};
  }
  if (*limit >= 0 && LimitIsSet(static_cast<uint64_t>(*limit), page_size)) {
    return KmemState{true, absl::StrCat("kmem limit set (", *limit, ")")};
  }
  absl::StatusOr<int64_t> usage =
      ReadControlInt(fs, p, "memory.kmem.usage_in_bytes");
  if (usage.ok() && *usage > 0) {
    return KmemState{true, absl::StrCat("kmem usage ", *usage, " bytes")};
  }
  std::optional<KmemState> slab = SlabinfoState(fs, p);
  if (slab.has_value()) return *slab;
  return KmemState{false, "kmem limit unlimited, usage 0, slabinfo empty"};
}

}  // namespace kmemguard

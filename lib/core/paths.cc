// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/paths.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kmemguard {
namespace {

constexpr char kMemory[] = "memory";

std::vector<absl::string_view> SplitPath(absl::string_view p) {
  return absl::StrSplit(p, '/', absl::SkipEmpty());
}

// Decodes the escapes the kernel writes in mountinfo: \040 (space), \011
// (tab), \012 (newline) and \134 (backslash) (fs/proc_namespace.c,
// mangle() with " \t\n\\"). Any other backslash sequence stays as it is,
// so no NUL can be decoded into a path (found by fuzzing).
std::string Unescape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    absl::string_view code = s.substr(i + 1, 3);
    if (s[i] == '\\' &&
        (code == "040" || code == "011" || code == "012" || code == "134")) {
      out.push_back(static_cast<char>((code[0] - '0') * 64 +
                                      (code[1] - '0') * 8 + (code[2] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string GoClean(absl::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::vector<absl::string_view> out;
  for (absl::string_view part : SplitPath(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string joined = absl::StrJoin(out, "/");
  if (rooted) return "/" + joined;
  return joined.empty() ? "." : joined;
}

std::string GoJoin(const std::vector<absl::string_view>& elems) {
  std::vector<absl::string_view> nonempty;
  for (absl::string_view e : elems) {
    if (!e.empty()) nonempty.push_back(e);
  }
  if (nonempty.empty()) return "";
  return GoClean(absl::StrJoin(nonempty, "/"));
}

absl::StatusOr<std::string> GoRel(absl::string_view base,
                                  absl::string_view target) {
  std::string b = GoClean(base);
  std::string t = GoClean(target);
  if ((b[0] == '/') != (t[0] == '/')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Rel: can't make ", target, " relative to ", base));
  }
  if (b == t) return std::string(".");
  std::vector<absl::string_view> bp =
      b == "." ? std::vector<absl::string_view>() : SplitPath(b);
  std::vector<absl::string_view> tp =
      t == "." ? std::vector<absl::string_view>() : SplitPath(t);
  size_t common = 0;
  while (common < bp.size() && common < tp.size() && bp[common] == tp[common])
    ++common;
  for (size_t i = common; i < bp.size(); ++i) {
    if (bp[i] == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "Rel: can't make ", target, " relative to ", base));
    }
  }
  std::vector<absl::string_view> out(bp.size() - common, "..");
  out.insert(out.end(), tp.begin() + common, tp.end());
  return absl::StrJoin(out, "/");
}

std::string CleanPath(absl::string_view path) {
  if (path.empty()) return "";
  std::string cleaned = GoClean(path);
  if (cleaned[0] != '/') {
    // runc utils.CleanPath: rooting the path first makes a leading ".."
    // vanish, so a relative path can never climb out of its parent.
    cleaned = GoClean(absl::StrCat("/", cleaned));
    absl::StatusOr<std::string> rel = GoRel("/", cleaned);
    cleaned = rel.ok() ? *rel : ".";
  }
  return GoClean(cleaned);
}

bool IsCgroupMount(const MountInfo& m) {
  return m.fs_type == "cgroup" || m.fs_type == "cgroup2";
}

namespace {

// Parses one mountinfo line. Returns nullopt for a line that is not a
// mount line at all (it is skipped), InvalidArgument for a cgroup mount
// whose fields we use are unusable.
absl::StatusOr<std::optional<MountInfo>> ParseMountinfoLine(
    absl::string_view line, int line_number, std::string* why_skipped) {
  auto skip = [why_skipped](std::string why) {
    *why_skipped = std::move(why);
    return std::optional<MountInfo>();
  };
  size_t sep = line.find(" - ");
  if (sep == absl::string_view::npos) return skip("no \" - \" separator");
  std::vector<absl::string_view> pre =
      absl::StrSplit(line.substr(0, sep), ' ', absl::SkipEmpty());
  std::vector<absl::string_view> post =
      absl::StrSplit(line.substr(sep + 3), ' ', absl::SkipEmpty());
  const bool cgroup_type =
      !post.empty() && (post[0] == "cgroup" || post[0] == "cgroup2");
  auto bad_cgroup_line = [&](absl::string_view why) {
    // Quoted up to a NUL, so the message stays one printable line.
    return absl::InvalidArgumentError(absl::StrCat(
        "mountinfo line ", line_number, ": cgroup mount ", why, " in \"",
        line.substr(0, line.find('\0')), "\""));
  };
  if (pre.size() < 6 || post.size() < 3) {
    if (cgroup_type) return bad_cgroup_line("has too few fields");
    return skip("too few fields");
  }
  if (line.find('\0') != absl::string_view::npos) {
    // The kernel never writes one; a path with it would be cut short.
    if (cgroup_type) return bad_cgroup_line("contains a NUL byte");
    return skip("contains a NUL byte");
  }
  MountInfo m;
  // The root is kept as the kernel wrote it: for nsfs it is "net:[4026532177]"
  // (d_path() of a dentry with d_dname, fs/nsfs.c ns_dname), for a deleted
  // bind-mount source "/x//deleted" (fs/d_path.c prepend "//deleted"), and
  // runc's parser (moby/sys/mountinfo parseInfoFile) accepts any root too.
  m.root = Unescape(pre[3]);
  m.mount_point = Unescape(pre[4]);
  m.fs_type = Unescape(post[0]);
  m.source = Unescape(post[1]);
  for (absl::string_view opt : absl::StrSplit(post[2], ',')) {
    m.super_options.push_back(Unescape(opt));
  }
  // Of a cgroup mount we use the root (nested containers) and the mount
  // point (where we write). The kernel writes both absolute
  // (fs/proc_namespace.c show_mountinfo: seq_path_root and the cgroup's
  // show_path); a relative one would later resolve against a root
  // process's working directory (found by fuzzing, B4).
  if (IsCgroupMount(m) && (m.root.empty() || m.root[0] != '/' ||
                           m.mount_point.empty() || m.mount_point[0] != '/')) {
    return bad_cgroup_line("root and mount point must be absolute");
  }
  return std::optional<MountInfo>(std::move(m));
}

}  // namespace

absl::StatusOr<std::vector<MountInfo>> ParseMountinfo(
    absl::string_view text, std::vector<std::string>* skipped) {
  std::vector<MountInfo> mounts;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    std::string why;
    absl::StatusOr<std::optional<MountInfo>> m =
        ParseMountinfoLine(line, line_number, &why);
    if (!m.ok()) return m.status();
    if (!m->has_value()) {
      if (skipped != nullptr) {
        skipped->push_back(absl::StrCat("mountinfo line ", line_number,
                                        " skipped (", why, "): \"",
                                        line.substr(0, line.find('\0')),
                                        "\""));
      }
      continue;
    }
    mounts.push_back(**std::move(m));
  }
  return mounts;
}

absl::StatusOr<std::map<std::string, std::string>> ParseProcCgroup(
    absl::string_view text, std::vector<std::string>* skipped) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    const bool has_nul = line.find('\0') != absl::string_view::npos;
    if (parts.size() >= 3 && !has_nul) {
      for (absl::string_view controller : absl::StrSplit(parts[1], ',')) {
        out[std::string(controller)] = std::string(parts[2]);
      }
      continue;
    }
    // A line we cannot read. When it may be the memory line, the one line
    // we need, say so (runc's cgroups.parseCgroupFromReader text); any
    // other such line is skipped.
    if (absl::StrContains(line, kMemory)) {
      if (has_nul) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cgroup entry contains a NUL byte: ",
            absl::string_view(line.data(), line.find('\0'))));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid cgroup entry: must contain at least two colons: ", line));
    }
    if (skipped != nullptr) {
      skipped->push_back(absl::StrCat("cgroup entry skipped (malformed): ",
                                      line.substr(0, line.find('\0'))));
    }
  }
  return out;
}

absl::StatusOr<HierarchyMount> FindHierarchy(
    const std::vector<MountInfo>& mounts, absl::string_view subsystem) {
  for (const MountInfo& m : mounts) {
    // Only the kernel's cgroup mounts are validated (ParseMountinfo); any
    // other mount with a "memory" option and an odd root or mount point is
    // not one the kernel could have written.
    if (!IsCgroupMount(m) &&
        (m.root.empty() || m.root[0] != '/' || m.mount_point.empty() ||
         m.mount_point[0] != '/'))
      continue;
    // runc matches on the super options alone, whatever the fs type, so the
    // name=systemd hierarchy is found by its "name=systemd" option.
    if (std::find(m.super_options.begin(), m.super_options.end(), subsystem) !=
        m.super_options.end()) {
      return HierarchyMount{m.mount_point, m.root};
    }
  }
  return absl::NotFoundError(
      absl::StrCat("mountpoint for ", subsystem, " not found"));
}

absl::StatusOr<std::string> FindCgroupRoot(
    const std::vector<MountInfo>& mounts) {
  for (const MountInfo& m : mounts) {
    if (m.fs_type == "cgroup") {
      std::string dir = GoClean(m.mount_point);
      size_t slash = dir.rfind('/');
      if (slash == 0 || slash == std::string::npos) return std::string("/");
      return dir.substr(0, slash);
    }
  }
  return absl::NotFoundError("mountpoint for cgroup not found");
}

namespace {

// The lines of mountinfo that can change ResolveMemoryCgroup's result: a
// cgroup mount (fs type cgroup or cgroup2: FindCgroupRoot, and the only
// lines ParseMountinfo refuses) or a mount whose super options may hold
// "memory" (FindHierarchy matches on the options alone, as runc does).
// Neither word can come out of the kernel's octal escapes (\040 \011 \012
// \134), so a line holding neither would be parsed only to be ignored.
// It becomes an empty line, which keeps the line numbers of errors. On a
// node with hundreds of mounts (pod volumes, overlays) full parsing cost
// ~5,600 instructions a line on every container create (docs/benchmarks.md).
std::string MountinfoLinesForMemory(absl::string_view mountinfo) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    if (absl::StrContains(line, "cgroup") || absl::StrContains(line, kMemory)) {
      out.append(line.data(), line.size());
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace

absl::StatusOr<ResolvedCgroup> ResolveMemoryCgroup(
    const CgroupLocation& location, absl::string_view mountinfo,
    absl::string_view proc_self_cgroup) {
  absl::StatusOr<std::vector<MountInfo>> mounts =
      ParseMountinfo(MountinfoLinesForMemory(mountinfo));
  if (!mounts.ok()) return mounts.status();
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup(proc_self_cgroup);
  if (!own.ok()) return own.status();

  // runc checks /proc/self/cgroup before mountinfo: a hierarchy this process
  // is not in counts as not mounted.
  auto own_it = own->find(kMemory);
  if (own_it == own->end()) own_it = own->find("name=memory");
  if (own_it == own->end()) {
    return absl::NotFoundError("mountpoint for memory not found");
  }
  absl::StatusOr<HierarchyMount> hierarchy = FindHierarchy(*mounts, kMemory);
  if (!hierarchy.ok()) return hierarchy.status();
  const std::string mnt = GoClean(hierarchy->mount_point);

  std::string full;
  bool explicit_path = false;
  if (!location.controller_paths.empty()) {
    auto it = location.controller_paths.find(kMemory);
    if (it == location.controller_paths.end()) {
      return absl::NotFoundError("no memory entry in the explicit cgroup paths");
    }
    if (it->second.empty() || it->second[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "explicit memory cgroup path \"", it->second, "\" is not absolute"));
    }
    full = GoClean(it->second);
    explicit_path = true;
  } else {
    if ((!location.name.empty() || !location.parent.empty()) &&
        !location.path.empty()) {
      // runc's text (fs/apply_raw.go getCgroupData).
      return absl::InvalidArgumentError(
          "cgroup: either Path or Name and Parent should be used");
    }
    // Path safety: "Do not remove this code" (runc getCgroupData).
    std::string inner = CleanPath(location.path);
    if (inner.empty()) {
      inner = GoJoin({CleanPath(location.parent), CleanPath(location.name)});
    }
    if (inner.empty() || inner == "." || inner == "/") {
      return absl::InvalidArgumentError(
          "cgroup location is empty: give a cgroups path, or a name");
    }
    if (inner[0] == '/') {
      absl::StatusOr<std::string> cgroup_root = FindCgroupRoot(*mounts);
      if (!cgroup_root.ok()) return cgroup_root.status();
      size_t slash = mnt.rfind('/');
      absl::string_view base = absl::string_view(mnt).substr(slash + 1);
      full = GoJoin({*cgroup_root, base, inner});
    } else {
      absl::StatusOr<std::string> rel =
          GoRel(hierarchy->root, own_it->second);
      if (!rel.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "own memory cgroup \"", own_it->second,
            "\" is not below the mount root \"", hierarchy->root, "\""));
      }
      full = GoJoin({mnt, *rel, inner});
    }
  }

  absl::StatusOr<std::string> within = GoRel(mnt, full);
  if (!within.ok() || *within == ".." || absl::StartsWith(*within, "../")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cgroup ", full, " is outside the memory hierarchy ", mnt));
  }
  if (*within == "." && !explicit_path) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cgroup location resolves to the hierarchy root ", mnt,
        "; refusing to operate on it"));
  }
  absl::StatusOr<CgroupPath> path =
      CgroupPath::Parse(*within == "." ? "" : *within);
  if (!path.ok()) return path.status();
  return ResolvedCgroup{mnt, *std::move(path), full, explicit_path};
}

absl::StatusOr<ResolvedCgroup> ResolveMemoryCgroupOnHost(
    const CgroupLocation& location) {
  absl::StatusOr<std::string> mountinfo = ReadHostFile("/proc/self/mountinfo");
  if (!mountinfo.ok()) return mountinfo.status();
  absl::StatusOr<std::string> cgroup = ReadHostFile("/proc/self/cgroup");
  if (!cgroup.ok()) return cgroup.status();
  return ResolveMemoryCgroup(location, *mountinfo, *cgroup);
}

}  // namespace kmemguard

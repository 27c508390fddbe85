// SPDX-License-Identifier: Apache-2.0

#include "runtime/records.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/process.h"
#include "nlohmann/json.hpp"

namespace kmemguard::shim {

std::string RecordToJson(const CreatedRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["runtime_root"] = r.runtime_root;
  j["hierarchy_root"] = r.hierarchy_root;
  j["cgroup"] = r.cgroup;
  nlohmann::ordered_json created = nlohmann::ordered_json::array();
  for (const CreatedDir& d : r.created) {
    created.push_back({{"path", d.path}, {"inode", d.inode}});
  }
  j["created"] = std::move(created);
  j["owner_pid"] = r.owner_pid;
  j["owner_start"] = r.owner_start;
  j["confirmed"] = r.confirmed;
  return j.dump(1);
}

absl::StatusOr<CreatedRecord> RecordFromJson(absl::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    CreatedRecord r;
    r.id = j.at("id").get<std::string>();
    r.runtime_root = j.at("runtime_root").get<std::string>();
    r.hierarchy_root = j.at("hierarchy_root").get<std::string>();
    r.cgroup = j.at("cgroup").get<std::string>();
    for (const nlohmann::json& d : j.at("created")) {
      r.created.push_back(CreatedDir{d.at("path").get<std::string>(),
                                     d.at("inode").get<uint64_t>()});
    }
    r.owner_pid = j.at("owner_pid").get<int64_t>();
    r.owner_start = j.at("owner_start").get<uint64_t>();
    r.confirmed = j.at("confirmed").get<bool>();
    if (!IsValidContainerId(r.id) || r.runtime_root.empty() ||
        r.runtime_root[0] != '/' || r.hierarchy_root.empty() ||
        r.hierarchy_root[0] != '/') {
      return absl::InvalidArgumentError(
          "bad kmemguard state record: id or paths out of shape");
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad kmemguard state record: ", e.what()));
  }
}

std::string RecordPath(const std::string& state_dir,
                       const std::string& canonical_root,
                       const std::string& id) {
  // FNV-1a: runtime roots are paths; a short stable name keeps ids of
  // different roots (containerd namespaces) apart.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : canonical_root) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(state_dir, "/", absl::Hex(h, absl::kZeroPad16), "/", id,
                      ".json");
}

std::string CanonicalRuntimeRoot(const std::string& root,
                                 const std::string& runtime_path,
                                 const std::string& cwd, bool euid_root,
                                 const std::string& xdg_runtime_dir) {
  std::string path = root;
  if (path.empty()) {
    absl::string_view name = runtime_path;
    name = name.substr(name.rfind('/') + 1);
    const char* base = name == "crun" ? "crun" : "runc";
    path = !euid_root && !xdg_runtime_dir.empty()
               ? absl::StrCat(xdg_runtime_dir, "/", base)
               : absl::StrCat("/run/", base);
  } else if (path[0] != '/') {
    // runc: filepath.Abs(root) (main.go), against the caller's directory.
    path = absl::StrCat(cwd, "/", path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

std::string HostCanonicalRuntimeRoot(const std::string& root,
                                     const std::string& runtime_path) {
  std::string cwd;
  if (!root.empty() && root[0] != '/') {
    absl::StatusOr<std::string> wd = WorkingDirectory();
    cwd = wd.ok() ? *wd : "/";
  }
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string lexical = CanonicalRuntimeRoot(root, runtime_path, cwd,
                                             EffectiveUidIsRoot(), xdg ? xdg : "");
  absl::StatusOr<std::string> real = RealPath(lexical);
  return real.ok() ? *real : lexical;
}

bool IsValidContainerId(absl::string_view id) {
  if (id.empty() || id == "." || id == "..") return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '+' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace kmemguard::shim

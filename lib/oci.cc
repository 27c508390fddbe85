// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/oci.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kmemguard/paths.h"
#include "nlohmann/json.hpp"

namespace kmemguard {
namespace {

using Json = nlohmann::json;

struct TooDeep {};

absl::StatusOr<Json> ParseBoundedJson(absl::string_view text,
                                      absl::string_view what) {
  if (text.size() > kMaxOciConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ", text.size(), " bytes is larger than the limit of ",
        kMaxOciConfigBytes));
  }
  try {
    Json::parser_callback_t depth_guard =
        [](int depth, Json::parse_event_t, Json&) -> bool {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    };
    return Json::parse(text.begin(), text.end(), depth_guard);
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": JSON nested deeper than ", kMaxJsonDepth, " levels"));
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": invalid JSON: ", e.what()));
  }
}

// Reads an optional int64 field (Go *int64): absent or null leaves `out`.
absl::Status ReadInt64(const Json& obj, const char* key, const char* where,
                       int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".", key, ": ", v, " does not fit in a signed 64-bit integer"));
    }
    *out = static_cast<int64_t>(v);
    return absl::OkStatus();
  }
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, ".", key, ": ", it->dump(), " is not an integer"));
}

}  // namespace

absl::StatusOr<OciCgroupConfig> ParseOciConfig(absl::string_view json_text,
                                               absl::string_view container_id,
                                               bool systemd_cgroup) {
  absl::StatusOr<Json> doc = ParseBoundedJson(json_text, "config.json");
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return absl::InvalidArgumentError("config.json: not a JSON object");
  }
  OciCgroupConfig out;
  const Json* linux = nullptr;
  auto lit = doc->find("linux");
  if (lit != doc->end() && !lit->is_null()) {
    if (!lit->is_object()) {
      return absl::InvalidArgumentError("config.json: linux is not an object");
    }
    linux = &*lit;
  }
  if (linux != nullptr) {
    auto cp = linux->find("cgroupsPath");
    if (cp != linux->end() && !cp->is_null()) {
      if (!cp->is_string()) {
        return absl::InvalidArgumentError(
            "config.json: linux.cgroupsPath is not a string");
      }
      out.cgroups_path = cp->get<std::string>();
      if (out.cgroups_path.find('\0') != std::string::npos) {
        return absl::InvalidArgumentError(
            "config.json: linux.cgroupsPath contains a NUL byte");
      }
    }
  }
  if (systemd_cgroup) {
    if (out.cgroups_path.empty()) {
      out.systemd = SystemdCgroupPath{"system.slice", "runc",
                                      std::string(container_id)};
    } else {
      std::vector<std::string> parts = absl::StrSplit(out.cgroups_path, ':');
      if (parts.size() != 3) {
        // runc specconv's text.
        return absl::InvalidArgumentError(
            "expected cgroupsPath to be of format \"slice:prefix:name\" for "
            "systemd cgroups");
      }
      out.systemd = SystemdCgroupPath{parts[0], parts[1], parts[2]};
    }
  } else if (!out.cgroups_path.empty()) {
    out.location.path = CleanPath(out.cgroups_path);
  } else {
    out.location.name = std::string(container_id);
  }

  if (linux == nullptr) return out;
  auto rit = linux->find("resources");
  if (rit == linux->end() || rit->is_null()) return out;
  if (!rit->is_object()) {
    return absl::InvalidArgumentError(
        "config.json: linux.resources is not an object");
  }
  auto mit = rit->find("memory");
  if (mit == rit->end() || mit->is_null()) return out;
  if (!mit->is_object()) {
    return absl::InvalidArgumentError(
        "config.json: linux.resources.memory is not an object");
  }
  const Json& mem = *mit;
  const char* where = "config.json: linux.resources.memory";
  out.has_memory_section = true;
  MemoryResources& r = out.resources;
  for (auto [key, field] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"limit", &r.limit_bytes},
           {"reservation", &r.reservation_bytes},
           {"swap", &r.memsw_limit_bytes},
           {"kernel", &r.kernel_limit_bytes},
           {"kernelTCP", &r.kernel_tcp_limit_bytes}}) {
    absl::Status s = ReadInt64(mem, key, where, field);
    if (!s.ok()) return s;
  }
  auto sw = mem.find("swappiness");
  if (sw != mem.end() && !sw->is_null()) {
    if (!sw->is_number_unsigned()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".swappiness: ", sw->dump(),
          " is not an unsigned 64-bit integer"));
    }
    r.swappiness = sw->get<uint64_t>();
  }
  auto oom = mem.find("disableOOMKiller");
  if (oom != mem.end() && !oom->is_null()) {
    if (!oom->is_boolean()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".disableOOMKiller: ", oom->dump(),
                       " is not a boolean"));
    }
    r.oom_kill_disable = oom->get<bool>();
  }
  return out;
}

absl::StatusOr<OciState> ParseOciState(absl::string_view json_text) {
  absl::StatusOr<Json> doc = ParseBoundedJson(json_text, "OCI state");
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return absl::InvalidArgumentError("OCI state: not a JSON object");
  }
  OciState state;
  auto str = [&](const char* key, std::string* out) -> absl::Status {
    auto it = doc->find(key);
    if (it == doc->end() || it->is_null()) return absl::OkStatus();
    if (!it->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("OCI state: ", key, " is not a string"));
    }
    *out = it->get<std::string>();
    return absl::OkStatus();
  };
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"ociVersion", &state.oci_version},
           {"id", &state.id},
           {"status", &state.status},
           {"bundle", &state.bundle}}) {
    absl::Status s = str(key, out);
    if (!s.ok()) return s;
  }
  absl::Status s = ReadInt64(*doc, "pid", "OCI state", &state.pid);
  if (!s.ok()) return s;
  if (state.id.empty()) {
    return absl::InvalidArgumentError("OCI state: id is missing");
  }
  return state;
}

}  // namespace kmemguard

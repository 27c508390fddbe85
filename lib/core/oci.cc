// SPDX-License-Identifier: Apache-2.0
//
// The full config.json decoder. Over 500 lines on purpose: it is one
// reading of Go's encoding/json rules (folded keys, first value only, null
// resets, integer literals) over nlohmann's tokenizer, and splitting it
// would scatter rules that must be read together against oci_lean.cc.

#include "kmemguard/core/oci.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/paths.h"
#include "oci_internal.h"
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

// --------------------------------------------------------- config.json
//
// runc@4d6e672 reads config.json with json.NewDecoder(f).Decode(&spec)
// (utils_linux.go loadSpec). What that means, read from Go 1.19's
// encoding/json and checked with golang-go on this machine:
//  - only the first JSON value is read; what follows it is never looked at;
//  - an object key sets the struct field named exactly so, else the field
//    whose name folds to it (fold.go); a later key for the same field
//    overwrites an earlier one, and a second object for a pointer-to-struct
//    field merges into the first;
//  - null sets a pointer field to nil and leaves a string field alone;
//  - an int64 takes only an integer literal in range (1e3 and 1.0 are
//    errors), a uint64 likewise and no minus sign;
//  - a string's invalid UTF-8 bytes and unpaired surrogate escapes become
//    U+FFFD, one per byte.
// Here nlohmann's tokenizer builds an ordered tree that keeps duplicate keys,
// which the Go rules are then applied to. nlohmann differs from Go's scanner
// in three ways that GoNormalize() below removes first: it skips a leading
// UTF-8 BOM (Go: invalid character), and refuses invalid UTF-8 and unpaired
// surrogate escapes in strings (Go: U+FFFD).

// A JSON value as written, objects as ordered member lists.
struct Node {
  enum class Kind { kNull, kBool, kInt, kUint, kFloat, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  std::string string_value;
  std::vector<std::pair<std::string, Node>> members;
};

// How a value was written, for messages.
std::string Shown(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kBool: return n.boolean ? "true" : "false";
    case Node::Kind::kInt: return absl::StrCat(n.int_value);
    case Node::Kind::kUint: return absl::StrCat(n.uint_value);
    case Node::Kind::kFloat: return n.string_value;
    case Node::Kind::kString: return absl::StrCat("\"", n.string_value, "\"");
    case Node::Kind::kArray: return "[]";
    case Node::Kind::kObject: return "{}";
  }
  return "";
}

bool IsHex(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }

// The code unit of a "\uXXXX" at text[i] (i at the backslash), or -1.
int EscapedUnit(absl::string_view text, size_t i) {
  if (i + 6 > text.size() || text[i] != '\\' || text[i + 1] != 'u') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    if (!IsHex(text[k])) return -1;
    char c = absl::ascii_tolower(text[k]);
    v = v * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

// Go's number grammar (scanner.go): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsGoNumber(absl::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t from = i;
    while (i < t.size() && absl::ascii_isdigit(static_cast<unsigned char>(t[i]))) ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (i >= t.size() || t[i] < '1' || t[i] > '9' || !digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// Rewrites, inside strings, what Go's decoder turns into U+FFFD into
// something nlohmann reads as U+FFFD; outside them, a number nlohmann would
// refuse as an overflow. Leaves everything else as it is.
std::string GoNormalize(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (!in_string) {
      if (c == '-' || absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        // nlohmann refuses a number whose double overflows ("number
        // overflow", 1e400); Go's scanner takes any number the grammar
        // allows, and only its decoder minds, for a numeric field. As
        // "0.0" it stays a float to us: skipped where Go skips it, refused
        // by an integer field as Go refuses 1e400.
        size_t end = i;
        while (end < text.size() &&
               (absl::ascii_isdigit(static_cast<unsigned char>(text[end])) ||
                text[end] == '-' || text[end] == '+' || text[end] == '.' ||
                text[end] == 'e' || text[end] == 'E')) {
          ++end;
        }
        absl::string_view token = text.substr(i, end - i);
        // nlohmann's lexer converts with std::strtod and its parser refuses
        // a result that is not finite.
        if (IsGoNumber(token) &&
            !std::isfinite(std::strtod(std::string(token).c_str(), nullptr))) {
          out.append("0.0");
        } else {
          out.append(token.data(), token.size());
        }
        i = end;
        continue;
      }
      if (c == '"') in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out.push_back(c);
      ++i;
    } else if (c == '\\') {
      int unit = EscapedUnit(text, i);
      if (unit >= 0xD800 && unit <= 0xDFFF) {
        int low = EscapedUnit(text, i + 6);
        if (unit <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
          out.append(text.data() + i, 12);
          i += 12;
        } else {
          out.append("\\ufffd");
          i += 6;
        }
      } else {
        size_t n = std::min<size_t>(2, text.size() - i);
        out.append(text.data() + i, n);
        i += n;
      }
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      size_t n = GoUtf8SequenceLength(text.substr(i));
      if (n == 0) {
        out.append("\xEF\xBF\xBD");
        i += 1;
      } else {
        out.append(text.data() + i, n);
        i += n;
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

// nlohmann SAX handler building the ordered tree, depth-bounded.
class TreeBuilder {
 public:
  Node root;
  absl::Status error;

  bool null() { return Put(Node{}); }
  bool boolean(bool v) {
    Node n;
    n.kind = Node::Kind::kBool;
    n.boolean = v;
    return Put(std::move(n));
  }
  bool number_integer(int64_t v) {
    Node n;
    n.kind = Node::Kind::kInt;
    n.int_value = v;
    return Put(std::move(n));
  }
  bool number_unsigned(uint64_t v) {
    Node n;
    n.kind = Node::Kind::kUint;
    n.uint_value = v;
    return Put(std::move(n));
  }
  bool number_float(double, const std::string& literal) {
    Node n;
    n.kind = Node::Kind::kFloat;
    n.string_value = literal;
    return Put(std::move(n));
  }
  bool string(std::string& v) {
    Node n;
    n.kind = Node::Kind::kString;
    n.string_value = std::move(v);
    return Put(std::move(n));
  }
  bool binary(Json::binary_t&) { return false; }
  bool start_object(size_t) { return Open(Node::Kind::kObject); }
  bool key(std::string& k) {
    stack_.back()->members.emplace_back(std::move(k), Node{});
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(size_t) { return Open(Node::Kind::kArray); }
  bool end_array() { return Close(); }
  bool parse_error(size_t position, const std::string&,
                   const nlohmann::detail::exception& e) {
    error = oci_internal::InvalidJson(absl::StrCat(e.what(), " (byte ", position, ")"));
    return false;
  }

 private:
  // Where the next value goes: the root, the last member of an object, or
  // an array's one element slot (elements are not kept, no field we read is
  // in one; each overwrites the previous, which is closed by then). Only
  // the top node's vector grows, and none of its children is open, so the
  // pointers in stack_ stay valid.
  Node* Slot() {
    if (stack_.empty()) return &root;
    Node* top = stack_.back();
    if (top->kind == Node::Kind::kArray && top->members.empty()) {
      top->members.emplace_back();
    }
    return &top->members.back().second;
  }
  bool Put(Node n) {
    *Slot() = std::move(n);
    return true;
  }
  bool Open(Node::Kind kind) {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      error = oci_internal::TooDeep();
      return false;
    }
    Node* slot = Slot();
    *slot = Node{};
    slot->kind = kind;
    stack_.push_back(slot);
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  std::vector<Node*> stack_;
};

using oci_internal::GoLinux;
using oci_internal::GoLinuxMemory;
using oci_internal::GoLinuxResources;
using oci_internal::GoSpec;
using oci_internal::WrongType;

// Go's decoding of `n` into a pointer-to-struct field: null = nil, an object
// decodes into the existing struct (or a new one), anything else is an
// UnmarshalTypeError.
template <class T, class Fn>
absl::Status DecodePointerToStruct(const Node& n, const char* field,
                                   std::optional<T>* out, Fn decode) {
  if (n.kind == Node::Kind::kNull) {
    out->reset();
    return absl::OkStatus();
  }
  if (n.kind != Node::Kind::kObject) {
    return WrongType(field, Shown(n), "an object");
  }
  if (!out->has_value()) out->emplace();
  return decode(n, &**out);
}

absl::Status DecodeMemory(const Node& obj, GoLinuxMemory* m) {
  for (const auto& [key, v] : obj.members) {
    for (size_t f = 0; f < std::size(oci_internal::kMemoryInt64Fields); ++f) {
      const char* name = oci_internal::kMemoryInt64Fields[f];
      if (!GoKeyMatchesField(key, name)) continue;
      std::optional<int64_t>& dst = m->*oci_internal::kMemoryInt64Members[f];
      if (v.kind == Node::Kind::kNull) {
        dst.reset();
      } else if (v.kind == Node::Kind::kInt) {
        dst = v.int_value;
      } else if (v.kind == Node::Kind::kUint &&
                 v.uint_value <= static_cast<uint64_t>(
                                     std::numeric_limits<int64_t>::max())) {
        dst = static_cast<int64_t>(v.uint_value);
      } else {
        return WrongType(absl::StrCat("linux.resources.memory.", name), Shown(v),
                         "an integer in int64");
      }
    }
    if (GoKeyMatchesField(key, "swappiness")) {
      if (v.kind == Node::Kind::kNull) {
        m->swappiness.reset();
      } else if (v.kind == Node::Kind::kUint) {
        m->swappiness = v.uint_value;
      } else {
        return WrongType("linux.resources.memory.swappiness", Shown(v),
                         "an integer in uint64");
      }
    }
    if (GoKeyMatchesField(key, "disableOOMKiller")) {
      if (v.kind == Node::Kind::kNull) {
        m->disable_oom_killer.reset();
      } else if (v.kind == Node::Kind::kBool) {
        m->disable_oom_killer = v.boolean;
      } else {
        return WrongType("linux.resources.memory.disableOOMKiller", Shown(v),
                         "a boolean");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeResources(const Node& obj, GoLinuxResources* r) {
  for (const auto& [key, v] : obj.members) {
    if (!GoKeyMatchesField(key, "memory")) continue;
    absl::Status s = DecodePointerToStruct(v, "linux.resources.memory",
                                           &r->memory, DecodeMemory);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status DecodeLinux(const Node& obj, GoLinux* l) {
  for (const auto& [key, v] : obj.members) {
    if (GoKeyMatchesField(key, "cgroupsPath")) {
      if (v.kind == Node::Kind::kString) {
        l->cgroups_path = v.string_value;
      } else if (v.kind != Node::Kind::kNull) {
        return WrongType("linux.cgroupsPath", Shown(v), "a string");
      }
    }
    if (GoKeyMatchesField(key, "resources")) {
      absl::Status s = DecodePointerToStruct(v, "linux.resources",
                                             &l->resources, DecodeResources);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OciCgroupConfig> ParseOciConfig(absl::string_view json_text,
                                               absl::string_view container_id,
                                               bool systemd_cgroup) {
  if (json_text.size() > kMaxOciConfigBytes) {
    return oci_internal::TooLarge(json_text.size());
  }
  if (absl::StartsWith(json_text, "\xEF\xBB\xBF")) {
    return oci_internal::InvalidJson("a byte order mark before the value");
  }
  std::string text = GoNormalize(json_text);
  TreeBuilder tree;
  // strict = false: stop after the first value, as json.Decoder does.
  if (!Json::sax_parse(text.begin(), text.end(), &tree,
                       Json::input_format_t::json, /*strict=*/false)) {
    if (tree.error.ok()) return oci_internal::InvalidJson("parse failed");
    return tree.error;
  }
  if (tree.root.kind != Node::Kind::kObject) {
    return absl::InvalidArgumentError("config.json: not a JSON object");
  }
  GoSpec spec;
  for (const auto& [key, v] : tree.root.members) {
    if (!GoKeyMatchesField(key, "linux")) continue;
    absl::Status s = DecodePointerToStruct(v, "linux", &spec.linux, DecodeLinux);
    if (!s.ok()) return s;
  }
  return oci_internal::MapGoSpec(spec, container_id, systemd_cgroup);
}

namespace oci_internal {

absl::Status TooLarge(size_t size) {
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: ", size, " bytes is larger than the limit of ",
                   kMaxOciConfigBytes));
}

absl::Status TooDeep() {
  return absl::InvalidArgumentError(absl::StrCat(
      "config.json: JSON nested deeper than ", kMaxJsonDepth, " levels"));
}

absl::Status InvalidJson(absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: invalid JSON: ", detail));
}

absl::Status WrongType(absl::string_view field, absl::string_view value,
                       absl::string_view want) {
  // encoding/json's UnmarshalTypeError, worded for the field.
  std::string shown = GoCoerceUtf8(value.substr(0, 64));
  if (value.size() > 64) shown += "...";
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: ", field, ": ", shown, " is not ", want));
}

absl::StatusOr<OciCgroupConfig> MapGoSpec(const GoSpec& spec,
                                          absl::string_view container_id,
                                          bool systemd_cgroup) {
  OciCgroupConfig out;
  if (spec.linux.has_value()) out.cgroups_path = spec.linux->cgroups_path;
  if (out.cgroups_path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        "config.json: linux.cgroupsPath contains a NUL byte");
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
  if (!spec.linux.has_value() || !spec.linux->resources.has_value() ||
      !spec.linux->resources->memory.has_value()) {
    return out;
  }
  const GoLinuxMemory& m = *spec.linux->resources->memory;
  out.has_memory_section = true;
  MemoryResources& r = out.resources;
  // specconv: each set pointer is copied; nil leaves runc's zero.
  if (m.limit) r.limit_bytes = *m.limit;
  if (m.reservation) r.reservation_bytes = *m.reservation;
  if (m.swap) r.memsw_limit_bytes = *m.swap;
  if (m.kernel) r.kernel_limit_bytes = *m.kernel;
  if (m.kernel_tcp) r.kernel_tcp_limit_bytes = *m.kernel_tcp;
  r.swappiness = m.swappiness;
  if (m.disable_oom_killer) r.oom_kill_disable = *m.disable_oom_killer;
  return out;
}

}  // namespace oci_internal

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

// SPDX-License-Identifier: Apache-2.0
//
// ParseOciCgroupConfigLean: the wrapper's hot-path reading of config.json.
// One pass over the text, no DOM, no nlohmann: it decodes linux.cgroupsPath
// and linux.resources.memory as Go's encoding/json does for runc (the rules
// are listed in lib/core/oci.cc) and validates everything else it skips with
// Go's scanner grammar (scanner.go), up to the end of the first value. The
// differential fuzzer tests/fuzz/oci_lean_fuzz.cc holds it to ParseOciConfig.

#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kmemguard/core/go_json.h"
#include "kmemguard/core/oci.h"
#include "oci_internal.h"

namespace kmemguard {
namespace {

using oci_internal::GoLinux;
using oci_internal::GoLinuxMemory;
using oci_internal::GoLinuxResources;
using oci_internal::GoSpec;
using oci_internal::InvalidJson;
using oci_internal::WrongType;

void AppendUtf8(uint32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

class LeanDecoder {
 public:
  explicit LeanDecoder(absl::string_view text) : s_(text) {}

  absl::Status DecodeSpec(GoSpec* spec) {
    SkipSpace();
    if (AtEnd()) return Error("unexpected end of input");
    if (s_[i_] != '{') {
      absl::Status s = SkipValue();
      if (!s.ok()) return s;
      return absl::InvalidArgumentError("config.json: not a JSON object");
    }
    // Whatever follows the closing brace is never read (json.Decoder).
    return Object([&](const std::string& key) {
      if (!GoKeyMatchesField(key, "linux")) return SkipValue();
      return PointerToStruct("linux", &spec->linux,
                             [&](GoLinux* l) { return DecodeLinux(l); });
    });
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool AtEnd() const { return i_ >= s_.size(); }

  absl::Status Error(absl::string_view what) {
    return InvalidJson(absl::StrCat(what, " (byte ", i_, ")"));
  }

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  // An object or array at i_: `element` reads one member or element, with
  // i_ after the separating white space.
  template <class Fn>
  absl::Status Container(char close, Fn element) {
    if (depth_ >= kMaxJsonDepth) return oci_internal::TooDeep();
    ++depth_;
    ++i_;  // '{' or '['
    SkipSpace();
    if (Peek() == close) {
      ++i_;
      --depth_;
      return absl::OkStatus();
    }
    for (;;) {
      SkipSpace();
      absl::Status s = element();
      if (!s.ok()) return s;
      SkipSpace();
      if (AtEnd()) return Error("unexpected end of input");
      if (s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (s_[i_] == close) {
        ++i_;
        --depth_;
        return absl::OkStatus();
      }
      return Error(absl::StrCat("expected ',' or '", std::string(1, close), "'"));
    }
  }

  // '{' members '}', calling member(key) with i_ at the value.
  template <class Fn>
  absl::Status Object(Fn member) {
    return Container('}', [&]() -> absl::Status {
      if (Peek() != '"') return Error("expected a key");
      std::string key;
      absl::Status s = String(&key);
      if (!s.ok()) return s;
      SkipSpace();
      if (Peek() != ':') return Error("expected ':'");
      ++i_;
      SkipSpace();
      return member(key);
    });
  }

  absl::Status Array() {
    return Container(']', [&] { return SkipValue(); });
  }

  // The code unit of "\uXXXX" at i, or -1 (decode.go getu4).
  int Unit(size_t i) const {
    if (i + 6 > s_.size() || s_[i] != '\\' || s_[i + 1] != 'u') return -1;
    int v = 0;
    for (size_t k = i + 2; k < i + 6; ++k) {
      char c = s_[k];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  // A string at i_ (at the quote), unquoted as decode.go unquoteBytes does
  // into *out when out is not null.
  absl::Status String(std::string* out) {
    ++i_;  // '"'
    for (;;) {
      if (AtEnd()) return Error("unexpected end of input in a string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return absl::OkStatus();
      }
      if (c < 0x20) return Error("control character in a string");
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) return Error("unexpected end of input in a string");
        char e = s_[i_ + 1];
        const char* simple = nullptr;
        switch (e) {
          case '"': simple = "\""; break;
          case '\\': simple = "\\"; break;
          case '/': simple = "/"; break;
          case 'b': simple = "\b"; break;
          case 'f': simple = "\f"; break;
          case 'n': simple = "\n"; break;
          case 'r': simple = "\r"; break;
          case 't': simple = "\t"; break;
          case 'u': break;
          default: return Error("invalid escape in a string");
        }
        if (simple != nullptr) {
          if (out != nullptr) out->push_back(*simple);
          i_ += 2;
          continue;
        }
        int unit = Unit(i_);
        if (unit < 0) return Error("invalid \\u escape in a string");
        i_ += 6;
        uint32_t rune = static_cast<uint32_t>(unit);
        if (unit >= 0xD800 && unit <= 0xDFFF) {
          int low = Unit(i_);
          if (unit <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
            rune = 0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) +
                   (static_cast<uint32_t>(low) - 0xDC00);
            i_ += 6;
          } else {
            rune = 0xFFFD;  // an unpaired surrogate; the next escape stays
          }
        }
        if (out != nullptr) AppendUtf8(rune, out);
        continue;
      }
      if (c < 0x80) {
        if (out != nullptr) out->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      size_t n = GoUtf8SequenceLength(s_.substr(i_));
      if (n == 0) {
        if (out != nullptr) out->append("\xEF\xBF\xBD");
        ++i_;
      } else {
        if (out != nullptr) out->append(s_.data() + i_, n);
        i_ += n;
      }
    }
  }

  // A number at i_ in Go's grammar; *literal is its text.
  absl::Status Number(absl::string_view* literal) {
    size_t start = i_;
    auto digits = [&] {
      size_t from = i_;
      while (!AtEnd() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (Peek() == '-') ++i_;
    if (AtEnd()) return Error("unexpected end of input in a number");
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] >= '1' && s_[i_] <= '9') {
      digits();
    } else {
      return Error("invalid number");
    }
    if (!AtEnd() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return Error("invalid number");
    }
    if (!AtEnd() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!AtEnd() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return Error("invalid number");
    }
    *literal = s_.substr(start, i_ - start);
    return absl::OkStatus();
  }

  absl::Status Literal(absl::string_view word) {
    if (s_.substr(i_, word.size()) != word) return Error("invalid literal");
    i_ += word.size();
    return absl::OkStatus();
  }

  absl::Status SkipValue() {
    switch (Peek()) {
      case '{':
        return Object([&](const std::string&) { return SkipValue(); });
      case '[':
        return Array();
      case '"':
        return String(nullptr);
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) {
          absl::string_view literal;
          return Number(&literal);
        }
        break;
    }
    if (AtEnd()) return Error("unexpected end of input");
    return Error("invalid character looking for a value");
  }

  bool IsNull() const { return s_.substr(i_, 4) == "null"; }

  // An integer literal as strconv.ParseInt/ParseUint read it, or nullopt.
  static std::optional<int64_t> Int64Of(absl::string_view lit) {
    bool negative = !lit.empty() && lit[0] == '-';
    if (negative) lit.remove_prefix(1);
    uint64_t v = 0;
    for (char c : lit) {
      if (c < '0' || c > '9') return std::nullopt;
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (uint64_t{1} << 63) / 10) return std::nullopt;
      v = v * 10 + d;
      if (v > (uint64_t{1} << 63)) return std::nullopt;
    }
    if (negative) return static_cast<int64_t>(0 - v);
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v);
  }
  static std::optional<uint64_t> Uint64Of(absl::string_view lit) {
    uint64_t v = 0;
    for (char c : lit) {
      if (c < '0' || c > '9') return std::nullopt;
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
      v = v * 10 + d;
    }
    return v;
  }

  // Go's decoding into a pointer-to-struct field (see lib/core/oci.cc).
  template <class T, class Fn>
  absl::Status PointerToStruct(const char* field, std::optional<T>* out,
                               Fn decode) {
    if (IsNull()) {
      out->reset();
      return Literal("null");
    }
    if (Peek() != '{') {
      size_t start = i_;
      absl::Status s = SkipValue();
      if (!s.ok()) return s;
      return WrongType(field, s_.substr(start, i_ - start), "an object");
    }
    if (!out->has_value()) out->emplace();
    return decode(&**out);
  }

  // A scalar field: null resets it; `read` takes the literal's text.
  template <class T, class Read>
  absl::Status Scalar(const std::string& field, absl::string_view want,
                      std::optional<T>* out, Read read) {
    if (IsNull()) {
      out->reset();
      return Literal("null");
    }
    size_t start = i_;
    absl::Status s = SkipValue();
    if (!s.ok()) return s;
    std::optional<T> v = read(s_.substr(start, i_ - start));
    if (!v.has_value()) {
      return WrongType(field, s_.substr(start, i_ - start), want);
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status DecodeMemory(GoLinuxMemory* m) {
    return Object([&](const std::string& key) -> absl::Status {
      for (size_t f = 0; f < std::size(oci_internal::kMemoryInt64Fields); ++f) {
        const char* name = oci_internal::kMemoryInt64Fields[f];
        if (!GoKeyMatchesField(key, name)) continue;
        return Scalar(absl::StrCat("linux.resources.memory.", name),
                      "an integer in int64",
                      &(m->*oci_internal::kMemoryInt64Members[f]), Int64Of);
      }
      if (GoKeyMatchesField(key, "swappiness")) {
        return Scalar("linux.resources.memory.swappiness",
                      "an integer in uint64", &m->swappiness, Uint64Of);
      }
      if (GoKeyMatchesField(key, "disableOOMKiller")) {
        return Scalar("linux.resources.memory.disableOOMKiller", "a boolean",
                      &m->disable_oom_killer,
                      [](absl::string_view lit) -> std::optional<bool> {
                        if (lit == "true") return true;
                        if (lit == "false") return false;
                        return std::nullopt;
                      });
      }
      return SkipValue();
    });
  }

  absl::Status DecodeLinux(GoLinux* l) {
    return Object([&](const std::string& key) -> absl::Status {
      if (GoKeyMatchesField(key, "cgroupsPath")) {
        if (Peek() == '"') return String(&l->cgroups_path);
        if (IsNull()) return Literal("null");
        size_t start = i_;
        absl::Status s = SkipValue();
        if (!s.ok()) return s;
        return WrongType("linux.cgroupsPath", s_.substr(start, i_ - start),
                         "a string");
      }
      if (GoKeyMatchesField(key, "resources")) {
        return PointerToStruct("linux.resources", &l->resources,
                               [&](GoLinuxResources* r) {
          return Object([&](const std::string& k) -> absl::Status {
            if (!GoKeyMatchesField(k, "memory")) return SkipValue();
            return PointerToStruct("linux.resources.memory", &r->memory,
                                   [&](GoLinuxMemory* m) {
                                     return DecodeMemory(m);
                                   });
          });
        });
      }
      return SkipValue();
    });
  }

  absl::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<OciCgroupConfig> ParseOciCgroupConfigLean(
    absl::string_view json_text, absl::string_view container_id,
    bool systemd_cgroup) {
  if (json_text.size() > kMaxOciConfigBytes) {
    return oci_internal::TooLarge(json_text.size());
  }
  GoSpec spec;
  LeanDecoder decoder(json_text);
  absl::Status s = decoder.DecodeSpec(&spec);
  if (!s.ok()) return s;
  return oci_internal::MapGoSpec(spec, container_id, systemd_cgroup);
}

}  // namespace kmemguard

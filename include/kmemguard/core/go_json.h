// SPDX-License-Identifier: Apache-2.0
//
// What Go's encoding/json does with text, where runc's behaviour depends on
// it: the UTF-8 coercion of its decoder and encoder, and the case folding
// that matches an object key to a struct field. Read from Go 1.19's
// src/encoding/json (decode.go unquoteBytes and object, encode.go string,
// fold.go) and src/unicode/utf8 DecodeRune.

#ifndef KMEMGUARD_CORE_GO_JSON_H_
#define KMEMGUARD_CORE_GO_JSON_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace kmemguard {

// The length of the well-formed UTF-8 sequence at the start of `s` as Go's
// utf8.DecodeRune accepts it (no surrogates, no overlongs, nothing above
// U+10FFFF), or 0 when the first byte starts none; ASCII is 1.
size_t GoUtf8SequenceLength(absl::string_view s);

// `s` with every byte that does not start (or belong to) a well-formed
// sequence replaced by U+FFFD, one per byte: what Go's decoder makes of a
// JSON string (decode.go unquoteBytes) and what its encoder writes, as
// "\ufffd", for a Go string (encode.go `c == utf8.RuneError && size == 1`).
std::string GoCoerceUtf8(absl::string_view s);
bool GoIsValidUtf8(absl::string_view s);

// Whether decoding an object key `key` (already unquoted) lands in the struct
// field whose JSON name is `field` (ASCII letters), with no other field of
// the struct named exactly `key`: an exact match, else Go's fold (fold.go):
// ASCII letters without case, and U+212A KELVIN SIGN for k, U+017F LATIN
// SMALL LETTER LONG S for s.
bool GoKeyMatchesField(absl::string_view key, absl::string_view field);

// A copy of the JSON document `j` (an nlohmann::json or ordered_json) with
// every string and object key passed through GoCoerceUtf8, so that dump()
// cannot throw on bytes read from the host and writes what Go's encoder
// would (U+FFFD per invalid byte). Returns `j` unchanged when all is valid.
template <class Json>
Json GoCoerceJsonStrings(const Json& j) {
  if (j.is_string()) {
    const auto& s = j.template get_ref<const std::string&>();
    return GoIsValidUtf8(s) ? j : Json(GoCoerceUtf8(s));
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& e : j) out.push_back(GoCoerceJsonStrings(e));
    return out;
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      out[GoCoerceUtf8(it.key())] = GoCoerceJsonStrings(it.value());
    }
    return out;
  }
  return j;
}

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_GO_JSON_H_

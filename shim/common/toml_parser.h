// SPDX-License-Identifier: Apache-2.0
//
// toml++ for every translation unit of ours that parses TOML: include this,
// never <toml++/toml.h> directly, so all of them see the same definitions.
//
// toml++ 3.3.0 (Debian 12) asserts in parser::parse_key()
// (toml++/impl/parser.inl:3037) on a table header that starts with a
// control character, e.g. "[\x12ook]", while a release build (NDEBUG, where
// the assert is compiled out) reports the proper parse error: "Error while
// parsing key: expected bare key starting character or string delimiter".
// Found by shim_config_fuzz (docs/fuzzing.md, B8). Its internal asserts are
// compiled out in every build, so debug, sanitizer and fuzz builds parse as
// the shipped binaries do.

#ifndef KMEMGUARD_SHIM_COMMON_TOML_PARSER_H_
#define KMEMGUARD_SHIM_COMMON_TOML_PARSER_H_

#ifdef TOML_ASSERT
#error "include shim/common/toml_parser.h before anything that defines TOML_ASSERT"
#endif
#define TOML_ASSERT(expr) static_assert(true)
#include "toml++/toml.h"

#endif  // KMEMGUARD_SHIM_COMMON_TOML_PARSER_H_

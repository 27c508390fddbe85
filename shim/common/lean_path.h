// SPDX-License-Identifier: Apache-2.0
//
// Marks the functions of kmemguard-runtime's lean path
// (runtime/lean_passthrough.h). GCC puts a hot function in .text.hot, which
// GNU ld's default linker script keeps together right after main and
// before _start, so the whole path runs from the page of program text that
// starting the program touches anyway (3 page faults fewer per `state`,
// docs/benchmarks.md). Keep these functions to the C library and inline
// code: a call into libstdc++ or abseil lands on a page of its own (Debian's
// absl::string_view::find is out of line, so they search std::string_view).

#ifndef KMEMGUARD_SHIM_COMMON_LEAN_PATH_H_
#define KMEMGUARD_SHIM_COMMON_LEAN_PATH_H_

#define KMEMGUARD_LEAN_PATH __attribute__((hot))

#endif  // KMEMGUARD_SHIM_COMMON_LEAN_PATH_H_

// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-runtime and kmemguard-hook write through no iostream, yet every
// translation unit that includes <iostream> carries a static
// std::ios_base::Init, and Debian's abseil (20220623) includes <iostream>
// from absl/status/status.h: in our sources and in its own archives. Before
// main, the first of those constructors builds the eight standard streams
// and libstdc++'s whole classic locale (its char and wchar_t facets). In a
// static binary that costs every runtime call some page faults and about
// 0.08 of an extra exec (docs/benchmarks.md, "Start-up").
//
// So the static runtime and hook are linked with
//   -Wl,--wrap=_ZNSt8ios_base4InitC1Ev -Wl,--wrap=_ZNSt8ios_base4InitD1Ev
// (CMakeLists.txt), which sends those calls here, where they do nothing.
// std::cout, std::cerr, std::clog, std::cin and their wide twins then stay
// unconstructed, and nothing in these two programs may use them:
// tests/layers/check_no_streams.sh fails if any function in either binary
// refers to one, but for abseil's Cord b-tree validation dump, which runs
// only when a Cord's invariant is already broken and aborts right after.
// std::locale is unaffected: it initialises itself on first use.

extern "C" {

// The mangled names of std::ios_base::Init::Init() and ~Init(), as --wrap
// renames them.
void __wrap__ZNSt8ios_base4InitC1Ev(void* /*self*/) {}
void __wrap__ZNSt8ios_base4InitD1Ev(void* /*self*/) {}

}  // extern "C"

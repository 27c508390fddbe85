#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The static kmemguard-runtime and kmemguard-hook replace std::ios_base::Init
# with a no-op (shim/common/no_std_streams.cc): the standard streams are
# never constructed there, so no code in them may use one. This fails when
#   - the wrap is missing, or libstdc++'s real Init constructor got linked;
#   - any function refers to std::cout, cerr, clog, cin or a wide twin, but
#     for abseil's Cord b-tree validation dump (it runs only on a broken
#     Cord invariant, and aborts next).
#   check_no_streams.sh STATIC_PROGRAMS(ON|OFF) RUNTIME_BINARY HOOK_BINARY
# Exit 77 (skipped) where the programs link the shared libstdc++ and keep
# its stream initialisation.
set -euo pipefail
if [ "$1" != ON ]; then
  echo "SKIP: programs are not linked statically; the stream wrap is not used"
  exit 77
fi
command -v objdump >/dev/null || { echo "FAIL: objdump is missing" >&2; exit 1; }
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
streams='_ZSt(4cout|4cerr|4clog|3cin|5wcout|5wcerr|5wclog|4wcin)>'
for bin in "$2" "$3"; do
  name=$(basename "$bin")
  syms=$(nm "$bin" 2>/dev/null || true)
  if [ -z "$syms" ]; then
    bad "$name has no symbol table: cannot check its streams"
    continue
  fi
  grep -q ' T __wrap__ZNSt8ios_base4InitC1Ev$' <<<"$syms" ||
    bad "$name: std::ios_base::Init is not wrapped"
  if grep -qE ' T _ZNSt8ios_base4InitC[12]Ev$' <<<"$syms"; then
    bad "$name links libstdc++'s stream initialisation"
  fi
  # Every function whose code names a standard stream.
  users=$(objdump -d --no-show-raw-insn "$bin" |
    awk -v re="<$streams" '/^[0-9a-f]+ <.*>:$/ { fn = $2 } $0 ~ re { print fn }' |
    sort -u)
  other=$(grep -v 'cord_internal' <<<"$users" || true)
  [ -z "$other" ] || bad "$name: code uses an unconstructed standard stream:"$'\n'"$other"
done
[ "$fail" = 0 ] && echo "no standard streams: ok"
exit "$fail"

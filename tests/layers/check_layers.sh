#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The arrows of docs/architecture.md hold:
#   - kmemguard::core (lib/core, include/kmemguard/core) includes only core;
#   - kmemguard::sim does not include doctor; nothing in lib/ or include/
#     includes shim/;
#   - kmemguard-runtime and kmemguard-hook carry no doctor or sim code (their
#     symbol tables name neither RunDoctor nor LegacyKernelSim).
#   check_layers.sh SOURCE_DIR RUNTIME_BINARY HOOK_BINARY
set -euo pipefail
SRC=$1
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

core_bad=$(grep -rnE '#include "(kmemguard/(doctor|sim)/|[a-z_]+\.h")' \
  "$SRC/lib/core" "$SRC/include/kmemguard/core" | grep -v '"oci_internal.h"' || true)
[ -z "$core_bad" ] || bad "core includes outside core:"$'\n'"$core_bad"
sim_bad=$(grep -rn '#include "kmemguard/doctor/' "$SRC/lib/sim" "$SRC/include/kmemguard/sim" || true)
[ -z "$sim_bad" ] || bad "sim includes doctor:"$'\n'"$sim_bad"
shim_bad=$(grep -rnE '#include "(shim/|cli_common|wrapper|hook|process|gc|runtime_args|shim_config|seccomp_filter)' \
  "$SRC/lib" "$SRC/include" || true)
[ -z "$shim_bad" ] || bad "the library includes shim:"$'\n'"$shim_bad"

if command -v nm >/dev/null; then
  for bin in "$2" "$3"; do
    syms=$(nm -C "$bin" 2>/dev/null || true)
    if [ -z "$syms" ]; then
      # The build never strips its programs: no symbols means the check
      # cannot be made, which must not pass as made.
      bad "$bin has no symbol table: cannot check what it links"
      continue
    fi
    if grep -qE 'kmemguard::(RunDoctor|AssessDoctorReport|LegacyKernelSim|RunChurn)' <<<"$syms"; then
      bad "$(basename "$bin") carries doctor or sim code"
    fi
  done
else
  bad "nm (binutils) is missing: cannot check what the programs link"
fi
[ "$fail" = 0 ] && echo "layers: ok"
exit "$fail"

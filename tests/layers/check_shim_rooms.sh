#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The rooms of shim/ (docs/architecture.md, "shim/ in rooms") keep to
# themselves:
#   - shim/common includes no room; shim/runtime and shim/hook include only
#     common/ and their own room; shim/cli includes of the runtime room only
#     runtime/gc.h and runtime/records.h (what `kmemguard gc` reaps);
#   - no cli:: name outside shim/cli;
#   - the runtime's and the hook's sources include no doctor or sim header;
#   - process control and signals (fork, execve, waitpid, kill, sigaction,
#     sigprocmask, raise, pidfd, close_range, rlimits) only in the process
#     layer, shim/common/process.cc;
#   - kmemguard-runtime and kmemguard-hook carry no CLI11 and no
#     Boost.Filesystem code (their start-up is benchmarked).
#   check_shim_rooms.sh SOURCE_DIR RUNTIME_BINARY HOOK_BINARY
set -euo pipefail
SHIM=$1/shim
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
# The quoted includes of room $1 that name a room not in the list $2.
foreign() {
  grep -rnE '#include "(common|runtime|hook|cli)/' "$SHIM/$1" |
    grep -vE "#include \"($2)/" || true
}
out=$(foreign common common); [ -z "$out" ] || bad "common includes a room:"$'\n'"$out"
out=$(foreign runtime 'common|runtime'); [ -z "$out" ] || bad "runtime includes another room:"$'\n'"$out"
out=$(foreign hook 'common|hook'); [ -z "$out" ] || bad "hook includes another room:"$'\n'"$out"
out=$(foreign cli 'common|cli' | grep -vE '#include "runtime/(gc|records)\.h"' || true)
[ -z "$out" ] || bad "cli includes more of the runtime room than gc.h:"$'\n'"$out"
out=$(grep -rn 'cli::' "$SHIM/common" "$SHIM/runtime" "$SHIM/hook" || true)
[ -z "$out" ] || bad "cli:: outside shim/cli:"$'\n'"$out"
out=$(grep -rnE '#include "kmemguard/(doctor|sim)/' "$SHIM/common" "$SHIM/runtime" "$SHIM/hook" || true)
[ -z "$out" ] || bad "the runtime or the hook includes doctor or sim:"$'\n'"$out"
out=$(grep -rnE '(^|[^_a-zA-Z.>:])(fork|vfork|execve|execvp|waitpid|wait4|kill|sigaction|sigprocmask|raise|pidfd_open|close_range|setrlimit|prlimit)\(' \
  "$SHIM" --include='*.cc' --include='*.h' | grep -v '^[^:]*/common/process\.cc:' |
  grep -vE '^[^:]*:[0-9]+:\s*//' || true)
[ -z "$out" ] || bad "process system calls outside common/process.cc:"$'\n'"$out"

for bin in "$2" "$3"; do
  syms=$(nm -C "$bin" 2>/dev/null || true)
  if [ -z "$syms" ]; then
    # The build never strips its programs: no symbols means the check
    # cannot be made, which must not pass as made.
    bad "$bin has no symbol table: cannot check what it links"
    continue
  fi
  if grep -qE 'CLI::|boost::filesystem' <<<"$syms"; then
    bad "$(basename "$bin") carries CLI11 or Boost.Filesystem code"
  fi
done
[ "$fail" = 0 ] && echo "shim rooms: ok"
exit "$fail"

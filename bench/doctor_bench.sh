#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Benchmark of `kmemguard doctor --format json` on a host with many memory
# cgroups: creates 10,000, 25,000 and 50,000 empty scratch cgroups in one
# scratch parent on the v1 memory hierarchy, and at each size measures the
# wall time (hyperfine, or a bash loop without it) and counts the syscalls
# (strace -c -f). Removes every scratch cgroup on exit, even on Ctrl-C.
# Needs root and /sys/fs/cgroup/memory; target: < 1 s at 50,000.
#   bench/doctor_bench.sh [KMEMGUARD] [SIZES...]
set -eu
KMG=${1:-$(dirname "$0")/../build/kmemguard}
shift || true
SIZES=${*:-10000 25000 50000}
MEM=/sys/fs/cgroup/memory
SCRATCH=$MEM/kmemguard-bench-$$
PY=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
T=$(mktemp -d)

cleanup() {
  if [ -d "$SCRATCH" ]; then
    "$PY" - "$SCRATCH" <<'P'
import os, sys
root = sys.argv[1]
for name in os.listdir(root):
    p = os.path.join(root, name)
    if os.path.isdir(p):
        try: os.rmdir(p)
        except OSError as e: print("rmdir %s: %s" % (p, e), file=sys.stderr)
os.rmdir(root)
P
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
[ "$(stat -f -c %T $MEM)" = cgroupfs ] || { echo "no v1 memory hierarchy" >&2; exit 77; }
mkdir "$SCRATCH"

grow_to() { # creates s<i> until the scratch parent holds $1 cgroups
  "$PY" - "$SCRATCH" "$1" <<'P'
import os, sys
root, want = sys.argv[1], int(sys.argv[2])
i = sum(1 for n in os.listdir(root) if n.startswith("s"))
while i < want:
    os.mkdir(os.path.join(root, "s%d" % i))
    i += 1
P
}

printf '%-8s %-10s %-12s %-10s %-10s\n' cgroups visible "mean (ms)" "± (ms)" syscalls
for n in $SIZES; do
  grow_to "$n"
  visible=$("$KMG" doctor --format json --no-runtimes | "$PY" -c \
    'import json,sys; print(json.load(sys.stdin)["memcg_ids"]["visible"])')
  if command -v hyperfine >/dev/null; then
    hyperfine -N -i --warmup 2 --runs 10 --export-json "$T/h.json" \
      "$KMG doctor --format json" >/dev/null 2>&1 || true
    read -r mean sd < <("$PY" -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
print("%.1f %.1f" % (r["mean"]*1000, (r["stddev"] or 0)*1000))' "$T/h.json")
  else
    s=$(date +%s%N); for i in 1 2 3 4 5; do "$KMG" doctor --format json >/dev/null || true; done
    mean=$(( ($(date +%s%N) - s) / 5000000 )); sd=-
  fi
  strace -c -f -o "$T/strace" "$KMG" doctor --format json >/dev/null 2>&1 || true
  calls=$(awk '$NF == "total" {print $(NF-2)}' "$T/strace")
  [ -n "$calls" ] || calls=$(awk '/total/ {print $3}' "$T/strace")
  printf '%-8s %-10s %-12s %-10s %-10s\n' "$n" "$visible" "$mean" "$sd" "$calls"
done
echo
echo "syscalls at the largest size (strace -c -f):"
head -n 14 "$T/strace"

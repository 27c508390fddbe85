#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/runtime_bench.py runs end to end, in a few rounds: its numbers are
# not judged here (a benchmark, not a timed test), but it must work, print
# every row, find no process of ours alive after any verb, and leave no
# scratch cgroup, state directory or temporary directory behind.
#   runtime_bench_smoke.sh SOURCE_DIR KMEMGUARD_RUNTIME
# Exits 77 (skipped) without root, a v1 memory hierarchy, runc,
# busybox-static, cc or python3.
set -u
SRC=$1
BUILD=$(dirname "$(readlink -f "$2")")
MEM=/sys/fs/cgroup/memory
if [ "$(id -u)" != 0 ] || [ ! -w "$MEM/cgroup.procs" ] ||
   ! command -v runc >/dev/null || [ ! -x /bin/busybox ] ||
   ! command -v cc >/dev/null || ! command -v python3 >/dev/null; then
  echo "runtime bench smoke skipped: need root, cgroup v1 memory, runc, busybox-static, cc, python3"
  exit 77
fi
leftovers() {
  ls -d /sys/fs/cgroup/*/kmemguard-bench-* /run/kmemguard-bench-* \
    /tmp/kmemguard-bench.* 2>/dev/null | sort
}
before=$(leftovers)
out=$(python3 "$SRC/bench/runtime_bench.py" "$BUILD" --pairs 1 --verb-iters 3 --json)
rc=$?
after=$(leftovers)
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
[ $rc = 0 ] || bad "runtime_bench.py exited $rc"
python3 - "$out" <<'PY' || fail=1
import json, math, sys
r = json.loads(sys.argv[1])
def number(x):  # printed, whatever its value: a few rounds under load vary
    return isinstance(x, (int, float)) and math.isfinite(x)
problems = []
if r["ours_alive_after_verbs"] != 0:
    problems.append("%d processes of ours alive after verbs" % r["ours_alive_after_verbs"])
verbs = {v["verb"]: v for v in r["verbs"]}
for verb in ("create", "start", "state", "delete"):
    v = verbs.get(verb)
    if v is None or not number(v["floor_added_us"]) or not number(v["wrapper_added_us"]):
        problems.append("no numbers for %s" % verb)
for key in ("cgroup_syscalls_us", "create_other_io_us", "direct_ms", "wrapped_ms", "rss_kib"):
    if not number(r.get(key)):
        problems.append("%s missing or not a number" % key)
for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
[ "$before" = "$after" ] || bad "left behind:"$'\n'"$(comm -13 <(echo "$before") <(echo "$after"))"
[ $fail = 0 ] && echo "runtime bench smoke: ok"
exit $fail

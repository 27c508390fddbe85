#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Issue 10's transcript on the real host: with a named network namespace
# present, mountinfo carries an nsfs line whose root is "net:[INODE]"
# (fs/nsfs.c ns_dname), and that line must not make cgroup resolution fail.
#   netns_regression_test.sh KMEMGUARD
# Creates its own namespace (kmemguard-nsreg-PID) and scratch cgroup and
# removes both on exit, even on failure. Exits 77 (skipped) without root,
# without ip(8) or without a cgroup v1 memory hierarchy.
set -u
KMG=$1
MEM=/sys/fs/cgroup/memory
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: needs ip (iproute2)"; exit 77; }
grep -q ' - cgroup [^ ]* [^ ]*memory' /proc/self/mountinfo ||
  { echo "SKIP: no cgroup v1 memory hierarchy"; exit 77; }

NS=kmemguard-nsreg-$$
SCRATCH=kmemguard-nsreg-$$-$RANDOM
T=$(mktemp -d)
FAIL=0
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
cleanup() {
  ip netns delete "$NS" 2>/dev/null
  [ -d "$MEM/$SCRATCH" ] && find "$MEM/$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || { echo "FAIL: ip netns add $NS"; exit 1; }
# The line the issue quotes: "44 75 0:4 net:[4026532177] /run/netns/x ...".
grep -E "^[0-9]+ [0-9]+ [0-9]+:[0-9]+ net:\[[0-9]+\] /run/netns/$NS " \
  /proc/self/mountinfo >/dev/null ||
  bad "no nsfs line for /run/netns/$NS in /proc/self/mountinfo"

if "$KMG" apply --cgroups-path "/$SCRATCH/c" --memory 64m >"$T/out" 2>"$T/err"; then
  [ "$(cat "$MEM/$SCRATCH/c/memory.limit_in_bytes")" = 67108864 ] ||
    bad "apply: limit not written"
else
  bad "apply with a netns present: $(cat "$T/err")"
fi
"$KMG" stats --cgroups-path "/$SCRATCH/c" >"$T/out" 2>"$T/err" ||
  bad "stats with a netns present: $(cat "$T/err")"
"$KMG" remove --cgroups-path "/$SCRATCH/c" >"$T/out" 2>"$T/err" ||
  bad "remove with a netns present: $(cat "$T/err")"

"$KMG" doctor --no-runtimes --format json >"$T/doctor.json" 2>"$T/err"
rc=$?
[ "$rc" != 3 ] || bad "doctor exits 3 (could not inspect) with a netns present"
python3 - "$T/doctor.json" <<'EOF' || bad "doctor report: layout unknown or errors"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["layout"]["mode"] in ("v1", "hybrid"), r["layout"]
assert r["memcg_ids"]["known"], r["errors"]
assert not any("mountinfo" in e for e in r["errors"]), r["errors"]
EOF

[ "$FAIL" = 0 ] && echo "netns regression: ok"
exit $((FAIL > 0))

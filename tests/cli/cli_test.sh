#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end tests of the kmemguard command line.
#   cli_test.sh KMEMGUARD fixture   usage, errors and fixture trees (no root)
#   cli_test.sh KMEMGUARD live      the real /sys/fs/cgroup/memory; exits 77
#                                   (skipped) without root or a v1 hierarchy
set -u
KMG=$1
MODE=${2:-fixture}
MEM=/sys/fs/cgroup/memory
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
expect_rc() { # expect_rc WANT DESC -- cmd...
  local want=$1 desc=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$desc: exit $rc, want $want; stderr: $(cat "$T/err")"; fi
}
expect_eq() { # expect_eq GOT WANT DESC
  if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi
}
one_line_error() { # the last command's stderr is exactly one kmemguard line
  local n; n=$(wc -l <"$T/err")
  if [ "$n" = 1 ] && grep -q '^kmemguard: ' "$T/err"; then ok; else
    bad "$1: stderr is not one kmemguard line: $(cat "$T/err")"; fi
}

T=$(mktemp -d)
SCRATCH=kmemguard-cli-$$-$RANDOM
cleanup() {
  if [ -d "$MEM/$SCRATCH" ]; then
    find "$MEM/$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  fi
  rm -rf "$T"
  rm -f /var/tmp/kmemguard-cli-$$-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fixture_tests() {
  expect_rc 2 "no subcommand" -- "$KMG"
  expect_rc 2 "unknown flag" -- "$KMG" apply --no-such-flag
  expect_rc 2 "bad kmem policy" -- "$KMG" apply --path /x --kmem-policy sometimes
  for sub in apply set stats remove; do
    expect_rc 0 "$sub --help" -- "$KMG" "$sub" --help
    grep -q -- '--path' "$T/out" && ok || bad "$sub --help lists --path"
  done
  expect_rc 0 "--version" -- "$KMG" --version

  # A plain directory is refused without --allow-plain-dir.
  mkdir -p "$T/tree"
  expect_rc 1 "plain dir refused" -- "$KMG" apply --path "$T/tree/c1" --memory 1m
  one_line_error "plain dir refused"
  grep -q 'not on a cgroup filesystem' "$T/err" && ok || bad "plain dir message"
  [ ! -e "$T/tree/c1" ] && ok || bad "plain dir: nothing created"

  # On a fixture tree, set writes runc's bytes: decimal, no newline.
  mkdir -p "$T/tree/c2"
  for f in memory.limit_in_bytes memory.memsw.limit_in_bytes \
           memory.usage_in_bytes memory.max_usage_in_bytes memory.failcnt \
           memory.soft_limit_in_bytes memory.swappiness memory.oom_control; do
    echo 0 >"$T/tree/c2/$f"
  done
  expect_rc 0 "set on fixture" -- "$KMG" set --path "$T/tree/c2" --allow-plain-dir \
    --memory 64m --memory-swap 128m --memory-reservation 32m \
    --memory-swappiness 5 --oom-kill-disable
  expect_eq "$(cat "$T/tree/c2/memory.limit_in_bytes")" 67108864 "limit bytes"
  expect_eq "$(od -An -c "$T/tree/c2/memory.limit_in_bytes" | tr -d ' ')" \
    67108864 "no trailing newline"
  expect_eq "$(cat "$T/tree/c2/memory.memsw.limit_in_bytes")" 134217728 "memsw bytes"
  expect_eq "$(cat "$T/tree/c2/memory.soft_limit_in_bytes")" 33554432 "soft limit"
  expect_eq "$(cat "$T/tree/c2/memory.swappiness")" 5 "swappiness"
  expect_eq "$(cat "$T/tree/c2/memory.oom_control")" 1 "oom_control"

  # Bad values: one line, exit 1, nothing written.
  echo 0 >"$T/tree/c2/memory.limit_in_bytes"
  expect_rc 1 "swappiness 101" -- "$KMG" set --path "$T/tree/c2" --allow-plain-dir \
    --memory 1m --memory-swappiness 101
  one_line_error "swappiness 101"
  grep -q 'invalid value:101. valid memory swappiness range is 0-100' "$T/err" \
    && ok || bad "swappiness message"
  expect_eq "$(cat "$T/tree/c2/memory.limit_in_bytes")" 0 "swappiness 101 wrote nothing"
  expect_rc 1 "bad size" -- "$KMG" set --path "$T/tree/c2" --allow-plain-dir --memory 12x
  grep -q "invalid value for memory: invalid size: '12x'" "$T/err" && ok || bad "size message"
  expect_rc 1 "missing control file" -- "$KMG" set --path "$T/tree/c2" \
    --allow-plain-dir --kernel-memory-tcp 1m
  grep -q "memory.kmem.tcp.limit_in_bytes" "$T/err" && grep -q ENOENT "$T/err" \
    && ok || bad "missing file names path and errno: $(cat "$T/err")"
  [ ! -e "$T/tree/c2/memory.kmem.tcp.limit_in_bytes" ] && ok || bad "never O_CREAT"

  # Sizes as runc@4d6e672 `runc update` (go-units v0.2.0): "" leaves the
  # value unset, the rc9+ forms are refused, INT64_MAX is exact.
  echo 0 >"$T/tree/c2/memory.limit_in_bytes"
  expect_rc 0 "--memory \"\" is unset" -- "$KMG" set --path "$T/tree/c2" \
    --allow-plain-dir --memory "" --memory-reservation 9223372036854775807
  expect_eq "$(cat "$T/tree/c2/memory.limit_in_bytes")" 0 "empty --memory wrote nothing"
  expect_eq "$(cat "$T/tree/c2/memory.soft_limit_in_bytes")" 9223372036854775807 \
    "INT64_MAX exact"
  expect_rc 1 "rc9 size form" -- "$KMG" set --path "$T/tree/c2" --allow-plain-dir \
    --memory 1.5g
  one_line_error "rc9 size form"

  # stats --format json with a memory.stat key that is not UTF-8: Go's
  # encoder's U+FFFD per bad byte, not an abort (issue 14).
  mkdir -p "$T/tree/st"
  printf 'cache 1\na\342\202b 2\n' >"$T/tree/st/memory.stat"
  for f in usage_in_bytes max_usage_in_bytes failcnt limit_in_bytes use_hierarchy; do
    echo 1 >"$T/tree/st/memory.$f"
  done
  expect_rc 0 "stats json, non-UTF-8 key" -- "$KMG" stats --path "$T/tree/st" \
    --allow-plain-dir --format json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["raw"]["a\ufffd\ufffdb"] == 2 else 1)' \
    "$T/out" 2>/dev/null && ok || bad "stats json keeps the key as a\\ufffd\\ufffdb: $(cat "$T/out")"

  # A broken config.json is one clear line.
  echo '{"linux": {"resources": {"memory": {"limit": "lots"}}}}' >"$T/bad.json"
  expect_rc 1 "bad config" -- "$KMG" set --path "$T/tree/c2" --allow-plain-dir \
    --config "$T/bad.json"
  one_line_error "bad config"
  grep -q 'linux.resources.memory.limit' "$T/err" && ok || bad "config names field"

  # remove on a fixture tree removes the directory and its children.
  mkdir -p "$T/tree/c3/child"; echo 1 >"$T/tree/c3/memory.stat"
  expect_rc 0 "remove fixture" -- "$KMG" remove --path "$T/tree/c3" --allow-plain-dir
  [ ! -e "$T/tree/c3" ] && ok || bad "fixture removed"
}

live_tests() {
  local cg="$SCRATCH/c1"
  expect_rc 0 "apply" -- "$KMG" apply --cgroups-path "/$cg" --memory 64m \
    --memory-swap 128m --memory-reservation 16m --memory-swappiness 20
  grep -q "^created $MEM/$cg (kmem accounting: not attempted)" "$T/out" && ok \
    || bad "apply says created: $(cat "$T/out")"
  expect_eq "$(cat $MEM/$cg/memory.limit_in_bytes)" 67108864 "live limit"
  expect_eq "$(cat $MEM/$cg/memory.memsw.limit_in_bytes)" 134217728 "live memsw"
  expect_eq "$(cat $MEM/$cg/memory.soft_limit_in_bytes)" 16777216 "live soft"
  expect_eq "$(cat $MEM/$cg/memory.swappiness)" 20 "live swappiness"

  expect_rc 0 "apply again" -- "$KMG" apply --cgroups-path "/$cg" --memory 64m
  grep -q "^existing " "$T/out" && ok || bad "second apply says existing"

  expect_rc 0 "stats json" -- "$KMG" stats --cgroups-path "/$cg" --format json
  python3 - "$T/out" <<'PY' && ok || bad "stats json shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["usage"]["limit"] == 67108864, d
assert d["swap"]["limit"] == 134217728, d
assert "failcnt" in d["kernel"] and "limit" in d["kernelTCP"]
assert d["raw"]["hierarchical_memory_limit"] == 67108864
assert d["use_hierarchy"] in (True, False)
PY
  expect_rc 0 "stats text" -- "$KMG" stats --cgroups-path "/$cg"
  grep -q "^memory .*67108864" "$T/out" && ok || bad "stats text shows limit"

  # Growing and shrinking through `set` (memsw ordering on the kernel).
  expect_rc 0 "grow" -- "$KMG" set --cgroups-path "/$cg" --memory 1g --memory-swap 2g
  expect_eq "$(cat $MEM/$cg/memory.memsw.limit_in_bytes)" 2147483648 "grown memsw"
  expect_rc 0 "shrink" -- "$KMG" set --cgroups-path "/$cg" --memory 8m --memory-swap 16m
  expect_eq "$(cat $MEM/$cg/memory.limit_in_bytes)" 8388608 "shrunk limit"

  # --path on the real hierarchy is the same cgroup.
  expect_rc 0 "stats --path" -- "$KMG" stats --path "$MEM/$cg" --format json
  grep -q '"limit":8388608' "$T/out" && ok || bad "--path finds the cgroup"

  # A pid really moves.
  sleep 300 & local sleeper=$!
  expect_rc 0 "apply --pid" -- "$KMG" apply --cgroups-path "/$SCRATCH/c2" \
    --memory 32m --pid $sleeper
  grep -q ":memory:/$SCRATCH/c2\$" /proc/$sleeper/cgroup && ok || bad "pid moved"
  kill $sleeper; wait $sleeper 2>/dev/null

  # Failure after creation leaves nothing behind.
  expect_rc 1 "kmem disabled" -- "$KMG" apply --cgroups-path "/$SCRATCH/c3" \
    --memory 32m --kernel-memory 16m --kmem-policy disabled
  one_line_error "kmem disabled"
  [ ! -e "$MEM/$SCRATCH/c3" ] && ok || bad "disabled: nothing created"
  expect_rc 1 "bad pid" -- "$KMG" apply --cgroups-path "/$SCRATCH/c4" \
    --memory 32m --pid 999999999
  one_line_error "bad pid"
  grep -q "cgroup.procs" "$T/err" && grep -q ESRCH "$T/err" && ok \
    || bad "bad pid names file and errno: $(cat "$T/err")"
  [ ! -e "$MEM/$SCRATCH/c4" ] && ok || bad "bad pid: created cgroup removed"

  # An OCI config.json maps as runc's specconv does.
  cat >"$T/config.json" <<JSON
{"ociVersion": "1.0.0", "linux": {"cgroupsPath": "/$SCRATCH/oci",
 "resources": {"memory": {"limit": 33554432, "reservation": 8388608,
 "swap": 67108864, "swappiness": 0, "disableOOMKiller": true}}}}
JSON
  expect_rc 0 "apply --config" -- "$KMG" apply --config "$T/config.json"
  expect_eq "$(cat $MEM/$SCRATCH/oci/memory.limit_in_bytes)" 33554432 "oci limit"
  expect_eq "$(cat $MEM/$SCRATCH/oci/memory.memsw.limit_in_bytes)" 67108864 "oci swap"
  expect_eq "$(cat $MEM/$SCRATCH/oci/memory.swappiness)" 0 "oci swappiness"

  # The guard, seen from the system calls: without --kernel-memory, no open
  # of memory.kmem.limit_in_bytes; legacy opens it on a cgroup it creates.
  if command -v strace >/dev/null; then
    strace -f -e trace=openat,openat2 -o "$T/strace" \
      "$KMG" apply --cgroups-path "/$SCRATCH/g1" --memory 32m >/dev/null 2>&1
    grep -q 'memory.kmem.limit_in_bytes' "$T/strace" \
      && bad "guarded opened memory.kmem.limit_in_bytes" || ok
    strace -f -e trace=openat,openat2 -o "$T/strace" \
      "$KMG" apply --cgroups-path "/$SCRATCH/g2" --memory 32m \
      --kmem-policy legacy >/dev/null 2>&1
    [ "$(grep -c 'memory.kmem.limit_in_bytes' "$T/strace")" = 2 ] && ok \
      || bad "legacy opens the kmem file twice"
  else
    echo "note: strace missing, syscall check not run" >&2
  fi

  # remove --force-empty, and remove of a missing cgroup is fine.
  expect_rc 0 "remove" -- "$KMG" remove --cgroups-path "/$SCRATCH" --force-empty
  [ ! -e "$MEM/$SCRATCH" ] && ok || bad "scratch removed"
  expect_rc 0 "remove missing" -- "$KMG" remove --cgroups-path "/$SCRATCH"
}

if [ "$MODE" = live ]; then
  if [ "$(id -u)" != 0 ] || [ "$(stat -f -c %T $MEM 2>/dev/null)" != cgroupfs ]; then
    echo "cli live tests skipped: need root and a cgroup v1 memory hierarchy"
    exit 77
  fi
  . "$(dirname "$0")/../testing/netns_check.sh"; require_test_netns
  live_tests
else
  fixture_tests
fi
echo "cli $MODE: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

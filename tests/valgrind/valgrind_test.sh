#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# valgrind memcheck on the kmemguard CLI and kmemguard-runtime: no invalid
# access, no uninitialised use, no definite leak.
#   valgrind_test.sh KMEMGUARD KMEMGUARD_RUNTIME SOURCE_DIR
# The seccomp filter is off under valgrind (KMEMGUARD_NO_SECCOMP=1): valgrind
# makes system calls of its own on the program's behalf. The runtime part
# needs root and a v1 memory hierarchy and is skipped without them.
set -u
KMG=$1
RT=$2
SRC=$3
command -v valgrind >/dev/null || { echo "valgrind missing: skipped"; exit 77; }
export KMEMGUARD_NO_SECCOMP=1
T=$(mktemp -d)
SCRATCH=kmemguard-vg-$$-$RANDOM
cleanup() {
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
PASS=0
FAIL=0
vg() { # vg NAME -- command...
  local name=$1; shift 2
  valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --log-file="$T/$name.vg" "$@" \
    >"$T/$name.out" 2>&1
  local rc=$?
  # valgrind's own notes (e.g. "unhandled syscall: 437" for openat2, which
  # makes the code take its O_NOFOLLOW walk) are not memcheck errors.
  if [ "$rc" = 99 ] || grep -qE "Invalid (read|write|free)|uninitialised|definitely lost|Mismatched" "$T/$name.vg"; then
    FAIL=$((FAIL + 1)); echo "FAIL: $name (exit $rc)"; cat "$T/$name.vg"
  else
    PASS=$((PASS + 1))
  fi
}

mkdir -p "$T/tree/c"
for f in memory.limit_in_bytes memory.memsw.limit_in_bytes memory.usage_in_bytes \
         memory.max_usage_in_bytes memory.failcnt memory.soft_limit_in_bytes \
         memory.swappiness memory.oom_control memory.use_hierarchy; do
  echo 0 >"$T/tree/c/$f"
done
printf 'cache 1\nrss 2\n' >"$T/tree/c/memory.stat"
vg set -- "$KMG" set --path "$T/tree/c" --allow-plain-dir --memory 64m \
  --memory-swap 128m --memory-reservation 1m --memory-swappiness 5
vg stats -- "$KMG" stats --path "$T/tree/c" --allow-plain-dir --format json
vg bad-value -- "$KMG" set --path "$T/tree/c" --allow-plain-dir --memory-swappiness 101
vg remove -- "$KMG" remove --path "$T/tree/c" --allow-plain-dir
vg doctor -- "$KMG" doctor --proc "$SRC/tests/doctor/fixtures/el7-cliff/proc" \
  --sys "$SRC/tests/doctor/fixtures/el7-cliff/sys" --no-runtimes --format json
vg configure -- "$KMG" configure --runtime containerd --dry-run
vg configure-path -- "$KMG" configure --runtime containerd --dry-run \
  --runtime-path /usr/bin/kmemguard-runtime

if [ "$(id -u)" = 0 ] && [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>/dev/null)" = cgroupfs ]; then
  vg apply -- "$KMG" apply --cgroups-path "/$SCRATCH/a" --memory 32m
  mkdir -p "$T/bundle"
  cat >"$T/bundle/config.json" <<JSON
{"ociVersion": "1.0.2", "process": {"args": ["true"]}, "root": {"path": "rootfs"},
 "linux": {"cgroupsPath": "/$SCRATCH/ctr", "resources": {"memory": {"limit": 33554432}}}}
JSON
  printf 'runtime = "/bin/true"\nstate-dir = "%s/state"\ndebug-log = "%s/debug.log"\n' \
    "$T" "$T" >"$T/config.toml"
  KMEMGUARD_CONFIG="$T/config.toml" vg runtime-create -- "$RT" --root "$T/root" \
    create --bundle "$T/bundle" ctr
  KMEMGUARD_CONFIG="$T/config.toml" vg runtime-version -- "$RT" --version
  # It created the cgroup; /bin/true never makes a container, so the
  # record it left is reaped by `kmemguard gc` (docs/process-model.md),
  # itself under valgrind.
  grep -q "created /sys/fs/cgroup/memory/$SCRATCH/ctr" "$T/debug.log" && PASS=$((PASS + 1)) ||
    { FAIL=$((FAIL + 1)); echo "FAIL: the runtime under valgrind did not create the cgroup"; }
  vg gc -- "$KMG" gc --state-dir "$T/state" --format json
  [ ! -e "/sys/fs/cgroup/memory/$SCRATCH/ctr" ] && PASS=$((PASS + 1)) ||
    { FAIL=$((FAIL + 1)); echo "FAIL: kmemguard gc did not remove the unused cgroup"; cat "$T/gc.out"; }
else
  echo "runtime under valgrind skipped: needs root and a v1 memory hierarchy"
fi
echo "valgrind: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kmemguard-runtime under containerd 1.6 (issue 12): a containerd of the
# test's own (tests/testing/private_daemons.sh) driven by `ctr run
# --runc-binary`, whose real runtime is the legacy-runc.sh double of an
# affected runc. Registered with --runc-binary, not the drop-in of
# `kmemguard configure --runtime containerd`: that drop-in configures the
# CRI plugin's runtimes, which ctr does not consult (ctr passes the runc
# options itself), so it is tested where a CRI client is (kubelet), not here.
#   containerd_e2e.sh RUNTIME
# Checks: output and exit status come through; the limit is read back inside
# the container; kill + task rm + container rm leave no cgroup below the
# test's cgroupsPath parent in any hierarchy and no record in the wrapper's
# (scratch) state dir; strace attached to containerd sees no write to
# memory.kmem.limit_in_bytes through the wrapper, and does see the double's
# when ctr runs it without the wrapper. (containerd has no `update` in ctr 1.6:
# updates through the wrapper are checked in docker_e2e.sh.)
# Exits 77 (CTest: Skipped) without root, v1 memory, containerd, ctr, runc,
# busybox-static or strace, or if containerd cannot start.
set -u
WRAPPER=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=containerd-e2e NEEDS="ip containerd ctr strace runc python3"
[ -x /bin/busybox ] || { echo "$NAME skipped: needs busybox-static"; exit 77; }
. "$HERE/wrapper_lib.sh"
. "$HERE/../testing/private_daemons.sh"
D=$(mktemp -d /tmp/kmemguard-containerd-e2e.XXXXXX)
containerd_cleanup() {
  stop_strace
  private_containerd_stop "$D"
  cleanup # wrapper_lib.sh: scratch cgroups in every hierarchy, netns, $T
}
trap containerd_cleanup EXIT
die() { echo "FAIL: $*"; echo "--- containerd log (tail)"; tail -n 20 "$D/containerd.log"; exit 1; }

cat >"$T/config.toml" <<TOML
runtime = "$HERE/legacy-runc.sh"
state-dir = "$T/state"
TOML
# containerd -> the shim -> the runtime inherit this.
export KMEMGUARD_CONFIG="$T/config.toml" LEGACY_TRACE="$T/legacy.trace"
# strace is attached to the daemon tree, and LeakSanitizer cannot run under
# ptrace (the sanitizer stage's binaries; ASan's other checks stay on).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
if ! private_containerd_start "$D"; then
  echo "$NAME skipped: containerd did not start; its log:"
  tail -n 10 "$D/containerd.log"
  exit 77
fi

mkdir -p "$T/rootfs/bin" "$T/rootfs/sys" "$T/rootfs/proc" "$T/rootfs/dev" "$T/rootfs/etc"
cp /bin/busybox "$T/rootfs/bin/busybox"
for c in sh cat echo sleep true; do ln -s busybox "$T/rootfs/bin/$c"; done
# ctr's default spec has no /sys/fs/cgroup (runtime-integration.md section 12).
RUN=(run --rootfs --memory-limit 67108864 --env PATH=/bin
     --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev)

start_strace() { # start_strace OUT: attached to containerd (follows the shims)
  strace -f -qq -y -s 64 -e trace=openat,openat2,write,execve -o "$1" -p "$CONTAINERD_PID" \
    2>"$1.err" &
  STRACE_PID=$!
  for _ in $(seq 1 8); do [ -s "$1" ] && break; sleep 0.25; done
  sleep 0.5
}
kmem_writes() { # opens for writing, or writes, of memory.kmem.limit_in_bytes
  grep -E 'memory\.kmem\.limit_in_bytes' "$1" | grep -E 'O_WRONLY|O_RDWR|^[0-9]+ +write\(' || true
}

# 1. Output, exit status and the limit inside, through the wrapper.
start_strace "$T/trace"
out=$(timeout 90 $CTR "${RUN[@]}" --rm --runc-binary "$WRAPPER" --cgroup "/$SCRATCH/c1" \
  "$T/rootfs" kmg-c1 /bin/sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo from-inside; exit 3' 2>&1)
rc=$?
check '[ $rc = 3 ]' "exit status 3 comes through (got $rc: $out)"
check '[[ "$out" == *from-inside* ]]' "output comes through: $out"
check '[[ "$out" == *67108864* ]]' "the 64 MiB limit is read back inside: $out"

# 2. A detached one: a record while it runs; exec reads the limit; kill,
#    task rm and container rm leave no cgroup, record or process.
timeout 90 $CTR "${RUN[@]}" -d --runc-binary "$WRAPPER" --cgroup "/$SCRATCH/c2" \
  "$T/rootfs" kmg-c2 /bin/sleep 60 >/dev/null 2>&1 || die "ctr run -d"
check '[ "$(records)" = 1 ]' "a record while the container runs: $(records)"
check '[ -d "$MEM/$SCRATCH/c2" ]' "the container's cgroup is the cgroupsPath"
lim=$(timeout 30 $CTR task exec --exec-id e1 kmg-c2 /bin/cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
check '[ "$lim" = 67108864 ]' "ctr task exec reads the limit back: $lim"
timeout 30 $CTR task kill -s SIGKILL kmg-c2 || bad "ctr task kill"
for _ in $(seq 1 40); do
  $CTR task ls 2>/dev/null | grep -q '^kmg-c2 .*STOPPED' && break
  sleep 0.25
done
timeout 30 $CTR task rm kmg-c2 >/dev/null || bad "ctr task rm"
timeout 30 $CTR container rm kmg-c2 || bad "ctr container rm"
stop_strace
check 'grep -qE "execve\(\"$WRAPPER\", \[[^]]*\"create\"" "$T/trace"' \
  "ctr run ran the wrapper's create (strace execve)"
check 'grep -qE "execve\(\"$WRAPPER\", \[[^]]*\"delete\"" "$T/trace"' \
  "ctr task rm ran the wrapper's delete (strace execve)"
w=$(kmem_writes "$T/trace")
check '[ -z "$w" ]' "no process under containerd wrote memory.kmem.limit_in_bytes: $w"
check '[ ! -s "$T/legacy.trace" ]' "the double found the cgroup prepared: $(cat "$T/legacy.trace" 2>/dev/null)"
left=$(for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
         [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -mindepth 1 -type d
       done)
check '[ -z "$left" ]' "no cgroup left under /$SCRATCH: $left"
check '[ "$(records)" = 0 ]' "no record left: $(find "$T/state" -name '*.json')"
check '[ -z "$(private_dockerd_procs_naming "kmg-c2")" ]' "no shim or process of kmg-c2 is left"

# 3. The control: the double without the wrapper enables kmem accounting,
#    and the same trace catches it (so the check above can fail).
start_strace "$T/trace-legacy"
timeout 90 $CTR "${RUN[@]}" --rm --runc-binary "$HERE/legacy-runc.sh" --cgroup "/$SCRATCH/c3" \
  "$T/rootfs" kmg-c3 /bin/true >/dev/null 2>&1 || bad "ctr run with the double alone"
stop_strace
w=$(kmem_writes "$T/trace-legacy")
check '[ -n "$w" ]' "the trace catches the double's kmem write without the wrapper"
check 'grep -q ENABLED_KMEM "$T/legacy.trace"' "the double enabled kmem without the wrapper"

echo "$NAME: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]

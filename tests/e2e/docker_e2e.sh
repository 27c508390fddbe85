#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kmemguard-runtime under Docker 20.10 (issue 12): a dockerd of the test's
# own (tests/testing/private_daemons.sh) with the runtimes registered by the
# daemon.json `kmemguard configure --runtime docker --config-file` writes:
# "kmemguard" (the wrapper, whose real runtime is the legacy-runc.sh double
# of an affected runc) and, as the control, "legacy" (the double alone).
# The image is `docker import` of a busybox-static rootfs.
#   docker_e2e.sh RUNTIME KMEMGUARD
# Checks: output and exit status come through; the limit is read back inside
# the container; `docker update --memory` reaches the wrapper; stop + rm
# leave no cgroup below the test's --cgroup-parent in any hierarchy and no
# record in the wrapper's (scratch) state dir; strace attached to dockerd and
# its containerd sees no write to memory.kmem.limit_in_bytes through the
# wrapper, and does see the double's when it runs without the wrapper.
# Exits 77 (CTest: Skipped) without root, v1 memory, dockerd, Debian's
# docker client, runc, busybox-static or strace, or if dockerd cannot start.
set -u
WRAPPER=$(readlink -f "$1")
CLI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=docker-e2e NEEDS="ip dockerd strace runc python3"
[ -x /usr/bin/docker ] && [ -x /bin/busybox ] ||
  { echo "$NAME skipped: needs Debian's /usr/bin/docker and busybox-static"; exit 77; }
. "$HERE/wrapper_lib.sh"
. "$HERE/../testing/private_daemons.sh"
D=$(mktemp -d /tmp/kmemguard-docker-e2e.XXXXXX)
docker_cleanup() {
  stop_strace
  private_dockerd_stop "$D"
  cleanup # wrapper_lib.sh: scratch cgroups in every hierarchy, netns, $T
}
trap docker_cleanup EXIT
die() { echo "FAIL: $*"; echo "--- dockerd log (tail)"; tail -n 20 "$D/dockerd.log"; exit 1; }

cat >"$T/config.toml" <<TOML
runtime = "$HERE/legacy-runc.sh"
state-dir = "$T/state"
TOML
# dockerd -> its containerd -> the shim -> the runtime inherit this.
export KMEMGUARD_CONFIG="$T/config.toml" LEGACY_TRACE="$T/legacy.trace"
# strace is attached to the daemon tree, and LeakSanitizer cannot run under
# ptrace (the sanitizer stage's binaries; ASan's other checks stay on).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
"$CLI" configure --runtime docker --runtime-path "$WRAPPER" --state-dir "$T/configure" \
  --config-file "$T/daemon.json" >/dev/null || die "kmemguard configure --runtime docker"
"$CLI" configure --runtime docker --name legacy --runtime-path "$HERE/legacy-runc.sh" \
  --state-dir "$T/configure" \
  --config-file "$T/daemon.json" >/dev/null || die "kmemguard configure --name legacy"
if ! private_dockerd_start "$D" --config-file "$T/daemon.json"; then
  echo "$NAME skipped: dockerd did not start; its log:"
  tail -n 10 "$D/dockerd.log"
  exit 77
fi

mkdir -p "$T/rootfs/bin" "$T/rootfs/sys" "$T/rootfs/proc" "$T/rootfs/dev" "$T/rootfs/etc"
cp /bin/busybox "$T/rootfs/bin/busybox"
for c in sh cat echo sleep true; do ln -s busybox "$T/rootfs/bin/$c"; done
IMG=kmemguard-busybox:e2e-$$
tar -C "$T/rootfs" -c . | timeout 60 $DOCKER import - "$IMG" >/dev/null || die "docker import"

# strace attached to dockerd and its containerd (attaching, not wrapping:
# see runtime-integration.md section 12) follows the shims, the wrapper,
# the runtime and runc init.
start_strace() { # start_strace OUT
  local pids="-p $DOCKERD_PID" c
  for c in $(cat /proc/"$DOCKERD_PID"/task/*/children 2>/dev/null); do pids="$pids -p $c"; done
  strace -f -qq -y -s 64 -e trace=openat,openat2,write,execve -o "$1" $pids 2>"$1.err" &
  STRACE_PID=$!
  for _ in $(seq 1 8); do [ -s "$1" ] && break; sleep 0.25; done
  sleep 0.5
}
kmem_writes() { # opens for writing, or writes, of memory.kmem.limit_in_bytes
  grep -E 'memory\.kmem\.limit_in_bytes' "$1" | grep -E 'O_WRONLY|O_RDWR|^[0-9]+ +write\(' || true
}

# 1. Through the wrapper: output, exit status, the limit inside.
start_strace "$T/trace"
out=$(timeout 90 $DOCKER run --runtime kmemguard --network none --cgroup-parent "/$SCRATCH" \
  --memory 64m --name kmg-run-$$ "$IMG" \
  sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo from-inside; exit 3' 2>&1)
rc=$?
check '[ $rc = 3 ]' "exit status 3 comes through (got $rc: $out)"
check '[[ "$out" == *from-inside* ]]' "output comes through: $out"
check '[[ "$out" == *67108864* ]]' "the 64 MiB limit is read back inside: $out"
timeout 60 $DOCKER rm kmg-run-$$ >/dev/null || bad "docker rm kmg-run"

# 2. A long-running one: docker update --memory through the wrapper, then
#    stop and rm leave no cgroup and no record.
timeout 90 $DOCKER run -d --runtime kmemguard --network none --cgroup-parent "/$SCRATCH" \
  --memory 64m --name kmg-up-$$ "$IMG" sleep 60 >/dev/null || die "docker run -d"
cid=$($DOCKER inspect -f '{{.Id}}' kmg-up-$$)
check '[ "$(records)" = 1 ]' "a record while the container runs: $(records)"
timeout 60 $DOCKER update --memory 96m --memory-swap 192m kmg-up-$$ >/dev/null || bad "docker update"
lim=$(timeout 30 $DOCKER exec kmg-up-$$ cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
check '[ "$lim" = 100663296 ]' "docker update --memory 96m read back inside: $lim"
timeout 60 $DOCKER stop -t 2 kmg-up-$$ >/dev/null || bad "docker stop"
timeout 60 $DOCKER rm kmg-up-$$ >/dev/null || bad "docker rm"
stop_strace
check 'grep -qE "execve\(\"$WRAPPER\", \[[^]]*\"update\"" "$T/trace"' \
  "docker update ran the wrapper (strace execve)"
check 'grep -qE "execve\(\"$WRAPPER\", \[[^]]*\"create\"" "$T/trace"' \
  "docker run ran the wrapper's create (strace execve)"
w=$(kmem_writes "$T/trace")
check '[ -z "$w" ]' "no process under dockerd wrote memory.kmem.limit_in_bytes: $w"
check '[ ! -s "$T/legacy.trace" ]' "the double found the cgroup prepared: $(cat "$T/legacy.trace" 2>/dev/null)"
left=$(for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
         [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -mindepth 1 -type d
       done)
check '[ -z "$left" ]' "stop + rm leave no cgroup under /$SCRATCH: $left"
check '[ "$(records)" = 0 ]' "stop + rm leave no record: $(find "$T/state" -name '*.json')"
check '[ -z "$(private_dockerd_procs_naming "$cid")" ]' \
  "no shim or process of the container is left"

# 3. The control: the double without the wrapper enables kmem accounting,
#    and the same trace catches it (so the check above can fail).
start_strace "$T/trace-legacy"
timeout 90 $DOCKER run --rm --runtime legacy --network none --cgroup-parent "/$SCRATCH" \
  --memory 64m "$IMG" true >/dev/null 2>&1 || bad "docker run --runtime legacy"
stop_strace
w=$(kmem_writes "$T/trace-legacy")
check '[ -n "$w" ]' "the trace catches the double's kmem write without the wrapper"
check 'grep -q ENABLED_KMEM "$T/legacy.trace"' "the double enabled kmem without the wrapper"

timeout 30 $DOCKER rmi -f "$IMG" >/dev/null 2>&1
echo "$NAME: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]

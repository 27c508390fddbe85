#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Podman calling kmemguard-runtime as its OCI runtime (podman --runtime),
# through conmon, with Debian's runc behind it.
#   podman_e2e.sh RUNTIME
# Podman 4.3 here needs --cgroup-manager=cgroupfs and explicit nofile/nproc
# ulimits (its default rlimits are refused in this sandbox). Exits 77
# (skipped) without root, a v1 memory hierarchy, podman, runc or
# busybox-static. Podman's storage lives in a temporary directory, and the
# containers' cgroups under a unique --cgroup-parent that is removed from
# every hierarchy at exit.
set -u
WRAPPER=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
MEM=/sys/fs/cgroup/memory
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

if [ "$(id -u)" != 0 ] || [ "$(stat -f -c %T $MEM 2>/dev/null)" != cgroupfs ] ||
   ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
   [ ! -x /bin/busybox ]; then
  echo "podman e2e skipped: need root, cgroup v1 memory, podman, runc and busybox-static"
  exit 77
fi
. "$HERE/../testing/netns_check.sh"; require_test_netns
# The wrapper counts starts without the guard in its state directory.
unguarded_starts() { stat -c %s /run/kmemguard/unguarded-starts 2>/dev/null || echo 0; }
UNGUARDED_BEFORE=$(unguarded_starts)
# Podman runs the wrapper with its default state directory: what this test
# adds there (the directory itself, a per-root record directory, gc's
# stamp) is removed at exit; what was there before is left alone.
STATE=/run/kmemguard
STATE_BEFORE=$(ls -A "$STATE" 2>/dev/null | tr '\n' ' ')
[ -d "$STATE" ] && STATE_EXISTED=1 || STATE_EXISTED=0

T=$(mktemp -d /tmp/kmemguard-podman.XXXXXX)
PARENT=kmemguard-podman-$$-$RANDOM
P=(podman --root "$T/storage" --runroot "$T/run" --runtime "$WRAPPER"
   --cgroup-manager=cgroupfs)
RUNOPTS=(--network=none "--cgroup-parent=/$PARENT" --memory=64m
         --ulimit=nofile=1024:1024 --ulimit=nproc=1024:1024 --rootfs "$T/rootfs")
cleanup() {
  "${P[@]}" rm -af >/dev/null 2>&1
  # Podman mounts its storage's overlay directory; unmount whatever is
  # still mounted below our temporary directory before removing it.
  awk -v t="$T/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$h$PARENT" ] && find "$h$PARENT" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$T"
  if [ "$STATE_EXISTED" = 0 ]; then
    rm -rf "$STATE"
  else
    for e in $(ls -A "$STATE" 2>/dev/null); do
      case " $STATE_BEFORE" in *" $e "*) continue ;; esac
      rmdir "$STATE/$e" 2>/dev/null || [ "$e" != gc.stamp ] || rm -f "$STATE/$e"
    done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/rootfs/bin" "$T/rootfs/proc" "$T/rootfs/sys" "$T/rootfs/dev" \
  "$T/rootfs/etc"
cp /bin/busybox "$T/rootfs/bin/"
for c in sh echo true sleep cat; do ln -s busybox "$T/rootfs/bin/$c"; done

# Foreground: stdout and exit status through podman, conmon, the wrapper
# and runc; the limit visible inside.
out=$("${P[@]}" run --rm "${RUNOPTS[@]}" /bin/sh -c \
  'echo hi-from-podman; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; exit 3' 2>"$T/err")
rc=$?
check '[ "$rc" = 3 ]' "exit status through podman: $rc ($(cat "$T/err"))"
check '[ "$(echo "$out" | head -1)" = hi-from-podman ]' "stdout: $out"
check '[ "$(echo "$out" | tail -1)" = 67108864 ]' "limit inside the container: $out"

# Detached: the wrapper recorded the cgroup it created; it holds the
# limit; stop and rm leave neither the cgroup nor the record.
id=$("${P[@]}" run -d "${RUNOPTS[@]}" /bin/sleep 300 2>"$T/err")
check '[ -n "$id" ]' "podman run -d: $(cat "$T/err")"
check 'ls /run/kmemguard/*/"$id".json >/dev/null 2>&1' "the wrapper's record for $id"
check '[ "$(cat "$MEM/$PARENT/libpod-$id/memory.limit_in_bytes" 2>/dev/null)" = 67108864 ]' \
  "cgroup libpod-$id with the limit"
"${P[@]}" rm -f -t 0 "$id" >/dev/null 2>&1
for _ in $(seq 50); do ls /run/kmemguard/*/"$id".json >/dev/null 2>&1 || break; sleep 0.1; done
check '! ls /run/kmemguard/*/"$id".json >/dev/null 2>&1' "record removed after podman rm"
check '[ ! -e "$MEM/$PARENT/libpod-$id" ]' "cgroup removed after podman rm"

check '[ "$(unguarded_starts)" = "$UNGUARDED_BEFORE" ]' \
  "no container started without the guard: $(tail -c 256 /run/kmemguard/unguarded-starts 2>&1)"

echo "podman e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

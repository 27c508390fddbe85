#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The kmemguard demo (run as root on a cgroup v1 host):
#  1. the kmemguard command: create a memory cgroup with limits the way a
#     runtime does, with the kmem guard; show it; change it; remove it;
#  2. kmemguard-runtime in front of Debian's runc: a busybox container with a
#     memory limit, the cgroup it got, and nothing left after delete.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
BUILD=${KMEMGUARD_BUILD_DIR:-build/demo}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKMEMGUARD_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" >/dev/null
KMG="$BUILD/kmemguard"
RT="$(pwd)/$BUILD/kmemguard-runtime"
SCRATCH="kmemguard-demo-$$"
T=$(mktemp -d /tmp/kmemguard-demo.XXXXXX)
cleanup() {
  runc --root "$T/root" delete --force demo >/dev/null 2>&1 || true
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

run() { echo "\$ $*"; "$@"; echo; }
echo "== 1. kmemguard apply / stats / set / remove"
echo
run "$KMG" apply --cgroups-path "/$SCRATCH/ctr-1" --memory 64m --memory-swap 128m \
  --memory-reservation 32m
echo "The guard at work: no kernel-memory limit was asked for, so"
echo "memory.kmem.limit_in_bytes was never written (kmem accounting: not attempted)."
echo
run "$KMG" stats --cgroups-path "/$SCRATCH/ctr-1"
run "$KMG" set --cgroups-path "/$SCRATCH/ctr-1" --memory 256m --memory-swap 512m
run "$KMG" stats --cgroups-path "/$SCRATCH/ctr-1" --format json
run "$KMG" remove --cgroups-path "/$SCRATCH" --force-empty

echo "== 2. a busybox container through kmemguard-runtime (real runc)"
echo
mkdir -p "$T/bundle/rootfs/bin"
cp /bin/busybox "$T/bundle/rootfs/bin/"
for c in sh sleep cat; do ln -s busybox "$T/bundle/rootfs/bin/$c"; done
(cd "$T/bundle" && runc spec)
python3 - "$T/bundle/config.json" "/$SCRATCH/demo" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "600"]
c["linux"]["cgroupsPath"] = sys.argv[2]
c["linux"].setdefault("resources", {})["memory"] = {"limit": 67108864, "swap": 134217728}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
printf 'runtime = "%s"\nstate-dir = "%s/state"\n' "$(command -v runc)" "$T" >"$T/config.toml"
export KMEMGUARD_CONFIG="$T/config.toml"
run "$RT" --root "$T/root" create --bundle "$T/bundle" demo
run "$RT" --root "$T/root" start demo
echo "\$ cat /sys/fs/cgroup/memory/$SCRATCH/demo/memory.limit_in_bytes"
cat "/sys/fs/cgroup/memory/$SCRATCH/demo/memory.limit_in_bytes"
echo
run "$KMG" stats --cgroups-path "/$SCRATCH/demo"
run "$RT" --root "$T/root" kill demo KILL
sleep 0.5
run "$RT" --root "$T/root" delete demo
sleep 0.5
if [ -e "/sys/fs/cgroup/memory/$SCRATCH" ]; then
  echo "memory cgroup still present (unexpected)"
else
  echo "after delete: nothing left in the memory hierarchy (/sys/fs/cgroup/memory/$SCRATCH is gone)"
fi

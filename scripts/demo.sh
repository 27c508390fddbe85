#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The kmemguard demo: builds the tools, creates a memory cgroup with limits
# the way a runtime does (with the kmem guard), shows what the kernel holds,
# and removes it again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh demo
BUILD=${KMEMGUARD_BUILD_DIR:-build/demo}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DKMEMGUARD_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" >/dev/null
KMG="$BUILD/kmemguard"
CG="/kmemguard-demo-$$"
cleanup() { "$KMG" remove --cgroups-path "$CG" --force-empty >/dev/null 2>&1 || true; }
trap cleanup EXIT

run() { echo "\$ $*"; "$@"; echo; }
run "$KMG" apply --cgroups-path "$CG/ctr-1" --memory 64m --memory-swap 128m \
  --memory-reservation 32m
echo "The guard at work: no kernel-memory limit was asked for, so"
echo "memory.kmem.limit_in_bytes was never written (kmem accounting: not attempted)."
echo
run "$KMG" stats --cgroups-path "$CG/ctr-1"
run "$KMG" set --cgroups-path "$CG/ctr-1" --memory 256m --memory-swap 512m
run "$KMG" stats --cgroups-path "$CG/ctr-1" --format json
run "$KMG" remove --cgroups-path "$CG" --force-empty
echo "removed $CG"

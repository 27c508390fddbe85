#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Start-up time of the three programs, a baseline build against a candidate
# in the same hyperfine run (ratios, not absolute numbers, are the result):
#   bench/startup_bench.sh BASELINE_DIR CANDIDATE_DIR [RUNS]
# Each DIR holds kmemguard, kmemguard-runtime and kmemguard-hook (e.g. a
# default build and a -DKMEMGUARD_FULLY_STATIC=ON build). kmemguard-runtime
# --version execs the real runtime's --version; both sides exec the same
# stub (the candidate's static kmemguard-hook), so only our start-up differs.
set -euo pipefail
A=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
RUNS=${3:-300}
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
export KMEMGUARD_RUNTIME=$B/kmemguard-hook KMEMGUARD_CONFIG=/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '%-34s %12s %12s %8s\n' command "baseline ms" "candidate ms" ratio
for cmd in "kmemguard --version" "kmemguard-hook --version" "kmemguard-runtime --version"; do
  # -i: a baseline without --version (the hook before issue 11) exits 1
  # after the same start-up.
  hyperfine -N -i --warmup 20 --runs "$RUNS" --export-json "$T/h.json" \
    "$A/$cmd" "$B/$cmd" >/dev/null 2>&1
  python3 - "$T/h.json" "$cmd" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = (x["median"] * 1000 for x in r)
print(f"{sys.argv[2]:<34} {a:12.3f} {b:12.3f} {b / a:8.2f}")
PY
done

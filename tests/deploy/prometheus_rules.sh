#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/prometheus: promtool check rules, promtool test rules (every alert
# fires on its series, healthy and fixed-kernel nodes stay silent), every
# alert's runbook anchor exists in docs/runbook.md, and promtool check
# metrics accepts doctor's --format prometheus output for every recorded
# host. Skips (77) without promtool.
#
# usage: prometheus_rules.sh KMEMGUARD_BINARY SOURCE_DIR
set -u
KMG=$1
SRC=$2
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (apt-get install prometheus)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

RULES=$SRC/deploy/prometheus/kmemguard-rules.yml
promtool check rules "$RULES" || bad "promtool check rules"
for t in "$SRC"/deploy/prometheus/tests/*.yml; do
  promtool test rules "$t" || bad "promtool test rules $t"
  # promtool runs the groups of one step in random order unless told: an
  # alert on a recording rule then sees the previous step's value in some
  # runs only. Every test file pins the order, recording rules first.
  python3 - "$t" "$RULES" <<'PY' || bad "$t: group_eval_order"
import sys, yaml
test = yaml.safe_load(open(sys.argv[1]))
groups = [g["name"] for g in yaml.safe_load(open(sys.argv[2]))["groups"]]
order = test.get("group_eval_order", [])
if len(groups) > 1 and order != groups:
    print(f"group_eval_order {order}, want {groups}")
    sys.exit(1)
PY
done

python3 - "$RULES" "$SRC/docs/runbook.md" <<'PY' || bad "runbook anchors and labels"
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
runbook = open(sys.argv[2]).read()
# GitHub's anchors: lower case of the heading text.
anchors = {h.strip().lower().replace(" ", "-")
           for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
errors = []
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
for a in alerts:
    name = a["alert"]
    if a.get("labels", {}).get("severity") not in ("warning", "critical"):
        errors.append(f"{name}: severity label warning or critical")
    url = a.get("annotations", {}).get("runbook_url", "")
    want = "docs/runbook.md#" + name.lower()
    if url != want:
        errors.append(f"{name}: runbook_url {url!r}, want {want!r}")
    if name.lower() not in anchors:
        errors.append(f"{name}: no section in docs/runbook.md")
    for key in ("summary", "description"):
        if not a.get("annotations", {}).get(key):
            errors.append(f"{name}: no {key} annotation")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY

# Doctor's output for every recorded host passes promtool's linter.
n=0
for fx in "$SRC"/tests/doctor/fixtures/*/; do
  name=$(basename "$fx")
  "$KMG" doctor --proc "$fx/proc" --sys "$fx/sys" --runtime-path "$fx/bin" \
    --format prometheus >"$T/$name.prom" 2>"$T/err"
  rc=$?
  [ "$rc" -le 2 ] || bad "$name: doctor exit $rc: $(cat "$T/err")"
  grep -q '^kmemguard_doctor_last_run_timestamp_seconds ' "$T/$name.prom" ||
    bad "$name: no kmemguard_doctor_last_run_timestamp_seconds"
  if ! promtool check metrics <"$T/$name.prom" >"$T/lint" 2>&1; then
    bad "$name: promtool check metrics: $(cat "$T/lint")"
  fi
  n=$((n + 1))
done
[ "$n" -ge 4 ] || bad "only $n recorded hosts under tests/doctor/fixtures"
[ $fail = 0 ] && echo "PASS: rules, rule tests, runbook anchors, metrics of $n hosts"
exit $fail

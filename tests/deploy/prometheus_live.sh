#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The live loop: doctor (the packaged unit's command, `kmemguard doctor
# --format prometheus --output DIR/kmemguard.prom`) writes node-exporter's
# textfile directory for a recorded host; Debian's prometheus-node-exporter
# (textfile collector only) serves it on 127.0.0.1; Debian's Prometheus
# scrapes it with deploy/prometheus/kmemguard-rules.yml; the alerts are read
# from Prometheus's HTTP API (/api/v1/alerts).
#
#   1. the recorded RHEL 7 host (el7-cliff, 60,000 IDs in use, 8 % free):
#      KmemguardMemcgIdHeadroomLow and KmemguardKmemOnLeakProneKernel fire,
#      the critical one does not;
#   2. the same host 4,000 cgroups later (64,000 in use, 2 % free):
#      KmemguardMemcgIdHeadroomCritical fires (and, as the IDs grew by
#      4,000 in seconds, KmemguardMemcgIdCliffWithin7Days);
#   3. a healthy host (v6-hybrid): every kmemguard alert resolves.
#
# Differences from production, so the test takes seconds, not hours: scrape
# and evaluation every second, and every `for:` in the rules set to 0s (a
# copy in the scratch directory; the shipped file is unchanged).
#
# Everything lives in a scratch directory and on free 127.0.0.1 ports; both
# daemons are killed in the trap, also on failure. Skips (77) without
# prometheus, prometheus-node-exporter or promtool.
#
# Bounded: each wait gives up after 60-90 s; CTest's timeout is 240 s.
#
# usage: prometheus_live.sh KMEMGUARD_BINARY SOURCE_DIR
set -u
KMG=$1
SRC=$2
for tool in prometheus prometheus-node-exporter promtool python3; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
FIX=$SRC/tests/doctor/fixtures
T=$(mktemp -d /tmp/kmemguard-live-prom.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "FAIL: $*"
  echo "--- prometheus log (tail)"; tail -n 20 "$T/prometheus.log"
  echo "--- node-exporter log (tail)"; tail -n 20 "$T/node-exporter.log"
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
NE_PORT=$(free_port)
PROM_PORT=$(free_port)
[ "$NE_PORT" != "$PROM_PORT" ] || PROM_PORT=$(free_port)

mkdir -p "$T/textfile" "$T/tsdb" "$T/hosts"
sed -E 's/^([[:space:]]*)for: .*/\1for: 0s/' \
  "$SRC/deploy/prometheus/kmemguard-rules.yml" >"$T/rules.yml"
promtool check rules "$T/rules.yml" >/dev/null || fail "templated rules do not load"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NE_PORT']
YML

# The recorded host, and the same host 4,000 memory cgroups later.
cp -a "$FIX/el7-cliff" "$T/hosts/el7-cliff"
cp -a "$FIX/el7-cliff" "$T/hosts/el7-64000"
sed -i -E 's/^(memory\t[0-9]+\t)60000(\t)/\164000\2/' "$T/hosts/el7-64000/proc/cgroups"
grep -qP '^memory\t\d+\t64000\t' "$T/hosts/el7-64000/proc/cgroups" || fail "could not edit the fixture"

doctor_writes() {  # HOST_DIR
  local h=$1 rc
  "$KMG" doctor --proc "$h/proc" --sys "$h/sys" --runtime-path "$h/bin" \
    --format prometheus --output "$T/textfile/kmemguard.prom"
  rc=$?
  [ $rc -le 2 ] || fail "doctor on $h exited $rc"
  ls "$T/textfile" | grep -v '^kmemguard.prom$' && fail "doctor left a temporary file"
  echo "doctor on $(basename "$h"): exit $rc, headroom $(grep '^kmemguard_memcg_ids_headroom ' "$T/textfile/kmemguard.prom" | cut -d' ' -f2)"
}

api() {  # PATH
  python3 - "http://127.0.0.1:$PROM_PORT$1" <<'PY'
import json, sys, urllib.request
try:
    print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1], timeout=2))))
except Exception as e:
    print(json.dumps({"status": "error", "error": str(e)}))
PY
}

# firing_alerts: "name/severity" of each firing kmemguard alert, sorted.
firing_alerts() {
  api /api/v1/alerts | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = sorted("%s/%s" % (a["labels"]["alertname"], a["labels"].get("severity", ""))
               for a in d.get("data", {}).get("alerts", [])
               if a["state"] == "firing" and a["labels"]["alertname"].startswith("Kmemguard"))
print(" ".join(names))'
}

# wait_for WHAT EXPECTED_FIRING_LIST: up to 90 s of wall time.
wait_for() {
  local what=$1 want=$2 got="" start=$SECONDS
  while [ $((SECONDS - start)) -lt 90 ]; do
    got=$(firing_alerts)
    if [ "$got" = "$want" ]; then
      echo "after $((SECONDS - start))s, firing: ${got:-(none)}  [$what]"
      return 0
    fi
    sleep 0.5
  done
  fail "$what: firing \"$got\", want \"$want\""
}

doctor_writes "$T/hosts/el7-cliff"

prometheus-node-exporter --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$T/textfile" \
  --web.listen-address="127.0.0.1:$NE_PORT" >"$T/node-exporter.log" 2>&1 &
PIDS+=($!)
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prometheus.log" 2>&1 &
PIDS+=($!)

start=$SECONDS
while [ $((SECONDS - start)) -lt 60 ]; do
  up=$(api '/api/v1/query?query=up' | python3 -c '
import json, sys
r = json.load(sys.stdin).get("data", {}).get("result", [])
print(r[0]["value"][1] if r else "")')
  [ "$up" = 1 ] && break
  sleep 0.5
done
[ "$up" = 1 ] || fail "Prometheus does not scrape node-exporter (up=$up)"
echo "node-exporter on 127.0.0.1:$NE_PORT, Prometheus on 127.0.0.1:$PROM_PORT: up=1"

wait_for "el7-cliff as recorded" \
  "KmemguardKmemOnLeakProneKernel/warning KmemguardMemcgIdHeadroomLow/warning"

doctor_writes "$T/hosts/el7-64000"
# 4,000 more IDs within seconds: the trend alert fires too, rightly.
wait_for "el7-cliff at 64,000 IDs" \
  "KmemguardKmemOnLeakProneKernel/warning KmemguardMemcgIdCliffWithin7Days/warning KmemguardMemcgIdHeadroomCritical/critical KmemguardMemcgIdHeadroomLow/warning"
echo "the critical alert as Prometheus serves it:"
api /api/v1/alerts | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"]["alertname"] == "KmemguardMemcgIdHeadroomCritical":
        print("  " + json.dumps({k: a[k] for k in ("labels", "state", "activeAt", "value")}))'

doctor_writes "$FIX/v6-hybrid"
wait_for "healthy host (v6-hybrid)" ""
echo "PASS: alerts fired and resolved through Prometheus"

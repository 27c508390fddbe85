#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end tests of `kmemguard doctor`.
#   doctor_test.sh KMEMGUARD fixture     recorded /proc and /sys trees (no root)
#   doctor_test.sh KMEMGUARD live        page-cache zombies on the real v1
#                                        memory hierarchy; exits 77 (skipped)
#                                        without root or a v1 hierarchy
#   doctor_test.sh KMEMGUARD exhaustion  fills the ID space for a few seconds;
#                                        exits 77 unless KMEMGUARD_EXHAUSTION_TEST=1
set -u
KMG=$1
MODE=${2:-fixture}
HERE=$(cd "$(dirname "$0")" && pwd)
SCHEMA=$HERE/../../docs/doctor.schema.json
# Debian's python3 carries python3-jsonschema and python3-prometheus-client.
PY=${KMEMGUARD_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}
CHECK="$PY $HERE/check_output.py"
FIX=$HERE/fixtures
MEM=/sys/fs/cgroup/memory
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

T=$(mktemp -d)
SCRATCH=$MEM/kmemguard-doctor-$$-$RANDOM
cleanup() {
  if [ -d "$SCRATCH" ]; then
    find "$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
    rmdir "$SCRATCH" 2>/dev/null
  fi
  rm -f /var/tmp/kmemguard-doctor-$$-*
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# doctor_case NAME WANT_RC FIXTURE [doctor flags...] -- [json checks...]
doctor_case() {
  local name=$1 want=$2 fx=$3; shift 3
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  # --state-dir: the fixture's own (most have none: 0 unguarded starts),
  # never the host's /run/kmemguard.
  local roots=(--proc "$FIX/$fx/proc" --sys "$FIX/$fx/sys" --runtime-path "$FIX/$fx/bin"
               --state-dir "$FIX/$fx/state")
  "$KMG" doctor "${roots[@]}" "${flags[@]}" --format json >"$T/$name.json" 2>"$T/err"
  local rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$name: json exit $rc, want $want: $(cat "$T/err")"; fi
  if $CHECK json "$SCHEMA" "$T/$name.json" "exit_code=$want" "$@"; then ok; else
    bad "$name: json checks"; fi
  "$KMG" doctor "${roots[@]}" "${flags[@]}" --format prometheus >"$T/$name.prom" 2>"$T/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$name: prometheus exit $rc, want $want"; fi
  if $CHECK prom "$T/$name.prom" "kmemguard_doctor_verdict=$want"; then ok; else
    bad "$name: prometheus checks"; fi
  "$KMG" doctor "${roots[@]}" "${flags[@]}" >"$T/$name.txt" 2>"$T/err"
  rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$name: text exit $rc, want $want"; fi
  if grep -q $'\033' "$T/$name.txt"; then bad "$name: colour in a non-terminal"; else ok; fi
}

fixture_tests() {
  doctor_case el7-cliff 2 el7-cliff -- 'verdict="critical"' \
    'kernel.class="rhel7-3.10-leaky"' 'kernel.leak_prone=true' 'layout.mode="v1"' \
    'memcg_ids.in_use=60000' 'memcg_ids.visible=6' 'memcg_ids.dying=59994' \
    'memcg_ids.headroom=5535' 'kmem.active_count=4' 'kmem.inspected_per_cgroup=true' \
    'kmem.cgroups.0.path="kubepods"' 'kmem.cgroups.0.active=true' \
    'kmem.cgroups.0.use_hierarchy=true' 'kmem.cgroups.3.path="system.slice"' \
    'kmem.cgroups.3.active=false' 'runtimes.0.version="1.0.0-rc93"' \
    'runtimes.0.predates_rc94=true' 'runtimes.0.nokmem_build="no"' \
    'kubelet.version="1.9.11"' 'remediation.2.relevant=true' 'remediation.5.relevant=true' \
    +ids-critical +kmem-leak-prone +kmem-inherited +runc-enables-kmem +kubelet-enables-kmem
  $CHECK prom "$T/el7-cliff.prom" kmemguard_memcg_ids_in_use=60000 \
    kmemguard_memcg_ids_limit=65535 kmemguard_memcg_dying=59994 \
    kmemguard_memcg_visible=6 kmemguard_memcg_kmem_active=4 \
    'kmemguard_memcg_kmem_active_parent{cgroup=kubepods/burstable}=1' \
    'kmemguard_memcg_kmem_active_parent{cgroup=system.slice}=0' \
    kmemguard_kernel_leak_prone=1 && ok || bad "el7-cliff prometheus values"
  grep -q '^  dying  *59,994$' "$T/el7-cliff.txt" && ok || bad "el7-cliff text: dying row"
  # Raised thresholds: the IDs no longer critical, the kmem warnings remain.
  doctor_case el7-thresholds 1 el7-cliff --warning-percent 95 --critical-percent 99 -- \
    'verdict="warning"' -ids-critical -ids-warning +ids-ok +kmem-inherited

  doctor_case u44-nokmem 1 u44-nokmem -- 'verdict="warning"' \
    'kernel.class="4.0-4.5"' 'kernel.nokmem_boot=true' 'memcg_ids.in_use=40000' \
    'memcg_ids.visible=4' 'memcg_ids.dying=39996' 'kmem.active_count=0' \
    'runtimes.0.version="1.0.0-rc10"' 'runtimes.0.nokmem_build="yes"' \
    'remediation.2.relevant=false' +ids-warning +nokmem-boot -kmem-leak-prone -runc-enables-kmem

  doctor_case v6-hybrid 0 v6-hybrid -- 'verdict="ok"' 'kernel.class="6.x"' \
    'kernel.kmem_always_accounted=true' 'layout.mode="hybrid"' \
    'layout.unified_mount="/sys/fs/cgroup/unified"' 'memcg_ids.in_use=36' \
    'memcg_ids.visible=6' 'memcg_ids.dying=30' 'v2.nr_dying_descendants=2' \
    'kmem.inspected_per_cgroup=false' 'kmem.active_count=5' \
    'runtimes.0.name="runc"' 'runtimes.0.predates_rc94=false' \
    'runtimes.1.name="crun"' 'runtimes.1.version="1.8.1"' \
    'systemd_run_scopes.count=4' +ids-ok +kmem-always-on -k8s-70324
  doctor_case v6-70324 1 v6-hybrid --run-scope-threshold 4 -- 'verdict="warning"' +k8s-70324
  doctor_case v6-low-threshold 1 v6-hybrid --warning-percent 0.05 -- +ids-warning
  doctor_case v6-watch 0 v6-hybrid --watch 1s --interval 400ms -- \
    'watch.dying_per_hour=0.0' 'watch.seconds_to_cliff=null' +ids-growth
  [ "$($CHECK get "$T/v6-watch.json" watch.samples)" -ge 3 ] && ok || bad "watch: samples"

  # A node with network namespaces where kmemguard-runtime started three
  # containers without the guard (issue 10): never healthy.
  doctor_case node-unguarded 1 node-unguarded -- 'verdict="warning"' \
    'layout.mode="hybrid"' 'layout.memory_mount="/sys/fs/cgroup/memory"' \
    'memcg_ids.known=true' 'unguarded_starts.count=3' \
    'unguarded_starts.last_start_unix=1796166000' 'unguarded_starts.last_container="db-2"' \
    'unguarded_starts.last_reason="seccomp: Operation not permitted (EPERM)"' \
    'errors=[]' +unguarded-starts +ids-ok
  $CHECK prom "$T/node-unguarded.prom" kmemguard_unguarded_starts_total=3 \
    kmemguard_unguarded_last_start_timestamp_seconds=1796166000 && ok ||
    bad "node-unguarded prometheus values"
  grep -q '^  unguarded starts  *3 since boot$' "$T/node-unguarded.txt" && ok ||
    bad "node-unguarded text: unguarded starts row"
  grep -q 'warning  3 containers started without the kmem guard since boot; last at 2026-12-01T23:00:00Z (db-2)' \
    "$T/node-unguarded.txt" && ok || bad "node-unguarded text: finding"
  # Without --state-dir, the state-dir of kmemguard-runtime's config.toml.
  printf 'state-dir = "%s"\n' "$FIX/node-unguarded/state" >"$T/config.toml"
  KMEMGUARD_CONFIG="$T/config.toml" "$KMG" doctor --proc "$FIX/node-unguarded/proc" \
    --sys "$FIX/node-unguarded/sys" --no-runtimes --format json >"$T/cfg.json"
  [ $? = 1 ] && ok || bad "state-dir from config.toml: exit 1"
  $CHECK json "$SCHEMA" "$T/cfg.json" 'unguarded_starts.count=3' \
    "unguarded_starts.state_dir=\"$FIX/node-unguarded/state\"" && ok ||
    bad "state-dir from config.toml"
  # The healthy fixtures report zero unguarded starts.
  $CHECK json "$SCHEMA" "$T/v6-hybrid.json" 'unguarded_starts.count=0' \
    'unguarded_starts.last_start_unix=null' && ok || bad "v6-hybrid: no unguarded starts"
  $CHECK prom "$T/v6-hybrid.prom" kmemguard_unguarded_starts_total=0 && ok ||
    bad "v6-hybrid: unguarded counter 0"

  doctor_case v2-pure 0 v2-pure -- 'verdict="ok"' 'layout.mode="v2"' \
    'memcg_ids.source="cgroup.stat"' 'memcg_ids.visible=53' 'memcg_ids.dying=3' \
    'memcg_ids.in_use=56' 'kmem.active_count=0' 'runtimes=[]' 'kubelet=null' +v2 -kmem-always-on

  # Nothing to inspect: exit 3, still valid JSON.
  mkdir -p "$T/empty/proc" "$T/empty/sys"
  "$KMG" doctor --proc "$T/empty/proc" --sys "$T/empty/sys" --state-dir "$T/empty/state" \
    --no-runtimes --format json \
    >"$T/empty.json"
  [ $? = 3 ] && ok || bad "empty roots: exit 3"
  $CHECK json "$SCHEMA" "$T/empty.json" 'verdict="unknown"' 'memcg_ids.known=false' \
    +ids-unknown && ok || bad "empty roots: json"

  # Colour only on request (or a terminal); usage errors.
  "$KMG" doctor --proc "$FIX/v2-pure/proc" --sys "$FIX/v2-pure/sys" --no-runtimes \
    --state-dir "$T/empty/state" \
    --color always | grep -q $'\033\\[32m' && ok || bad "--color always"
  "$KMG" doctor --watch nonsense >/dev/null 2>&1; [ $? = 3 ] && ok || bad "bad --watch: exit 3"
  "$KMG" doctor --format yaml >/dev/null 2>&1; [ $? = 2 ] && ok || bad "bad --format: usage"
  "$KMG" doctor --help | grep -q -- '--watch' && ok || bad "doctor --help"
}

need_v1_root() {
  if [ "$(id -u)" != 0 ]; then echo "skip: needs root"; exit 77; fi
  if [ "$(stat -f -c %T "$MEM" 2>/dev/null)" != cgroupfs ]; then
    echo "skip: no cgroup v1 memory hierarchy at $MEM"; exit 77; fi
  . "$HERE/../testing/netns_check.sh"; require_test_netns
}

dying_now() {
  "$KMG" doctor --no-runtimes --format json >"$T/now.json"
  $CHECK get "$T/now.json" memcg_ids.dying
}

# The dying count once it has not moved for a second (at most 10 s): the
# kernel frees earlier zombies asynchronously.
stable_dying() {
  local last now still=0 i
  last=$(dying_now)
  for i in $(seq 1 100); do
    [ "$still" -ge 10 ] && break
    sleep 0.1
    now=$(dying_now)
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
    last=$now
  done
  echo "$last"
}

live_tests() {
  need_v1_root
  # The real host: valid outputs, counts match a find(1) of the hierarchy.
  "$KMG" doctor --format json >"$T/host.json"
  local rc=$?
  [ "$rc" -le 2 ] && ok || bad "host: exit $rc"
  $CHECK json "$SCHEMA" "$T/host.json" 'memcg_ids.known=true' && ok || bad "host json"
  "$KMG" doctor --format prometheus >"$T/host.prom"
  $CHECK prom "$T/host.prom" && ok || bad "host prometheus"
  local visible find_count
  visible=$($CHECK get "$T/host.json" memcg_ids.visible)
  find_count=$(find "$MEM" -type d | wc -l)
  [ $((visible - find_count)) -le 3 ] && [ $((find_count - visible)) -le 3 ] && ok ||
    bad "visible $visible vs find $find_count"

  # N page-cache zombies: a process in a scratch cgroup writes 20 MB and
  # exits; the cgroup is removed without force_empty. The dying count is
  # host-wide, and the host's own process management creates and frees
  # memory cgroups at any time, so a disturbed attempt is retried (at most
  # 3); each attempt checks both the rise and the fall.
  local attempt result=""
  mkdir -p "$SCRATCH" || { bad "mkdir $SCRATCH"; return; }
  for attempt in 1 2 3; do
    result=$(zombie_attempt "$attempt")
    echo "$result"
    case "$result" in *PASS*) break ;; esac
  done
  case "$result" in *PASS*) ok ;; *) bad "zombie rise and fall not seen in 3 attempts" ;; esac
}

zombie_attempt() {
  local N=5 before after i pre t now trail="" a=$1
  before=$(stable_dying)
  for i in $(seq 1 $N); do
    mkdir "$SCRATCH/z$a-$i"
    sh -c "echo \$\$ >$SCRATCH/z$a-$i/cgroup.procs && exec dd if=/dev/zero \
      of=/var/tmp/kmemguard-doctor-$$-$a-$i bs=1M count=20 status=none"
    rmdir "$SCRATCH/z$a-$i"
  done
  after=$(dying_now)
  pre=$(dying_now)
  rm -f /var/tmp/kmemguard-doctor-$$-$a-*
  now=$pre
  for t in $(seq 1 100); do
    now=$(dying_now)
    trail="$trail $now"
    [ "$now" -le $((pre - N + 1)) ] && break
    sleep 0.2
  done
  # One unrelated change on the host is tolerated per phase.
  local verdict=FAIL
  [ "$after" -ge $((before + N - 1)) ] && [ "$now" -le $((pre - N + 1)) ] && verdict=PASS
  echo "attempt $a: dying before $before, after $N zombies $after; after deleting the files:$trail -> $verdict"
}

exhaustion_tests() {
  if [ "${KMEMGUARD_EXHAUSTION_TEST:-0}" != 1 ]; then
    echo "skip: set KMEMGUARD_EXHAUSTION_TEST=1 to fill the memory cgroup ID space"
    exit 77
  fi
  need_v1_root
  "$PY" "$HERE/fill_ids.py" "$KMG" "$SCRATCH" "$SCHEMA" "$HERE/check_output.py" &&
    ok || bad "exhaustion"
}

case $MODE in
  fixture) fixture_tests ;;
  live) live_tests ;;
  exhaustion) exhaustion_tests ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
echo "doctor $MODE: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

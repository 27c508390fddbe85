#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kmemguard-runtime and kmemguard-hook end to end with Debian's real runc and
# a busybox-static rootfs built here.
#   runtime_e2e.sh RUNTIME HOOK KMEMGUARD
# Exits 77 (CTest: Skipped) without root, a v1 memory hierarchy, runc or
# busybox-static. Every cgroup lives under a unique scratch parent, removed
# from every hierarchy at exit (runc creates cgroupsPath in all of them and
# leaves the parents behind).
set -u
WRAPPER=$1
HOOK=$2
CLI=$3
HERE=$(cd "$(dirname "$0")" && pwd)
MEM=/sys/fs/cgroup/memory
RUNC=$(command -v runc || true)
BUSYBOX=/bin/busybox
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

if [ "$(id -u)" != 0 ] || [ "$(stat -f -c %T $MEM 2>/dev/null)" != cgroupfs ] ||
   [ -z "$RUNC" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q static &&
   ! ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic"; then
  echo "runtime e2e skipped: need root, cgroup v1 memory, runc and busybox-static"
  exit 77
fi
. "$HERE/../testing/netns_check.sh"; require_test_netns

T=$(mktemp -d /tmp/kmemguard-e2e.XXXXXX)
SCRATCH=kmemguard-e2e-$$-$RANDOM
cleanup() {
  for id in $(ls "$T/root" 2>/dev/null); do
    "$RUNC" --root "$T/root" delete --force "$id" >/dev/null 2>&1
  done
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A bundle: busybox-static rootfs and runc's default spec, edited.
make_bundle() { # make_bundle DIR CGROUPS_PATH ARGS_JSON [MEMORY_JSON]
  local dir=$1
  mkdir -p "$dir/rootfs/bin"
  cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
  for c in sh echo true sleep cat; do ln -sf busybox "$dir/rootfs/bin/$c"; done
  (cd "$dir" && "$RUNC" spec)
  python3 - "$dir/config.json" "$2" "$3" "${4:-}" "${5:-}" <<'PY'
import json, sys
path, cg, args, mem, hooks = sys.argv[1:6]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c["linux"]["cgroupsPath"] = cg
if mem:
    c["linux"].setdefault("resources", {})["memory"] = json.loads(mem)
if hooks:
    c["hooks"] = json.loads(hooks)
json.dump(c, open(path, "w"), indent=1)
PY
}

cat >"$T/config.toml" <<TOML
runtime = "$RUNC"
state-dir = "$T/state"
debug-log = "$T/debug.log"
[hook]
warn-ratio = 0.0001
TOML
export KMEMGUARD_CONFIG="$T/config.toml"
W=("$WRAPPER" --root "$T/root")
MEMJSON='{"limit": 67108864, "swap": 134217728, "reservation": 33554432}'

# 1. stdout and exit status come through unchanged.
make_bundle "$T/b1" "/$SCRATCH/c1" '["sh", "-c", "echo hi; exit 7"]' "$MEMJSON"
out=$("${W[@]}" run --bundle "$T/b1" c1 2>"$T/err1"); rc=$?
check '[ "$out" = hi ]' "stdout: got '$out'"
check '[ $rc = 7 ]' "exit status: got $rc"
check '[ ! -s "$T/err1" ]' "silent on success: $(cat "$T/err1")"

# 2. create/start/kill/delete: the cgroup at cgroupsPath with the limits,
#    read back from the kernel; nothing left afterwards.
make_bundle "$T/b2" "/$SCRATCH/c2" '["sleep", "60"]' "$MEMJSON"
"${W[@]}" --log "$T/log2.json" --log-format json create --bundle "$T/b2" c2
check '[ $? = 0 ]' "create"
check '[ "$(cat $MEM/$SCRATCH/c2/memory.limit_in_bytes)" = 67108864 ]' "limit read back"
check '[ "$(cat $MEM/$SCRATCH/c2/memory.memsw.limit_in_bytes)" = 134217728 ]' "memsw read back"
check '[ "$(cat $MEM/$SCRATCH/c2/memory.soft_limit_in_bytes)" = 33554432 ]' "soft limit read back"
check 'ls "$T"/state/*/c2.json >/dev/null 2>&1' "state record written"
"${W[@]}" start c2; check '[ $? = 0 ]' "start"
pid=$("$RUNC" --root "$T/root" state c2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check 'grep -q ":memory:/$SCRATCH/c2\$" /proc/$pid/cgroup' "container process in the cgroup"
"${W[@]}" kill c2 KILL; check '[ $? = 0 ]' "kill"
for _ in $(seq 50); do "$RUNC" --root "$T/root" state c2 2>/dev/null | grep -q '"stopped"' && break; sleep 0.1; done
"${W[@]}" delete c2; check '[ $? = 0 ]' "delete"
for _ in $(seq 50); do [ -e "$MEM/$SCRATCH" ] || break; sleep 0.1; done
check '[ ! -e "$MEM/$SCRATCH/c2" ]' "container cgroup removed"
check '[ ! -e "$MEM/$SCRATCH" ]' "scratch parent the wrapper created removed"
check '! ls "$T"/state/*/c2.json >/dev/null 2>&1' "state record removed"

# 3. A runtime failing before it uses the cgroup: no process of ours is
#    left, and `kmemguard gc` removes what the wrapper created.
make_bundle "$T/b3" "/$SCRATCH/c3" '["/no/such/binary"]' "$MEMJSON"
"${W[@]}" run --bundle "$T/b3" c3 >/dev/null 2>&1
check '[ $? != 0 ]' "run of a missing binary fails"
"$CLI" gc --state-dir "$T/state" >"$T/gc3" 2>&1
check '[ ! -e "$MEM/$SCRATCH" ]' "nothing left after a failed run and gc: $(cat "$T/gc3")"
check '! ls "$T"/state/*/c3.json >/dev/null 2>&1' "gc removed the record"

# 4. A broken config.json: runc-format error line in --log, non-zero exit.
mkdir -p "$T/b4"; echo '{"linux": ' >"$T/b4/config.json"
"${W[@]}" --log "$T/log4.json" --log-format json create --bundle "$T/b4" c4 >/dev/null 2>&1
check '[ $? != 0 ]' "broken config.json fails"
check 'tail -n 1 "$T/log4.json" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); assert d[\"level\"]==\"error\" and d[\"msg\"] and d[\"time\"]"' \
  "last --log line is a runc-format error: $(tail -n 2 "$T/log4.json" 2>/dev/null)"
check 'grep -q "kmemguard-runtime: kmem guard not applied" "$T/log4.json"' "our warning in --log"
#    ... and under fail-closed the wrapper's own error is the last line.
sed 's/^runtime = .*/&\nfailure-policy = "fail-closed"/' "$T/config.toml" >"$T/closed.toml"
KMEMGUARD_CONFIG="$T/closed.toml" "${W[@]}" --log "$T/log5.json" --log-format json \
  create --bundle "$T/b4" c5 >/dev/null 2>"$T/err5"
check '[ $? = 1 ]' "fail-closed exits 1"
check 'tail -n 1 "$T/log5.json" | grep -q "\"level\":\"error\".*config.json"' "fail-closed error line"
check '[ "$(wc -l <"$T/err5")" = 1 ]' "fail-closed: one line on stderr"
#    ... the fail-open start (c4) is counted, the refused one (c5) is not:
#    one 256-byte record in the state directory (issue 10).
check '[ "$(stat -c %s "$T/state/unguarded-starts" 2>/dev/null)" = 256 ]' \
  "one unguarded start counted: $(cat "$T/state/unguarded-starts" 2>&1)"
check 'grep -q "^[0-9]* c4 .*config.json" "$T/state/unguarded-starts"' "the record names c4 and why"

# 5. The wrapper never writes memory.kmem.limit_in_bytes for a container
#    without a kernel-memory limit (from the system calls of the wrapper and
#    the runc it execs).
if command -v strace >/dev/null; then
  make_bundle "$T/b6" "/$SCRATCH/c6" '["true"]' "$MEMJSON"
  strace -f -qq -e trace=openat,openat2,open -o "$T/strace6" "${W[@]}" run --bundle "$T/b6" c6
  check '[ $? = 0 ]' "run under strace"
  check '! grep "memory.kmem.limit_in_bytes" "$T/strace6" | grep -qE "O_WRONLY|O_RDWR"' \
    "no write-open of memory.kmem.limit_in_bytes"
  check 'grep -q "memory.limit_in_bytes" "$T/strace6"' "strace saw the limit write (sanity)"
fi

# 6. In front of an affected runc (rc3..rc93 behaviour, tests/e2e/legacy-runc.sh):
#    directly, it enables kmem on the cgroup it creates; through the wrapper,
#    the cgroup already exists and it does not.
export LEGACY_TRACE="$T/legacy.trace" LEGACY_REAL_RUNC="$RUNC"
make_bundle "$T/b7" "/$SCRATCH/c7" '["true"]' "$MEMJSON"
"$HERE/legacy-runc.sh" --root "$T/root" run --bundle "$T/b7" c7
check 'grep -q "ENABLED_KMEM /$SCRATCH/c7" "$LEGACY_TRACE"' "legacy runc alone enables kmem"
make_bundle "$T/b8" "/$SCRATCH/c8" '["true"]' "$MEMJSON"
KMEMGUARD_RUNTIME="$HERE/legacy-runc.sh" "${W[@]}" run --bundle "$T/b8" c8
check '[ $? = 0 ]' "run through the wrapper in front of legacy runc"
check '! grep -q "ENABLED_KMEM /$SCRATCH/c8" "$LEGACY_TRACE"' "through the wrapper: no kmem enabling"

# 7. The hook, from a config.json hooks section.
HOOKS=$(printf '{"createRuntime": [{"path": "%s", "args": ["kmemguard-hook", "createRuntime"], "env": ["KMEMGUARD_CONFIG=%s"]}], "poststop": [{"path": "%s", "args": ["kmemguard-hook", "poststop"], "env": ["KMEMGUARD_CONFIG=%s"]}]}' "$HOOK" "$T/config.toml" "$HOOK" "$T/config.toml")
make_bundle "$T/b9" "/$SCRATCH/c9" '["true"]' "$MEMJSON" "$HOOKS"
"$RUNC" --root "$T/root" run --bundle "$T/b9" c9
check '[ $? = 0 ]' "runc run with the hooks"
check 'grep -q "kmemguard-hook: c9: .* memory cgroup IDs in use (warning" "$T/debug.log"' \
  "hook reports ID headroom: $(grep kmemguard-hook "$T/debug.log" | head -3)"
check 'grep -q "kmemguard-hook: c9: .*kmem" "$T/debug.log"' "hook reports kmem state"
check 'grep -q "kmemguard-hook: c9: warning: 1 container started without the kmem guard since boot.*(c4)" "$T/debug.log"' \
  "hook reports the unguarded start"
echo '{"ociVersion": "1.0.2", "id": "x", "status": "creating", "pid": 1, "bundle": "'"$T/b9"'"}' |
  "$HOOK" bogus-stage 2>"$T/hookerr"
check '[ $? = 1 ] && [ "$(wc -l <"$T/hookerr")" = 1 ]' "bad hook stage: one line, exit 1"

# 8. Pass-through: other commands reach runc untouched.
check '"$WRAPPER" --version | head -1 | grep -q "^kmemguard-runtime version "' "--version: ours first"
check '"$WRAPPER" --version | sed -n 2p | grep -q "^runc version"' "--version: then runc's"
"${W[@]}" state no-such-container >/dev/null 2>&1
check '[ $? != 0 ]' "state of a missing container fails as runc does"
# Installed as "runc" first on PATH, it still finds the real one.
mkdir -p "$T/bin"; cp "$WRAPPER" "$T/bin/runc"
sed -i '/^runtime = /d' "$T/config.toml"
check 'PATH="$T/bin:$PATH" "$T/bin/runc" --version | grep -q "^runc version"' "no self-recursion"

[ -n "${KEEP_LOG:-}" ] && cat "$T/debug.log"
echo "runtime e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

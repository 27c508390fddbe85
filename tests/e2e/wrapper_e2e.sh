#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kmemguard-runtime's process model and `kmemguard gc` on the real memory
# hierarchy, with a runtime test double (stub-runtime.sh) so that each case
# controls exactly what the runtime does. One case per defect of issue 12.
#   wrapper_e2e.sh RUNTIME KMEMGUARD
# Exits 77 (CTest: Skipped) without root, a v1 memory hierarchy or ip(8).
# Every cgroup lives under a unique scratch parent, removed at exit; a named
# network namespace is present while it runs, as on a node.
set -u
WRAPPER=$(readlink -f "$1")
CLI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=wrapper-e2e NEEDS="ip"
. "$HERE/wrapper_lib.sh"

cat >"$T/config.toml" <<TOML
runtime = "$STUB"
state-dir = "$T/state"
TOML
export KMEMGUARD_CONFIG="$T/config.toml" STUB_LOG="$T/stub.log"
R=$T/root
W=("$WRAPPER" --root "$R")
GC=("$CLI" gc --state-dir "$T/state")

# 0. The create path: the cgroup with the limit, a confirmed record naming
#    the runtime's pid (the wrapper's, kept across execve), and no process
#    of ours once the verb returns.
bundle "$T/b0" "/$SCRATCH/c0"
"${W[@]}" create --bundle "$T/b0" c0; check '[ $? = 0 ]' "create"
check '[ "$(cat $MEM/$SCRATCH/c0/memory.limit_in_bytes)" = 67108864 ]' "limit written"
rec=$(find "$T/state" -name c0.json)
stub_pid=$(awk '$1 == "create" && $2 == "c0" {print $3}' "$T/stub.log")
check 'python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r[\"confirmed\"] and r[\"owner_pid\"]==int(sys.argv[2]) and all(d[\"inode\"] for d in r[\"created\"])" "$rec" "$stub_pid"' \
  "record confirmed, owner = the runtime's pid: $(cat "$rec")"
check '[ -z "$(ours)" ]' "no process of ours after create: $(ours)"
"${W[@]}" start c0; check '[ $? = 0 ] && [ -z "$(ours)" ]' "start passes through, nothing left"
"${W[@]}" state c0 >/dev/null; check '[ $? = 0 ] && [ -z "$(ours)" ]' "state passes through, nothing left"
"${W[@]}" delete c0; check '[ $? = 0 ] && [ -z "$(ours)" ]' "delete, nothing left"
check '[ ! -e "$MEM/$SCRATCH" ]' "delete removed the cgroup and the parent we created"
check '[ "$(records)" = 0 ]' "delete removed the record"

# Defect 1: an invalid container id created the cgroup and leaked it.
bundle "$T/b1" "/$SCRATCH/d1"
"${W[@]}" create --bundle "$T/b1" "bad/id" >/dev/null 2>&1
check '[ ! -e "$MEM/$SCRATCH" ]' "defect 1: invalid id leaves no cgroup"

# Defect 2: reusing a live container's id overwrote its record.
bundle "$T/b2" "/$SCRATCH/d2"
bundle "$T/b2b" "/$SCRATCH/d2b"
"${W[@]}" create --bundle "$T/b2" c2
"${W[@]}" create --bundle "$T/b2b" c2 >/dev/null 2>&1
check '[ $? != 0 ]' "defect 2: second create of a live id fails (the runtime refuses)"
check '[ ! -e "$MEM/$SCRATCH/d2b" ]' "defect 2: no cgroup for the refused duplicate"
"${W[@]}" delete c2
check '[ ! -e "$MEM/$SCRATCH/d2" ]' "defect 2: the first container's cgroup is cleaned"

# Defect 3: a relative --root made the cleanup think a live container was
# gone and remove its cgroup.
bundle "$T/b3" "/$SCRATCH/d3"
(cd "$T" && "$WRAPPER" --root relroot create --bundle "$T/b3" c3)
sleep 0.3
check '[ -d "$MEM/$SCRATCH/d3" ]' "defect 3: live container's cgroup kept (relative root)"
"${GC[@]}" >/dev/null
check '[ -d "$MEM/$SCRATCH/d3" ]' "defect 3: gc keeps it too"
(cd "$T" && "$WRAPPER" --root ./relroot/ delete c3)
check '[ ! -e "$MEM/$SCRATCH/d3" ]' "defect 3+7: delete with another spelling of the root cleans up"

# Defect 4: a broken config.toml fell back to the defaults before
# $KMEMGUARD_RUNTIME was applied, and ran whatever runc came first on PATH.
echo 'runtime = ' >"$T/broken.toml"
: >"$STUB_LOG"
KMEMGUARD_CONFIG="$T/broken.toml" KMEMGUARD_RUNTIME="$STUB" "${W[@]}" state nosuch >/dev/null 2>&1
check 'grep -q "^state nosuch" "$STUB_LOG"' "defect 4: \$KMEMGUARD_RUNTIME used with a broken config"
KMEMGUARD_CONFIG="$T/broken.toml" "${W[@]}" state nosuch >/dev/null 2>"$T/err4"
check '[ $? = 1 ] && grep -q "broken.toml" "$T/err4"' "defect 4: no runtime named: an error naming the file"

# Defect 5 (and the watcher): on a kernel without close_range and
# pidfd_open (made to fail with ENOSYS by strace, as before 5.3/5.9), the
# old watcher kept the caller's fds for as long as the container ran, and
# containerd, reading the runtime's pipes until EOF, hung. The caller hands
# `run` the write end of a fifo as fd 7 (strace does not hold it: a shell
# opens it and exec's the wrapper). While the container runs, only the run
# process (the wrapper, then the runtime) and its children may hold it; once
# `run` has returned and the test closes its copy, the reader sees EOF.
holders_of() { # holders_of PATH: "pid:exe" of every process with PATH open
  local f p
  # One find, not a readlink per fd: a scan of every fd takes seconds here.
  find /proc/[0-9]*/fd -maxdepth 1 -lname "$1" 2>/dev/null | while read -r f; do
    p=${f#/proc/}
    p=${p%%/*}
    echo "$p:$(readlink "/proc/$p/exe")"
  done | sort -u
}
descends_from() { # descends_from ANCESTOR PID
  local p=$2
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    [ "$p" = "$1" ] && return 0
    p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
  done
  return 1
}
if command -v strace >/dev/null; then
  bundle "$T/b5" "/$SCRATCH/d5"
  mkfifo "$T/fifo5"
  timeout 30 cat "$T/fifo5" >/dev/null &
  reader=$!
  exec 7>"$T/fifo5"
  STUB_RUN_SECONDS=4 strace -f -qq -o /dev/null \
    -e trace=close_range,pidfd_open -e inject=close_range,pidfd_open:error=ENOSYS \
    bash -c 'exec 8>"$1"; echo $$ >"$2"; shift 2; exec "$@" 7>&8 8>&-' _ \
    "$T/fifo5" "$T/run5.pid" "${W[@]}" run --bundle "$T/b5" c5 7>&- &
  tracer=$!
  for _ in $(seq 1 50); do [ -s "$T/run5.pid" ] && break; sleep 0.1; done
  exec 7>&- # the run process now holds its own copy
  runpid=$(cat "$T/run5.pid" 2>/dev/null)
  # The runtime is running once the stub has logged its run.
  for _ in $(seq 1 100); do grep -q "^run c5 " "$STUB_LOG" && break; sleep 0.1; done
  sleep 0.5
  stray=""
  for h in $(holders_of "$T/fifo5"); do
    # The test's own reader holds the read end.
    descends_from "$runpid" "${h%%:*}" || descends_from "$reader" "${h%%:*}" ||
      stray="$stray $h"
  done
  check '[ -n "$runpid" ] && [ -z "$stray" ]' \
    "defect 5: during run, processes outside the run hold the caller's fd:$stray"
  # `run` has returned when its process (the wrapper, then the runtime) is gone.
  for _ in $(seq 1 100); do
    [ -n "$runpid" ] && [ -e "/proc/$runpid" ] || break
    sleep 0.1
  done
  check '[ -n "$runpid" ] && [ ! -e "/proc/$runpid" ]' "defect 5: run returned (pid '$runpid')"
  eof=no
  for _ in $(seq 1 20); do kill -0 $reader 2>/dev/null || { eof=yes; break; }; sleep 0.1; done
  left=$(holders_of "$T/fifo5" | tr '\n' ' ')
  check '[ $eof = yes ] && [ -z "$left" ]' \
    "defect 5: after run returned, the caller's fd is still held (EOF: $eof; holders: $left)"
  # Whatever held it was started by this test: end it by pid.
  for h in $stray $left; do kill -9 "${h%%:*}" 2>/dev/null; done
  kill $reader 2>/dev/null
  wait $reader 2>/dev/null
  for _ in $(seq 1 50); do kill -0 $tracer 2>/dev/null || break; sleep 0.1; done
  kill $tracer 2>/dev/null
  wait $tracer 2>/dev/null
  check '[ -z "$(ours)" ]' "defect 5: no process of ours alive after run: $(ours)"
  "${GC[@]}" >/dev/null
  check '[ ! -e "$MEM/$SCRATCH/d5" ]' "run's cgroup reaped by gc"
fi

# Defect 6: a parent that still held a sibling was leaked for good; a
# failed cleanup is retried by gc (here: the lazy one on the next delete).
bundle "$T/b6a" "/$SCRATCH/p6/a"
bundle "$T/b6b" "/$SCRATCH/p6/b"
"${W[@]}" create --bundle "$T/b6a" c6a
"${W[@]}" create --bundle "$T/b6b" c6b
"${W[@]}" delete c6a
check '[ -d "$MEM/$SCRATCH/p6" ] && [ ! -e "$MEM/$SCRATCH/p6/a" ]' "defect 6: a removed, p6 busy"
check '[ "$(records)" = 2 ]' "defect 6: a's record kept for the parents"
touch -d '-2 minutes' "$T/state/gc.stamp"
"${W[@]}" delete c6b
check '[ ! -e "$MEM/$SCRATCH" ]' "defect 6: the lazy gc on the next delete removes the parents"
check '[ "$(records)" = 0 ]' "defect 6: no record left"

# Defect 7 is covered by the unit tests (three spellings, one key) and by
# the relative-root case above.

# Defect 8: an unknown global flag with a value hid the command.
bundle "$T/b8" "/$SCRATCH/d8"
"$WRAPPER" --new-global-flag value --root "$R" create --bundle "$T/b8" c8
check '[ -e "$MEM/$SCRATCH/d8" ] && [ "$(cat $MEM/$SCRATCH/d8/memory.limit_in_bytes)" = 67108864 ]' \
  "defect 8: the guard applies after '--new-global-flag value'"
"${W[@]}" delete c8
bundle "$T/b8b" "/$SCRATCH/d8b"
"${W[@]}" --cgroup-manager disabled create --bundle "$T/b8b" c8b
check '[ ! -e "$MEM/$SCRATCH/d8b" ]' "defect 8: crun --cgroup-manager disabled gets no cgroup"
"${W[@]}" delete c8b

# Defect 9: fail-closed was not closed for a broken config (nor, before,
# for a failed watcher); a failed record refuses too.
: >"$STUB_LOG"
bundle "$T/b9" "/$SCRATCH/d9"
KMEMGUARD_CONFIG="$T/broken.toml" KMEMGUARD_RUNTIME="$STUB" "${W[@]}" \
  --log "$T/log9.json" --log-format json create --bundle "$T/b9" c9 >/dev/null 2>&1
check '[ $? = 1 ] && ! grep -q "^create c9" "$STUB_LOG"' "defect 9: broken config refuses create"
check 'tail -n 1 "$T/log9.json" | grep -q "\"level\":\"error\".*broken.toml"' "defect 9: runc-format error line"
check '[ ! -e "$MEM/$SCRATCH/d9" ]' "defect 9: nothing created"
touch "$T/notadir"
printf 'runtime = "%s"\nstate-dir = "%s/notadir/state"\nfailure-policy = "fail-closed"\n' "$STUB" "$T" >"$T/closed.toml"
KMEMGUARD_CONFIG="$T/closed.toml" "${W[@]}" create --bundle "$T/b9" c9 >/dev/null 2>"$T/err9"
rc=$?
check '[ $rc = 1 ] && [ "$(wc -l <"$T/err9")" = 1 ] && ! grep -q "^create c9" "$STUB_LOG"' \
  "defect 9: fail-closed refuses when the record cannot be written: $(cat "$T/err9"; cat "$STUB_LOG")"
check '[ ! -e "$MEM/$SCRATCH/d9" ]' "defect 9: refused create leaves no cgroup"
sed 's/fail-closed/fail-open/' "$T/closed.toml" >"$T/open.toml"
KMEMGUARD_CONFIG="$T/open.toml" "${W[@]}" create --bundle "$T/b9" c9 >/dev/null 2>&1
check '[ $? = 0 ] && grep -q "^create c9" "$STUB_LOG"' "fail-open: the container starts anyway"
check '[ ! -e "$MEM/$SCRATCH/d9" ]' "fail-open: and nothing of ours is left"
"${W[@]}" delete c9 >/dev/null 2>&1

# The lean path (runtime/lean_passthrough.h): a verb that is only passed
# through, with a plainly written config, execs the runtime before any of
# the full path's work. strace -y names the file of each read: the lean
# path reads the config in one 4096-byte buffer, the full path's loader in
# 8192-byte reads. A config the lean reader does not take (a table) goes
# the full way, with the same result. (No LeakSanitizer under ptrace.)
if command -v strace >/dev/null; then
  config_reads() {  # TRACE FILE: the config's reads before the runtime's execve
    awk -v stub="execve(\"$STUB\"" 'index($0, stub) { exit } { print }' "$1" |
      grep -F "read(" | grep -F "<$2>" || true
  }
  ASAN_OPTIONS=detect_leaks=0 strace -f -qq -y -e trace=read,execve -o "$T/lean.trace" \
    "${W[@]}" state lean1 >/dev/null 2>&1
  rc=$?
  check '[ $rc = 1 ] && grep -q "^state lean1 " "$STUB_LOG"' \
    "lean path: state reaches the runtime and its exit status comes back"
  reads=$(config_reads "$T/lean.trace" "$T/config.toml")
  check 'grep -q ", 4096) = " <<<"$reads" && ! grep -q ", 8192) = " <<<"$reads"' \
    "lean path: taken with a plain config: $reads"
  { cat "$T/config.toml"; printf '[hook]\ncleanup = true\n'; } >"$T/hook.toml"
  KMEMGUARD_CONFIG="$T/hook.toml" ASAN_OPTIONS=detect_leaks=0 \
    strace -f -qq -y -e trace=read,execve -o "$T/full.trace" \
    "${W[@]}" state lean2 >/dev/null 2>&1
  rc=$?
  reads=$(config_reads "$T/full.trace" "$T/hook.toml")
  check '[ $rc = 1 ] && grep -q "^state lean2 " "$STUB_LOG" && grep -q ", 8192) = " <<<"$reads"' \
    "lean path: a config with a table goes the full way, same result: $reads"
fi

# gc: --dry-run removes nothing; --format json; never a cgroup with tasks
# or one it did not create.
bundle "$T/bg" "/$SCRATCH/g"
"${W[@]}" create --bundle "$T/bg" cg
rm -rf "$R/cg"   # the runtime forgot the container (as after a crash)
mkdir "$MEM/$SCRATCH/notours"
"${GC[@]}" --dry-run --format json >"$T/gc.json"
check 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"dry_run\"] and [r[\"action\"] for r in d[\"records\"]]==[\"would-remove\"]" "$T/gc.json"' \
  "gc --dry-run --format json: $(cat "$T/gc.json")"
check '[ -d "$MEM/$SCRATCH/g" ]' "dry run removed nothing"
sh -c 'echo $$ >'"$MEM/$SCRATCH/g/cgroup.procs"'; exec sleep 30' &
task=$!
sleep 0.2
"${GC[@]}" >/dev/null
check '[ -d "$MEM/$SCRATCH/g" ] && [ "$(records)" = 1 ]' "gc leaves a cgroup with tasks"
kill $task; wait $task 2>/dev/null
"${GC[@]}" >"$T/gc.txt"
check '[ ! -e "$MEM/$SCRATCH/g" ]' "gc removes it once empty: $(cat "$T/gc.txt")"
check '[ -d "$MEM/$SCRATCH/notours" ]' "gc never touches a cgroup it did not create"
check 'grep -q "^partial cg" "$T/gc.txt" && [ "$(records)" = 1 ]' \
  "the parent holding notours stays in the record for a later gc: $(cat "$T/gc.txt"; records)"
rmdir "$MEM/$SCRATCH/notours"
# A directory removed and made again by someone else (other inode).
bundle "$T/bi" "/$SCRATCH/i"
"${W[@]}" create --bundle "$T/bi" ci
rm -rf "$R/ci"; rmdir "$MEM/$SCRATCH/i"; mkdir "$MEM/$SCRATCH/i"
"${GC[@]}" >/dev/null
check '[ -d "$MEM/$SCRATCH/i" ]' "gc leaves a directory whose inode is not the recorded one"
rmdir "$MEM/$SCRATCH/i"
"${GC[@]}" >/dev/null
check '[ ! -e "$MEM/$SCRATCH" ] && [ "$(records)" = 0 ]' "gc cleans the rest"

# Records are written without fsync: they describe cgroups, which no
# reboot keeps (docs/process-model.md). configure's engine configuration
# persists, and is still fsynced.
if command -v strace >/dev/null; then
  bundle "$T/bf" "/$SCRATCH/f"
  strace -f -qq -e trace=fsync,fdatasync,syncfs,sync_file_range \
    -o "$T/sync.trace" "${W[@]}" create --bundle "$T/bf" cf
  check '[ $? = 0 ] && [ -n "$(find "$T/state" -name cf.json)" ]' "create under strace"
  check '! grep -qE "(fsync|fdatasync|syncfs|sync_file_range)\(" "$T/sync.trace"' \
    "the record is written without fsync: $(cat "$T/sync.trace")"
  "${W[@]}" delete cf
  strace -f -qq -e trace=fsync -o "$T/csync.trace" "$CLI" configure \
    --runtime docker --runtime-path "$WRAPPER" --config-file "$T/daemon.json" \
    --state-dir "$T/cstate" >/dev/null
  check 'grep -q "fsync(" "$T/csync.trace"' "configure fsyncs what it writes: $(cat "$T/csync.trace")"
fi

# After a power loss a record on a disk state directory may be empty or
# torn. One written before this boot describes cgroups that are gone: gc
# drops it and touches no directory (one at that path now is someone
# else's, whatever its inode), and a create of that id claims it again.
# An unreadable record of this boot stays an error, never guessed at.
btime=$(awk '$1 == "btime" {print $2}' /proc/stat)
bundle "$T/bo" "/$SCRATCH/o"
"${W[@]}" create --bundle "$T/bo" co
rdir=$(dirname "$(find "$T/state" -name co.json)")
rm -rf "$R/co"   # the runtime forgot it (its state died with the boot)
touch -d "@$((btime - 60))" "$rdir/co.json"
: >"$rdir/torn.json"
touch -d "@$((btime - 60))" "$rdir/torn.json"
"${GC[@]}" --format json >"$T/gcb.json"; rc=$?
check '[ $rc = 0 ] && [ ! -e "$rdir/torn.json" ] && [ ! -e "$rdir/co.json" ]' \
  "gc drops records from before this boot, torn or not: $(cat "$T/gcb.json")"
check '[ -d "$MEM/$SCRATCH/o" ]' "gc touches no directory of a record from before this boot"
rmdir "$MEM/$SCRATCH/o" "$MEM/$SCRATCH"
: >"$rdir/fresh.json"
"${GC[@]}" --format json >"$T/gcf.json"; rc=$?
check '[ $rc = 1 ] && [ -e "$rdir/fresh.json" ] && grep -q "\"error\"" "$T/gcf.json"' \
  "an unreadable record of this boot is an error and stays: $(cat "$T/gcf.json")"
rm -f "$rdir/fresh.json"
: >"$rdir/ct.json"
touch -d "@$((btime - 60))" "$rdir/ct.json"
bundle "$T/bt" "/$SCRATCH/t"
"${W[@]}" create --bundle "$T/bt" ct
check '[ $? = 0 ] && [ -d "$MEM/$SCRATCH/t" ] && grep -q "\"confirmed\": true" "$rdir/ct.json"' \
  "create claims an id whose record is torn and from before this boot"
"${W[@]}" delete ct
check '[ ! -e "$MEM/$SCRATCH" ] && [ "$(records)" = 0 ]' "nothing left after the power-loss cases"

# A --root that is not UTF-8 (runc takes any bytes): no record can name
# it in JSON, so no cgroup of ours and, fail-open, the container starts;
# the JSON log line says why with U+FFFD, as logrus does. The wrapper
# aborted in nlohmann's dump() before.
bundle "$T/bu" "/$SCRATCH/u"
"$WRAPPER" --root "$T/root"$'\xff' --log "$T/u.log" --log-format json \
  create --bundle "$T/bu" cu 2>"$T/u.err"; rc=$?
check '[ $rc = 0 ] && grep -q "^create cu" "$STUB_LOG" && [ ! -e "$MEM/$SCRATCH/u" ] && [ "$(records)" = 0 ]' \
  "non-UTF-8 root: fail-open start without a cgroup of ours (rc $rc): $(cat "$T/u.err")"
check 'python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]; assert \"not UTF-8\" in open(sys.argv[1]).read()" "$T/u.log"' \
  "non-UTF-8 root: the log is JSON: $(cat "$T/u.log" 2>&1)"
"$WRAPPER" --root "$T/root"$'\xff' delete cu >/dev/null 2>&1
# Any message may carry such bytes (here a bundle path that is missing).
"${W[@]}" --log "$T/u2.log" --log-format json create --bundle "$T/nobundle"$'\xff' cu2 2>/dev/null
check '[ $? = 0 ] && python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/u2.log"' \
  "a message with invalid UTF-8 is logged as JSON: $(cat "$T/u2.log" 2>&1)"
"${W[@]}" delete cu2 >/dev/null 2>&1

# --version: ours, then the real runtime's.
check '[ "$("${W[@]}" --version | head -1)" = "kmemguard-runtime version '"$(sed -n 's/^project(kmemguard VERSION \([0-9.]*\).*/\1/p' "$HERE/../../CMakeLists.txt")"'" ]' "--version: our line first"
check '"${W[@]}" --version | sed -n 2p | grep -q "^stub-runtime version 1"' "--version: then the runtime's"

echo "wrapper e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

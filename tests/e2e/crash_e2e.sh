#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Crash tests: SIGKILL the wrapper, and separately the runtime, at each step
# of create and delete, then run `kmemguard gc`: nothing of ours is left
# (no cgroup, no record, no process) and nothing else is touched (a cgroup
# the test made itself, next to ours, survives every gc). The wrapper is
# held by strace on entry to a chosen system call (delay injection: the
# call is not made yet) and SIGKILLed there; the runtime (stub-runtime.sh)
# kills itself before or after its own state change.
#   crash_e2e.sh RUNTIME KMEMGUARD
# Exits 77 without root, a v1 memory hierarchy, strace, ip(8) or cc.
set -u
WRAPPER=$(readlink -f "$1")
CLI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=crash-e2e NEEDS="ip strace cc"
. "$HERE/wrapper_lib.sh"

printf 'runtime = "%s"\nstate-dir = "%s/state"\n' "$STUB" "$T" >"$T/config.toml"
export KMEMGUARD_CONFIG="$T/config.toml"
R=$T/root
W=("$WRAPPER" --root "$R")
# Not ours: made by the test under the same parent; gc must never touch it.
mkdir -p "$MEM/$SCRATCH/bystander"
sentinel_ino=$(stat -c %i "$MEM/$SCRATCH/bystander")

# This machine's number of a system call, as /proc/PID/syscall shows it.
sysnr() { printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cc -E -P - | tail -n 1; }
# kill_wrapper_at SYSCALL[:when=N] VERB ARGS...: strace holds the wrapper
# on entry to that system call (before it is made) for 5 s; once it is seen
# held there, SIGKILL it. Returns strace's status: 137 when the wrapper died
# of SIGKILL, the wrapper's own when it was never seen held. (strace itself
# sits out the delay before it notices the death: keep the delay short.)
kill_wrapper_at() {
  local spec=$1 sys=${1%%:*} nr wp="" p i held=0
  shift
  nr=$(sysnr "$sys")
  strace -qq -o /dev/null -e trace="$sys" \
    -e "inject=$sys:delay_enter=5000000${spec#"$sys"}" "${W[@]}" "$@" >/dev/null 2>&1 &
  local sp=$!
  # The tracee is strace's child running the wrapper binary. Not any child:
  # strace first forks short-lived probes of its own (ptrace feature
  # checks); killing one of those once left the wrapper running (a flake,
  # "delete, wrapper killed at unlinkat: exit 0", seen under load).
  for i in $(seq 500); do
    for p in $(pgrep -P "$sp"); do
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$WRAPPER" ] && wp=$p
    done
    [ -n "$wp" ] && break
    sleep 0.01
  done
  # Held: in tracing stop on that call (/proc/PID/syscall, field 1) at six
  # polls in a row. A call strace lets through (when=N) stops for
  # microseconds; no fixed sleep, which under load could let the kill land
  # on an earlier step (the delete's runtime can take over a second).
  for i in $(seq 100); do
    [ -n "$wp" ] && [ -d "/proc/$wp" ] || break
    if [ "$(cut -d' ' -f1 "/proc/$wp/syscall" 2>/dev/null)" = "$nr" ] &&
       grep -q '^State:.*tracing stop' "/proc/$wp/status" 2>/dev/null; then
      held=$((held + 1))
      [ "$held" -ge 6 ] && { kill -KILL "$wp"; break; }
    else
      held=0
    fi
    sleep 0.05
  done
  wait "$sp"
}
# After a crash: the runtime forgets a container it may have made (as an
# operator's `runc delete` would), then gc; nothing of ours may be left.
settle() { # settle NAME ID
  [ -d "$R/$2" ] && "$STUB" --root "$R" delete "$2"
  "$CLI" gc --state-dir "$T/state" >"$T/gc.$1" 2>&1
  check '[ "$(records)" = 0 ]' "$1: no record left: $(cat "$T/gc.$1"; find "$T/state" -name '*.json' -exec cat {} +)"
  check '[ "$(find "$MEM/$SCRATCH" -mindepth 1 -type d | grep -v /bystander)" = "" ]' \
    "$1: no cgroup of ours left: $(find "$MEM/$SCRATCH" -mindepth 1 -type d)"
  check '[ -z "$(ours)" ]' "$1: no process of ours left"
  check '[ "$(stat -c %i "$MEM/$SCRATCH/bystander")" = "$sentinel_ino" ]' "$1: bystander untouched"
}

n=0
# --- create: the wrapper killed at each step (see the system calls with
#     strace -f KMEMGUARD-RUNTIME create ...): link puts the written record
#     in place (the claim), the mkdirats make the parents and the cgroup,
#     the second write is the memory limit, pwrite64 confirms the record
#     in place, execve is the runtime's (strace does not count the
#     wrapper's own).
for spec in "link" "mkdirat:when=1" "mkdirat:when=2" "write:when=2" "pwrite64" "execve"; do
  n=$((n + 1))
  bundle "$T/b$n" "/$SCRATCH/w$n/c"
  kill_wrapper_at "$spec" create --bundle "$T/b$n" w$n
  rc=$?
  left=$(find "$T/state" -type f -name "w$n.json*" | wc -l)
  check '[ $rc = 137 ] && [ "$left" -ge 1 ]' "create, wrapper killed at $spec: exit $rc, $left files left for gc"
  settle "create, wrapper killed at $spec" w$n
  check '[ -z "$(find "$T/state" -type f -name "w$n.json*")" ]' "create, $spec: no temporary file left"
done
# --- create: the runtime killed before and after making the container.
for at in before after; do
  n=$((n + 1))
  bundle "$T/b$n" "/$SCRATCH/r$n/c"
  STUB_KILL_AT=create:$at "${W[@]}" create --bundle "$T/b$n" r$n >/dev/null 2>&1
  check '[ $? = 137 ]' "runtime killed at create:$at (exit 137)"
  settle "create, runtime killed $at" r$n
done
# --- delete: the wrapper killed at each step (before the fork, while
#     waiting, at the cleanup's rmdir), and the runtime before and after.
#     write:when=1 is memory.force_empty before the runtime; clone is the
#     fork; wait4 is while the runtime runs (it finishes on its own);
#     unlinkat is the cleanup's first rmdir, unlink the record's removal.
for spec in "write:when=1" "clone" "wait4" "unlinkat" "unlink"; do
  n=$((n + 1))
  bundle "$T/b$n" "/$SCRATCH/d$n/c"
  "${W[@]}" create --bundle "$T/b$n" d$n
  kill_wrapper_at "$spec" delete d$n
  rc=$?
  check '[ $rc = 137 ]' "delete, wrapper killed at $spec: exit $rc"
  settle "delete, wrapper killed at $spec" d$n
done
for at in before after; do
  n=$((n + 1))
  bundle "$T/b$n" "/$SCRATCH/e$n/c"
  "${W[@]}" create --bundle "$T/b$n" e$n
  STUB_KILL_AT=delete:$at "${W[@]}" delete e$n >/dev/null 2>&1
  check '[ $? = 137 ]' "delete passes the runtime's death on (exit 137)"
  settle "delete, runtime killed $at" e$n
done

echo "crash e2e: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

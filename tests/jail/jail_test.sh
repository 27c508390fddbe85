#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Our programs as on Linux 3.10 (RHEL/CentOS 7): under kmemguard-jail310,
# every system call added after 3.10 fails with ENOSYS.
#   jail_test.sh JAIL probe               the jail's self-test
#   jail_test.sh JAIL run SCRIPT ARGS...  a test script, jailed whole (its
#                                         exit status, 77 included, is ours)
#   jail_test.sh JAIL fallbacks KMEMGUARD apply/set/stats/remove on the real
#                                         hierarchy under strace: each
#                                         fallback must really run
# The host looks like a node: under ctest the live ones run with the `netns`
# fixture's named network namespace present (tests/testing/netns_check.sh).
set -uo pipefail
JAIL=$1
MODE=$2
shift 2
MEM=/sys/fs/cgroup/memory
SCRATCH=""
T=$(mktemp -d)
cleanup() {
  if [ -n "$SCRATCH" ]; then
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
      [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $MODE in
probe)
  "$JAIL" --list >"$T/list" || exit 1
  # The table must name at least the calls the issue lists.
  for c in seccomp getrandom memfd_create renameat2 execveat bpf userfaultfd \
           membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_alloc statx \
           rseq io_uring_setup pidfd_send_signal pidfd_open clone3 openat2 \
           pidfd_getfd faccessat2 close_range epoll_pwait2 \
           landlock_create_ruleset memfd_secret futex_waitv cachestat \
           map_shadow_stack futex_wake statmount listmount lsm_get_self_attr \
           mseal setxattrat uretprobe; do
    grep -q "^$c " "$T/list" || { echo "FAIL: the jail does not name $c"; exit 1; }
  done
  "$JAIL" --probe
  exit $?
  ;;
run)
  "$JAIL" -- "$@"
  exit $?
  ;;
fallbacks) ;;
*) echo "usage: jail_test.sh JAIL probe|run|fallbacks ..." >&2; exit 2 ;;
esac

KMG=$1
if [ "$(id -u)" != 0 ] || [ "$(stat -f -c %T $MEM 2>/dev/null)" != cgroupfs ] ||
   ! command -v strace >/dev/null; then
  echo "jail fallbacks skipped: need root, cgroup v1 memory and strace"
  exit 77
fi
. "$(dirname "$0")/../testing/netns_check.sh"; require_test_netns
SCRATCH=kmemguard-jail-$$-$RANDOM
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

# jailed NAME ARGS...: runs KMEMGUARD ARGS in the jail under strace; the
# trace of the kmemguard process (from its execve on) goes to $T/NAME.
jailed() {
  local name=$1
  shift
  strace -f -qq -o "$T/$name.raw" "$JAIL" -- "$KMG" "$@" >"$T/$name.out" 2>"$T/$name.err"
  local rc=$?
  # Only the lines after the jail exec'd kmemguard: the jail itself loads
  # its filter with seccomp(2) before that.
  awk -v exe="execve(\"$KMG\"" 'index($0, exe) { on = 1 } on' "$T/$name.raw" >"$T/$name"
  return $rc
}
has() { grep -Eq "$2" "$T/$1"; }

check_fallbacks() {
  local name=$1 leaf=$2
  # openat2 (5.6) -> the O_NOFOLLOW walk, one component at a time
  # (lib/core/cgroupfs.cc).
  if has "$name" 'openat2\(.*= -1 ENOSYS' &&
     ! has "$name" 'openat2\(.*= [0-9]' &&
     has "$name" "openat\\([0-9]+, \"$leaf\", [^)]*O_NOFOLLOW[^)]*\\) = [0-9]"; then ok
  else bad "$name: no openat2 -> O_NOFOLLOW walk fallback in the trace"; fi
  # seccomp(2) (3.17) -> prctl(PR_SET_SECCOMP) for our own filter
  # (shim/common/seccomp_filter.cc through libseccomp, which probes seccomp(2)
  # and, on ENOSYS, loads with prctl).
  if has "$name" 'prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER.*= 0' &&
     ! has "$name" 'seccomp\(SECCOMP_SET_MODE_FILTER.*= 0'; then ok
  else bad "$name: our filter was not installed with prctl(PR_SET_SECCOMP)"; fi
  # Static glibc 2.36 registers rseq (4.18) at start; ENOSYS is tolerated.
  if has "$name" 'rseq\(.*= -1 ENOSYS'; then ok
  else bad "$name: glibc did not try rseq (is the binary the static one?)"; fi
}

P=/$SCRATCH/ctr
if jailed apply apply --cgroups-path "$P" --memory 64m; then ok
else bad "apply failed in the jail: $(cat "$T/apply.err")"; fi
[ "$(cat $MEM$P/memory.limit_in_bytes 2>/dev/null)" = 67108864 ] && ok ||
  bad "apply: memory.limit_in_bytes is $(cat $MEM$P/memory.limit_in_bytes 2>&1)"
check_fallbacks apply ctr

if jailed set set --cgroups-path "$P" --memory 32m; then ok
else bad "set failed in the jail: $(cat "$T/set.err")"; fi
[ "$(cat $MEM$P/memory.limit_in_bytes 2>/dev/null)" = 33554432 ] && ok ||
  bad "set: memory.limit_in_bytes is $(cat $MEM$P/memory.limit_in_bytes 2>&1)"
check_fallbacks set ctr

if jailed stats stats --cgroups-path "$P" --format json &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["usage"]["limit"] == 33554432, d' "$T/stats.out"; then ok
else bad "stats in the jail: $(cat "$T/stats.err" "$T/stats.out")"; fi
check_fallbacks stats ctr

if jailed remove remove --cgroups-path "/$SCRATCH" --force-empty && [ ! -d "$MEM/$SCRATCH" ]; then ok
else bad "remove in the jail: $(cat "$T/remove.err")"; fi
check_fallbacks remove ctr

echo "jail fallbacks: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

# SPDX-License-Identifier: Apache-2.0
#
# Shared by wrapper_e2e.sh and crash_e2e.sh (sourced, after WRAPPER, NAME
# and NEEDS are set): checks, the skip rule, a scratch cgroup parent and a
# named network namespace removed at exit, bundles and probes.
MEM=/sys/fs/cgroup/memory
STUB=$HERE/stub-runtime.sh
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

for tool in $NEEDS; do
  command -v "$tool" >/dev/null || { echo "$NAME skipped: needs $tool"; exit 77; }
done
if [ "$(id -u)" != 0 ] || [ "$(stat -f -c %T $MEM 2>/dev/null)" != cgroupfs ]; then
  echo "$NAME skipped: needs root and a cgroup v1 memory hierarchy"
  exit 77
fi

T=$(mktemp -d "/tmp/kmemguard-$NAME.XXXXXX")
SCRATCH=kmemguard-$NAME-$$-$RANDOM
NETNS=kmemguard-i12-$NAME-$$
cleanup() {
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
    [ -d "$h$SCRATCH" ] && find "$h$SCRATCH" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  ip netns delete "$NETNS" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A node has named network namespaces (their nsfs lines in mountinfo).
ip netns add "$NETNS" || { echo "cannot add netns $NETNS"; exit 1; }

bundle() { # bundle DIR CGROUPS_PATH: a config.json with a memory limit
  mkdir -p "$1"
  printf '{"ociVersion": "1.0.2", "linux": {"cgroupsPath": "%s", "resources": {"memory": {"limit": 67108864}}}}\n' \
    "$2" >"$1/config.json"
}
# Processes running the wrapper binary (the runtime replaces it by execve).
ours() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$WRAPPER" ] && echo "${p#/proc/}"
  done
}
records() { find "$T/state" -name '*.json' 2>/dev/null | wc -l; }

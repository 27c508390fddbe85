#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Test double for an affected runc (v1.0.0-rc3 .. rc93, as vendored by
# Kubernetes 1.8-1.13): before running the real runc it does what runc@4d6e672
# MemoryGroup.Apply does to the memory hierarchy (fs/memory.go, PR #1350):
# if the container's memory cgroup does not exist and the config has a
# memory setting, mkdir it and enable kmem accounting (write 1, then -1, to
# memory.kmem.limit_in_bytes). Each enabling is appended to $LEGACY_TRACE.
# Absolute cgroupsPath values only (what the tests use).
set -u
REAL=${LEGACY_REAL_RUNC:-/usr/sbin/runc}
args=("$@")
cmd="" bundle="$PWD" id=""
i=0
while [ $i -lt ${#args[@]} ]; do
  a=${args[$i]}
  case "$a" in
    --root|--log|--log-format|--rootless|--criu) i=$((i + 1)) ;;
    --*=*|-*) ;;
    *) cmd=$a; break ;;
  esac
  i=$((i + 1))
done
if [ "$cmd" = create ] || [ "$cmd" = run ]; then
  i=$((i + 1))
  while [ $i -lt ${#args[@]} ]; do
    a=${args[$i]}
    case "$a" in
      --bundle|-b) i=$((i + 1)); bundle=${args[$i]} ;;
      --bundle=*|-b=*) bundle=${a#*=} ;;
      --console-socket|--pid-file|--preserve-fds|--pidfd-socket) i=$((i + 1)) ;;
      -*) ;;
      *) id=$a ;;
    esac
    i=$((i + 1))
  done
  read -r cgpath has_memory < <(python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
lin = c.get("linux", {})
m = (lin.get("resources") or {}).get("memory") or {}
assigned = any(m.get(k) not in (None, 0) for k in ("limit", "reservation")) or \
    any((m.get(k) or 0) > 0 for k in ("swap", "kernel", "kernelTCP"))
print(lin.get("cgroupsPath", ""), "1" if assigned else "0")
PY
)
  dir="/sys/fs/cgroup/memory$cgpath"
  if [ "$has_memory" = 1 ] && [ -n "$cgpath" ] && [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    if [ -e "$dir/memory.kmem.limit_in_bytes" ]; then
      printf 1 >"$dir/memory.kmem.limit_in_bytes"
      printf -- -1 >"$dir/memory.kmem.limit_in_bytes"
      echo "ENABLED_KMEM $cgpath" >>"${LEGACY_TRACE:-/dev/null}"
    fi
  fi
fi
exec "$REAL" "$@"

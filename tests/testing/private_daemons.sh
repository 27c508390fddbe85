# SPDX-License-Identifier: Apache-2.0
#
# Daemons of the test's own, sourced by tests/deploy/image_build.sh,
# tests/e2e/docker_e2e.sh and tests/e2e/containerd_e2e.sh.
#
# dockerd: own data root, exec root, pidfile and unix
# socket under DIR; no iptables, bridge, forwarding or masquerading; vfs
# storage (nothing to unmount but what dockerd mounts itself); the cgroupfs
# driver. See docs runtime-integration.md section 12.
#
#   private_dockerd_start DIR [DOCKERD_ARGS...]
#       starts it (log in DIR/dockerd.log), waits at most 30 s for the API;
#       sets DOCKERD_PID and exports DOCKER_HOST. Returns 1 if it does not
#       come up (the caller decides between FAIL and SKIP).
#   private_dockerd_stop DIR
#       SIGTERM, at most 15 s, then SIGKILL; kills dockerd's own containerd
#       and the shims left under DIR; unmounts everything under DIR, removes
#       DIR and the empty /run/containerd the shim creates. Safe to call twice
#       and when nothing was started. Call it from the caller's EXIT trap.
# The caller removes its --cgroup-parent from every hierarchy.
DOCKERD_PID=""
_PRIVATE_DOCKERD_RUN_CONTAINERD_EXISTED=0
[ -e /run/containerd ] && _PRIVATE_DOCKERD_RUN_CONTAINERD_EXISTED=1
# Debian's client: a newer docker CLI may come earlier on PATH.
DOCKER=/usr/bin/docker

private_dockerd_start() {
  local dir=$1
  shift
  mkdir -p "$dir/data" "$dir/exec"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    -H "unix://$dir/docker.sock" --iptables=false --ip-forward=false --ip-masq=false \
    --bridge=none --storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs \
    "$@" >"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST=unix://$dir/docker.sock
  _private_daemon_wait_up "$DOCKERD_PID" $DOCKER version
}

# _private_daemon_wait_up PID CMD...: CMD succeeds within 30 s while PID lives.
_private_daemon_wait_up() {
  local pid=$1 _
  shift
  for _ in $(seq 1 60); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

# Pids of processes whose executable or command line names a path under DIR
# (the shims dockerd's containerd starts: their -address and -bundle).
_private_dockerd_procs_under() {
  private_dockerd_procs_naming "$1/"
}

# Pids of processes whose command line holds TEXT (read in this shell, so
# the scan never finds itself).
private_dockerd_procs_naming() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ "$cmd" == *"$1"* ]] && [ "${p#/proc/}" != $$ ] && echo "${p#/proc/}"
  done
}

private_dockerd_stop() {
  local dir=$1 _ pidfile p
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=""
  fi
  # dockerd's own containerd, should it have outlived dockerd, and its shims.
  for pidfile in "$dir"/exec/containerd/containerd.pid "$dir"/containerd.pid; do
    [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
  done
  for p in $(_private_dockerd_procs_under "$dir"); do
    kill -9 "$p" 2>/dev/null
  done
  grep -o " $dir[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$dir"
  # Whatever their root, the shim makes /run/containerd/s for its sockets,
  # ctr /run/containerd/fifo for stdio, and the shim runs runc with --root
  # /run/containerd/runc/<namespace>: remove them (empty) if we made them.
  [ $_PRIVATE_DOCKERD_RUN_CONTAINERD_EXISTED = 0 ] &&
    rmdir /run/containerd/runc/* /run/containerd/runc /run/containerd/fifo \
      /run/containerd/s /run/containerd 2>/dev/null
  return 0
}

# containerd: own root, state, grpc/ttrpc/debug sockets and config.toml
# under DIR; the CRI plugin off (ctr does not use it), no metrics listener.
#   private_containerd_start DIR
#       starts it (log in DIR/containerd.log), waits at most 30 s for
#       `ctr version`; sets CONTAINERD_PID and CTR (the ctr command line with
#       its socket and the "kmemguard-test" namespace). Returns 1 if it does
#       not come up.
#   private_containerd_stop DIR
#       as private_dockerd_stop: the daemon, then its shims, mounts, DIR.
CONTAINERD_PID=""
private_containerd_start() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
[metrics]
  address = ""
TOML
  containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  CTR="ctr -a $dir/containerd.sock -n kmemguard-test"
  _private_daemon_wait_up "$CONTAINERD_PID" $CTR version
}

private_containerd_stop() {
  local dir=$1
  # The same teardown: SIGTERM then SIGKILL by pid, shims, mounts, DIR.
  DOCKERD_PID=$CONTAINERD_PID private_dockerd_stop "$dir"
  CONTAINERD_PID=""
}

# An strace the test attached to a daemon tree (its pid in STRACE_PID, set
# by the caller with `strace ... & STRACE_PID=$!`): stopped, then reaped.
STRACE_PID=""
stop_strace() {
  [ -n "$STRACE_PID" ] || return 0
  kill "$STRACE_PID" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 "$STRACE_PID" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$STRACE_PID" 2>/dev/null
  wait "$STRACE_PID" 2>/dev/null
  STRACE_PID=""
}

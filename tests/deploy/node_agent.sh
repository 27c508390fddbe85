#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `kmemguard node-agent` as the DaemonSet runs it, on a scratch "node root"
# (--host-root) with doctor reading a recorded host (--proc/--sys):
#   - docker detected by its socket; the binaries installed (mode 0755, byte
#     for byte), daemon.json configured, the metrics file written
#     (promtool-clean when promtool is there);
#   - doctor reads the node's unguarded-starts counter (its state-dir);
#   - a second run changes nothing (same inodes, same bytes);
#   - the loop rewrites the metrics every --period and exits 0 on SIGTERM;
#   - the runtimes doctor probes start with no signal blocked by the agent;
#   - --remove restores daemon.json byte for byte and removes the metrics;
#   - a daemon.json that is an absolute link is followed under --host-root;
#   - containerd detected by its socket; a node with no engine socket fails
#     with a message, having installed nothing.
#
# usage: node_agent.sh KMEMGUARD_BINARY SOURCE_DIR
set -u
KMG=$1
SRC=$2
FIX=$SRC/tests/doctor/fixtures/el7-cliff
T=$(mktemp -d)
AGENT=""
cleanup() {
  [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }

sock() {  # PATH: a listening unix socket's file (the socket need not stay open)
  mkdir -p "$(dirname "$1")"
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$1"
}

# The image's /kmemguard/bin.
mkdir -p "$T/image"
for b in kmemguard kmemguard-runtime kmemguard-hook; do
  printf '#!/bin/sh\necho %s\n' "$b" >"$T/image/$b"
done
cp "$KMG" "$T/image/kmemguard"

H=$T/node
mkdir -p "$H/etc/docker" "$H/usr/local/bin" "$H/var/lib"
chmod 755 "$H/var/lib"
sock "$H/run/docker.sock"
printf '{"log-driver":"journald"}' >"$H/etc/docker/daemon.json"
cp "$H/etc/docker/daemon.json" "$T/daemon.json.orig"
agent() {
  "$KMG" node-agent --host-root "$H" --bin-dir "$T/image" --proc "$FIX/proc" \
    --sys "$FIX/sys" --runtime-path "$FIX/bin" "$@"
}

agent --once >"$T/out" 2>"$T/err" || bad "first run: $(cat "$T/err")"
grep -q "engine: docker (detected)" "$T/out" || bad "docker not detected: $(cat "$T/out")"
for b in kmemguard kmemguard-runtime kmemguard-hook; do
  cmp -s "$T/image/$b" "$H/usr/local/bin/$b" || bad "$b not installed"
  [ "$(stat -c %a "$H/usr/local/bin/$b")" = 755 ] || bad "$b mode $(stat -c %a "$H/usr/local/bin/$b")"
done
python3 - "$H/etc/docker/daemon.json" <<'PY' || bad "daemon.json: $(cat "$H/etc/docker/daemon.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["log-driver"] == "journald"
assert d["runtimes"]["kmemguard"]["path"] == "/usr/local/bin/kmemguard-runtime", d
PY
PROM=$H/var/lib/prometheus/node-exporter/kmemguard.prom
grep -q '^kmemguard_doctor_verdict 2$' "$PROM" || bad "metrics: $(head -5 "$PROM")"
grep -q '^kmemguard_memcg_ids_in_use 60000$' "$PROM" || bad "metrics: in_use"
[ "$(stat -c %a "$PROM")" = 644 ] || bad "metrics mode $(stat -c %a "$PROM") (node-exporter runs as its own user)"
# The textfile directory did not exist: created searchable for node-exporter.
for d in var/lib/prometheus var/lib/prometheus/node-exporter; do
  [ "$(stat -c %a "$H/$d")" = 755 ] || bad "$d created with mode $(stat -c %a "$H/$d") (node-exporter cannot read it)"
done
if command -v promtool >/dev/null; then
  promtool check metrics <"$PROM" || bad "promtool check metrics"
fi

# Doctor reads the node's unguarded-starts counter, under --host-root (the
# state-dir of the node's config.toml), not the pod's own /run.
grep -q '^kmemguard_unguarded_starts_total 0$' "$PROM" ||
  bad "unguarded counter of an empty node: $(grep unguarded "$PROM")"
mkdir -p "$H/etc/kmemguard" "$H/var/run-kmg"
printf 'state-dir = "/var/run-kmg"\n' >"$H/etc/kmemguard/config.toml"
printf '%-255s\n' "1700000000 ctr-1 could not create the memory cgroup" >"$H/var/run-kmg/unguarded-starts"
agent --once >"$T/out" 2>"$T/err" || bad "unguarded run: $(cat "$T/err")"
grep -q '^kmemguard_unguarded_starts_total 1$' "$PROM" ||
  bad "the node's unguarded counter not read: $(grep unguarded "$PROM")"
grep -q '^kmemguard_unguarded_last_start_timestamp_seconds 1700000000$' "$PROM" ||
  bad "the node's last unguarded start: $(grep unguarded "$PROM")"
rm -r "$H/etc/kmemguard" "$H/var/run-kmg"
agent --once >"$T/out" 2>"$T/err" || bad "run after the unguarded one: $(cat "$T/err")"

# Twice = once.
stat -c '%i %Y' "$H"/usr/local/bin/* >"$T/inodes1"
cp "$H/etc/docker/daemon.json" "$T/daemon.json.1"
agent --once >"$T/out" 2>"$T/err" || bad "second run: $(cat "$T/err")"
stat -c '%i %Y' "$H"/usr/local/bin/* >"$T/inodes2"
cmp -s "$T/inodes1" "$T/inodes2" || bad "second run reinstalled the binaries"
cmp -s "$T/daemon.json.1" "$H/etc/docker/daemon.json" || bad "second run changed daemon.json"
grep -q "up to date: $H/usr/local/bin/kmemguard-runtime" "$T/out" || bad "second run: $(cat "$T/out")"

# The loop: rewrites every period, stops on SIGTERM with exit 0.
"$KMG" node-agent --host-root "$H" --bin-dir "$T/image" --proc "$FIX/proc" \
  --sys "$FIX/sys" --runtime-path "$FIX/bin" --period 200ms >"$T/loop.out" 2>&1 &
AGENT=$!
t0=$(grep '^kmemguard_doctor_last_run_timestamp_seconds ' "$PROM" | cut -d' ' -f2)
rewritten=0
for _ in $(seq 1 50); do
  sleep 0.2
  t=$(grep '^kmemguard_doctor_last_run_timestamp_seconds ' "$PROM" | cut -d' ' -f2)
  if [ -n "$t" ] && [ "$t" != "$t0" ]; then rewritten=$((rewritten + 1)); t0=$t; fi
  [ $rewritten -ge 2 ] && break
done
[ $rewritten -ge 2 ] || bad "the loop did not rewrite the metrics every period"
kill -TERM $AGENT
rc=""
for _ in $(seq 1 25); do kill -0 $AGENT 2>/dev/null || break; sleep 0.2; done
if kill -0 $AGENT 2>/dev/null; then bad "node-agent ignored SIGTERM"; else
  wait $AGENT; rc=$?; [ "$rc" = 0 ] || bad "exit $rc on SIGTERM"; fi
AGENT=""
ls "$H/var/lib/prometheus/node-exporter" | grep -v '^kmemguard.prom$' && bad "temporary files left"

# The runtimes doctor probes (`runc --version`) start with no signal of the
# agent's blocked: a blocked SIGTERM is inherited across execve and would
# leave them deaf to the kubelet's SIGTERM. A fake runc on the search path
# records its own SigBlk, for --once and in the loop.
mkdir -p "$T/sigbin"
cat >"$T/sigbin/runc" <<SH
#!/bin/sh
grep '^SigBlk:' /proc/self/status | tr -d ' \t' | cut -d: -f2 >>"$T/sigblk"
echo "runc version 1.0.0-rc93"
SH
chmod +x "$T/sigbin/runc"
# What a child of ours inherits anyway, less SIGINT (bit 1) and SIGTERM
# (bit 14), which the agent unblocks for itself.
base=$(grep '^SigBlk:' /proc/self/status | tr -d ' \t' | cut -d: -f2)
want=$(printf '%016x' $((16#$base & ~0x4002)))
sigcheck() {  # WHAT
  [ -s "$T/sigblk" ] || { bad "$1: the fake runc was not run"; return; }
  while read -r m; do
    [ "$m" = "$want" ] || bad "$1: a runtime probe started with SigBlk $m (want $want)"
  done <"$T/sigblk"
  rm -f "$T/sigblk"
}
agent_sig() {
  "$KMG" node-agent --host-root "$H" --bin-dir "$T/image" --proc "$FIX/proc" \
    --sys "$FIX/sys" --runtime-path "$T/sigbin" "$@"
}
agent_sig --once >"$T/out" 2>"$T/err" || bad "--once with the fake runc: $(cat "$T/err")"
sigcheck "--once"
# Not through the function: $! must be the agent, not a subshell.
"$KMG" node-agent --host-root "$H" --bin-dir "$T/image" --proc "$FIX/proc" \
  --sys "$FIX/sys" --runtime-path "$T/sigbin" --period 100ms >"$T/loop.out" 2>&1 &
AGENT=$!
for _ in $(seq 1 50); do
  [ "$(cat "$T/sigblk" 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.1
done
kill -TERM $AGENT
for _ in $(seq 1 25); do kill -0 $AGENT 2>/dev/null || break; sleep 0.2; done
if kill -0 $AGENT 2>/dev/null; then bad "node-agent ignored SIGTERM (fake runc)"; else
  wait $AGENT; rc=$?; [ "$rc" = 0 ] || bad "exit $rc on SIGTERM (fake runc)"; fi
AGENT=""
sigcheck "the loop"

# Rollback.
agent --remove --once >"$T/out" 2>"$T/err" || bad "--remove: $(cat "$T/err")"
cmp -s "$T/daemon.json.orig" "$H/etc/docker/daemon.json" || bad "--remove: daemon.json not restored: $(cat "$H/etc/docker/daemon.json")"
[ -e "$PROM" ] && bad "--remove left the metrics file"
[ -x "$H/usr/local/bin/kmemguard-runtime" ] || bad "--remove removed the wrapper (running containers need it)"

# containerd node.
H=$T/node-containerd
mkdir -p "$H/etc/containerd"
sock "$H/run/containerd/containerd.sock"
printf 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n' >"$H/etc/containerd/config.toml"
agent --once >"$T/out" 2>"$T/err" || bad "containerd: $(cat "$T/err")"
grep -q 'BinaryName = "/usr/local/bin/kmemguard-runtime"' "$H/etc/containerd/conf.d/99-kmemguard.toml" ||
  bad "containerd drop-in"
grep -q "does not import" "$T/err" && bad "containerd: import warning with the import present"
agent --remove --once >"$T/out" 2>"$T/err" || bad "containerd --remove: $(cat "$T/err")"
[ -e "$H/etc/containerd/conf.d/99-kmemguard.toml" ] && bad "containerd --remove left the drop-in"
# The import warning reads the TOML: an imports line commented out, or
# inside a table, imports nothing; a multi-line array does.
imports_case() {  # EXPECT(warn|quiet) CONFIG_TEXT
  printf '%b' "$2" >"$H/etc/containerd/config.toml"
  agent --once >"$T/out" 2>"$T/err" || bad "containerd ($2): $(cat "$T/err")"
  if grep -q "does not import" "$T/err"; then got=warn; else got=quiet; fi
  [ $got = "$1" ] || bad "containerd config.toml '$2': import warning $got, want $1"
}
imports_case warn 'version = 2\n# imports = ["/etc/containerd/conf.d/*.toml"]\n'
imports_case warn 'version = 2\n[plugins]\n  imports = ["/etc/containerd/conf.d/*.toml"]\n'
imports_case warn 'version = 2\nimports = ["/etc/containerd/other/*.toml"]\n'
imports_case quiet 'version = 2\nimports = [\n  "/etc/containerd/extra.toml",  # theirs\n  "/etc/containerd/conf.d/*.toml",\n]\n[plugins]\n'
agent --remove --once >"$T/out" 2>"$T/err" || bad "containerd --remove: $(cat "$T/err")"

# daemon.json as an absolute symbolic link on the node: it points into the
# node's /, i.e. under --host-root, never into the pod's own /etc. The file
# it names is configured and restored; the link stays.
H=$T/node-link
mkdir -p "$H/etc/docker" "$H/srv/docker"
sock "$H/run/docker.sock"
printf '{"data-root": "/srv/docker"}' >"$H/srv/docker/daemon.json"
cp "$H/srv/docker/daemon.json" "$T/linked.orig"
ln -s /srv/docker/daemon.json "$H/etc/docker/daemon.json"
agent --once >"$T/out" 2>"$T/err" || bad "linked daemon.json: $(cat "$T/err")"
[ -L "$H/etc/docker/daemon.json" ] || bad "linked daemon.json: the link was replaced by a file"
grep -q kmemguard-runtime "$H/srv/docker/daemon.json" || bad "linked daemon.json: the node's file not configured"
agent --remove --once >"$T/out" 2>"$T/err" || bad "linked daemon.json --remove: $(cat "$T/err")"
[ -L "$H/etc/docker/daemon.json" ] || bad "linked daemon.json: --remove replaced the link"
cmp -s "$T/linked.orig" "$H/srv/docker/daemon.json" || bad "linked daemon.json: not restored"

# No engine: a clear error, nothing installed.
H=$T/node-bare
mkdir -p "$H"
agent --once >"$T/out" 2>"$T/err" && bad "bare node: succeeded"
grep -q "no engine socket" "$T/err" || bad "bare node: $(cat "$T/err")"
[ -e "$H/usr/local/bin/kmemguard" ] && bad "bare node: installed binaries"
agent --once --period 0s >"$T/out" 2>"$T/err"; [ $? = 2 ] || bad "--period 0s not a usage error"

[ $fail = 0 ] && echo "PASS: node-agent installs, configures, reports, stops and rolls back"
exit $fail

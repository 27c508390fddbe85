#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# `kmemguard configure` and `configure --remove` on real files, for each
# engine: configure twice = once (byte for byte, and the record of the
# original is not overwritten); --remove restores the original bytes and
# mode exactly, or removes the file when there was none; when somebody else
# changed daemon.json in between, --remove takes out only what configure
# added; a drop-in configure did not write is left alone; the owner and mode
# of the file survive; a symbolic link stays a link (the file it names is
# changed); daemon.json with comments is refused, leaving nothing behind.
#
# usage: configure_roundtrip.sh KMEMGUARD_BINARY
set -u
KMG=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# cfg ENGINE FILE [flags]: configure with a private state directory.
cfg() {
  local engine=$1 file=$2; shift 2
  "$KMG" configure --runtime "$engine" --config-file "$file" \
    --state-dir "$T/state" "$@" >"$T/out" 2>"$T/err"
}
same() { cmp -s "$1" "$2"; }

for engine in docker containerd crio podman; do
  d=$T/$engine
  mkdir -p "$d"
  # --- no file before
  f=$d/absent.conf
  cfg $engine "$f" || bad "$engine: configure: $(cat "$T/err")"
  [ -s "$f" ] || bad "$engine: configure wrote nothing"
  cp "$f" "$d/first"
  cp "$T/state/$engine-absent.conf.json" "$d/record1"
  cfg $engine "$f" || bad "$engine: second configure failed"
  same "$f" "$d/first" || bad "$engine: configure twice differs from once"
  same "$T/state/$engine-absent.conf.json" "$d/record1" || bad "$engine: second configure rewrote the record"
  grep -q "already configured" "$T/out" || bad "$engine: second configure: $(cat "$T/out")"
  cfg $engine "$f" --remove || bad "$engine: --remove: $(cat "$T/err")"
  [ -e "$f" ] && bad "$engine: --remove left the file configure created"
  [ -e "$T/state/$engine-absent.conf.json" ] && bad "$engine: --remove left the record"

  # --- a file before (odd formatting, no final newline, mode 0640)
  f=$d/present.conf
  if [ $engine = docker ]; then
    printf '{"log-driver":"json-file",\n  "default-runtime": "nvidia", "runtimes":{"nvidia":{"path":"/n"}}}' >"$f"
  else
    printf '# an older drop-in of the admin\n[x]\ny = 1' >"$f"
  fi
  chmod 0640 "$f"
  cp -p "$f" "$d/orig"
  cfg $engine "$f" --set-as-default || bad "$engine: configure over a file: $(cat "$T/err")"
  same "$f" "$d/orig" && bad "$engine: configure changed nothing"
  [ "$(stat -c %a "$f")" = 640 ] || bad "$engine: configure changed the mode to $(stat -c %a "$f")"
  cp "$f" "$d/first"
  cfg $engine "$f" --set-as-default || bad "$engine: second configure failed"
  same "$f" "$d/first" || bad "$engine: configure twice differs from once (existing file)"
  cfg $engine "$f" --remove || bad "$engine: --remove: $(cat "$T/err")"
  same "$f" "$d/orig" || bad "$engine: --remove did not restore the original bytes: $(diff "$d/orig" "$f")"
  [ "$(stat -c %a "$f")" = 640 ] || bad "$engine: --remove left mode $(stat -c %a "$f")"
  cfg $engine "$f" --remove || bad "$engine: second --remove failed"
  same "$f" "$d/orig" || bad "$engine: second --remove changed the file"
done

# --- docker: changed by somebody else in between: only our keys go.
f=$T/docker/edited.json
printf '{\n  "log-driver": "json-file",\n  "default-runtime": "nvidia",\n  "runtimes": {\n    "nvidia": {\n      "path": "/n"\n    }\n  }\n}\n' >"$f"
cfg docker "$f" --set-as-default || bad "docker edited: configure"
python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["debug"] = True
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
cfg docker "$f" --remove || bad "docker edited: --remove: $(cat "$T/err")"
python3 - "$f" <<'PY' || bad "docker edited: wrong keys after --remove: $(cat "$f")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"log-driver": "json-file", "default-runtime": "nvidia",
             "runtimes": {"nvidia": {"path": "/n"}}, "debug": True}, d
PY

# --- docker, no record (configured by hand): keys removed, nothing else.
f=$T/docker/by-hand.json
printf '{"runtimes": {"kmemguard": {"path": "/usr/local/bin/kmemguard-runtime"}}, "default-runtime": "kmemguard", "iptables": false}\n' >"$f"
cfg docker "$f" --remove || bad "docker by hand: --remove: $(cat "$T/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d == {"iptables": False}, d' "$f" ||
  bad "docker by hand: $(cat "$f")"

# --- a drop-in configure did not write: left alone, said so.
f=$T/crio/foreign.conf
printf '[crio.runtime]\ndefault_runtime = "crun"\n' >"$f"
cp "$f" "$T/crio/foreign.orig"
cfg crio "$f" --remove || bad "crio foreign: --remove failed: $(cat "$T/err")"
grep -q "not written by kmemguard configure" "$T/err" || bad "crio foreign: message: $(cat "$T/err")"
same "$f" "$T/crio/foreign.orig" || bad "crio foreign: file changed"

# --- a damaged record is an error naming it, and nothing is written.
f=$T/podman/damaged.conf
cfg podman "$f" || bad "podman damaged: configure"
cp "$f" "$T/podman/damaged.before"
echo '{"target": 1}' >"$T/state/podman-damaged.conf.json"
cfg podman "$f" --remove && bad "podman damaged: --remove succeeded"
grep -q "podman-damaged.conf.json" "$T/err" || bad "podman damaged: message: $(cat "$T/err")"
same "$f" "$T/podman/damaged.before" || bad "podman damaged: file changed"

# --- owner and mode survive configure and --remove, whichever way --remove
# goes: a daemon.json of root:daemon 0640 (root:docker on a real node) must
# not become root:root, nor an edited one 0644 (world-readable).
owner() { stat -c '%a %u:%g' "$1"; }
owner_cases="untouched edited by-hand"
if [ "$(id -u)" != 0 ]; then
  echo "NOTE: not root: the owner cases (chgrp daemon) are not run"
  owner_cases=""
fi
for how in $owner_cases; do
  f=$T/docker/owned-$how.json
  if [ $how = by-hand ]; then
    printf '{"runtimes": {"kmemguard": {"path": "/k"}}, "a": 1}\n' >"$f"
  else
    printf '{"a": 1}' >"$f"
  fi
  chmod 0640 "$f"
  chgrp daemon "$f"
  want=$(owner "$f")
  cp "$f" "$T/docker/owned-$how.orig"
  if [ $how != by-hand ]; then
    cfg docker "$f" || bad "owned $how: configure: $(cat "$T/err")"
    [ "$(owner "$f")" = "$want" ] || bad "owned $how: configure: $(owner "$f"), want $want"
  fi
  if [ $how = edited ]; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["debug"]=True; open(sys.argv[1],"w").write(json.dumps(d))' "$f"
  fi
  cfg docker "$f" --remove || bad "owned $how: --remove: $(cat "$T/err")"
  [ "$(owner "$f")" = "$want" ] || bad "owned $how: --remove: $(owner "$f"), want $want"
  [ $how = untouched ] && { same "$f" "$T/docker/owned-$how.orig" || bad "owned: not restored"; }
done

# --- a symbolic link (daemon.json kept elsewhere): the file it names is
# configured and restored, the link stays a link. (An absolute link under
# node-agent's --host-root: tests/deploy/node_agent.sh.)
for engine in docker containerd; do
  d=$T/link-$engine
  mkdir -p "$d/real"
  if [ $engine = docker ]; then printf '{"b": 2}' >"$d/real/conf"; else printf '# mine\n' >"$d/real/conf"; fi
  cp "$d/real/conf" "$d/orig"
  ln -s real/conf "$d/link"
  cfg $engine "$d/link" || bad "link $engine: configure: $(cat "$T/err")"
  [ -L "$d/link" ] || bad "link $engine: configure replaced the symbolic link by a file"
  grep -q kmemguard-runtime "$d/real/conf" || bad "link $engine: the linked file was not configured"
  cfg $engine "$d/link" || bad "link $engine: second configure"
  grep -q "already configured" "$T/out" || bad "link $engine: second configure: $(cat "$T/out")"
  cfg $engine "$d/link" --remove || bad "link $engine: --remove: $(cat "$T/err")"
  [ -L "$d/link" ] || bad "link $engine: --remove replaced the symbolic link by a file"
  same "$d/real/conf" "$d/orig" || bad "link $engine: --remove did not restore the linked file"
done
# A dangling link: an error naming it, and the link left as it was.
ln -s missing/conf "$T/dangling"
cfg docker "$T/dangling" && bad "dangling link: configure succeeded"
grep -q "$T/dangling" "$T/err" || bad "dangling link: message: $(cat "$T/err")"
[ -L "$T/dangling" ] || bad "dangling link: replaced"

# --- daemon.json with comments: dockerd rejects them, so does configure,
# naming the file, and it writes neither the file nor a record.
f=$T/docker/comments.json
printf '// a note of the admin\n{"a": 1}\n' >"$f"
cp "$f" "$T/docker/comments.orig"
cfg docker "$f" && bad "comments: configure succeeded"
grep -q "$f.*not valid JSON" "$T/err" || bad "comments: message: $(cat "$T/err")"
same "$f" "$T/docker/comments.orig" || bad "comments: file changed"
[ -e "$T/state/docker-comments.json.json" ] && bad "comments: record left behind"
ls "$T/docker" | grep -q '\.tmp\.' && bad "comments: temporary file left behind"

# --- two files of the same name share a record name: the second is refused
# (naming both), never given the first one's original bytes on --remove.
mkdir -p "$T/same1" "$T/same2"
printf '{"one": 1}' >"$T/same1/daemon.json"
printf '{"two": 2}' >"$T/same2/daemon.json"
cp "$T/same2/daemon.json" "$T/same2.orig"
cfg docker "$T/same1/daemon.json" || bad "same name: first configure: $(cat "$T/err")"
cfg docker "$T/same2/daemon.json" && bad "same name: second configure accepted the first one's record"
grep -q "$T/same1/daemon.json, not $T/same2/daemon.json" "$T/err" || bad "same name: message: $(cat "$T/err")"
same "$T/same2/daemon.json" "$T/same2.orig" || bad "same name: the second file was changed"
cfg docker "$T/same2/daemon.json" --remove
same "$T/same2/daemon.json" "$T/same2.orig" || bad "same name: --remove wrote the first file's bytes into the second"
cfg docker "$T/same1/daemon.json" --remove || bad "same name: --remove of the first: $(cat "$T/err")"

# --- the default --runtime-path is the kmemguard-runtime beside kmemguard
#     (the packages install both in /usr/bin; it once was /usr/local/bin).
beside=$(dirname "$(readlink -f "$KMG")")/kmemguard-runtime
if [ -x "$beside" ]; then
  "$KMG" configure --runtime docker --dry-run --config-file "$T/none.json" >"$T/out" 2>"$T/err" ||
    bad "default runtime path: $(cat "$T/err")"
  grep -q "\"path\": \"$beside\"" "$T/out" || bad "default runtime path is not $beside: $(cat "$T/out")"
fi
mkdir -p "$T/alone"
cp "$KMG" "$T/alone/kmemguard"
"$T/alone/kmemguard" configure --runtime docker --config-file "$T/alone/daemon.json" \
  --state-dir "$T/state" >"$T/out" 2>"$T/err" && bad "configured a runtime that is not there"
grep -q "no kmemguard-runtime beside this kmemguard ($T/alone/kmemguard-runtime: not found)" "$T/err" &&
  [ "$(wc -l <"$T/err")" = 1 ] || bad "missing runtime: not one line naming it: $(cat "$T/err")"
[ -e "$T/alone/daemon.json" ] && bad "missing runtime: daemon.json written"
"$T/alone/kmemguard" configure --runtime docker --config-file "$T/alone/daemon.json" \
  --state-dir "$T/state" --runtime-path /opt/k/kmemguard-runtime >"$T/out" 2>"$T/err" ||
  bad "explicit --runtime-path: $(cat "$T/err")"
grep -q '"path": "/opt/k/kmemguard-runtime"' "$T/alone/daemon.json" || bad "explicit --runtime-path not used"

[ $fail = 0 ] && echo "PASS: configure idempotent, --remove restores, for docker, containerd, crio, podman"
exit $fail

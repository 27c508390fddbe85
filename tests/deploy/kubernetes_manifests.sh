#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/kubernetes offline: yamllint; kubectl with no server parses every
# file (`annotate --local`), decodes the DaemonSets into their typed API
# struct (`set image --local`) and builds the kustomization; check_manifests.py checks the fields the rollout and the
# rollback depend on, including that every flag the manifests pass exists in
# `kmemguard node-agent --help`; its self-test feeds it broken copies.
# Skips (77) without yamllint or kubectl.
#
# usage: kubernetes_manifests.sh KMEMGUARD_BINARY SOURCE_DIR
set -u
KMG=$1
SRC=$2
K=$SRC/deploy/kubernetes
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in yamllint kubectl python3; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

yamllint -s -d '{extends: default, rules: {line-length: {max: 100}}}' "$K" ||
  bad "yamllint"
for f in "$K"/namespace.yaml "$K"/serviceaccount.yaml "$K"/daemonset*.yaml; do
  # Parses the file into objects and prints their names; no API server.
  out=$(kubectl annotate --local --dry-run=client -o name -f "$f" kmemguard.io/check=1 2>&1) ||
    bad "kubectl annotate --local $f: $out"
done
# Decodes the DaemonSets into the typed apps/v1 struct: a field of the
# wrong type fails (self-test below).
for f in "$K"/daemonset*.yaml; do
  img=$(kubectl set image --local -o 'jsonpath={.spec.template.spec.containers[0].image}' \
    -f "$f" node-agent=kmemguard/node-agent:check 2>&1)
  [ "$img" = kmemguard/node-agent:check ] || bad "kubectl set image --local $f: $img"
done
kubectl kustomize "$K" >"$T/all.yaml" 2>&1 || bad "kubectl kustomize: $(cat "$T/all.yaml")"
[ "$(grep -c '^kind:' "$T/all.yaml")" = 3 ] || bad "kustomize: want 3 objects"

"$KMG" node-agent --help >"$T/help" 2>&1 || bad "kmemguard node-agent --help"
python3 "$HERE/check_manifests.py" "$K" "$T/help" || bad "check_manifests.py"

# Self-test: each broken copy must be caught.
mutate() {  # DESCRIPTION FILE SED-EXPR
  rm -rf "$T/k"; cp -r "$K" "$T/k"
  sed -i -e "$3" "$T/k/$2"
  if cmp -s "$K/$2" "$T/k/$2"; then bad "self-test '$1': the edit did not apply"; return; fi
  if python3 "$HERE/check_manifests.py" "$T/k" "$T/help" >/dev/null 2>&1; then
    bad "self-test: check_manifests.py missed: $1"
  fi
}
mutate "no canary label" daemonset.yaml 's|kmemguard.io/rollout: "true"|kmemguard.io/other: "true"|'
mutate "hostPID on" daemonset.yaml 's|hostPID: false|hostPID: true|'
mutate "mountPath not under /host" daemonset.yaml 's|mountPath: /host/etc$|mountPath: /etc-host|'
mutate "rollback without --remove" daemonset-rollback.yaml '/- --remove/d'
mutate "rollback with another name" daemonset-rollback.yaml '0,/name: kmemguard-node-agent$/s//name: kmemguard-rollback/'
mutate "unknown agent flag" daemonset.yaml 's|--period=5m|--perio=5m|'
mutate "token mounted" serviceaccount.yaml 's|automountServiceAccountToken: false|automountServiceAccountToken: true|'
mutate "no maxUnavailable" daemonset.yaml '/maxUnavailable:/d'
rm -rf "$T/k"; cp -r "$K" "$T/k"
sed -i 's/maxUnavailable: 1$/maxUnavailable: [1]/' "$T/k/daemonset.yaml"
kubectl set image --local -o name -f "$T/k/daemonset.yaml" node-agent=x >/dev/null 2>&1 &&
  bad "self-test: kubectl set image --local accepted maxUnavailable: [1]"
[ $fail = 0 ] && echo "PASS: manifests lint, decode and carry the rollout's fields"
exit $fail

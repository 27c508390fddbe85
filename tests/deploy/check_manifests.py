#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the fields the rollout in docs/fleet.md depends on, in
deploy/kubernetes/: the DaemonSet and its rollback twin, the namespace and
the ServiceAccount.

usage: check_manifests.py DEPLOY_KUBERNETES_DIR NODE_AGENT_HELP_FILE
"""
import re
import sys

import yaml

ROLLOUT_LABEL = "kmemguard.io/rollout"


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def container(ds):
    cs = ds["spec"]["template"]["spec"]["containers"]
    return cs[0]


def check_daemonset(ds, errors, name):
    def err(msg):
        errors.append(f"{name}: {msg}")

    spec = ds["spec"]
    pod = spec["template"]["spec"]
    if ds["metadata"].get("namespace") != "kmemguard":
        err("not in namespace kmemguard")
    sel = spec["selector"]["matchLabels"]
    labels = spec["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in sel.items()):
        err("selector does not match the pod template's labels")
    us = spec.get("updateStrategy", {})
    if us.get("type") != "RollingUpdate" or "maxUnavailable" not in (
            us.get("rollingUpdate") or {}):
        err("updateStrategy must be RollingUpdate with maxUnavailable")
    if pod.get("nodeSelector", {}).get(ROLLOUT_LABEL) != "true":
        err(f"nodeSelector {ROLLOUT_LABEL}: \"true\" (canary by label)")
    if pod.get("serviceAccountName") != "kmemguard-node-agent":
        err("serviceAccountName kmemguard-node-agent")
    if pod.get("automountServiceAccountToken") is not False:
        err("automountServiceAccountToken must be false (no API access)")
    for key in ("hostPID", "hostNetwork", "hostIPC"):
        if pod.get(key):
            err(f"{key} must be off")
    c = container(ds)
    sc = c.get("securityContext", {})
    if sc.get("privileged"):
        err("the container must not be privileged")
    if sc.get("runAsUser") != 0:
        err("runAsUser 0 (it writes root's files on the node)")
    args = c.get("args", [])
    if not args or args[0] != "node-agent":
        err("args must start with node-agent (the image's entrypoint is kmemguard)")
    flags = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "")
                 for a in args[1:])
    host_root = flags.get("host-root")
    if host_root != "/host":
        err("--host-root=/host")
    env = {e["name"] for e in c.get("env", [])}
    for a in args:
        for ref in re.findall(r"\$\((\w+)\)", a):
            if ref not in env:
                err(f"{a}: ${ref} is not in env")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = c.get("volumeMounts", [])
    host_paths = {}
    for m in mounts:
        v = volumes.get(m["name"])
        if v is None:
            err(f"volumeMount {m['name']} has no volume")
            continue
        hp = v.get("hostPath", {}).get("path")
        if hp is None:
            continue
        # The agent reaches node path P at <host-root>P.
        if m["mountPath"] != host_root + hp:
            err(f"{m['name']}: mountPath {m['mountPath']} is not {host_root}{hp}")
        host_paths[hp] = m
    need_rw = ["/etc", "/var/lib/kmemguard"]
    if "remove" not in flags:
        need_rw.append("/usr/local/bin")
    need = {p: True for p in need_rw}
    need.update({"/sys/fs/cgroup": False, "/run": False})
    textfile = flags.get("textfile-dir")
    need[textfile] = True
    for path, rw in need.items():
        m = host_paths.get(path)
        if m is None:
            err(f"no hostPath mount of {path}")
        elif rw and m.get("readOnly"):
            err(f"{path} must be writable")
    for path in ("/sys/fs/cgroup", "/run"):
        m = host_paths.get(path)
        if m is not None and m.get("mountPropagation") != "HostToContainer":
            err(f"{path}: mountPropagation HostToContainer (later mounts)")
    return flags


def main():
    d, help_file = sys.argv[1], sys.argv[2]
    errors = []
    with open(help_file) as f:
        agent_help = f.read()
    docs = {}
    for name in ("namespace.yaml", "serviceaccount.yaml", "daemonset.yaml",
                 "daemonset-rollback.yaml", "kustomization.yaml"):
        docs[name] = load(f"{d}/{name}")
    all_kinds = [x.get("kind") for v in docs.values() for x in v]
    for k in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        if k in all_kinds:
            errors.append(f"{k}: the agent needs no RBAC")
    ns = docs["namespace.yaml"][0]
    if ns["kind"] != "Namespace" or ns["metadata"]["name"] != "kmemguard":
        errors.append("namespace.yaml: Namespace kmemguard")
    sa = docs["serviceaccount.yaml"][0]
    if sa["kind"] != "ServiceAccount" or sa.get("automountServiceAccountToken") is not False:
        errors.append("serviceaccount.yaml: ServiceAccount without token")
    install = docs["daemonset.yaml"][0]
    rollback = docs["daemonset-rollback.yaml"][0]
    fi = check_daemonset(install, errors, "daemonset.yaml")
    fr = check_daemonset(rollback, errors, "daemonset-rollback.yaml")
    if "remove" in fi:
        errors.append("daemonset.yaml: --remove in the rollout")
    if "remove" not in fr:
        errors.append("daemonset-rollback.yaml: no --remove")
    # The rollback must replace the rollout's pods, not run beside them.
    for key in (("metadata", "name"), ("metadata", "namespace"),
                ("spec", "selector")):
        a, b = install, rollback
        for k in key:
            a, b = a[k], b[k]
        if a != b:
            errors.append(f"rollback {'.'.join(key)} differs from the rollout's")
    if container(install)["image"] != container(rollback)["image"]:
        errors.append("rollback uses another image")
    if fi.get("textfile-dir") != fr.get("textfile-dir"):
        errors.append("rollback removes the metrics from another directory")
    # Every flag the manifests pass exists in `kmemguard node-agent --help`.
    for flags, name in ((fi, "daemonset.yaml"), (fr, "daemonset-rollback.yaml")):
        for flag in flags:
            if not re.search(r"--%s\b" % re.escape(flag), agent_help):
                errors.append(f"{name}: --{flag} is not a node-agent flag")
    kust = docs["kustomization.yaml"][0]
    if set(kust.get("resources", [])) != {"namespace.yaml", "serviceaccount.yaml",
                                         "daemonset.yaml"}:
        errors.append("kustomization.yaml: resources")
    for e in errors:
        print("FAIL:", e)
    if not errors:
        print("manifests: rollout fields OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

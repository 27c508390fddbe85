#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Wall time of `runc run` of a busybox `true` container, directly vs through
kmemguard-runtime, as a ratio of medians over interleaved pairs; and the
wrapper's peak RSS. A benchmark, not a test: it prints numbers, it does not
judge them.

  bench/runtime_bench.py BUILD_DIR [--pairs 20]

Needs root, a cgroup v1 memory hierarchy, runc and busybox-static.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MEM = "/sys/fs/cgroup/memory"


def make_bundle(path, cgroups_path):
    os.makedirs(os.path.join(path, "rootfs/bin"))
    shutil.copy("/bin/busybox", os.path.join(path, "rootfs/bin/busybox"))
    os.symlink("busybox", os.path.join(path, "rootfs/bin/true"))
    subprocess.run(["runc", "spec"], cwd=path, check=True)
    with open(os.path.join(path, "config.json")) as f:
        c = json.load(f)
    c["process"]["terminal"] = False
    c["process"]["args"] = ["true"]
    c["linux"]["cgroupsPath"] = cgroups_path
    c["linux"].setdefault("resources", {})["memory"] = {
        "limit": 64 << 20, "swap": 128 << 20}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(c, f)


def timed(argv, env):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cleanup_scratch(scratch):
    for h in os.listdir("/sys/fs/cgroup"):
        d = os.path.join("/sys/fs/cgroup", h, scratch)
        if os.path.isdir(d):
            for root, dirs, _ in os.walk(d, topdown=False):
                for x in dirs:
                    try:
                        os.rmdir(os.path.join(root, x))
                    except OSError:
                        pass
            try:
                os.rmdir(d)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object instead of the table")
    a = ap.parse_args()
    wrapper = os.path.abspath(os.path.join(a.build_dir, "kmemguard-runtime"))
    runc = shutil.which("runc")
    scratch = "kmemguard-bench-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="kmemguard-bench.")
    try:
        bundle = os.path.join(tmp, "bundle")
        # Each run gets its own cgroup (the path below is rewritten per id).
        make_bundle(bundle, "/%s/x" % scratch)
        conf = os.path.join(tmp, "config.toml")
        with open(conf, "w") as f:
            f.write('runtime = "%s"\nstate-dir = "/run/%s-state"\n' % (runc, scratch))
        env = dict(os.environ, KMEMGUARD_CONFIG=conf)
        root = os.path.join(tmp, "root")
        direct, wrapped = [], []
        for i in range(a.pairs + 2):  # two warm-up pairs, discarded
            order = [("d", runc), ("w", wrapper)]
            if i % 2:
                order.reverse()
            for kind, binary in order:
                cid = "%s%d" % (kind, i)
                with open(os.path.join(bundle, "config.json")) as f:
                    c = json.load(f)
                c["linux"]["cgroupsPath"] = "/%s/%s" % (scratch, cid)
                with open(os.path.join(bundle, "config.json"), "w") as f:
                    json.dump(c, f)
                t = timed([binary, "--root", root, "run", "--bundle", bundle, cid], env)
                if i >= 2:
                    (direct if kind == "d" else wrapped).append(t)
        md, mw = statistics.median(direct), statistics.median(wrapped)

        # Peak RSS of the wrapper alone: its whole create path, then an exec
        # of /bin/true instead of runc (ru_maxrss survives execve).
        with open(conf, "w") as f:
            f.write('runtime = "/bin/true"\nstate-dir = "/run/%s-state"\n' % scratch)
        # A fresh interpreter, so earlier runc runs do not count.
        probe = ("import resource, subprocess, sys; "
                 "subprocess.run(sys.argv[1:], check=True); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        rss_kib = int(subprocess.run(
            [sys.executable, "-c", probe, wrapper, "--root", root, "create",
             "--bundle", bundle, "rss"],
            check=True, env=env, capture_output=True, text=True).stdout)
        if a.json:
            print(json.dumps({"pairs": a.pairs, "direct_ms": md * 1000,
                              "wrapped_ms": mw * 1000, "ratio": mw / md,
                              "rss_kib": rss_kib}))
            return 0
        print("| measurement | value |")
        print("|---|---|")
        print("| pairs | %d (interleaved, order alternating, 2 warm-up pairs dropped) |" % a.pairs)
        print("| runc run, median | %.1f ms |" % (md * 1000))
        print("| kmemguard-runtime run, median | %.1f ms |" % (mw * 1000))
        print("| ratio wrapper/direct | %.3f (%+.1f %%) |" % (mw / md, (mw / md - 1) * 100))
        print("| kmemguard-runtime peak RSS (create path, then exec /bin/true) | %d KiB |" % rss_kib)
        return 0
    finally:
        subprocess.run([runc, "--root", os.path.join(tmp, "root"), "list", "-q"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cleanup_scratch(scratch)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree("/run/%s-state" % scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

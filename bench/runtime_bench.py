#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What kmemguard-runtime adds to a runtime call, as ratios measured in one
run (docs/benchmarks.md). A benchmark, not a test: it prints numbers.

1. Per verb (create, start, state, delete) against a stub runtime (a static
   C program that exits 0, bench/stub_runtime.c): the stub alone, the exec
   floor in front of it (a static C program that only execve()s its
   argument, bench/exec_floor.c) and the wrapper in front of it, the three
   interleaved, medians. Added time = variant - stub alone. Targets:
   pass-through verbs at most 1.25x the floor's added time; create at most
   the floor's plus 1.2x the raw system calls of the cgroup work (mkdir,
   the limit writes and rmdir, bench/floor.c's apply_set_remove). Beside
   that target, create against the floor doing all of create's required
   I/O as raw syscalls too (floor.c wrapper_io: the reads, the runtime
   lookup, the record), which shows what is overhead of ours.
2. `runc run` of a busybox `true` container, directly vs through the
   wrapper, interleaved pairs: the ratio of medians (target <= 1.03).
3. The wrapper's peak RSS on the create path, and the processes of ours
   alive after each verb returned (must be 0).

  bench/runtime_bench.py BUILD_DIR [--pairs 20] [--verb-iters 200]
                         [--state-parent /run] [--json]

The wrapper's state directory (its records) is made under --state-parent,
/run by default as on a node, where /run is a tmpfs. The table names the
file system it is on: on a disk file system each create's record costs
directory operations a tmpfs does not have.

Needs root, a cgroup v1 memory hierarchy, runc, busybox-static and cc.
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


def spawn_timed(argv, env):
    """Wall time of one call, with posix_spawn (no Python fork overhead)."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status = os.waitpid(pid, 0)
    t = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed: %d" % (" ".join(argv), status))
    return t


def ours_alive(wrapper):
    """Processes running the wrapper binary right now."""
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % p) == wrapper:
                    n += 1
            except OSError:
                pass
    return n


def installed_copy(path, tmp):
    """A copy of `path` written as a package install writes it. How a file
    was written changes how fast it execs (a linker's output measured up to
    0.1 of an exec slower here than a copy of it), so every program the
    benchmark runs is a copy."""
    out = os.path.join(tmp, "bin", os.path.basename(path))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    shutil.copy2(path, out)
    return out


def build_c(here, tmp, name, extra=()):
    out = os.path.join(tmp, name)
    subprocess.run(["cc", "-static", "-O2", "-o", out] + list(extra) +
                   [os.path.join(here, name + ".c")], check=True)
    return installed_copy(out, tmp)


GC_LIVE = 10  # records the timed gc pass checks and keeps


def verbs(wrapper, here, tmp, scratch, iters, state):
    """Per-verb medians (seconds) for stub, floor+stub, wrapper+stub."""
    stub = build_c(here, tmp, "stub_runtime")
    floor = build_c(here, tmp, "exec_floor")
    floor_cg = build_c(here, tmp, "floor", ["-DKMEMGUARD_FLOOR_MAIN"])
    bundle = os.path.join(tmp, "vbundle")
    os.makedirs(bundle)
    conf = os.path.join(tmp, "verbs.toml")
    with open(conf, "w") as f:
        f.write('runtime = "%s"\nstate-dir = "%s"\n' % (stub, state))
    env = dict(os.environ, KMEMGUARD_CONFIG=conf)
    root = os.path.join(tmp, "vroot")
    kinds = {"stub": [stub], "floor": [floor, stub], "wrapper": [wrapper]}
    times = {(k, v): [] for k in kinds for v in ("create", "start", "state",
                                                 "delete")}
    alive = 0
    for i in range(iters + 5):  # five warm-up rounds, discarded
        order = list(kinds)
        order = order[i % 3:] + order[:i % 3]
        for kind in order:
            cid = "%s%d" % (kind, i)
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump({"ociVersion": "1.0.2", "linux": {
                    "cgroupsPath": "/%s/%s" % (scratch, cid),
                    "resources": {"memory": {"limit": 64 << 20}}}}, f)
            for verb, extra in (("create", ["--bundle", bundle]),
                                ("start", []), ("state", []),
                                ("delete", [])):
                argv = kinds[kind] + ["--root", root, verb] + extra + [cid]
                t = spawn_timed(argv, env)
                if i >= 5:
                    times[(kind, verb)].append(t)
                # After every call, whichever kind, so that no kind runs
                # after more of the benchmark's own work than another.
                n = ours_alive(wrapper)
                if kind == "wrapper":
                    alive += n
    # delete's lazy gc pass (MaybeCollectGarbage, at most once a minute):
    # deletes through the wrapper, one with a fresh gc.stamp (the pass is
    # skipped after a stat) and one with the stamp removed (the pass checks
    # every record), order alternating; the difference is gc's share. The
    # state dir holds GC_LIVE records of containers that still exist (their
    # runtime state dir is there), which the pass checks and keeps.
    def wrapper_create(cid):
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "linux": {
                "cgroupsPath": "/%s/%s" % (scratch, cid),
                "resources": {"memory": {"limit": 64 << 20}}}}, f)
        subprocess.run([wrapper, "--root", root, "create", "--bundle",
                        bundle, cid], check=True, env=env)
    live = ["gclive%d" % n for n in range(GC_LIVE)]
    for cid in live:
        wrapper_create(cid)
        os.makedirs(os.path.join(root, cid), exist_ok=True)
    stamp = os.path.join(state, "gc.stamp")
    for i in range(iters + 5):
        for kind in (["skip", "scan"] if i % 2 else ["scan", "skip"]):
            cid = "gc%s%d" % (kind, i)
            wrapper_create(cid)
            if kind == "scan":
                if os.path.exists(stamp):
                    os.unlink(stamp)
            else:
                with open(stamp, "a"):
                    os.utime(stamp)
            t = spawn_timed([wrapper, "--root", root, "delete", cid], env)
            if i >= 5:
                times.setdefault(("gc", kind), []).append(t)
            alive += ours_alive(wrapper)
    for cid in live:
        os.rmdir(os.path.join(root, cid))
        subprocess.run([wrapper, "--root", root, "delete", cid], check=True,
                       env=env)
    med = {k: statistics.median(v) for k, v in times.items()}
    # The raw system calls of the cgroup work, as bench/floor.c makes them.
    out = subprocess.run([floor_cg, "apply_set_remove",
                          os.path.join(MEM, scratch, "floor"), "2000"],
                         check=True, capture_output=True, text=True).stdout
    raw = float(out.split()[1]) / 1e9
    # The rest of create's work as raw system calls (floor.c wrapper_io):
    # the reads, the runtime lookup and the record, on the same state
    # file system. Not part of the create target; shown beside it.
    io_dir = os.path.join(state, "floor")
    os.makedirs(io_dir, exist_ok=True)
    out = subprocess.run([floor_cg, "wrapper_io", io_dir, "2000", conf,
                          os.path.join(bundle, "config.json"), stub, root],
                         check=True, capture_output=True, text=True).stdout
    io = float(out.split()[1]) / 1e9
    shutil.rmtree(state, ignore_errors=True)
    return med, raw, io, alive


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
    ap.add_argument("--verb-iters", type=int, default=200)
    ap.add_argument("--state-parent", default="/run",
                    help="where the wrapper's state directory is made")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object instead of the table")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    runc = shutil.which("runc")
    scratch = "kmemguard-bench-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="kmemguard-bench.")
    wrapper = installed_copy(
        os.path.realpath(os.path.join(a.build_dir, "kmemguard-runtime")), tmp)
    state = os.path.join(a.state_parent, "%s-vstate" % scratch)
    try:
        os.mkdir(os.path.join(MEM, scratch))
        state_fs = subprocess.run(["stat", "-f", "-c", "%T", a.state_parent],
                                  capture_output=True, text=True).stdout.strip()
        med, raw, io, alive = verbs(wrapper, here, tmp, scratch,
                                    a.verb_iters, state)
        vrows = []
        for verb in ("create", "start", "state", "delete"):
            stub = med[("stub", verb)]
            fl = med[("floor", verb)] - stub
            w = med[("wrapper", verb)] - stub
            if verb == "create":
                limit = fl + 1.2 * raw
                target = "<= floor + 1.2 x cgroup syscalls (%.0f us)" % (limit * 1e6)
            elif verb == "delete":
                limit = None
                target = "spawn-and-wait + cleanup (no target)"
            else:
                limit = 1.25 * fl
                target = "<= 1.25 x floor (%.0f us)" % (limit * 1e6)
            vrows.append({"verb": verb, "stub_us": stub * 1e6,
                          "floor_added_us": fl * 1e6,
                          "wrapper_added_us": w * 1e6,
                          "ratio_to_floor": w / fl if fl > 0 else None,
                          "target": target,
                          "met": None if limit is None else w <= limit})
        # Beside the target: the floor doing all of create's required I/O.
        create_added = med[("wrapper", "create")] - med[("stub", "create")]
        create_floor = med[("floor", "create")] - med[("stub", "create")]
        io_limit = create_floor + 1.2 * (raw + io)
        gc_scan = med[("gc", "scan")] - med[("gc", "skip")]
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
                              "rss_kib": rss_kib, "verbs": vrows,
                              "verb_iters": a.verb_iters,
                              "state_dir_fs": state_fs,
                              "cgroup_syscalls_us": raw * 1e6,
                              "create_other_io_us": io * 1e6,
                              "create_vs_floor_with_io": create_added / io_limit,
                              "delete_gc_skipped_us": med[("gc", "skip")] * 1e6,
                              "delete_gc_scan_us": med[("gc", "scan")] * 1e6,
                              "delete_gc_share_us": gc_scan * 1e6,
                              "ours_alive_after_verbs": alive}))
            return 0
        print("Per verb against a stub runtime, medians of %d interleaved rounds"
              % a.verb_iters)
        print("(cgroup work as raw syscalls, floor.c apply_set_remove: %.1f us;"
              " the wrapper's state directory on %s, %s)\n"
              % (raw * 1e6, a.state_parent, state_fs))
        print("| verb | stub alone | added by exec floor | added by wrapper | wrapper/floor | target | met |")
        print("|---|---|---|---|---|---|---|")
        for r in vrows:
            print("| %s | %.0f us | %.0f us | %.0f us | %s | %s | %s |" % (
                r["verb"], r["stub_us"], r["floor_added_us"],
                r["wrapper_added_us"],
                "%.2f" % r["ratio_to_floor"] if r["ratio_to_floor"] else "-",
                r["target"], {True: "yes", False: "NO", None: "-"}[r["met"]]))
        print("\ncreate beside the floor doing all of create's I/O (not the "
              "issue's target): the rest of create as raw syscalls "
              "(floor.c wrapper_io: config.toml, config.json, mountinfo, "
              "/proc/self/cgroup, /proc/self/stat, runtime lookup, realpath, "
              "the record's claim and confirmation) %.0f us; floor + 1.2 x "
              "(cgroup syscalls + that) = %.0f us; the wrapper adds %.0f us "
              "(%.2f of it)"
              % (io * 1e6, io_limit * 1e6, create_added * 1e6,
                 create_added / io_limit))
        print("\ndelete through the wrapper, median of %d interleaved pairs: "
              "gc pass skipped (fresh gc.stamp) %.0f us, gc pass over %d live "
              "records run (stamp removed) %.0f us: the pass adds %.0f us (%.1f %% of a delete; "
              "it runs at most once a minute)"
              % (a.verb_iters, med[("gc", "skip")] * 1e6, GC_LIVE,
                 med[("gc", "scan")] * 1e6, gc_scan * 1e6,
                 100 * gc_scan / med[("gc", "skip")]))
        print("\nprocesses of ours alive after the verbs returned: %d\n" % alive)
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
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

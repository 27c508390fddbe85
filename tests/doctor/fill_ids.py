#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Opt-in live test: exhaust the memory cgroup ID space inside a scratch
parent for a few seconds, check that `kmemguard apply` names the exhaustion
and that `kmemguard doctor` says critical, then remove everything.

  fill_ids.py KMEMGUARD SCRATCH_DIR SCHEMA CHECKER

SCRATCH_DIR must not exist; this script creates it and only ever removes
directories below it that it created. Cleanup runs in `finally` and on
SIGINT/SIGTERM; the calling shell script also cleans up in a trap.
Prints one line of measurements; exits 0 when every check held.
"""
import errno
import os
import signal
import subprocess
import sys
import time


def main():
    kmg, scratch, schema, checker = sys.argv[1:5]
    created = []
    failures = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    os.mkdir(scratch)
    created.append(scratch)
    t0 = time.monotonic()
    fill_errno = None
    try:
        i = 0
        while True:
            path = os.path.join(scratch, "f%d" % i)
            try:
                os.mkdir(path)
            except OSError as e:
                fill_errno = e.errno
                break
            created.append(path)
            i += 1
            if i > 70000:  # the limit is 65,535: something is wrong
                failures.append("mkdir never failed")
                break
        t_fill = time.monotonic() - t0
        # Inside the window: as few and as short commands as possible.
        apply = subprocess.run(
            [kmg, "apply", "--path", os.path.join(scratch, "extra"),
             "--memory", "1m"], capture_output=True, text=True, timeout=60)
        doctor = subprocess.run(
            [kmg, "doctor", "--format", "json", "--no-runtimes"],
            capture_output=True, text=True, timeout=60)
    finally:
        t1 = time.monotonic()
        for path in reversed(created):
            try:
                os.rmdir(path)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    print("cleanup: rmdir %s: %s" % (path, e), file=sys.stderr)
        t_remove = time.monotonic() - t1
        window = time.monotonic() - t0
    if fill_errno not in (errno.EBUSY, errno.ENOSPC):
        failures.append("fill stopped with %s, want EBUSY or ENOSPC"
                        % errno.errorcode.get(fill_errno, fill_errno))
    if apply.returncode != 1:
        failures.append("apply exit %d, want 1" % apply.returncode)
    err = apply.stderr.strip()
    if len(err.splitlines()) != 1 or "memory cgroup IDs exhausted:" not in err \
            or "run kmemguard doctor" not in err or "/extra" not in err:
        failures.append("apply stderr: %r" % err)
    if doctor.returncode != 2:
        failures.append("doctor exit %d, want 2" % doctor.returncode)
    out = "/tmp/kmemguard-fill-%d.json" % os.getpid()
    with open(out, "w") as f:
        f.write(doctor.stdout)
    chk = subprocess.run([sys.executable, checker, "json", schema, out,
                          'verdict="critical"', "+ids-critical"])
    if chk.returncode != 0:
        failures.append("doctor JSON checks failed")
    os.unlink(out)
    print("created %d cgroups in %.2f s (mkdir failed with %s); removed in "
          "%.2f s; exhausted window %.2f s" % (
              len(created) - 1, t_fill,
              errno.errorcode.get(fill_errno, fill_errno), t_remove, window))
    print("apply said: %s" % err)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

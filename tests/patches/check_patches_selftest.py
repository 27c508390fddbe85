#!/usr/bin/env python3
"""Self-test for check_patches.py: the check must pass on the real patches/
directory and fail on deliberately broken copies of it.

Usage: python3 tests/patches/check_patches_selftest.py [PATCHES_DIR]
Exits 0 when every case behaves as expected, 1 otherwise. Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "check_patches.py")


def run_checker(pdir):
    p = subprocess.run([sys.executable, CHECKER, pdir], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    return p.returncode, p.stdout


def first_patch(pdir):
    names = sorted(f for f in os.listdir(pdir) if f.endswith(".patch"))
    return names[0]


def edit(path, fn):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = fn(text)
    if new == text:
        raise AssertionError("mutation did not change %s" % path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


# Each mutation breaks a copy of the patches dir; `expect` must appear in the output.

def wrong_hunk_count(d):
    name = first_patch(d)

    def fn(text):
        # Claim one more new line than the hunk has.
        return re.sub(r"^(@@ -\d+,\d+ \+\d+,)(\d+)( @@)",
                      lambda m: m.group(1) + str(int(m.group(2)) + 1) + m.group(3),
                      text, count=1, flags=re.M)
    edit(os.path.join(d, name), fn)
    return name + ": "


def dropped_hunk_line(d):
    name = first_patch(d)

    def fn(text):
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines) if l.startswith("+") and not l.startswith("+++"))
        del lines[i]
        return "\n".join(lines)
    edit(os.path.join(d, name), fn)
    return "line counts do not match"


def missing_subject(d):
    name = first_patch(d)
    edit(os.path.join(d, name), lambda t: re.sub(r"^Subject: .*\n", "", t, count=1, flags=re.M))
    return "missing 'Subject:' header"


def missing_from_line(d):
    name = first_patch(d)
    edit(os.path.join(d, name), lambda t: t.split("\n", 1)[1])
    return "first line is not"


def missing_reference(d):
    name = first_patch(d)
    edit(os.path.join(d, name), lambda t: t.replace("#61937", "#6193x"))
    return "does not mention #61937"


def empty_body(d):
    name = first_patch(d)

    def fn(text):
        head, rest = text.split("\n\n", 1)
        return head + "\n\n" + rest[rest.index("\n---\n") + 1:]
    edit(os.path.join(d, name), fn)
    return "empty commit message body"


def missing_plus_line(d):
    name = first_patch(d)
    edit(os.path.join(d, name), lambda t: re.sub(r"^\+\+\+ b/.*\n", "", t, count=1, flags=re.M))
    return "missing '+++' line"


def patch_not_in_readme(d):
    name = first_patch(d)
    shutil.copy(os.path.join(d, name), os.path.join(d, "zz-extra-unlisted.patch"))
    return "zz-extra-unlisted.patch: not listed in the README.md table"


def readme_row_without_file(d):
    def fn(text):
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines) if l.startswith("| `") and ".patch`" in l)
        row = lines[i]
        ghost = re.sub(r"`[^`]+\.patch`", "`ghost-missing.patch`", row, count=1)
        lines.insert(i + 1, ghost)
        return "\n".join(lines)
    edit(os.path.join(d, "README.md"), fn)
    return "lists ghost-missing.patch, which does not exist"


def file_not_listed_in_readme(d):
    # Remove the test file from the files column of the first runc row.
    def fn(text):
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines)
                 if l.startswith("| `") and "memory_test.go`" in l)
        lines[i] = lines[i].replace("<br>`libcontainer/cgroups/fs/memory_test.go`", "", 1)
        return "\n".join(lines)
    edit(os.path.join(d, "README.md"), fn)
    return "which the README does not list"


def readme_lists_untouched_file(d):
    def fn(text):
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines)
                 if l.startswith("| `") and "memory_test.go`" in l)
        lines[i] = lines[i].replace("`libcontainer/cgroups/fs/memory_test.go`",
                                    "`libcontainer/cgroups/fs/memory_test.go`<br>`libcontainer/nope.go`", 1)
        return "\n".join(lines)
    edit(os.path.join(d, "README.md"), fn)
    return "README lists libcontainer/nope.go, which the patch does not touch"


CASES = [
    wrong_hunk_count, dropped_hunk_line, missing_subject, missing_from_line,
    missing_reference, empty_body, missing_plus_line, patch_not_in_readme,
    readme_row_without_file, file_not_listed_in_readme, readme_lists_untouched_file,
]


def main(argv):
    src = argv[1] if len(argv) > 1 else os.path.join(HERE, "..", "..", "patches")
    failures = []
    rc, out = run_checker(src)
    if rc != 0 or not out.strip().endswith("patches OK"):
        failures.append("checker does not pass on %s (rc=%d):\n%s" % (src, rc, out))
    for case in CASES:
        tmp = tempfile.mkdtemp(prefix="check_patches_selftest_")
        try:
            d = os.path.join(tmp, "patches")
            shutil.copytree(src, d)
            expect = case(d)
            rc, out = run_checker(d)
            if rc != 1:
                failures.append("%s: checker exited %d, want 1; output:\n%s" % (case.__name__, rc, out))
            elif expect not in out:
                failures.append("%s: output lacks %r:\n%s" % (case.__name__, expect, out))
            else:
                print("ok   %-28s -> %s" % (case.__name__, out.strip().splitlines()[0]))
        finally:
            shutil.rmtree(tmp)
    if failures:
        for f in failures:
            print("FAIL " + f)
        return 1
    print("check_patches_selftest: %d broken cases detected, real patches OK" % len(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

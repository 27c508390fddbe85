#!/usr/bin/env python3
"""Offline well-formedness check for the reference patches under patches/.

Usage: python3 tests/patches/check_patches.py [PATCHES_DIR]

PATCHES_DIR defaults to the patches/ directory of this repository. It must
hold the *.patch files and a README.md whose markdown table has a "Patch"
column (the patch file name) and a "Files touched" column (the
repository-relative paths the patch changes).

Checks, for every patch:
  * git format-patch headers: "From <sha> Mon Sep 17 00:00:00 2001",
    "From:", "Date:", "Subject: [PATCH...]", then a non-empty commit message
    body, the "---" separator and a diffstat;
  * the message names the upstream references (#1350 and #61937 at least);
  * every "diff --git" section has "---"/"+++" lines and well-formed "@@"
    hunks whose line counts match the hunk header;
  * the set of files it touches equals the README table's "Files touched";
and that every patch listed in the README exists and every patch file is
listed. Exits 0 and prints "check_patches: N patches OK" when all is well,
otherwise prints one line per problem and exits 1. Standard library only.
"""

import os
import re
import sys

REQUIRED_REFS = ("#1350", "#61937")

FROM_LINE = re.compile(r"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$")
DIFF_GIT = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(?: .*)?$")
DIFFSTAT_SUMMARY = re.compile(r"^ \d+ files? changed")
PATCH_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9._+-]*\.patch)")
PATH_TOKEN = re.compile(r"`([^`]+)`")


def split_row(line):
    """Split a markdown table row into stripped cells."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def is_separator(cells):
    return all(re.fullmatch(r":?-{3,}:?", c) for c in cells if c) and any(cells)


def parse_readme(path, problems):
    """Return {patch name: set of files} from README tables with the columns
    "Patch" and "Files touched"."""
    table = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        problems.append("README.md: cannot read: %s" % e)
        return table
    i = 0
    found_table = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("|") and i + 1 < len(lines) \
                and is_separator(split_row(lines[i + 1])):
            header = [c.lower() for c in split_row(line)]
            patch_col = next((k for k, c in enumerate(header) if c == "patch"), None)
            files_col = next((k for k, c in enumerate(header) if c.startswith("files touched")), None)
            i += 2
            if patch_col is None or files_col is None:
                continue
            found_table = True
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                row = lines[i]
                cells = split_row(row)
                i += 1
                if len(cells) <= max(patch_col, files_col):
                    problems.append("README.md: table row has too few cells: %s" % row.strip())
                    continue
                m = PATCH_NAME.search(cells[patch_col])
                if not m:
                    problems.append("README.md: table row names no .patch file: %s" % row.strip())
                    continue
                name = m.group(1)
                files = set(PATH_TOKEN.findall(cells[files_col]))
                if not files:
                    problems.append("README.md: %s: no files listed (write them as `path`)" % name)
                if name in table:
                    problems.append("README.md: %s listed twice" % name)
                table[name] = files
            continue
        i += 1
    if not found_table:
        problems.append("README.md: no table with columns 'Patch' and 'Files touched'")
    return table


def check_patch(path, name, problems):
    """Parse one format-patch file; return the set of files it touches."""
    def bad(msg):
        problems.append("%s: %s" % (name, msg))

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        bad("cannot read: %s" % e)
        return set()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not FROM_LINE.match(lines[0]):
        bad("first line is not 'From <sha> Mon Sep 17 00:00:00 2001'")

    # Mail headers up to the first blank line (with RFC 822 continuations).
    headers = {}
    i = 1
    last = None
    while i < len(lines) and lines[i] != "":
        line = lines[i]
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            headers[last] = value.strip()
        else:
            bad("malformed header line %d: %r" % (i + 1, line))
        i += 1
    for key in ("from", "date", "subject"):
        if not headers.get(key):
            bad("missing '%s:' header" % key.capitalize())
    subject = headers.get("subject", "")
    if subject and not subject.startswith("[PATCH"):
        bad("Subject does not start with '[PATCH'")
    if subject and len(subject.split("]", 1)[-1].strip()) == 0:
        bad("Subject has no summary")

    # Commit message body up to the '---' separator.
    try:
        sep = lines.index("---", i)
    except ValueError:
        bad("no '---' line separating the message from the diff")
        return set()
    body = "\n".join(lines[i:sep]).strip()
    if not body:
        bad("empty commit message body")
    message = subject + "\n" + body
    for ref in REQUIRED_REFS:
        if not re.search(re.escape(ref) + r"(?!\d)", message):
            bad("commit message does not mention %s" % ref)

    # Diffstat, then the diff sections.
    try:
        first_diff = next(k for k in range(sep + 1, len(lines)) if lines[k].startswith("diff --git "))
    except StopIteration:
        bad("no 'diff --git' section")
        return set()
    if not any(DIFFSTAT_SUMMARY.match(l) for l in lines[sep + 1:first_diff]):
        bad("no diffstat summary ('N files changed') after '---'")

    touched = set()
    k = first_diff
    n = len(lines)
    while k < n:
        line = lines[k]
        if line == "-- ":  # signature: end of the diff
            break
        m = DIFF_GIT.match(line)
        if not m:
            bad("line %d: expected 'diff --git a/X b/X', got %r" % (k + 1, line))
            return touched
        a_path, b_path = m.group(1), m.group(2)
        touched.add(b_path)
        if a_path != b_path:
            touched.add(a_path)
        k += 1
        # Extended header lines (index, modes, renames) until '---'.
        while k < n and not lines[k].startswith("--- ") and not lines[k].startswith("diff --git ") \
                and not lines[k].startswith("@@") and lines[k] != "-- ":
            k += 1
        if k >= n or not lines[k].startswith("--- "):
            bad("%s: missing '---' line" % b_path)
            continue
        old = lines[k][4:]
        if old not in ("a/" + a_path, "/dev/null"):
            bad("%s: '---' line names %r" % (b_path, old))
        k += 1
        if k >= n or not lines[k].startswith("+++ "):
            bad("%s: missing '+++' line" % b_path)
            continue
        new = lines[k][4:]
        if new not in ("b/" + b_path, "/dev/null"):
            bad("%s: '+++' line names %r" % (b_path, new))
        k += 1
        hunks = 0
        while k < n and lines[k].startswith("@@"):
            hm = HUNK.match(lines[k])
            if not hm:
                bad("%s: malformed hunk header %r" % (b_path, lines[k]))
                return touched
            header_line = k + 1
            old_left = int(hm.group(2)) if hm.group(2) is not None else 1
            new_left = int(hm.group(4)) if hm.group(4) is not None else 1
            hunks += 1
            k += 1
            while k < n and (old_left > 0 or new_left > 0):
                l = lines[k]
                if l.startswith("\\"):  # "\ No newline at end of file"
                    k += 1
                    continue
                tag = l[:1]
                if tag == " " or l == "":
                    if old_left == 0 or new_left == 0:
                        break
                    old_left -= 1
                    new_left -= 1
                elif tag == "-" and old_left > 0:
                    old_left -= 1
                elif tag == "+" and new_left > 0:
                    new_left -= 1
                else:
                    break
                k += 1
            while k < n and lines[k].startswith("\\"):
                k += 1
            if old_left != 0 or new_left != 0:
                bad("%s: hunk at line %d: line counts do not match its header "
                    "(%d old / %d new lines missing)" % (b_path, header_line, old_left, new_left))
                return touched
        if hunks == 0:
            bad("%s: no hunks" % b_path)
        if k < n and not (lines[k].startswith("diff --git ") or lines[k] == "-- "):
            bad("line %d: unexpected line after hunk: %r" % (k + 1, lines[k]))
            return touched
    return touched


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    pdir = argv[1] if len(argv) > 1 else os.path.join(here, "..", "..", "patches")
    problems = []
    if not os.path.isdir(pdir):
        print("check_patches: %s: not a directory" % pdir)
        return 1
    table = parse_readme(os.path.join(pdir, "README.md"), problems)
    files = sorted(f for f in os.listdir(pdir) if f.endswith(".patch"))
    if not files:
        problems.append("no *.patch files in %s" % pdir)
    for name in sorted(set(table) - set(files)):
        problems.append("README.md: lists %s, which does not exist" % name)
    for name in files:
        touched = check_patch(os.path.join(pdir, name), name, problems)
        if name not in table:
            problems.append("%s: not listed in the README.md table" % name)
            continue
        listed = table[name]
        for p in sorted(touched - listed):
            problems.append("%s: touches %s, which the README does not list" % (name, p))
        for p in sorted(listed - touched):
            problems.append("%s: README lists %s, which the patch does not touch" % (name, p))
    if problems:
        for p in problems:
            print(p)
        return 1
    print("check_patches: %d patches OK" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

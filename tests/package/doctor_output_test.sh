#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# kmemguard doctor --output FILE: the same bytes as stdout, written by
# rename (a new inode, never a partial file), no temporary file left, and a
# clear error with nothing left behind when it cannot write.
#   doctor_output_test.sh KMEMGUARD FIXTURES
set -uo pipefail
KMG=$1
FIX=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
roots=(--proc "$FIX/el7-cliff/proc" --sys "$FIX/el7-cliff/sys" --no-runtimes --format prometheus)

"$KMG" doctor "${roots[@]}" >"$T/stdout"
want=$?
mkdir "$T/textfile"
"$KMG" doctor "${roots[@]}" --output "$T/textfile/kmemguard.prom" >"$T/out2" 2>"$T/err"
got=$?
[ "$got" = "$want" ] && ok || bad "exit $got with --output, $want without"
[ ! -s "$T/out2" ] && ok || bad "--output also wrote to stdout"
# The same report but for the time of the run.
same() { cmp -s <(grep -v '^kmemguard_doctor_last_run_timestamp_seconds' "$1") \
                <(grep -v '^kmemguard_doctor_last_run_timestamp_seconds' "$2"); }
same "$T/stdout" "$T/textfile/kmemguard.prom" && ok || bad "--output differs from stdout"
grep -q '^kmemguard_' "$T/textfile/kmemguard.prom" && ok || bad "no kmemguard_ metric in the file"
[ "$(stat -c %a "$T/textfile/kmemguard.prom")" = 644 ] && ok || bad "mode $(stat -c %a "$T/textfile/kmemguard.prom")"
# A second run replaces the file by rename: a new inode, while a reader
# holding the old one still reads the complete old report.
exec 3<"$T/textfile/kmemguard.prom"
cp "$T/textfile/kmemguard.prom" "$T/old.prom"
before=$(stat -c %i "$T/textfile/kmemguard.prom")
"$KMG" doctor "${roots[@]}" --output "$T/textfile/kmemguard.prom" 2>"$T/err"
after=$(stat -c %i "$T/textfile/kmemguard.prom")
[ "$before" != "$after" ] && ok || bad "rewritten in place (inode $before), not renamed"
cmp -s "$T/old.prom" /dev/fd/3 && ok || bad "the old file changed under its reader"
exec 3<&-
[ "$(ls -A "$T/textfile")" = kmemguard.prom ] && ok || bad "left behind: $(ls -A "$T/textfile")"

# A path whose parent is a regular file: exit 3, one line naming the path
# and errno, nothing created.
echo x >"$T/notadir"
"$KMG" doctor "${roots[@]}" --output "$T/notadir/kmemguard.prom" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && ok || bad "parent is a file: exit $rc, want 3"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "notadir" "$T/err" &&
  grep -q "Not a directory" "$T/err" && ok ||
  bad "parent is a file: error was: $(cat "$T/err")"
[ "$(cat "$T/notadir")" = x ] && [ "$(ls -A "$T" | grep -c notadir)" = 1 ] && ok ||
  bad "parent is a file: something changed: $(ls -A "$T")"

# The rename fails (the target is a directory): the temporary file is
# removed again.
mkdir "$T/textfile/dir.prom"
"$KMG" doctor "${roots[@]}" --output "$T/textfile/dir.prom" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && grep -q "rename .*Is a directory" "$T/err" && ok ||
  bad "rename onto a directory: exit $rc: $(cat "$T/err")"
[ "$(ls -A "$T/textfile" | tr '\n' ' ')" = "dir.prom kmemguard.prom " ] && ok ||
  bad "left behind after a failed rename: $(ls -A "$T/textfile")"

echo "doctor --output: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

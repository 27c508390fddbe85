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
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
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
cmp -s "$T/stdout" "$T/textfile/kmemguard.prom" && ok || bad "--output differs from stdout"
grep -q '^kmemguard_' "$T/textfile/kmemguard.prom" && ok || bad "no kmemguard_ metric in the file"
[ "$(stat -c %a "$T/textfile/kmemguard.prom")" = 644 ] && ok || bad "mode $(stat -c %a "$T/textfile/kmemguard.prom")"
# A second run replaces the file by rename: a new inode, while a reader
# holding the old one still reads the complete old report.
exec 3<"$T/textfile/kmemguard.prom"
before=$(stat -c %i "$T/textfile/kmemguard.prom")
"$KMG" doctor "${roots[@]}" --output "$T/textfile/kmemguard.prom" 2>"$T/err"
after=$(stat -c %i "$T/textfile/kmemguard.prom")
[ "$before" != "$after" ] && ok || bad "rewritten in place (inode $before), not renamed"
cmp -s "$T/stdout" /dev/fd/3 && ok || bad "the old file changed under its reader"
exec 3<&-
[ "$(ls -A "$T/textfile")" = kmemguard.prom ] && ok || bad "left behind: $(ls -A "$T/textfile")"

# An unwritable directory: exit 3, one line naming the path and errno,
# nothing created.
mkdir "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" = 0 ]; then
  # root writes anyway; a missing directory fails for everyone.
  target="$T/missing/kmemguard.prom"
else
  target="$T/ro/kmemguard.prom"
fi
"$KMG" doctor "${roots[@]}" --output "$target" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && ok || bad "unwritable: exit $rc, want 3"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "kmemguard.prom" "$T/err" &&
  grep -q "No such file or directory\|Permission denied" "$T/err" && ok ||
  bad "unwritable: error was: $(cat "$T/err")"
[ -z "$(ls -A "$T/ro")" ] && ok || bad "left in ro/: $(ls -A "$T/ro")"
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

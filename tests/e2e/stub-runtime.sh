#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A runtime test double for the wrapper's process-model tests: it keeps
# runc's state layout (one directory per container under --root) and does
# nothing else. Every call is appended to $STUB_LOG ("<cmd> <id> <pid>").
#   create/run  mkdir <root>/<id>; run then sleeps $STUB_RUN_SECONDS and
#               removes it again, exiting $STUB_RUN_EXIT
#   delete      rm -r <root>/<id>
#   state       exit 1 ("does not exist") without <root>/<id>
# $STUB_KILL_AT=<cmd>:before|after SIGKILLs itself before or after the
# state change (crash tests); $STUB_FAIL=<cmd> exits 1 without a change.
set -u
root="" cmd="" id=""
commands=" checkpoint create delete events exec kill list pause ps restore resume run spec start state update "
args=("$@")
i=0
while [ $i -lt ${#args[@]} ]; do
  a=${args[$i]}
  case "$a" in
    --root) i=$((i + 1)); root=${args[$i]} ;;
    --root=*) root=${a#--root=} ;;
    --version|-v) echo "stub-runtime version 1"; exit 0 ;;
    --*=*) ;;
    -*) n=${args[$((i + 1))]:-}
        case "$n" in -*|"") ;; *) [[ "$commands" == *" $n "* ]] || i=$((i + 1)) ;; esac ;;
    *) cmd=$a; i=$((i + 1)); break ;;
  esac
  i=$((i + 1))
done
while [ $i -lt ${#args[@]} ]; do
  a=${args[$i]}
  case "$a" in
    --bundle|-b|--pid-file|--console-socket) i=$((i + 1)) ;;
    -*) ;;
    *) [ -z "$id" ] && id=$a ;;
  esac
  i=$((i + 1))
done
[ -n "${STUB_LOG:-}" ] && echo "$cmd $id $$" >>"$STUB_LOG"
if [ -z "$root" ]; then echo "stub-runtime: --root is required" >&2; exit 2; fi
kill_at() { [ "${STUB_KILL_AT:-}" = "$cmd:$1" ] && kill -9 $$; }
[ "${STUB_FAIL:-}" = "$cmd" ] && { echo "stub-runtime: $cmd failed" >&2; exit 1; }
case "$cmd" in
  create|run|restore)
    kill_at before
    if [ -e "$root/$id" ]; then echo "container with id exists: $id" >&2; exit 1; fi
    mkdir -p "$root/$id"
    kill_at after
    if [ "$cmd" = run ]; then
      sleep "${STUB_RUN_SECONDS:-0}"
      rm -rf "${root:?}/$id"
      exit "${STUB_RUN_EXIT:-0}"
    fi ;;
  delete)
    kill_at before
    [ -d "$root/$id" ] || { echo "container does not exist: $id" >&2; exit 1; }
    rm -rf "${root:?}/$id"
    kill_at after ;;
  state)
    [ -d "$root/$id" ] || { echo "container does not exist: $id" >&2; exit 1; }
    echo "{\"id\": \"$id\"}" ;;
esac
exit 0

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The CTest fixture that makes every `live` test run on a host that looks
# like a node: a named network namespace present, so /proc/self/mountinfo
# carries an nsfs line whose root is "net:[INODE]" (issue 10).
#   netns_fixture.sh setup   NAME STAMP   ip netns add NAME, check the nsfs
#                                         line, write STAMP
#   netns_fixture.sh cleanup NAME STAMP   ip netns delete NAME if STAMP says
#                                         we made it
# tests/CMakeLists.txt runs setup before and cleanup after the live tests
# (FIXTURES_SETUP / FIXTURES_CLEANUP), once per ctest run. Without root or
# ip(8) setup does nothing and succeeds: the live tests then skip (77) on
# their own.
set -u
ACTION=$1
NS=$2
STAMP=$3

case "$ACTION" in
setup)
  if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    echo "no root or no ip(8): live tests run without a network namespace"
    rm -f "$STAMP"
    exit 0
  fi
  # A namespace of this name left by a killed run is ours: start afresh.
  ip netns delete "$NS" 2>/dev/null
  ip netns add "$NS" || { echo "FAIL: ip netns add $NS"; exit 1; }
  echo "$NS" >"$STAMP"
  if ! grep -qE " net:\[[0-9]+\] /run/netns/$NS " /proc/self/mountinfo; then
    echo "FAIL: no nsfs line for /run/netns/$NS in /proc/self/mountinfo"
    exit 1
  fi
  echo "network namespace $NS present for the live tests"
  ;;
cleanup)
  if [ -f "$STAMP" ]; then
    ip netns delete "$NS" || { echo "FAIL: ip netns delete $NS"; exit 1; }
    rm -f "$STAMP"
  fi
  ;;
*)
  echo "usage: $0 setup|cleanup NAME STAMP" >&2
  exit 2
  ;;
esac

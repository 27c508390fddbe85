# SPDX-License-Identifier: Apache-2.0
# Sourced by the live test scripts. Under ctest, the `netns` fixture
# (tests/testing/netns_fixture.sh) has made a named network namespace and
# exported its name as KMEMGUARD_TEST_NETNS: fail when it is not there, so a
# live test can never pass on a host without one (issue 10). Run by hand,
# without the variable, the script runs on the host as it is.
require_test_netns() {
  [ -n "${KMEMGUARD_TEST_NETNS:-}" ] || return 0
  if ! grep -qE " net:\[[0-9]+\] /run/netns/$KMEMGUARD_TEST_NETNS " /proc/self/mountinfo; then
    echo "FAIL: network namespace $KMEMGUARD_TEST_NETNS (ctest fixture netns) is missing" >&2
    exit 1
  fi
}

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds kmemguard with warnings as errors and runs every test: unit,
# fixture, live kernel (skipped without root or a v1 memory hierarchy),
# real-runc end to end, the patch checks, and the example built against the
# installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
BUILD=${KMEMGUARD_BUILD_DIR:-build/test}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKMEMGUARD_WERROR=ON >/dev/null
cmake --build "$BUILD"
ctest --test-dir "$BUILD" --output-on-failure -j2 ${KMEMGUARD_CTEST_ARGS:-}

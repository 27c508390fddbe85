#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds kmemguard and runs every test, as CI does:
#  1. the whole CTest suite under AddressSanitizer + UBSan (Debug);
#  2. every libFuzzer target briefly, on its seeds and past crashes
#     (KMEMGUARD_FUZZ_SECONDS per target, default 20; 0 skips);
#  3. the whole CTest suite with -Werror (RelWithDebInfo) against the fully
#     static programs that the packages ship (KMEMGUARD_FULLY_STATIC): unit,
#     fixture, live kernel (skipped without root or a v1 memory hierarchy),
#     real-runc end to end, doctor, valgrind, the patch checks, the example
#     built against the installed package, the same tests again under the
#     Linux 3.10 syscall jail, and the .deb/.rpm built from this build
#     directory (installed, upgraded, purged); then the packages are written
#     to dist/ from the same build, without compiling again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
BUILD=${KMEMGUARD_BUILD_DIR:-build/test}
# Three builds of the same sources: ccache (installed by deps.sh) makes the
# second and later CI runs on a machine mostly cache hits. CCACHE_BASEDIR
# keeps hits across clones in different directories.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=$(pwd) CCACHE_NOHASHDIR=1
fi

# The whole run happens on a host that looks like a node: a named network
# namespace present (issue 10: one nsfs line in mountinfo once made every
# command fail). Each ctest run also makes its own for the live tests
# (the `netns` fixture in tests/CMakeLists.txt); this one covers everything
# else the run does (fuzz replay, builds, the example) and stays in place
# between the ctest runs. Removed on exit, also on failure.
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  CI_NETNS=kmemguard-ci-$$
  ip netns add "$CI_NETNS"
  trap 'ip netns delete "$CI_NETNS" 2>/dev/null' EXIT
  trap 'exit 130' INT TERM
fi

echo "== 1/3 ASan + UBSan"
cmake -S . -B "$BUILD-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DKMEMGUARD_SANITIZE=ON -DKMEMGUARD_WERROR=ON -DKMEMGUARD_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD-asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$BUILD-asan" --output-on-failure -j2 ${KMEMGUARD_CTEST_ARGS:-}

if [ "${KMEMGUARD_FUZZ_SECONDS:-20}" != 0 ] && [ -x scripts/fuzz.sh ] && [ -d tests/fuzz ]; then
  echo "== 2/3 fuzz regression (${KMEMGUARD_FUZZ_SECONDS:-20} s per target)"
  FUZZ_BUILD_DIR="$(pwd)/$BUILD-fuzz" FUZZ_JOBS=2 scripts/fuzz.sh "${KMEMGUARD_FUZZ_SECONDS:-20}"
fi

echo "== 3/3 -Werror build, every test"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKMEMGUARD_WERROR=ON -DKMEMGUARD_FULLY_STATIC=ON >/dev/null
cmake --build "$BUILD"
ctest --test-dir "$BUILD" --output-on-failure -j2 ${KMEMGUARD_CTEST_ARGS:-}
# The package tests built the packages from this build into $BUILD/dist;
# if they did not run, build them now (from the same build, no compiling).
if ! ls "$BUILD"/dist/*.deb >/dev/null 2>&1; then
  KMEMGUARD_DIST_DIR="$BUILD/dist" scripts/package.sh "$BUILD"
fi
mkdir -p dist && cp "$BUILD"/dist/* dist/ && ls -l dist

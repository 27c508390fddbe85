#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs kmemguard from the build tree into a scratch prefix, builds
# examples/ against it with find_package(kmemguard) and with pkg-config,
# and runs the example (it exits 77 without root or v1; that is a skip).
#   check_example.sh SOURCE_DIR BUILD_DIR [SANITIZE]
# SANITIZE=ON: the installed library is ASan/UBSan-instrumented, so the
# consumer links with the same runtime.
set -euo pipefail
SRC=$1
BUILD=$2
EXTRA=""
[ "${3:-OFF}" = ON ] && EXTRA="-fsanitize=address,undefined"
PREFIX="$BUILD/example-install"
rm -rf "$PREFIX" "$BUILD/example-build"
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
# The package is kmemguard::core alone: no doctor or sim headers, and no
# test double (RecordingCgroupFs lives in tests/testing/).
for absent in include/kmemguard/doctor include/kmemguard/sim; do
  if [ -e "$PREFIX/$absent" ]; then
    echo "FAIL: $absent is installed" >&2
    exit 1
  fi
done
if grep -rqE "class (RecordingCgroupFs|LegacyKernelSim)" "$PREFIX/include"; then
  echo "FAIL: the installed headers carry a test double or the simulator" >&2
  exit 1
fi
cmake -S "$SRC/examples" -B "$BUILD/example-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_CXX_FLAGS="$EXTRA" >/dev/null
cmake --build "$BUILD/example-build" >/dev/null
# The pkg-config file must work too.
PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig:${PKG_CONFIG_PATH:-}" \
  c++ -std=c++17 $EXTRA "$SRC/examples/custom_runtime.cc" -o "$BUILD/example-build/pc_runtime" \
  $(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --cflags --libs kmemguard)
"$BUILD/example-build/custom_runtime" "/kmemguard-example-$$/ctr-1"

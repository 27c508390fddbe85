#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the node-agent image from a directory of binaries (a build
# directory, or dist/ with the static binaries):
#
#   deploy/image/build.sh BIN_DIR [TAG]      (default kmemguard/node-agent:0.1.0)
#
# It stages kmemguard, kmemguard-runtime and kmemguard-hook into a context of
# their own (a build directory is large) and runs `docker build` with the
# classic builder (no BuildKit frontend image to pull). A FROM scratch image
# has no dynamic loader, so dynamically linked binaries are refused unless
# KMEMGUARD_ALLOW_DYNAMIC=1 (tests only: such an image cannot run).
set -eu
BIN=$1
TAG=${2:-kmemguard/node-agent:0.1.0}
HERE=$(cd "$(dirname "$0")" && pwd)
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
for b in kmemguard kmemguard-runtime kmemguard-hook; do
  [ -x "$BIN/$b" ] || { echo "build.sh: $BIN/$b: no such executable" >&2; exit 1; }
  if readelf -l "$BIN/$b" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    if [ "${KMEMGUARD_ALLOW_DYNAMIC:-0}" != 1 ]; then
      echo "build.sh: $BIN/$b is dynamically linked; a FROM scratch image needs static binaries" >&2
      exit 1
    fi
  fi
  cp "$BIN/$b" "$CTX/$b"
done
cp "$HERE/Dockerfile" "$CTX/Dockerfile"
DOCKER_BUILDKIT=0 "${DOCKER:-docker}" build -t "$TAG" "$CTX"

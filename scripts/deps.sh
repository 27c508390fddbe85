#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian packages kmemguard needs that are missing.
#   scripts/deps.sh demo   what the demo needs
#   scripts/deps.sh test   what the whole test suite needs
#   scripts/deps.sh package  what scripts/package.sh needs
set -euo pipefail
want=(build-essential cmake ninja-build pkg-config libabsl-dev
      nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libseccomp-dev
      libboost-filesystem-dev runc busybox-static)
# scripts/package.sh: rpmbuild, dpkg-deb/dpkg-shlibdeps, lintian; strace
# and binutils for the static-binary and jail checks.
pkg=(rpm dpkg-dev lintian binutils strace iproute2)
if [ "${1:-test}" = package ]; then
  want+=("${pkg[@]}")
fi
if [ "${1:-test}" = test ]; then
  want+=("${pkg[@]}" catch2 python3 python3-jsonschema python3-prometheus-client strace
         clang-14 libclang-rt-14-dev libbenchmark-dev valgrind jq podman
         prometheus prometheus-node-exporter yamllint python3-yaml docker.io containerd
         iproute2 ccache)
  # bench/run's peer rows: runc 1.1.5's Go source, built in GOPATH mode.
  want+=(golang-go golang-github-opencontainers-runc-dev)
  # deploy/kubernetes checks: any kubectl (Debian's is kubernetes-client).
  command -v kubectl >/dev/null || want+=(kubernetes-client)
fi
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the node packages into dist/:
#   kmemguard_VERSION-1_amd64.deb, libkmemguard-dev_VERSION-1_amd64.deb
#   kmemguard-VERSION-1.x86_64.rpm, kmemguard-devel-VERSION-1.x86_64.rpm
# from fully static binaries (KMEMGUARD_FULLY_STATIC), so one build runs on
# RHEL/CentOS 7 (glibc 2.17, kernel 3.10) and every later distribution.
#   scripts/package.sh             configure and build build/package
#   scripts/package.sh BUILD_DIR   reuse a build configured with
#                                  -DKMEMGUARD_FULLY_STATIC=ON (CI: stage 3)
# KMEMGUARD_DIST_DIR overrides dist/ (the package tests write elsewhere).
# No package script enables or starts a unit or touches a container engine's
# configuration: registering the runtime stays `kmemguard configure`.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
scripts/deps.sh package
die() { echo "package.sh: $*" >&2; exit 1; }

if [ $# -ge 1 ]; then
  BUILD=$(cd "$1" && pwd)
else
  BUILD=$SRC/build/package
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKMEMGUARD_FULLY_STATIC=ON -DKMEMGUARD_BUILD_TESTS=OFF \
    -DKMEMGUARD_BUILD_BENCH=OFF >/dev/null
fi
grep -q '^KMEMGUARD_FULLY_STATIC:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null ||
  die "$BUILD is not configured with -DKMEMGUARD_FULLY_STATIC=ON"
cmake --build "$BUILD" --target kmemguard_core kmemguard_core_shared kmemguard_cli \
  kmemguard_runtime kmemguard_hook
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
[ -n "$VERSION" ] || die "no project version in $BUILD/CMakeCache.txt"
REL=1
DIST=${KMEMGUARD_DIST_DIR:-$SRC/dist}
mkdir -p "$DIST"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# ---------------------------------------------------------------- staging
# One install tree; each package takes its files from it.
ROOT=$W/root
DESTDIR=$ROOT cmake --install "$BUILD" --prefix /usr --strip >/dev/null
for b in kmemguard kmemguard-runtime kmemguard-hook; do
  # (ldd exits 1 on a static binary.)
  out=$(ldd "$ROOT/usr/bin/$b" 2>&1 || true)
  grep -q "not a dynamic executable" <<<"$out" || die "$b is not static: $out"
done
# --strip leaves archives alone; their debug info would be most of the
# payload (Debian policy 10.2: static libraries --strip-debug).
strip --strip-debug "$ROOT/usr/lib/libkmemguard.a"
# The hooks.d files name the hook where the package puts it.
sed -i 's|"/usr/local/bin/kmemguard-hook"|"/usr/bin/kmemguard-hook"|' \
  "$ROOT"/usr/share/containers/oci/hooks.d/*.json
! grep -q /usr/local "$ROOT"/usr/share/containers/oci/hooks.d/*.json ||
  die "hooks.d still names /usr/local"
install -D -m 0644 packaging/config.toml "$ROOT/etc/kmemguard/config.toml"
install -d "$ROOT/usr/share/man/man5" "$ROOT/usr/share/man/man8"
for m in packaging/man/*.[58]; do
  gzip -9n <"$m" >"$ROOT/usr/share/man/man${m##*.}/$(basename "$m").gz"
done
UNITS=(packaging/systemd/*.service packaging/systemd/*.timer)
DEV_FILES=(usr/include usr/lib)

# -------------------------------------------------------------------- deb
deb_doc() {  # deb_doc PKGROOT PACKAGE
  local d=$1/usr/share/doc/$2
  install -d "$d"
  install -m 0644 packaging/deb/copyright "$d/copyright"
  sed "s/@VERSION@/$VERSION-$REL/; s/@DATE@/$(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
    packaging/deb/changelog | sed "1s/^kmemguard /$2 /" | gzip -9n >"$d/changelog.Debian.gz"
}
deb_build() {  # deb_build PKGROOT PACKAGE CONTROL-FIELDS...
  local r=$1 pkg=$2
  shift 2
  (cd "$r" && find . -type f ! -path ./DEBIAN/\* -printf '%P\0' | sort -z |
     xargs -0r md5sum) >"$W/md5sums"
  install -d "$r/DEBIAN"
  mv "$W/md5sums" "$r/DEBIAN/md5sums"
  local size
  size=$(du -sk --exclude=DEBIAN "$r" | cut -f1)
  {
    echo "Package: $pkg"
    echo "Version: $VERSION-$REL"
    echo "Architecture: amd64"
    echo "Maintainer: kmemguard maintainers <kmemguard@example.org>"
    echo "Installed-Size: $size"
    printf '%s\n' "$@"
  } >"$r/DEBIAN/control"
  find "$r" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zxz --build "$r" "$DIST/${pkg}_${VERSION}-${REL}_amd64.deb" >/dev/null
}
# Static binaries carry these sources (Debian policy 7.8, Built-Using).
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version}), ' \
  libc6-dev libseccomp-dev libabsl-dev "libstdc++-$(gcc -dumpversion)-dev" | sed 's/, $//')

D=$W/deb-kmemguard
install -d "$D"
(cd "$ROOT" && cp -a --parents usr/bin etc usr/share/containers usr/share/man "$D/")
install -d "$D/lib/systemd/system"
install -m 0644 "${UNITS[@]}" "$D/lib/systemd/system/"
install -D -m 0644 packaging/deb/lintian-overrides "$D/usr/share/lintian/overrides/kmemguard"
deb_doc "$D" kmemguard
echo /etc/kmemguard/config.toml >"$W/conffiles"
install -d "$D/DEBIAN" && install -m 0644 "$W/conffiles" "$D/DEBIAN/conffiles"
deb_build "$D" kmemguard "Section: admin" "Priority: optional" \
  "Built-Using: $built_using" "Suggests: runc" \
  "Homepage: https://github.com/kubernetes/kubernetes/issues/61937" \
  "Description: runc wrapper that stops the cgroup v1 memory-cgroup ID leak" \
  " kmemguard-runtime wraps runc (Docker, containerd, CRI-O, Podman) and" \
  " creates each container's memory cgroup with kernel-memory accounting" \
  " only where a kernel-memory limit was asked for, so cgroups no longer" \
  " leak memory-cgroup IDs on RHEL/CentOS 7 kernels. kmemguard doctor reports" \
  " how close a node is to the 65,535-ID limit, also for Prometheus." \
  " The binaries are static and run on every distribution."

L=$W/deb-dev
install -d "$L"
(cd "$ROOT" && cp -a --parents "${DEV_FILES[@]}" "$L/")
install -D -m 0644 packaging/deb/lintian-overrides-dev "$L/usr/share/lintian/overrides/libkmemguard-dev"
deb_doc "$L" libkmemguard-dev
# The shared library's dependencies, as dpkg-shlibdeps computes them.
install -d "$W/shlibs/debian"
printf 'Source: kmemguard\n\nPackage: libkmemguard-dev\nArchitecture: any\n' >"$W/shlibs/debian/control"
# ldconfig runs through dpkg's trigger (no maintainer script); shlibs lets
# other packages depend on the library.
install -d "$L/DEBIAN"
echo "activate-noawait ldconfig" >"$L/DEBIAN/triggers"
echo "libkmemguard 0.1 libkmemguard-dev (>= $VERSION)" >"$L/DEBIAN/shlibs"
shlibs=$(cd "$W/shlibs" && dpkg-shlibdeps -O "$L"/usr/lib/libkmemguard.so.*.* 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies"
deb_build "$L" libkmemguard-dev "Section: libdevel" "Priority: optional" \
  "Depends: $shlibs, libabsl-dev" \
  "Description: kmemguard library: runc's cgroup v1 memory subsystem with the kmem guard" \
  " The library behind kmemguard for custom runtimes: path resolution, Apply," \
  " Set, GetStats, Remove and OCI config mapping, with kernel-memory" \
  " accounting only where a kernel-memory limit was asked for. Shared and" \
  " static library, headers, CMake package (find_package(kmemguard)) and" \
  " pkg-config file."

# -------------------------------------------------------------------- rpm
# RHEL puts 64-bit libraries in /usr/lib64; the CMake and pkg-config files
# find the prefix relative to themselves, at the same depth.
R=$W/rpmroot
install -d "$R"
cp -a "$ROOT/." "$R/"
mv "$R/usr/lib" "$R/usr/lib64"
sed -i 's|/lib/|/lib64/|g' "$R"/usr/lib64/cmake/kmemguard/kmemguardTargets-*.cmake
sed -i 's|^libdir=${prefix}/lib$|libdir=${prefix}/lib64|' "$R/usr/lib64/pkgconfig/kmemguard.pc"
install -d "$R/usr/lib/systemd/system"
install -m 0644 "${UNITS[@]}" "$R/usr/lib/systemd/system/"
install -d "$R/usr/share/doc/kmemguard"
install -m 0644 packaging/deb/copyright "$R/usr/share/doc/kmemguard/copyright"
unit_files=$(for u in "${UNITS[@]}"; do echo "/usr/lib/systemd/system/$(basename "$u")"; done)
sed -e "s/@VERSION@/$VERSION/; s/@RELEASE@/$REL/" \
    -e "/@UNITS@/{
r /dev/stdin
d
}" packaging/kmemguard.spec.in <<<"$unit_files" >"$W/kmemguard.spec"
# xz payload and SHA-256 file digests: what RHEL 7's rpm 4.11 reads (not
# zstd). No automatic requires: the binaries are static, and the devel
# package's shared library would otherwise require Debian's sonames.
rpmbuild -bb --quiet --target x86_64 \
  --define "_topdir $W/rpmbuild" --define "_rpmdir $W/rpms" \
  --define "_binary_payload w6.xzdio" --define "_binary_filedigest_algorithm 8" \
  --define "_build_id_links none" --define "debug_package %{nil}" \
  --define "__os_install_post %{nil}" --define "kmg_root $R" \
  --define "_buildhost kmemguard-build" \
  "$W/kmemguard.spec" >/dev/null
cp "$W"/rpms/x86_64/*.rpm "$DIST/"

# ------------------------------------------------------------------ check
if command -v lintian >/dev/null; then
  lintian --fail-on error,warning \
    "$DIST/kmemguard_${VERSION}-${REL}_amd64.deb" \
    "$DIST/libkmemguard-dev_${VERSION}-${REL}_amd64.deb"
fi
ls -l "$DIST"

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The node packages, built by scripts/package.sh from this (fully static)
# build directory, no compilation:
#   package_test.sh SOURCE_DIR BUILD_DIR FULLY_STATIC build|deb|rpm
# build: scripts/package.sh BUILD_DIR into BUILD_DIR/dist (lintian-clean
#      or it fails); the deb and rpm tests use those packages.
# deb: installed on this machine, run from the installed paths, upgraded with
#      a locally changed config.toml that must survive, purged leaving
#      nothing behind (dpkg -L before vs the file system after). The package
#      has no maintainer scripts, so installing it starts or restarts
#      nothing; it is purged on every exit, failures included.
# rpm: file list, scripts, dependencies (nothing beyond el7's glibc 2.17:
#      no library at all), payload compression el7 reads, %config(noreplace),
#      then installed with rpm -i --root into a scratch root whose binaries
#      run there (chroot: no library of this machine is reachable).
# Exits 77 (CTest: Skipped) when KMEMGUARD_FULLY_STATIC is off, without
# root, or without dpkg / rpm.
set -uo pipefail
SRC=$1
BUILD=$2
MODE=$4
[ "$3" = ON ] || { echo "SKIP: KMEMGUARD_FULLY_STATIC is off"; exit 77; }
for tool in dpkg dpkg-deb rpm rpmbuild; do
  command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 77; }
done
DIST=$BUILD/dist
if [ "$MODE" = build ]; then
  rm -rf "$DIST"
  KMEMGUARD_DIST_DIR=$DIST "$SRC/scripts/package.sh" "$BUILD"
  exit $?
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
T=$(mktemp -d /tmp/kmemguard-package.XXXXXX)
INSTALLED=""
cleanup() {
  if [ -n "$INSTALLED" ]; then
    DEBIAN_FRONTEND=noninteractive dpkg --purge kmemguard libkmemguard-dev >/dev/null 2>&1
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$MODE" = deb ]; then
  # Never replace a kmemguard this machine has installed for real.
  for p in kmemguard libkmemguard-dev; do
    if [ "$(dpkg-query -W -f='${Status}' $p 2>/dev/null)" = "install ok installed" ]; then
      echo "SKIP: $p is already installed on this machine"
      exit 77
    fi
  done
fi

VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
DEB=$DIST/kmemguard_${VERSION}-1_amd64.deb
DEV=$DIST/libkmemguard-dev_${VERSION}-1_amd64.deb
RPM=$DIST/kmemguard-${VERSION}-1.x86_64.rpm
RPMDEV=$DIST/kmemguard-devel-${VERSION}-1.x86_64.rpm
for f in "$DEB" "$DEV" "$RPM" "$RPMDEV"; do
  [ -f "$f" ] || { ls -l "$DIST"; echo "FAIL: no $f"; exit 1; }
done

# A stub for the real runtime: kmemguard-runtime --version must exec it.
cat >"$T/stub-runc" <<'EOF'
#!/bin/sh
echo "stub-runc $*"
EOF
chmod +x "$T/stub-runc"

deb_test() {
  # No maintainer scripts: nothing is enabled, started or restarted, and no
  # engine configuration is touched.
  for d in "$DEB" "$DEV"; do
    dpkg-deb -e "$d" "$T/ctl"
    check '[ "$(ls "$T/ctl" | sort | tr "\n" " ")" = "$(cd "$T/ctl" && ls conffiles control md5sums shlibs triggers 2>/dev/null | sort | tr "\n" " ")" ]' \
      "$(basename "$d") has maintainer scripts: $(ls "$T/ctl")"
    rm -rf "$T/ctl"
  done
  check '[ "$(dpkg-deb -f "$DEB" Depends)" = "" ]' "the static package has dependencies"
  dpkg-deb -I "$DEB" conffiles >"$T/conffiles"
  check 'grep -qx /etc/kmemguard/config.toml "$T/conffiles"' "config.toml is not a conffile"

  INSTALLED=1
  DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" "$DEV" </dev/null >"$T/install.log" 2>&1
  check '[ $? = 0 ]' "dpkg -i: $(cat "$T/install.log")"
  dpkg -L kmemguard libkmemguard-dev | sort -u >"$T/files"

  # The installed programs, from their installed paths.
  /usr/bin/kmemguard doctor --format json >"$T/doctor.json" 2>"$T/doctor.err"
  rc=$?
  # Any verdict (0 ok .. 3 could not inspect) is this host's; the report
  # must parse and agree with the exit status.
  check 'python3 -c "import json,sys; assert json.load(open(sys.argv[1]))[\"exit_code\"] == int(sys.argv[2])" "$T/doctor.json" $rc' \
    "kmemguard doctor --format json (exit $rc): $(head -c 300 "$T/doctor.json") $(cat "$T/doctor.err")"
  check '[ "$(/usr/bin/kmemguard --version)" = "kmemguard $VERSION" ]' "kmemguard --version"
  check '[ "$(/usr/bin/kmemguard-hook --version)" = "kmemguard-hook $VERSION" ]' "kmemguard-hook --version"
  out=$(KMEMGUARD_RUNTIME="$T/stub-runc" /usr/bin/kmemguard-runtime --version 2>&1)
  check 'grep -q "^stub-runc --version$" <<<"$out"' "kmemguard-runtime --version: $out"
  if command -v runc >/dev/null; then
    out=$(/usr/bin/kmemguard-runtime --version 2>&1)
    check 'grep -q "^runc version" <<<"$out"' "kmemguard-runtime --version with the real runc: $out"
  fi
  # The shipped config.toml parses, and uncommenting every setting gives a
  # valid file (the commented defaults name real keys with valid values).
  sed -n 's/^#\([a-z[]\)/\1/p' /etc/kmemguard/config.toml >"$T/uncommented.toml"
  for cfg in /etc/kmemguard/config.toml "$T/uncommented.toml"; do
    out=$(/usr/bin/kmemguard-runtime --kmemguard-config "$cfg" --log "$T/runtime.log" \
      --kmemguard-runtime "$T/stub-runc" state x 2>&1)
    check '[ "$out" = "stub-runc --log $T/runtime.log state x" ] && ! grep -q "configuration ignored" "$T/runtime.log" 2>/dev/null' \
      "$cfg rejected: $out $(cat "$T/runtime.log" 2>/dev/null)"
  done
  check '[ "$(grep -c "^[a-z[]" "$T/uncommented.toml")" -ge 9 ]' "config.toml lacks commented settings"
  for j in /usr/share/containers/oci/hooks.d/99-kmemguard-*.json; do
    p=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hook"]["path"])' "$j")
    check '[ -x "$p" ]' "$j names $p, which is not installed"
  done
  for m in man8/kmemguard.8 man8/kmemguard-runtime.8 man8/kmemguard-hook.8 man5/kmemguard.toml.5; do
    check '[ -f /usr/share/man/$m.gz ]' "no man page $m"
  done
  for u in kmemguard-doctor.service kmemguard-doctor.timer; do
    check '[ -f /lib/systemd/system/$u ]' "no unit $u"
  done
  # The doctor unit's command line works as written (into a scratch dir).
  cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/kmemguard-doctor.service)
  mkdir "$T/textfile"
  ${cmd//\/var\/lib\/prometheus\/node-exporter/$T/textfile} >/dev/null 2>&1
  check 'grep -q "^kmemguard_" "$T/textfile/kmemguard.prom"' "the unit's command wrote no metrics: $cmd"
  # The -dev package works for a consumer: CMake and pkg-config.
  rm -rf "$T/ex"
  cmake -S "$SRC/examples" -B "$T/ex" -G Ninja >/dev/null 2>&1 && cmake --build "$T/ex" >/dev/null 2>&1
  check '[ -x "$T/ex/custom_runtime" ]' "examples/ against the installed -dev package"
  c++ -std=c++17 "$SRC/examples/custom_runtime.cc" -o "$T/pc_runtime" $(pkg-config --cflags --libs kmemguard) 2>"$T/pc.err"
  libs=$(ldd "$T/pc_runtime" 2>&1)
  check '[ -x "$T/pc_runtime" ] && grep -q "libkmemguard.so.0.1 => .*/lib/libkmemguard.so.0.1" <<<"$libs"' \
    "pkg-config against the installed shared library: $(cat "$T/pc.err")"

  # Upgrade (a later revision of the same package) over a locally changed
  # config.toml: the change survives, without a prompt.
  echo 'failure-policy = "fail-closed"  # local change' >>/etc/kmemguard/config.toml
  cp /etc/kmemguard/config.toml "$T/local.toml"
  dpkg-deb -R "$DEB" "$T/next"
  sed -i "s/^Version: .*/Version: ${VERSION}-2/" "$T/next/DEBIAN/control"
  echo "# shipped default changed in -2" >>"$T/next/etc/kmemguard/config.toml"
  (cd "$T/next" && find . -type f ! -path ./DEBIAN/\* -printf '%P\0' | sort -z | xargs -0 md5sum) >"$T/next/DEBIAN/md5sums"
  dpkg-deb --root-owner-group -Zxz -b "$T/next" "$T/next.deb" >/dev/null
  DEBIAN_FRONTEND=noninteractive dpkg -i --force-confdef --force-confold "$T/next.deb" </dev/null >"$T/upgrade.log" 2>&1
  check '[ $? = 0 ]' "upgrade: $(cat "$T/upgrade.log")"
  check '[ "$(dpkg-query -W -f="\${Version}" kmemguard)" = "${VERSION}-2" ]' "not upgraded"
  check 'cmp -s /etc/kmemguard/config.toml "$T/local.toml"' "the local config.toml was replaced on upgrade"
  # Reinstall the same revision: still kept.
  DEBIAN_FRONTEND=noninteractive dpkg -i "$T/next.deb" </dev/null >"$T/reinstall.log" 2>&1
  check '[ $? = 0 ] && cmp -s /etc/kmemguard/config.toml "$T/local.toml"' "reinstall: $(cat "$T/reinstall.log")"

  # Purge: nothing the packages installed remains, but for directories
  # other packages still own.
  DEBIAN_FRONTEND=noninteractive dpkg --purge kmemguard libkmemguard-dev </dev/null >"$T/purge.log" 2>&1
  check '[ $? = 0 ]' "purge: $(cat "$T/purge.log")"
  INSTALLED=""
  left=""
  while read -r f; do
    [ "$f" = /. ] && continue
    [ -e "$f" ] || [ -L "$f" ] || continue
    # Directories other packages own (or the merged-/usr symlinks /lib, /bin).
    if [ -d "$f" ] && { [ -L "$f" ] || dpkg -S "$f" >/dev/null 2>&1; }; then continue; fi
    left="$left $f"
  done <"$T/files"
  check '[ -z "$left" ]' "left after purge:$left"
  check '[ ! -e /etc/kmemguard ]' "/etc/kmemguard left after purge"
}

rpm_test() {
  rpm -qpl "$RPM" >"$T/list"
  for f in /usr/bin/kmemguard /usr/bin/kmemguard-runtime /usr/bin/kmemguard-hook \
           /etc/kmemguard/config.toml /usr/lib/systemd/system/kmemguard-doctor.service \
           /usr/lib/systemd/system/kmemguard-doctor.timer \
           /usr/share/containers/oci/hooks.d/99-kmemguard-createruntime.json \
           /usr/share/man/man8/kmemguard.8.gz /usr/share/man/man5/kmemguard.toml.5.gz; do
    check 'grep -qx "$f" "$T/list"' "rpm lacks $f"
  done
  rpm -qpl "$RPMDEV" >"$T/devlist"
  for f in /usr/lib64/libkmemguard.a /usr/lib64/libkmemguard.so \
           /usr/lib64/pkgconfig/kmemguard.pc /usr/lib64/cmake/kmemguard/kmemguardConfig.cmake \
           /usr/include/kmemguard/core/memory.h; do
    check 'grep -qx "$f" "$T/devlist"' "devel rpm lacks $f"
  done
  for r in "$RPM" "$RPMDEV"; do
    scripts=$(rpm -qp --scripts "$r")
    check '[ -z "$scripts" ]' "$(basename "$r") has scripts: $scripts"
    rpm -qpR "$r" >"$T/requires"
    # Only rpmlib() features (payload, digests) el7's rpm 4.11 has; no
    # library and so no GLIBC_ version.
    check '! grep -v "^rpmlib(" "$T/requires"' "$(basename "$r") requires: $(grep -v '^rpmlib(' "$T/requires")"
    check '! grep -q "GLIBC_" "$T/requires"' "$(basename "$r") requires a glibc version"
    check '[ "$(rpm -qp --qf "%{PAYLOADCOMPRESSOR}" "$r")" = xz ]' \
      "$(basename "$r") payload is $(rpm -qp --qf '%{PAYLOADCOMPRESSOR}' "$r"), el7 reads xz"
  done
  # rpm 4.11 knows these rpmlib features (RHEL 7's rpmlib(...) list).
  for feat in $(rpm -qpR "$RPM" "$RPMDEV" | sed -n 's/^rpmlib(\([A-Za-z]*\)).*/\1/p' | sort -u); do
    case $feat in
      CompressedFileNames|PayloadFilesHavePrefix|PayloadIsXz|FileDigests|PartialHardlinkSets) ok ;;
      *) bad "rpmlib($feat) may be unknown to el7's rpm 4.11" ;;
    esac
  done
  flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$RPM" | sed -n 's| /etc/kmemguard/config.toml$||p')
  check '[ "$flags" = cn ]' "config.toml is not %config(noreplace): flags '$flags'"

  R=$T/rpmroot
  mkdir -p "$R"
  rpm --root "$R" --initdb
  rpm -i --root "$R" --nodeps --noscripts "$RPM" "$RPMDEV" >"$T/rpm.log" 2>&1
  check '[ $? = 0 ]' "rpm -i --root: $(cat "$T/rpm.log")"
  # The scratch root holds no library and no loader: only a static binary
  # runs there.
  check '[ "$(chroot "$R" /usr/bin/kmemguard --version 2>&1)" = "kmemguard $VERSION" ]' \
    "chroot kmemguard --version: $(chroot "$R" /usr/bin/kmemguard --version 2>&1)"
  check '[ "$(chroot "$R" /usr/bin/kmemguard-hook --version 2>&1)" = "kmemguard-hook $VERSION" ]' \
    "chroot kmemguard-hook --version"
  # The runtime execs the real runtime's --version: a static one, there.
  cp "$R/usr/bin/kmemguard" "$R/fake-runc"
  out=$(KMEMGUARD_RUNTIME=/fake-runc chroot "$R" /usr/bin/kmemguard-runtime --version 2>&1)
  check 'grep -qx "kmemguard $VERSION" <<<"$out"' "chroot kmemguard-runtime --version: $out"
  check 'grep -q "\"/usr/bin/kmemguard-hook\"" "$R/usr/share/containers/oci/hooks.d/99-kmemguard-poststop.json"' \
    "rpm hooks.d does not name /usr/bin/kmemguard-hook"
  pc_libdir=$(PKG_CONFIG_SYSROOT_DIR="" PKG_CONFIG_PATH="$R/usr/lib64/pkgconfig" pkg-config --variable=libdir kmemguard)
  check '[ -f "$pc_libdir/libkmemguard.a" ]' "rpm pkg-config libdir $pc_libdir has no libkmemguard.a"
  check 'grep -q "lib64/libkmemguard.a" "$R"/usr/lib64/cmake/kmemguard/kmemguardTargets-*.cmake' \
    "rpm CMake targets do not point into lib64"
}

case $MODE in
  deb) deb_test ;;
  rpm) rpm_test ;;
  *) echo "usage: package_test.sh SRC BUILD FULLY_STATIC deb|rpm" >&2; exit 2 ;;
esac
echo "package $MODE: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan+UBSan) in
# build-fuzz/ when needed, then runs each target for SECONDS_PER_TARGET
# (default 30) on a copy of its seed corpus tests/fuzz/corpus/<target>/ (the
# committed corpus is never written; new inputs go to a temporary directory),
# with the reproducers in tests/fuzz/regressions/<target>/ replayed first.
# One line per target:
#   <target>: <execs> execs in <s> s, clean
#   <target>: CRASH <artifact>          (and the tail of libFuzzer's log)
# Exits 1 when any target crashed, 2 on a build problem.
#
# Environment:
#   FUZZ_BUILD_DIR   build directory (default <repo>/build-fuzz)
#   FUZZ_OUT         where logs, corpora and artifacts go (default: a new
#                    temporary directory, kept and named on failure)
#   FUZZ_KEEP_GOING  1: fork mode with -ignore_crashes=1, so one crash does
#                    not end the run (for long runs; every crash is kept)
#   FUZZ_JOBS        targets run at once (default 1)
#   FUZZ_ARGS        extra libFuzzer flags
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-30}"
[[ $# -gt 0 ]] && shift
ALL_TARGETS=(oci_config_fuzz oci_state_fuzz runtime_args_fuzz cgroups_path_fuzz
  mountinfo_fuzz proc_cgroup_fuzz proc_cgroups_fuzz memory_stat_fuzz
  shim_config_fuzz ram_size_fuzz oci_lean_fuzz stats_json_fuzz)
if [[ $# -gt 0 ]]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${FUZZ_JOBS:-1}"

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [[ "$SECONDS_PER_TARGET" -lt 1 ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
for t in "${TARGETS[@]}"; do
  if [[ ! -d "$ROOT/tests/fuzz/corpus/$t" ]]; then
    echo "fuzz.sh: unknown target $t (known: ${ALL_TARGETS[*]})" >&2
    exit 2
  fi
done

# Input size bounds: about twice the largest realistic input.
max_len() {
  case "$1" in
    oci_config_fuzz) echo 16384 ;;
    oci_state_fuzz) echo 4096 ;;
    mountinfo_fuzz) echo 8192 ;;
    memory_stat_fuzz) echo 4096 ;;
    shim_config_fuzz) echo 4096 ;;
    runtime_args_fuzz) echo 2048 ;;
    proc_cgroup_fuzz | proc_cgroups_fuzz) echo 2048 ;;
    cgroups_path_fuzz) echo 1024 ;;
    ram_size_fuzz) echo 64 ;;
    *) echo 4096 ;;
  esac
}

OUT="${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/kmemguard-fuzz.XXXXXX")}"
mkdir -p "$OUT"

# ------------------------------------------------------------------ toolchain
fuzzer_rt() {
  compgen -G "/usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a" \
    >/dev/null || compgen -G "/usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null
}
if ! command -v clang++-14 >/dev/null || ! fuzzer_rt; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  if ! { $SUDO apt-get update -qq && \
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
           clang-14 libclang-rt-14-dev; } >"$OUT/apt.log" 2>&1; then
    echo "fuzz.sh: apt-get failed; see $OUT/apt.log" >&2
    tail -n 20 "$OUT/apt.log" >&2
    exit 2
  fi
fi

# ---------------------------------------------------------------------- build
if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  GEN=()
  command -v ninja >/dev/null && GEN=(-G Ninja)
  if ! CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" \
      -DKMEMGUARD_FUZZ=ON -DKMEMGUARD_BUILD_TESTS=ON >"$OUT/configure.log" 2>&1; then
    echo "fuzz.sh: configure failed; see $OUT/configure.log" >&2
    tail -n 30 "$OUT/configure.log" >&2
    exit 2
  fi
fi
if ! cmake --build "$BUILD" --target "${TARGETS[@]}" -j "$(nproc)" \
    >"$OUT/build.log" 2>&1; then
  echo "fuzz.sh: build failed; see $OUT/build.log" >&2
  grep -E "error|FAILED" "$OUT/build.log" | head -n 30 >&2 || tail -n 30 "$OUT/build.log" >&2
  exit 2
fi

# ------------------------------------------------------------------------ run
run_target() {
  local t="$1" bin="$BUILD/tests/fuzz/$1" dir="$OUT/$1"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "$ROOT/tests/fuzz/corpus/$t/." "$dir/corpus/"
  local regress="$ROOT/tests/fuzz/regressions/$t"
  local args=(-max_len="$(max_len "$t")" -timeout=25 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [[ -f "$ROOT/tests/fuzz/dicts/$t.dict" ]] && args+=(-dict="$ROOT/tests/fuzz/dicts/$t.dict")
  # shellcheck disable=SC2206
  [[ -n "${FUZZ_ARGS:-}" ]] && args+=(${FUZZ_ARGS})
  local rc=0 regressed=0
  # Known reproducers first: a fixed bug must stay fixed. (With
  # FUZZ_KEEP_GOING=1 the target is still fuzzed afterwards.)
  if [[ -d "$regress" ]] && compgen -G "$regress/*" >/dev/null; then
    "$bin" "${args[@]}" -runs=0 "$regress"/* >"$dir/regressions.log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
      echo "$t: CRASH on a regression input in $regress (log $dir/regressions.log)"
      grep -m3 -E 'FUZZ INVARIANT|runtime error|ERROR: |^Running: ' \
        "$dir/regressions.log" | sed 's/^/    /' || true
      [[ "${FUZZ_KEEP_GOING:-0}" == 1 ]] || return 1
      regressed=1
    fi
    rc=0
  fi
  local mode=()
  [[ "${FUZZ_KEEP_GOING:-0}" == 1 ]] && mode=(-fork=1 -ignore_crashes=1)
  local start end cpu0 cpu1
  start=$(date +%s)
  # User+system CPU of the fuzzer, read from its own process accounting.
  local TIMEFORMAT='%3U %3S'
  { time "$bin" "${args[@]}" "${mode[@]}" -max_total_time="$SECONDS_PER_TARGET" \
      "$dir/corpus" "$ROOT/tests/fuzz/corpus/$t" >"$dir/fuzz.log" 2>&1 || rc=$?; } \
      2>"$dir/cpu.txt"
  end=$(date +%s)
  local execs cpu
  execs=$( (grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/fuzz.log" || true) |
    tail -n1 | awk '{print $2}')
  if [[ -z "$execs" ]]; then  # fork mode: the last status line counts all jobs
    execs=$( (grep -oE '^#[0-9]+' "$dir/fuzz.log" || true) | tail -n1 | tr -d '#')
  fi
  execs="${execs:-0}"
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$dir/cpu.txt" 2>/dev/null || echo "?")
  local crashes
  crashes=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  local ncrash
  ncrash=$(printf '%s' "$crashes" | grep -c . || true)
  # target, execs, wall s, CPU s (user+sys, fork-mode jobs included), crashes
  printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$execs" "$((end - start))" "$cpu" \
    "$ncrash" >"$dir/result.tsv"
  if [[ $rc -ne 0 || -n "$crashes" ]]; then
    if [[ -n "$crashes" ]]; then
      echo "$t: CRASH $(echo "$crashes" | head -n1) ($ncrash artifact(s), $execs execs in $((end - start)) s; log $dir/fuzz.log)"
    else
      echo "$t: FAILED (libFuzzer exit $rc, $execs execs in $((end - start)) s; log $dir/fuzz.log)"
    fi
    grep -m3 -E 'FUZZ INVARIANT|runtime error|ERROR: ' "$dir/fuzz.log" | sed 's/^/    /' || true
    grep -m1 -A1 -E '^SUMMARY: ' "$dir/fuzz.log" | sed 's/^/    /' || true
    tail -n 6 "$dir/fuzz.log" | sed 's/^/    /'
    echo
    return 1
  fi
  if [[ $regressed -ne 0 ]]; then
    echo "$t: $execs execs in $((end - start)) s, no new crash (regression inputs still crash)"
    return 1
  fi
  echo "$t: $execs execs in $((end - start)) s, clean"
}

failed=0
if [[ "$JOBS" -le 1 ]]; then
  for t in "${TARGETS[@]}"; do run_target "$t" || failed=1; done
else
  # A simple job pool; each target's line is printed when it ends.
  pids=()
  for t in "${TARGETS[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge "$JOBS" ]]; do wait -n || true; done
    ( rc=0; run_target "$t" >"$OUT/$t.line" 2>&1 || rc=$?
      echo "$rc" >"$OUT/$t.rc"; cat "$OUT/$t.line" ) &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  for t in "${TARGETS[@]}"; do [[ "$(cat "$OUT/$t.rc" 2>/dev/null)" == 0 ]] || failed=1; done
fi

if [[ $failed -ne 0 ]]; then
  echo "fuzz.sh: crashes found; logs, corpora and artifacts in $OUT" >&2
  exit 1
fi
[[ -z "${FUZZ_OUT:-}" ]] && rm -rf "$OUT"
exit 0

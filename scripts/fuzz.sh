#!/usr/bin/env bash
# Runs every fuzz target of a SUNBRIDGE_FUZZ build for SECONDS each, one after the other, and
# prints a table: executions, executions per second, coverage, new inputs, findings.
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
# FUZZ_RUNS=N in the environment ends a target at N executions if that comes before SECONDS.
# New inputs go to BUILD_DIR/fuzz-work/<target> (the committed corpus in fuzz/corpus is read,
# not written); a crash, leak or sanitizer report leaves its input in BUILD_DIR/findings/, and
# the script exits 1. Move a finding into fuzz/corpus/<target>/ with the fix, so `make test`
# replays it from then on.
set -uo pipefail
build=${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
mkdir -p "$build/findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Reports with function names and lines.
for s in llvm-symbolizer-19 llvm-symbolizer; do
  if command -v "$s" >/dev/null; then export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}; break; fi
done
printf '%-20s %12s %10s %8s %6s %s\n' target executions exec/s cov new findings
failed=0
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  mkdir -p "$work"
  corpus=$root/fuzz/corpus/$t
  dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  log=$build/fuzz-work/$t.log
  before=$(find "$work" -type f | wc -l)
  "$bin/$t" "$work" "$corpus" "${dict[@]}" -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" -timeout=25 \
    -rss_limit_mb=2048 -max_len=262144 -artifact_prefix="$build/findings/$t-" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  after=$(find "$work" -type f | wc -l)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  findings=0
  if [ $rc -ne 0 ]; then
    findings=1
    failed=1
  fi
  printf '%-20s %12s %10s %8s %6s %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" \
    "$((after - before))" "$([ $findings -eq 0 ] && echo 0 || echo "1: see $log")"
done
exit $failed

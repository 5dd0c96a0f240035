#!/usr/bin/env bash
# The benchmark suite, one command:
#
#   scripts/bench.sh            full mode: the figures in BENCHMARKS.md (≈ 5 min on 2 cores)
#   scripts/bench.sh --quick    CI smoke: one short round of everything (≈ 1 min); writes
#                               target/bench-results/BENCHMARKS-quick.md, not BENCHMARKS.md
#   --no-build                  use the installed tools and build/ as they are (no setup.sh,
#                               no worker build)
#   --out FILE                  write the report there instead
#
# Steps: setup.sh (pinned tools), the worker build (skipped when build/ is up to date),
# bench/run_native.sh and bench/run_wasm.sh (decision cost; skipped with a note when
# absent), bench/load/run.mjs (added latency and throughput through workerd against
# peers), bench/coldstart.mjs (size and cold start), bench/budget.mjs (one budget
# object's throughput and the latency metering adds to a call), bench/first_words.mjs (what
# the stream guard costs a streamed answer's first words), then bench/render.mjs, which writes
# the report from target/bench-results/*.json. No step fails on a figure; the script
# exits non-zero only if a step could not run at all (after writing the report).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

quick=""
build=1
out=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick="--quick" ;;
    --no-build) build="" ;;
    --out=*) out="${arg#--out=}" ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "scripts/bench.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ -z "$out" ]; then
  if [ -n "$quick" ]; then out="target/bench-results/BENCHMARKS-quick.md"; else out="BENCHMARKS.md"; fi
fi

say() { printf '\n== %s\n' "$*"; }
started=$(date +%s)
failed=()
failed_keys=()
step() {
  local key="$1" name="$2"
  shift 2
  local t0=$(date +%s)
  say "$name"
  if "$@"; then
    echo "-- $name: $(($(date +%s) - t0)) s"
  else
    echo "-- $name: FAILED after $(($(date +%s) - t0)) s" >&2
    failed+=("$name")
    failed_keys+=("$key")
  fi
}

if [ -n "$build" ]; then
  bash scripts/setup.sh
  # The same trusted keys as scripts/test.sh, so one build/ serves the tests and the suite
  # (the keys only matter to signed-bundle refresh, which no benchmark exercises).
  say "worker build"
  POLICY_TRUSTED_KEYS_FILE="${POLICY_TRUSTED_KEYS_FILE:-$root/tests/fixtures/signing/trusted_keys.json}" \
    bash scripts/build-worker.sh
fi
[ -f build/index_bg.wasm ] || { echo "scripts/bench.sh: build/index_bg.wasm is missing" >&2; exit 1; }

# Results of an earlier run must not pass for this one's.
mkdir -p target/bench-results
rm -f target/bench-results/{native,wasm,load,coldstart,budget,first_words}.json

for part in native wasm; do
  if [ -f "bench/run_$part.sh" ]; then
    step "$part" "decision cost, $part (bench/run_$part.sh $quick)" bash "bench/run_$part.sh" $quick
  else
    say "decision cost, $part: bench/run_$part.sh is not in this tree; skipped (the report says not run)"
  fi
done
step load "load: added latency and throughput (bench/load/run.mjs $quick)" node bench/load/run.mjs $quick
step coldstart "cold start and size (bench/coldstart.mjs $quick)" node bench/coldstart.mjs $quick
step budget "budget objects: throughput and added latency (bench/budget.mjs $quick)" node bench/budget.mjs $quick
step first_words "stream guard: time to first text and chunks relayed (bench/first_words.mjs $quick)" node bench/first_words.mjs $quick

total=$(($(date +%s) - started))
say "report"
failed_list="$(IFS=,; echo "${failed_keys[*]}")"
node bench/render.mjs --out "$out" --command "scripts/bench.sh${*:+ $*}" --seconds "$total" --failed "$failed_list"
mode=full
[ -n "$quick" ] && mode=quick
printf '\nscripts/bench.sh: %s mode, %d s in all (%dm%02ds); report: %s\n' \
  "$mode" "$total" $((total / 60)) $((total % 60)) "$out"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'scripts/bench.sh: steps that could not run: %s\n' "${failed[*]}" >&2
  exit 1
fi

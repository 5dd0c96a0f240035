#!/usr/bin/env bash
# Native decision cost and policy-set memory: builds and runs the criterion bench
# benches/decision.rs, which generates the 10/100/1000-policy sets, checks the benchmark
# request is allowed by each, runs criterion, then a per-call percentile pass, and writes
# target/bench-results/native.json (schema at the top of benches/decision.rs and in
# bench/README.md).
#
#   bench/run_native.sh            full: 1/4/32 KiB prompts, 5 rounds (~3 min with a warm build)
#   bench/run_native.sh --quick    CI smoke: 4 KiB prompts only, short times, 3 rounds
#
# Extra arguments after `--` go to criterion (e.g. `-- full_decision/100` to filter).
# Builds in target/bench-native (criterion's reports land in target/bench-native/criterion).
# Never fails on a speed; fails only if a set does not load or does not allow the request.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$root"

quick=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

started=$SECONDS
# Its own target directory: `cargo build --release` shares target/release with the bench
# profile, and the two overwrite each other's lib under one file name (different LTO
# settings, same hash), which rebuilds everything each time and can break the link.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/bench-native}"
if [ "$quick" = 1 ]; then
  export BENCH_QUICK=1
fi
cargo bench --bench decision -- "${extra[@]}"
echo "bench/run_native.sh: $((SECONDS - started)) s, results in target/bench-results/native.json" >&2

#!/usr/bin/env bash
# Decision cost and policy-set memory inside wasm: builds bench/wasm-engine (the
# gateway's engine as a wasm-bindgen module) with wasm-pack --release --target nodejs
# into target/wasm-bench/pkg, then runs bench/wasm_decide.mjs under node, which compares
# it with @cedar-policy/cedar-wasm on the same policies and request and writes
# target/bench-results/wasm.json (schema at the top of bench/wasm_decide.mjs and in
# bench/README.md). Ratios to native come from target/bench-results/native.json when it
# exists (run bench/run_native.sh first).
#
#   bench/run_wasm.sh            full: 1/4/32 KiB prompts, 5 rounds
#   bench/run_wasm.sh --quick    CI smoke: 4 KiB prompts only, short times, 3 rounds
#
# The build downloads nothing: wasm-pack runs in no-install mode with the wasm-bindgen
# installed by scripts/setup.sh (matching the lock file) and binaryen's wasm-opt from
# node_modules (both on PATH via scripts/env.sh). It is skipped when the module is newer
# than every input; FORCE_BUILD=1 rebuilds. Never fails on a speed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$root"

node_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) node_args+=(--quick) ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

started=$SECONDS
export CARGO_TARGET_DIR="$root/target/wasm-bench"
pkg="$CARGO_TARGET_DIR/pkg"
module="$pkg/gateway_wasm_bench_bg.wasm"
inputs=(src crates policies build.rs Cargo.toml Cargo.lock bench/wasm-engine/src
  bench/wasm-engine/Cargo.toml bench/policy_sets)
if [ -n "${FORCE_BUILD:-}" ] || [ ! -f "$module" ] ||
  [ -n "$(find "${inputs[@]}" -newer "$module" -print -quit)" ]; then
  build_started="$(date +%s)"
  wasm-pack --log-level warn build bench/wasm-engine --release --target nodejs \
    --mode no-install --no-pack --out-dir "$pkg"
  # wasm-pack's nodejs glue is CommonJS (the repository's package.json says "module"), but
  # the worker crate's inline JS snippet, linked in with the main crate, is an ES module:
  # node 20.19+ loads it with require(esm).
  printf '{ "type": "commonjs" }\n' >"$pkg/package.json"
  if [ -d "$pkg/snippets" ]; then
    printf '{ "type": "module" }\n' >"$pkg/snippets/package.json"
  fi
  # Stamp the module with the build's start, so a source edited during the build rebuilds.
  touch -d "@$build_started" "$module"
else
  echo "target/wasm-bench/pkg is up to date" >&2
fi
built=$SECONDS

node bench/wasm_decide.mjs "${node_args[@]}"
echo "bench/run_wasm.sh: $((SECONDS - started)) s (build $((built - started)) s)," \
  "results in target/bench-results/wasm.json" >&2

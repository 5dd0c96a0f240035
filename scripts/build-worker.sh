#!/usr/bin/env bash
# Builds the wasm worker into build/ (index.js, index_bg.wasm) with worker-build --release.
# wrangler's [build] command runs this too. Skips the build (and its slow wasm-opt pass)
# when build/ is newer than every input; FORCE_BUILD=1 builds regardless.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

output=build/index_bg.wasm
inputs=(src policies build.rs Cargo.toml Cargo.lock)
if [ -z "${FORCE_BUILD:-}" ] && [ -f "$output" ] && [ -f build/index.js ] &&
  [ -z "$(find "${inputs[@]}" -newer "$output" -print -quit)" ]; then
  echo "build/ is up to date"
  exit 0
fi
worker-build --release

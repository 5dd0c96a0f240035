#!/usr/bin/env bash
# Builds the wasm worker into build/ (index.js, index_bg.wasm) with worker-build --release.
# wrangler's [build] command runs this too. Skips the build (and its slow wasm-opt pass)
# when build/ is newer than every input and was built with the same trusted signing keys
# (POLICY_TRUSTED_KEYS_FILE); FORCE_BUILD=1 builds regardless.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

output=build/index_bg.wasm
stamp_file=build/.inputs
keys_file="${POLICY_TRUSTED_KEYS_FILE:-policies/trusted_keys.json}"
stamp="$(printf '%s\n' "$keys_file"; cat "$keys_file")"
inputs=(src policies build.rs Cargo.toml Cargo.lock)
if [ -z "${FORCE_BUILD:-}" ] && [ -f "$output" ] && [ -f build/index.js ] &&
  [ "$(cat "$stamp_file" 2>/dev/null)" == "$stamp" ] &&
  [ -z "$(find "${inputs[@]}" -newer "$output" -print -quit)" ]; then
  echo "build/ is up to date"
  exit 0
fi
worker-build --release
printf '%s' "$stamp" >"$stamp_file"

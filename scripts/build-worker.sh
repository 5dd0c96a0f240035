#!/usr/bin/env bash
# Builds the wasm worker into build/ (index.js, index_bg.wasm) with worker-build --release.
# wrangler's [build] command runs this too. Skips the build (and its slow wasm-opt pass)
# when build/ is newer than every input and was built with the same trusted signing keys
# (POLICY_TRUSTED_KEYS_FILE); FORCE_BUILD=1 builds regardless.
#
# Then it strips the wasm `name` section (function names for wasm stack traces: 0.37 MB
# raw, 90 KB gzipped), which worker-build's wasm-opt pass always keeps (it appends
# `--debuginfo`). KEEP_WASM_NAMES=1 keeps them, for readable traces while debugging.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

output=build/index_bg.wasm
stamp_file=build/.inputs
keys_file="${POLICY_TRUSTED_KEYS_FILE:-policies/trusted_keys.json}"
stamp="$(printf '%s\n' "$keys_file"; cat "$keys_file")"
inputs=(src crates policies build.rs Cargo.toml Cargo.lock)
if [ -z "${FORCE_BUILD:-}" ] && [ -f "$output" ] && [ -f build/index.js ] &&
  [ "$(cat "$stamp_file" 2>/dev/null)" == "$stamp" ] &&
  [ -z "$(find "${inputs[@]}" -newer "$output" -print -quit)" ]; then
  echo "build/ is up to date"
  exit 0
fi
worker-build --release
if [ -z "${KEEP_WASM_NAMES:-}" ]; then
  # The same feature set worker-build passes, so nothing newer than workerd reads is emitted.
  "$WASM_OPT_BIN" "$output" -o "$output" --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types \
    --enable-exception-handling
fi
printf '%s' "$stamp" >"$stamp_file"

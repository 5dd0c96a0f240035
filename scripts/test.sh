#!/usr/bin/env bash
# Runs every test: lints, the engine's native tests, the engine's tests on wasm32 under
# node (wasm-pack), then the built worker end to end in miniflare with real KV.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"
say() { printf '\n== %s\n' "$*"; }

bash scripts/setup.sh

say "format and lints (native and wasm32)"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

say "engine tests, native"
cargo test

say "engine tests, wasm32 under node"
wasm-pack test --node

say "worker build (release wasm, trusting the test signing key)"
POLICY_TRUSTED_KEYS_FILE="$root/tests/fixtures/signing/trusted_keys.json" bash scripts/build-worker.sh

say "end-to-end tests: built worker in miniflare"
node --test --test-concurrency=1 tests/e2e/

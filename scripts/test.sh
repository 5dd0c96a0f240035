#!/usr/bin/env bash
# Runs every test: lints, every crate's native tests, the engine's and the embedded
# policies' tests on wasm32 under node (wasm-pack), then the built worker end to end in
# miniflare with real KV.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"
say() { printf '\n== %s\n' "$*"; }

bash scripts/setup.sh

say "format and lints (native and wasm32)"
cargo fmt --all -- --check
# Every member but the fuzz targets (nightly, a C++ toolchain for libFuzzer).
cargo clippy --workspace --exclude llm-policy-gateway-fuzz --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

say "tests, native (every default workspace member)"
cargo test

say "engine and policy tests, wasm32 under node"
# The CLI is native only; the other crates' tests run on wasm32 as the worker does.
wasm-pack test --node -- -p llm-policy-gateway -p gateway-policy -p gateway-engine

say "worker build (release wasm, trusting the test signing key)"
POLICY_TRUSTED_KEYS_FILE="$root/tests/fixtures/signing/trusted_keys.json" bash scripts/build-worker.sh

say "end-to-end tests: built worker in miniflare"
node --test --test-concurrency=1 tests/e2e/

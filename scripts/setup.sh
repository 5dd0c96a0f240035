#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently, at pinned
# versions, from crates.io and the npm registry only (no GitHub downloads):
#   the wasm32 target, worker-build, wasm-bindgen-cli (matching Cargo.lock), wasm-pack,
#   and the npm dev dependencies (wrangler, miniflare, binaryen's wasm-opt, the SDKs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

WORKER_BUILD_VERSION=0.8.7
WASM_PACK_VERSION=0.15.1
# wasm-bindgen-cli must match the wasm-bindgen crate exactly, so read it from Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"

say() { printf '\n== %s\n' "$*"; }

# cargo install at a pinned version unless that version is already installed. --locked
# first; if the registry no longer serves a locked dependency, resolve afresh.
install_crate() {
  local crate="$1" version="$2" binary="$3"
  if "$binary" --version 2>/dev/null | grep -qF "$version"; then
    return
  fi
  say "installing $crate $version"
  cargo install "$crate" --version "$version" --locked ||
    cargo install "$crate" --version "$version"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

install_crate worker-build "$WORKER_BUILD_VERSION" worker-build
install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
install_crate wasm-pack "$WASM_PACK_VERSION" wasm-pack

# npm ci is exact (package-lock.json) but slow; skip it when node_modules was installed
# from this very lock file.
stamp="node_modules/.setup-lock-sha256"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm dev dependencies (package-lock.json)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" >"$stamp"
fi

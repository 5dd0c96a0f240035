#!/usr/bin/env bash
# Builds the wasm worker into build/ (index.js, index_bg.wasm) with worker-build --release.
# wrangler's [build] command runs this too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"
worker-build --release

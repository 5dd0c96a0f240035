#!/usr/bin/env bash
# Runs the worker locally on workerd (wrangler dev) with the embedded policies, local KV
# seeded with demo keys, and the local mock provider as upstream (unless .dev.vars names
# real provider URLs and keys). Serves http://127.0.0.1:8787; Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$root"

bash scripts/setup.sh
# The local worker trusts the test signing key, so bundles signed with
# tests/fixtures/signing/test-signing-key.json can be published to local KV.
# A deploy (wrangler deploy) trusts only policies/trusted_keys.json.
export POLICY_TRUSTED_KEYS_FILE="${POLICY_TRUSTED_KEYS_FILE:-$root/tests/fixtures/signing/trusted_keys.json}"
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars

echo "== seeding demo keys into local KV"
node scripts/seed_keys.mjs

echo "== starting the mock provider on 127.0.0.1:${MOCK_PORT:-8788}"
node tests/e2e/mock_provider.mjs "${MOCK_PORT:-8788}" &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true' EXIT

echo "== starting the worker on http://127.0.0.1:${PORT:-8787}"
wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}"

// Live policy updates from KV: a signed, newer bundle swaps in within the refresh
// interval; anything else is refused while every request keeps being served with the
// last good policies; pins roll back; empty KV means the embedded set.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { startGateway, eventually, KEYS, post, chat } from "./harness.mjs";
import { makeBundle, policySource, signBundle, untrustedKey, withPolicy, contentHash } from "./bundles.mjs";

const MARKETING_POLICY = `
@id("marketing-model-allowlist")
@reason("the marketing team may use the small OpenAI chat model")
permit (
  principal in Llm::Team::"marketing",
  action == Llm::Action::"chat.completion",
  resource == Llm::Model::"gpt-4o-mini"
);
`;

const MAX_BUNDLE_BYTES = 200_000;

let gateway;
before(async () => {
  gateway = await startGateway({
    bindings: { POLICY_REFRESH_SECONDS: "0.2", MAX_BUNDLE_BYTES: String(MAX_BUNDLE_BYTES) },
  });
});
after(() => gateway?.close());

async function status(gw = gateway) {
  const response = await fetch(`${gw.url}/v1/policy/status`, { headers: { authorization: `Bearer ${KEYS.priya}` } });
  assert.equal(response.status, 200);
  return response.json();
}

/// Polls the status endpoint (each call may start a refresh) until `predicate` holds.
async function statusWhen(predicate, what, gw = gateway) {
  let last;
  try {
    return await eventually(
      async () => {
        last = await status(gw);
        return predicate(last) ? last : null;
      },
      { what, timeoutMs: 5000 },
    );
  } catch (error) {
    error.message += `; last status: ${JSON.stringify(last)}`;
    throw error;
  }
}

async function olgaDecision(gw = gateway) {
  const response = await post(gw, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.olga });
  const body = await response.json();
  return { status: response.status, decision: response.headers.get("x-policy-decision"), body };
}

/// Publishes like `policy publish`: under its version and as the latest.
async function publish(bundle) {
  const text = JSON.stringify(bundle);
  await gateway.kv.put(`policy:bundle:v${bundle.version}`, text);
  await gateway.kv.put("policy:bundle", text);
}

/// Overwrites the latest bundle with anything at all.
async function overwriteLatest(value) {
  await gateway.kv.put("policy:bundle", typeof value === "string" ? value : JSON.stringify(value));
}

// Without limits: the tests below call as fast as they can for as long as a refresh takes,
// which a real per-key rate limit would (rightly) refuse.
const source = { ...policySource(), limits: "" };
const v1 = signBundle(makeBundle(withPolicy(source, "policies/marketing.cedar", MARKETING_POLICY), 1));

describe("live policy updates", () => {
  test("with nothing published the embedded set decides", async () => {
    const first = await status();
    assert.equal(first.policy.source, "embedded");
    assert.equal(first.policy.version, 0);
    const after = await statusWhen((s) => s.refresh.last_outcome === "empty", "an empty-KV refresh");
    assert.equal(after.policy.source, "embedded");
    assert.equal(after.refresh.last_error, null);
    assert.deepEqual(after.refresh.trusted_keys, ["test-ops"]);
    assert.equal((await olgaDecision()).status, 403);
  });

  test("a signed, newer bundle changes decisions within the refresh interval", async () => {
    await publish(v1);
    const swapped = await statusWhen((s) => s.policy.version === 1, "version 1 to become active");
    assert.equal(swapped.policy.source, "kv");
    assert.equal(swapped.policy.signed_by, "test-ops");
    assert.equal(swapped.policy.content_hash, v1.content_hash);
    assert.equal(swapped.policy.pinned, false);
    const embeddedCount = source.policies.reduce((n, f) => n + (f.text.match(/@id\(/g) ?? []).length, 0);
    assert.equal(swapped.policy.policy_count, embeddedCount + 1, "the embedded policies plus the marketing one");

    const { status: code, decision } = await olgaDecision();
    assert.equal(code, 200);
    assert.equal(decision, "allow");
    const log = await eventually(() => gateway.decisionLogs().find((e) => e.principal === "olga" && e.decision === "allow"), {
      what: "olga's allow log line",
    });
    assert.deepEqual(log.policies, ["marketing-model-allowlist"]);
    assert.ok(gateway.logs.some((l) => l.includes('"event":"policy_swap"')), "the swap is logged");
  });

  // Each bad bundle is refused while requests keep flowing; none of them fails.
  const intruder = untrustedKey();
  const v2source = withPolicy(source, "policies/marketing.cedar", MARKETING_POLICY.replace("gpt-4o-mini", "gpt-4o"));
  const invalidSource = withPolicy(source, "policies/broken.cedar", '@id("broken")\n@reason("r")\npermit (principal, action, resource) when { principal.shoe_size > 3 };');
  const bad = [
    ["garbage", () => "this is not a bundle", "malformed"],
    ["a truncated bundle", () => JSON.stringify(signBundle(makeBundle(v2source, 2))).slice(0, 500), "malformed"],
    ["an unsigned bundle", () => makeBundle(v2source, 2), "unsigned"],
    ["a bundle signed by an unknown key", () => signBundle(makeBundle(v2source, 2), intruder), "unknown_key"],
    [
      "a bundle signed by an impostor under the trusted key's id",
      () => signBundle(makeBundle(v2source, 2), untrustedKey("test-ops")),
      "bad_signature",
    ],
    [
      "a bundle whose hash does not match its content",
      () => signBundle({ ...makeBundle(v2source, 2), content_hash: contentHash(source) }),
      "hash_mismatch",
    ],
    [
      "a bundle whose text changed after signing",
      () => {
        const signed = signBundle(makeBundle(v2source, 2));
        return { ...signed, catalog: signed.catalog.replace('"premium": true', '"premium": false') };
      },
      "hash_mismatch",
    ],
    ["a bundle that fails schema validation", () => signBundle(makeBundle(invalidSource, 2)), "invalid_policies"],
    ["an older version", () => signBundle(makeBundle(v2source, 1)), "rollback"],
    [
      "an oversize bundle",
      () => signBundle(makeBundle(withPolicy(v2source, "policies/padding.cedar", `// ${"x".repeat(MAX_BUNDLE_BYTES)}\n`), 2)),
      "too_large",
    ],
  ];

  for (const [name, make, kind] of bad) {
    test(`${name} is refused and the last good policies keep serving`, async () => {
      const results = [];
      let flowing = true;
      const traffic = (async () => {
        while (flowing) results.push(await olgaDecision());
      })();
      try {
        await overwriteLatest(make());
        // Only a check that finished well after the publish (checks take milliseconds)
        // can speak for the new value, not the previous test's.
        const since = new Date(Date.now() + 400).toISOString();
        const refused = await statusWhen(
          (s) =>
            s.refresh.last_attempt_at > since &&
            s.refresh.last_outcome === "rejected" &&
            (s.refresh.last_error ?? "").startsWith(`${kind}:`),
          `the ${kind} rejection`,
        );
        assert.equal(refused.policy.version, 1, "the last good bundle stays active");
        assert.equal(refused.policy.content_hash, v1.content_hash);
      } finally {
        flowing = false;
        await traffic;
      }
      results.push(await olgaDecision());
      const failed = results.filter((r) => r.status !== 200 || r.decision !== "allow");
      assert.ok(results.length >= 2, "requests were served during the refresh");
      assert.equal(failed.length, 0, `failed requests: ${JSON.stringify(failed.slice(0, 2))}`);
      assert.ok(
        gateway.logs.some((l) => l.includes('"event":"policy_rejected"') && l.includes(`"reason":"${kind}"`)),
        "the rejection is logged",
      );
    });
  }

  test("a valid version 2 replaces version 1", async () => {
    await publish(signBundle(makeBundle(v2source, 2)));
    const swapped = await statusWhen((s) => s.policy.version === 2, "version 2");
    assert.equal(swapped.refresh.last_error, null);
    // v2 lets marketing use gpt-4o instead of gpt-4o-mini.
    assert.equal((await olgaDecision()).status, 403);
  });

  test("pinning an older version rolls back; unpinning returns to the latest", async () => {
    await gateway.kv.put("policy:pin", "1");
    const pinned = await statusWhen((s) => s.policy.version === 1, "the pinned version 1");
    assert.equal(pinned.policy.pinned, true);
    assert.equal((await olgaDecision()).status, 200);

    await gateway.kv.delete("policy:pin");
    const latest = await statusWhen((s) => s.policy.version === 2, "the latest version after unpinning");
    assert.equal(latest.policy.pinned, false);
  });

  test("pinning version 0 rolls back to the embedded set; a missing pinned version is refused", async () => {
    await gateway.kv.put("policy:pin", "0");
    const embedded = await statusWhen((s) => s.policy.source === "embedded", "the embedded set");
    assert.equal(embedded.policy.version, 0);
    assert.equal(embedded.policy.pinned, true);

    await gateway.kv.put("policy:pin", "7");
    const missing = await statusWhen((s) => (s.refresh.last_error ?? "").startsWith("pin_not_found:"), "the missing pin");
    assert.equal(missing.policy.source, "embedded", "the active set stays");
    await gateway.kv.delete("policy:pin");
    await statusWhen((s) => s.policy.version === 2, "the latest version again");
  });
});

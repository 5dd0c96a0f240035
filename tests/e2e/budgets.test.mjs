// Budgets and rate limits on real Durable Objects (SQLite storage, in workerd): no
// overshoot under 64 concurrent calls, streamed or not, or with hot limits leased by the
// isolate; holds released on upstream failure, charged on client disconnect, swept by the
// alarm when never settled; windows rolling over; limits changed by a signed bundle; the
// store failing closed or open; the SDKs seeing 429 as RateLimitError; `/v1/usage`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

import { startGateway, eventually, publishBundle, KEYS, post, chat } from "./harness.mjs";
import { makeBundle, policySource, signBundle } from "./bundles.mjs";

// gpt-4o-mini's prices, in micro-USD per token.
const MINI = { input: 0.15, output: 0.6 };
// The mock's answer: 10 prompt tokens and six words.
const MOCK_USAGE = { prompt_tokens: 10, completion_tokens: 6 };
const mockCost = Math.ceil(MOCK_USAGE.prompt_tokens * MINI.input + MOCK_USAGE.completion_tokens * MINI.output);

let version = 0;
/// Publishes the policy set with `limits` (the `limits` array of budgets.json) as a new
/// signed bundle, and waits until the gateway decides with it.
async function publishLimits(gateway, limits) {
  version += 1;
  const source = { ...policySource(), limits: JSON.stringify({ limits }, null, 2) };
  await publishBundle(gateway, signBundle(makeBundle(source, version)));
}

async function usage(gateway, key, query = "") {
  const response = await fetch(`${gateway.url}/v1/usage${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: await response.json() };
}

/// The state of one limit in the caller's `/v1/usage`.
async function limitState(gateway, key, limitId) {
  const { body } = await usage(gateway, key);
  for (const scope of body.scopes ?? []) {
    for (const limit of scope.limits) if (limit.limit === limitId) return limit;
  }
  return null;
}

/// Waits until no call or lease holds anything in the limit, and returns its state.
async function settledState(gateway, key, limitId) {
  const none = (amount) => amount.requests === 0 && amount.tokens === 0 && amount.micro_usd === 0;
  return eventually(
    async () => {
      const state = await limitState(gateway, key, limitId);
      return state && none(state.held) && none(state.leased) ? state : null;
    },
    { what: `limit ${limitId} settled`, timeoutMs: 10000 },
  );
}

const call = (extra = {}) => chat("gpt-4o-mini", { max_tokens: 100, ...extra });

/// What one call of `body` reserves, read from the decision log of a call by `key`.
async function reservationOf(gateway, key, body) {
  const response = await post(gateway, "/v1/chat/completions", body, { key });
  assert.equal(response.status, 200, await response.text());
  return (await decisionLogOf(gateway, response)).budget_reserved;
}

/// What a call of `body` reserves: published under a limit that meters every user, and
/// read from the decision log of a call by alice (the worst case depends on the body only).
async function worstCaseOf(gateway, body) {
  await publishLimits(gateway, [{ id: "probe", scope: "user", match: "*", window: "day", spend_usd: 1000 }]);
  return reservationOf(gateway, KEYS.alice, body);
}

/// The decision log line of a response.
async function decisionLogOf(gateway, response) {
  const id = response.headers.get("x-policy-decision-id");
  return eventually(() => gateway.decisionLogs().find((entry) => entry.decision_id === id), {
    what: `the decision log of ${id}`,
  });
}

describe("budgets under concurrency", () => {
  let gateway;
  before(async () => {
    gateway = await startGateway({ bindings: { POLICY_REFRESH_SECONDS: "0.1" } });
  });
  after(() => gateway?.close());

  test("a budget that admits exactly K of 64 concurrent calls lets exactly K through and never overshoots", async () => {
    const reserved = await worstCaseOf(gateway, call());
    const K = 5;
    const cap = K * reserved.micro_usd + Math.floor(reserved.micro_usd / 2);
    await publishLimits(gateway, [{ id: "alice-spend", scope: "user", match: "alice", window: "day", spend_usd: cap / 1e6 }]);
    // Every answer waits, so all 64 reserve before any settles.
    gateway.mock.latencyMs = 400;
    try {
      const responses = await Promise.all(
        Array.from({ length: 64 }, () => post(gateway, "/v1/chat/completions", call(), { key: KEYS.alice })),
      );
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, K, `statuses: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 429).length, 64 - K);
      for (const refused of responses.filter((r) => r.status === 429)) {
        assert.ok(Number(refused.headers.get("retry-after")) >= 1);
        const body = await refused.json();
        assert.equal(body.error.code, "rate_limit_exceeded");
        assert.match(body.error.message, /alice-spend/);
      }
      await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.json()));
    } finally {
      gateway.mock.latencyMs = 0;
    }
    const state = await settledState(gateway, KEYS.alice, "alice-spend");
    assert.equal(state.used.micro_usd, K * mockCost, "settled at the provider's usage");
    assert.ok(state.used.micro_usd <= cap);
    assert.equal(state.used.requests, K);
  });

  test("a limit split across shards still admits exactly K and never overshoots", async () => {
    const body = call({ max_tokens: 60 });
    const reserved = await worstCaseOf(gateway, body);
    // Four shards of 2.125 calls' worth each: two calls fit in each.
    const K = 8;
    const cap = K * reserved.micro_usd + Math.floor(reserved.micro_usd / 2);
    await publishLimits(gateway, [
      { id: "platform-spend", scope: "team", match: "platform", window: "day", spend_usd: cap / 1e6, shards: 4 },
    ]);
    gateway.mock.latencyMs = 400;
    try {
      const responses = await Promise.all(
        Array.from({ length: 64 }, () => post(gateway, "/v1/chat/completions", body, { key: KEYS.priya })),
      );
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, K, `statuses: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 429).length, 64 - K);
      await Promise.all(responses.map((r) => r.arrayBuffer()));
    } finally {
      gateway.mock.latencyMs = 0;
    }
    // `/v1/usage` adds the shards up to the whole limit.
    const state = await settledState(gateway, KEYS.priya, "platform-spend");
    assert.equal(state.caps.micro_usd, cap);
    assert.equal(state.used.requests, K);
    assert.equal(state.used.micro_usd, K * mockCost);
  });

  test("a hot limit is leased: one hold in the object covers many calls, settled at exactly what they used", async () => {
    const reserved = await worstCaseOf(gateway, call());
    // Room for 400 calls' worst case: a lease's slice (a 32nd of the cap) holds 12.
    const cap = 400 * reserved.micro_usd;
    const slice = Math.floor(cap / 32);
    await publishLimits(gateway, [{ id: "fred-hot", scope: "user", match: "fred", window: "day", spend_usd: cap / 1e6 }]);
    gateway.mock.latencyMs = 1000;
    let responses;
    try {
      const first = post(gateway, "/v1/chat/completions", call(), { key: KEYS.fred });
      // The first call takes the lease (its slice is all the object holds) ...
      await eventually(async () => ((await limitState(gateway, KEYS.fred, "fred-hot"))?.leased.micro_usd === slice ? true : null), {
        what: "the first call's lease",
      });
      // ... and the next five are granted from it.
      const more = Array.from({ length: 5 }, () => post(gateway, "/v1/chat/completions", call(), { key: KEYS.fred }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Six calls in flight, and the object holds one slice, not six worst cases.
      const during = await limitState(gateway, KEYS.fred, "fred-hot");
      assert.equal(during.leased.micro_usd, slice, JSON.stringify(during));
      assert.equal(during.held.micro_usd, 0, JSON.stringify(during));
      responses = await Promise.all([first, ...more]);
    } finally {
      gateway.mock.latencyMs = 0;
    }
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    // The five granted from the lease carry headers counting the calls before them.
    for (const response of responses) {
      assert.ok(Number(response.headers.get("x-ratelimit-remaining-spend")) <= cap - reserved.micro_usd);
      await response.arrayBuffer();
    }
    const state = await settledState(gateway, KEYS.fred, "fred-hot");
    assert.equal(state.used.micro_usd, 6 * mockCost, "the slice settled at what its calls used");
    assert.equal(state.used.requests, 6);
    const lease = await eventually(() => gateway.logEvents("budget_lease_settled").find((e) => e.charged.requests === 6), {
      what: "the lease's settlement in the log",
    });
    assert.match(lease.object, /^user:fred$/);
  });

  test("leased and directly reserved calls together never overshoot, and a lease's unused room comes back", async () => {
    const reserved = await worstCaseOf(gateway, call());
    // Room for K = 160 worst cases; a slice holds 5 of them.
    const K = 160;
    const cap = K * reserved.micro_usd + Math.floor(reserved.micro_usd / 2);
    const sliceCalls = Math.floor(Math.floor(cap / 32) / reserved.micro_usd);
    assert.equal(sliceCalls, 5);
    await publishLimits(gateway, [{ id: "sam-hot", scope: "user", match: "sam", window: "day", spend_usd: cap / 1e6 }]);
    gateway.mock.latencyMs = 400;
    let admitted;
    try {
      const responses = await Promise.all(
        Array.from({ length: 200 }, () => post(gateway, "/v1/chat/completions", call(), { key: KEYS.sam })),
      );
      admitted = responses.filter((r) => r.status === 200).length;
      assert.equal(admitted + responses.filter((r) => r.status === 429).length, 200);
      await Promise.all(responses.map((r) => r.arrayBuffer()));
    } finally {
      gateway.mock.latencyMs = 0;
    }
    // Never more than the cap admits; fewer only by room a lease held and did not use.
    assert.ok(admitted <= K, `admitted ${admitted}`);
    assert.ok(admitted >= K - (sliceCalls - 1), `admitted ${admitted}`);
    const state = await settledState(gateway, KEYS.sam, "sam-hot");
    assert.equal(state.used.requests, admitted);
    assert.equal(state.used.micro_usd, admitted * mockCost);
    assert.ok(state.used.micro_usd <= cap);
  });

  test("streamed calls settle from the streamed usage, which the caller does not see unless asked", async () => {
    const body = call({ stream: true });
    const reserved = await worstCaseOf(gateway, body);
    const K = 4;
    const cap = K * reserved.micro_usd + Math.floor(reserved.micro_usd / 2);
    await publishLimits(gateway, [{ id: "sam-spend", scope: "user", match: "sam", window: "day", spend_usd: cap / 1e6 }]);
    gateway.mock.latencyMs = 400;
    let texts;
    try {
      const responses = await Promise.all(
        Array.from({ length: 64 }, () => post(gateway, "/v1/chat/completions", body, { key: KEYS.sam })),
      );
      const ok = responses.filter((r) => r.status === 200);
      assert.equal(ok.length, K, `statuses: ${responses.map((r) => r.status)}`);
      texts = await Promise.all(ok.map((r) => r.text()));
    } finally {
      gateway.mock.latencyMs = 0;
    }
    for (const text of texts) {
      assert.match(text, /data: \[DONE\]/);
      assert.doesNotMatch(text, /"prompt_tokens"/, "the usage chunk was taken out");
    }
    const upstream = gateway.mock.last();
    assert.equal(upstream.body.stream_options.include_usage, true, "the gateway asked for usage");
    const state = await settledState(gateway, KEYS.sam, "sam-spend");
    assert.equal(state.used.micro_usd, K * mockCost);

    // A caller who asks for the usage chunk gets it.
    const asked = await post(gateway, "/v1/chat/completions", { ...body, stream_options: { include_usage: true } }, { key: KEYS.alice });
    assert.match(await asked.text(), /"prompt_tokens":10/);
  });
});

describe("holds", () => {
  let gateway;
  before(async () => {
    // A provider that stalls is cut off after 2 s, so a relay ends soon after its caller
    // leaves even where the runtime lets it run until then.
    gateway = await startGateway({ bindings: { POLICY_REFRESH_SECONDS: "0.1", STREAM_IDLE_TIMEOUT_MS: "2000" } });
    await publishLimits(gateway, [
      { id: "alice-spend", scope: "user", match: "alice", window: "day", spend_usd: 100 },
      { id: "sam-spend", scope: "user", match: "sam", window: "day", spend_usd: 100 },
      { id: "fred-spend", scope: "user", match: "fred", window: "day", spend_usd: 100 },
      { id: "priya-spend", scope: "user", match: "priya", window: "day", spend_usd: 100 },
    ]);
  });
  after(() => gateway?.close());

  test("an upstream failure releases the whole hold", async () => {
    gateway.mock.behave("status", 500);
    const response = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.alice });
    assert.equal(response.status, 500);
    await response.text();
    const state = await settledState(gateway, KEYS.alice, "alice-spend");
    assert.equal(state.used.micro_usd, 0);
    assert.equal(state.used.requests, 0);
  });

  test("a caller that disconnects mid-stream is charged what was relayed, without waiting for the alarm", async () => {
    const first = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "Partial answer words" } }] })}\n\n`;
    gateway.mock.behave("stall", { first });
    const controller = new AbortController();
    // Priya's calls have no output guard, so the words go out as they arrive.
    const response = await post(gateway, "/v1/chat/completions", call({ stream: true }), {
      key: KEYS.priya,
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body.getReader();
    const { value } = await reader.read();
    assert.match(Buffer.from(value).toString(), /Partial answer/);
    controller.abort();
    const { budget_reserved: reserved } = await decisionLogOf(gateway, response);
    const state = await settledState(gateway, KEYS.priya, "priya-spend");
    // Input at its reserved bound (the provider never reported it) and the relayed words:
    // more than nothing, less than the whole reservation.
    assert.ok(state.used.micro_usd > 0, JSON.stringify(state));
    assert.ok(state.used.micro_usd < reserved.micro_usd, JSON.stringify({ state, reserved }));
    assert.equal(state.used.requests, 1);
    assert.ok(state.used.tokens >= 3);
  });

});

describe("expired holds", () => {
  let gateway;
  before(async () => {
    gateway = await startGateway({ bindings: { POLICY_REFRESH_SECONDS: "0.1", BUDGET_HOLD_SECONDS: "1" } });
    await publishLimits(gateway, [{ id: "fred-spend", scope: "user", match: "fred", window: "day", spend_usd: 100 }]);
  });
  after(() => gateway?.close());

  test("a hold nobody settles is charged in full by the alarm when it expires", async () => {
    gateway.mock.behave("stall", { first: "" });
    const controller = new AbortController();
    const pending = post(gateway, "/v1/chat/completions", call({ stream: true }), { key: KEYS.fred, signal: controller.signal });
    const response = await pending;
    assert.equal(response.status, 200);
    const { budget_reserved: reserved } = await decisionLogOf(gateway, response);
    // The stream is still open: only the alarm (hold of 1 s) can have charged it.
    const state = await eventually(
      async () => {
        const s = await limitState(gateway, KEYS.fred, "fred-spend");
        return s && s.held.micro_usd === 0 && s.used.micro_usd > 0 ? s : null;
      },
      { what: "the alarm sweep", timeoutMs: 8000 },
    );
    assert.equal(state.used.micro_usd, reserved.micro_usd);
    assert.equal(gateway.mock.stalled, 1, "the call was still in flight when it was charged");
    controller.abort();
    // The late settlement after the disconnect changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await limitState(gateway, KEYS.fred, "fred-spend")).used.micro_usd, reserved.micro_usd);
  });
});

describe("rate windows, limit changes and the SDKs", () => {
  let gateway;
  before(async () => {
    gateway = await startGateway({ bindings: { POLICY_REFRESH_SECONDS: "0.1" } });
  });
  after(() => gateway?.close());

  test("RPM and TPM refuse within the minute, say when it ends, and roll over", async () => {
    const reserved = await worstCaseOf(gateway, call());
    // One call's worst case fits the token limit; its settled use plus another's does not.
    await publishLimits(gateway, [
      { id: "fred-rpm", scope: "user", match: "fred", window: "minute", requests: 2 },
      { id: "alice-tpm", scope: "user", match: "alice", window: "minute", tokens: reserved.tokens + 10 },
    ]);
    const send = async (key) => {
      const response = await post(gateway, "/v1/chat/completions", call(), { key });
      await response.arrayBuffer();
      return response;
    };
    // Free-tier fred may use gpt-4o-mini with 100 output tokens.
    assert.equal((await send(KEYS.fred)).status, 200);
    assert.equal((await send(KEYS.fred)).status, 200);
    assert.equal((await send(KEYS.alice)).status, 200);
    // Settled, so the refusals are about the window, not calls in flight.
    await settledState(gateway, KEYS.fred, "fred-rpm");
    await settledState(gateway, KEYS.alice, "alice-tpm");
    const rpm = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.fred });
    const tpm = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.alice });
    assert.equal(rpm.status, 429);
    assert.equal(tpm.status, 429);
    assert.match((await tpm.json()).error.message, /tokens limit `alice-tpm`/);
    const secondsLeft = 60 - new Date().getUTCSeconds();
    const retryAfter = Number(rpm.headers.get("retry-after"));
    assert.ok(Math.abs(retryAfter - secondsLeft) <= 2, `retry-after ${retryAfter}, ${secondsLeft} s left in the minute`);
    assert.equal(rpm.headers.get("x-ratelimit-limit-requests"), "2");
    assert.equal(rpm.headers.get("x-ratelimit-remaining-requests"), "0");
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 200));
    assert.equal((await send(KEYS.fred)).status, 200);
    assert.equal((await send(KEYS.alice)).status, 200);
  });

  test("a new signed bundle raises a limit without a redeploy", async () => {
    await publishLimits(gateway, [{ id: "priya-rpm", scope: "user", match: "priya", window: "day", requests: 1 }]);
    const send = () => post(gateway, "/v1/chat/completions", call(), { key: KEYS.priya });
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 429);
    await publishLimits(gateway, [{ id: "priya-rpm", scope: "user", match: "priya", window: "day", requests: 3 }]);
    const allowed = await send();
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("x-ratelimit-remaining-requests"), "1", "what was counted is kept");
  });

  test("the official SDKs raise RateLimitError with the retry and rate-limit headers", async () => {
    await publishLimits(gateway, [{ id: "alice-rpm", scope: "user", match: "alice", window: "day", requests: 1 }]);
    const openai = new OpenAI({ apiKey: KEYS.alice, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create(call());
    await assert.rejects(openai.chat.completions.create(call()), (error) => {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.status, 429);
      assert.ok(Number(error.headers.get("retry-after")) > 0);
      assert.equal(error.headers.get("x-ratelimit-limit-requests"), "1");
      assert.equal(error.headers.get("x-ratelimit-remaining-requests"), "0");
      assert.ok(error.headers.get("x-ratelimit-reset-requests"));
      return true;
    });
    const anthropic = new Anthropic({ apiKey: KEYS.alice, baseURL: gateway.url, maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: "claude-3-5-haiku", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
      (error) => {
        assert.ok(error instanceof Anthropic.RateLimitError, String(error));
        assert.equal(error.error.error.type, "rate_limit_error");
        assert.ok(Number(error.headers.get("retry-after")) > 0);
        return true;
      },
    );
  });

  test("every metered answer carries its remaining budget, and /v1/usage shows the caller's scopes", async () => {
    await publishLimits(gateway, [
      { id: "team-spend", scope: "team", match: "*", window: "month", spend_usd: 10 },
      { id: "key-rpm", scope: "key", match: "*", window: "minute", requests: 100 },
    ]);
    const response = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.sam });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-ratelimit-limit-spend"), "10000000");
    assert.ok(Number(response.headers.get("x-ratelimit-remaining-spend")) < 10_000_000);
    assert.equal(response.headers.get("x-ratelimit-limit-requests"), "100");
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "99");

    const own = await usage(gateway, KEYS.sam);
    assert.equal(own.status, 200);
    const scopes = own.body.scopes.map((s) => `${s.scope}:${s.member}`);
    assert.equal(scopes.length, 2, scopes.join());
    assert.ok(scopes.includes("team:support"));
    assert.ok(scopes.some((s) => /^key:[0-9a-f]{16}$/.test(s)), scopes.join());
    assert.ok(!JSON.stringify(own.body).includes(KEYS.sam), "never the key itself");

    const denied = await usage(gateway, KEYS.sam, "?scope=team&member=research");
    assert.equal(denied.status, 403);
    const admin = await usage(gateway, KEYS.priya, "?scope=team&member=support");
    assert.equal(admin.status, 200);
    assert.equal(admin.body.scopes[0].limits[0].limit, "team-spend");
    assert.ok(admin.body.scopes[0].limits[0].used.requests >= 1);
    assert.equal((await usage(gateway, KEYS.priya, "?scope=project&member=x")).status, 400);
    assert.equal((await usage(gateway, KEYS.priya, "?scope=team")).status, 400);
    assert.equal((await usage(gateway, KEYS.priya, "?scope=team&member=%E0%A4%A")).status, 400);
    // Percent-encoded names are decoded.
    const encoded = await usage(gateway, KEYS.priya, "?scope=team&member=sup%70ort");
    assert.equal(encoded.body.scopes[0].member, "support");
  });
});

describe("a failing budget store", () => {
  test("fails closed by default: 503 in the provider's format, nothing forwarded", async () => {
    const gateway = await startGateway({ budgetStore: "failing" });
    try {
      const response = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.alice });
      assert.equal(response.status, 503);
      assert.equal((await response.json()).error.code, "budget_store_unavailable");
      assert.equal(gateway.mock.requests.length, 0);
      await eventually(() => gateway.logEvents("budget_store_failed").length > 0, { what: "the store-failure log line" });
    } finally {
      await gateway.close();
    }
  });

  test("a store that never answers times out instead of hanging the call", async () => {
    const gateway = await startGateway({ budgetStore: "hanging", bindings: { BUDGET_TIMEOUT_MS: "300" } });
    try {
      const started = Date.now();
      const response = await post(gateway, "/v1/messages", { model: "claude-3-5-haiku", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, {
        key: KEYS.alice,
        headers: { "anthropic-version": "2023-06-01" },
      });
      assert.equal(response.status, 503);
      assert.equal((await response.json()).error.type, "overloaded_error");
      assert.ok(Date.now() - started < 3000);
    } finally {
      await gateway.close();
    }
  });

  test("fails open when configured: the call passes unmetered", async () => {
    const gateway = await startGateway({ budgetStore: "failing", bindings: { BUDGET_STORE_FAILURE: "open" } });
    try {
      const response = await post(gateway, "/v1/chat/completions", call(), { key: KEYS.alice });
      assert.equal(response.status, 200);
      await eventually(
        () => gateway.logEvents("budget_store_failed").some((e) => e.outcome === "passed unmetered"),
        { what: "the fail-open log line" },
      );
    } finally {
      await gateway.close();
    }
  });
});

// Allowed calls through the official SDKs: forwarded with the provider key (never the
// caller's), the model mapped to its upstream name, unknown fields kept, policy headers on.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { startGateway, eventually, KEYS, post, chat } from "./harness.mjs";
import { OPENAI_KEY, ANTHROPIC_KEY } from "./mock_provider.mjs";

let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway?.close());

const openai = (key) => gateway.openai(key);
const anthropic = (key) => gateway.anthropic(key);

describe("OpenAI chat completions", () => {
  test("an allowed call is forwarded with the provider key and answered", async () => {
    const { data, response } = await openai(KEYS.alice)
      .chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "You are terse." },
          { role: "user", content: "Say hello." },
        ],
        max_tokens: 100,
        temperature: 0.2,
        response_format: { type: "text" },
        metadata: { ticket: "T-1" },
      })
      .withResponse();

    assert.equal(data.choices[0].message.content, "Hello from the mock provider.");
    assert.equal(response.headers.get("x-policy-decision"), "allow");
    assert.match(response.headers.get("x-policy-decision-id"), /^dec_[0-9a-f]{32}$/);
    assert.match(response.headers.get("x-policy-version"), /^sha256:[0-9a-f]{16}$/);

    const upstream = gateway.mock.last();
    assert.equal(upstream.path, "/openai/v1/chat/completions");
    assert.equal(upstream.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.equal(upstream.headers["x-api-key"], undefined);
    assert.ok(!upstream.raw.includes(KEYS.alice), "the caller's key must not reach the provider");
    // The catalog alias becomes the upstream model; unknown fields survive untouched.
    assert.equal(upstream.body.model, "gpt-4o-mini-2024-07-18");
    assert.equal(upstream.body.temperature, 0.2);
    assert.deepEqual(upstream.body.response_format, { type: "text" });
    assert.deepEqual(upstream.body.metadata, { ticket: "T-1" });
    assert.equal(upstream.body.messages.length, 2);
  });

  test("caller headers cross by allowlist: credentials, account, edge and unknown headers stay behind", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), {
      key: KEYS.alice,
      headers: {
        "x-api-key": KEYS.alice,
        cookie: "session=secret",
        "x-forwarded-for": "203.0.113.9",
        "proxy-authorization": "Basic c2VjcmV0",
        "openai-organization": "org-acme",
        "x-custom-trace": "trace-1",
        "user-agent": "OpenAI/JS 6.0.0",
        "idempotency-key": "idem-1",
      },
    });
    assert.equal(response.status, 200);
    await response.text();
    const headers = gateway.mock.last().headers;
    assert.equal(headers.authorization, `Bearer ${OPENAI_KEY}`);
    for (const name of ["x-api-key", "cookie", "x-forwarded-for", "proxy-authorization", "openai-organization", "x-custom-trace"]) {
      assert.equal(headers[name], undefined, `${name} must not be forwarded`);
    }
    assert.equal(headers["user-agent"], "OpenAI/JS 6.0.0");
    assert.equal(headers["idempotency-key"], "idem-1");
  });

  test("upstream errors other than auth pass through in the provider's format", async () => {
    gateway.mock.behave("status", 500);
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.alice });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("x-policy-decision"), "allow");
    const body = await response.json();
    assert.equal(body.error.message, "mock failure 500");
  });
});

describe("OpenAI embeddings", () => {
  test("an allowed embedding call is forwarded and answered", async () => {
    const { data, response } = await openai(KEYS.sam)
      .embeddings.create({ model: "text-embedding-3-small", input: ["first text", "second text"] })
      .withResponse();
    assert.equal(data.data.length, 2);
    assert.equal(response.headers.get("x-policy-decision"), "allow");
    const upstream = gateway.mock.last();
    assert.equal(upstream.path, "/openai/v1/embeddings");
    assert.deepEqual(upstream.body.input, ["first text", "second text"]);
    assert.equal(upstream.headers.authorization, `Bearer ${OPENAI_KEY}`);
  });
});

describe("Anthropic messages", () => {
  test("an allowed call is forwarded with the provider's x-api-key and answered", async () => {
    const { data, response } = await anthropic(KEYS.alice)
      .messages.create({
        model: "claude-3-5-haiku",
        max_tokens: 512,
        system: "You are terse.",
        messages: [{ role: "user", content: "Say hello." }],
      })
      .withResponse();
    assert.equal(data.content[0].text, "Hello from the mock provider.");
    assert.equal(response.headers.get("x-policy-decision"), "allow");

    const upstream = gateway.mock.last();
    assert.equal(upstream.path, "/anthropic/v1/messages");
    assert.equal(upstream.headers["x-api-key"], ANTHROPIC_KEY);
    assert.equal(upstream.headers.authorization, undefined);
    assert.ok(upstream.headers["anthropic-version"], "the SDK's anthropic-version is forwarded");
    assert.equal(upstream.body.model, "claude-3-5-haiku-20241022");
    assert.equal(upstream.body.system, "You are terse.");
  });

  test("a call without anthropic-version gets the default one upstream", async () => {
    const response = await post(
      gateway,
      "/v1/messages",
      { model: "claude-3-5-haiku", max_tokens: 64, messages: [{ role: "user", content: "hi" }] },
      { headers: { "x-api-key": KEYS.alice } },
    );
    assert.equal(response.status, 200);
    await response.text();
    assert.equal(gateway.mock.last().headers["anthropic-version"], "2023-06-01");
  });
});

describe("obligations", () => {
  test("a permit's output-token cap is applied to the forwarded request and logged", async () => {
    const { response } = await anthropic(KEYS.sam)
      .messages.create({ model: "claude-3-5-haiku", max_tokens: 900, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(response.headers.get("x-policy-decision"), "allow");
    assert.equal(gateway.mock.last().body.max_tokens, 512, "capped by support-model-allowlist");
    const id = response.headers.get("x-policy-decision-id");
    const entry = await eventually(() => gateway.decisionLogs().find((e) => e.decision_id === id), { what: "the log line" });
    assert.deepEqual(entry.obligations[0], { kind: "cap_output_tokens", max: 512 });
    assert.deepEqual(
      entry.obligations.map((o) => o.kind),
      ["cap_output_tokens", "redact_input", "redact_output", "block_output"],
      "support's permit also carries content obligations (postflight.test.mjs)",
    );
  });

  test("a call already under the cap is forwarded unchanged", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini", { max_tokens: 100 }), { key: KEYS.sam });
    assert.equal(response.status, 200);
    await response.text();
    assert.equal(gateway.mock.last().body.max_tokens, 100);
  });
});

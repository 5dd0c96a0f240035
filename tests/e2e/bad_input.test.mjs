// Every bad input gets a clear JSON error with the right status; none crashes the worker.
// Also: routing, health and status endpoints, upstream failures, and the decision log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";

import { startGateway, eventually, KEYS, post, chat } from "./harness.mjs";
import { startMockProvider } from "./mock_provider.mjs";

let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway?.close());

async function expectError(response, status, code, format = "openai") {
  assert.equal(response.status, status, `status for ${code}`);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  const body = await response.json();
  if (format === "openai") {
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.equal(typeof body.error.message, "string");
  } else {
    assert.equal(body.type, "error");
    assert.equal(typeof body.error.message, "string");
  }
  return body;
}

describe("authentication", () => {
  test("a missing key is 401", async () => {
    await expectError(await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini")), 401, "missing_api_key");
  });

  test("an unknown key is 401", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: "sk-not-a-key" });
    await expectError(response, 401, "invalid_api_key");
  });

  test("a key whose KV record is corrupt is 401, not a crash", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.broken });
    await expectError(response, 401, "invalid_api_key");
  });

  test("Anthropic callers get 401 in Anthropic's format", async () => {
    const response = await post(gateway, "/v1/messages", { model: "claude-3-5-haiku", max_tokens: 5, messages: [] }, {
      headers: { "x-api-key": "sk-not-a-key" },
    });
    const body = await expectError(response, 401, null, "anthropic");
    assert.equal(body.error.type, "authentication_error");
  });
});

describe("malformed requests", () => {
  test("malformed JSON is 400", async () => {
    const response = await post(gateway, "/v1/chat/completions", '{"model": "gpt-4o-mini", ', { key: KEYS.alice });
    const body = await expectError(response, 400, "invalid_request");
    assert.match(body.error.message, /not valid JSON/);
  });

  test("a wrong content type is 400", async () => {
    const response = await post(gateway, "/v1/chat/completions", JSON.stringify(chat("gpt-4o-mini")), {
      key: KEYS.alice,
      headers: { "content-type": "text/plain" },
    });
    await expectError(response, 400, "unsupported_content_type");
  });

  test("a missing field names the param", async () => {
    const response = await post(gateway, "/v1/chat/completions", { model: "gpt-4o-mini" }, { key: KEYS.alice });
    const body = await expectError(response, 400, "invalid_request");
    assert.equal(body.error.param, "messages");
  });

  test("Anthropic messages without max_tokens is 400 in Anthropic's format", async () => {
    const response = await post(gateway, "/v1/messages", { model: "claude-3-5-haiku", messages: [{ role: "user", content: "hi" }] }, {
      headers: { "x-api-key": KEYS.alice },
    });
    const body = await expectError(response, 400, null, "anthropic");
    assert.equal(body.error.type, "invalid_request_error");
    assert.match(body.error.message, /`max_tokens` is required/);
  });

  test("a model not in the catalog is 404 model_not_found", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-9-ultra"), { key: KEYS.alice });
    const body = await expectError(response, 404, "model_not_found");
    assert.match(body.error.message, /`gpt-9-ultra`/);
  });

  test("an Anthropic model on the OpenAI endpoint is 400 wrong_endpoint", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("claude-sonnet-4"), { key: KEYS.alice });
    await expectError(response, 400, "wrong_endpoint");
  });

  test("deeply nested content is a 400, not a crash", async () => {
    const nested = "[".repeat(5000) + "]".repeat(5000);
    const response = await post(gateway, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":${nested}}`, { key: KEYS.alice });
    await expectError(response, 400, "invalid_request");
  });

  test("invalid UTF-8 is a 400", async () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    // Sent as raw bytes (the harness's `post` would JSON-encode a Buffer).
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEYS.alice}` },
      body: bytes,
    });
    const body = await expectError(response, 400, "invalid_request");
    assert.match(body.error.message, /not valid JSON/);
  });
});

describe("body size limit", () => {
  const huge = () => chat("gpt-4o-mini", { messages: [{ role: "user", content: "x".repeat(70_000) }] });

  test("a body over the limit by content-length is 413", async () => {
    await expectError(await post(gateway, "/v1/chat/completions", huge(), { key: KEYS.alice }), 413, "request_too_large");
  });

  test("a chunked body over the limit without content-length is 413", async () => {
    // The worker answers 413 as soon as the limit is crossed, before the body ends. A client
    // that keeps writing after that races the server's close (undici's fetch then fails with
    // a reset), so this client writes chunk by chunk and stops once the answer is in.
    const text = JSON.stringify(huge());
    const { status, headers, body } = await new Promise((resolve, reject) => {
      const url = new URL("/v1/chat/completions", gateway.url);
      const request = http.request(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEYS.alice}`, "transfer-encoding": "chunked" },
      });
      let answered = false;
      request.on("response", (response) => {
        answered = true;
        const parts = [];
        response.on("data", (part) => parts.push(part));
        response.on("end", () => {
          request.destroy();
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(parts).toString() });
        });
        response.on("error", reject);
      });
      request.on("error", (error) => (answered ? undefined : reject(error)));
      (async () => {
        for (let i = 0; i < text.length && !answered; i += 8192) {
          request.write(text.slice(i, i + 8192));
          await new Promise((next) => setTimeout(next, 2));
        }
        if (!answered) request.end();
      })();
    });
    assert.equal(status, 413, body);
    assert.match(headers["content-type"] ?? "", /application\/json/);
    assert.equal(JSON.parse(body).error.code, "request_too_large");
  });

  test("the worker still serves after oversize bodies", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.alice });
    assert.equal(response.status, 200);
    await response.text();
  });
});

describe("routes", () => {
  test("GET /healthz is ok", async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
  });

  test("an unknown route is 404 and a wrong method 405 with Allow", async () => {
    await expectError(await fetch(`${gateway.url}/v1/nope`), 404, "route_not_found");
    const response = await fetch(`${gateway.url}/v1/chat/completions`);
    assert.equal(response.headers.get("allow"), "POST");
    await expectError(response, 405, "method_not_allowed");
  });

  test("a refused route answers in its provider's format and writes a decision line naming only the route", async () => {
    const secretPath = "/v1/messages/batches/sk-live-do-not-log";
    const anthropic = await fetch(`${gateway.url}${secretPath}`, { headers: { "x-api-key": KEYS.alice, "anthropic-version": "2023-06-01" } });
    const body = await expectError(anthropic, 404, "route_not_found", "anthropic");
    assert.equal(body.error.type, "not_found_error");
    // An Anthropic SDK on a path of OpenAI's shape still gets Anthropic's format.
    await expectError(await fetch(`${gateway.url}/v1/models`, { headers: { "x-api-key": KEYS.alice } }), 404, "route_not_found", "anthropic");
    await expectError(await fetch(`${gateway.url}/v1/messages`), 405, "method_not_allowed", "anthropic");
    await expectError(await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEYS.alice}` } }), 404, "route_not_found");
    await expectError(await fetch(`${gateway.url}/v1/usage`, { headers: { authorization: "Bearer sk-guess" } }), 401, "invalid_api_key");
    const lines = await eventually(() => {
      const refused = gateway.decisionLogs().filter((line) => line.route);
      return refused.length >= 5 ? refused.slice(-5) : null;
    }, { what: "the refused routes' decision lines" });
    assert.deepEqual(
      lines.map(({ route, status, error }) => [route, status, error]),
      [
        ["unknown", 404, "route_not_found"],
        ["unknown", 404, "route_not_found"],
        ["/v1/messages", 405, "method_not_allowed"],
        ["unknown", 404, "route_not_found"],
        ["/v1/usage", 401, "invalid_api_key"],
      ],
    );
    assert.ok(!gateway.logs.some((line) => line.includes("do-not-log")), "the path is the caller's text: never logged");
  });

  test("a refused field is named in the decision line; a caller's unknown field only by digest", async () => {
    const missing = await post(gateway, "/v1/chat/completions", { model: "gpt-4o-mini", max_tokens: 10 }, { key: KEYS.alice });
    await expectError(missing, 400, "invalid_request");
    const unknown = await post(gateway, "/v1/chat/completions", { ...chat("gpt-4o-mini"), "my secret field": 1 }, { key: KEYS.alice });
    const body = await expectError(unknown, 400, "unsupported_parameter");
    assert.equal(body.error.param, "my secret field", "the caller is told which field");
    const [first, second] = await eventually(() => {
      const refused = gateway.decisionLogs().filter((line) => line.status === 400 && line.principal === "alice");
      return refused.length >= 2 ? refused.slice(-2) : null;
    }, { what: "the refusals' decision lines" });
    assert.equal(first.error, "invalid_request");
    assert.equal(first.error_param, "messages");
    assert.equal(second.error, "unsupported_parameter");
    assert.match(second.error_param, /^field:[0-9a-f]{8}$/);
    assert.ok(!gateway.logs.some((line) => line.includes("my secret field")), "a caller's field name is never logged");
  });

  test("the policy status needs an admin key and names version and source", async () => {
    await expectError(await fetch(`${gateway.url}/v1/policy/status`), 401, "missing_api_key");
    const forbidden = await fetch(`${gateway.url}/v1/policy/status`, { headers: { authorization: `Bearer ${KEYS.alice}` } });
    await expectError(forbidden, 403, "admin_required");

    const response = await fetch(`${gateway.url}/v1/policy/status`, { headers: { authorization: `Bearer ${KEYS.priya}` } });
    assert.equal(response.status, 200);
    const status = await response.json();
    assert.equal(status.policy.version, 0);
    assert.match(status.policy.policy_version, /^sha256:[0-9a-f]{16}$/);
    assert.ok(status.policy.content_hash.startsWith(status.policy.policy_version.slice("sha256:".length)));
    assert.equal(status.policy.source, "embedded");
    assert.ok(!Number.isNaN(Date.parse(status.policy.loaded_at)));
    assert.ok(status.policy.policy_count >= 10);
    assert.ok(status.policy.models.includes("gpt-4o-mini"));
  });
});

describe("upstream failures", () => {
  test("a slow provider is 504 and the decision is still named", async () => {
    gateway.mock.behave("slow", 4000);
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.alice });
    await expectError(response, 504, "upstream_timeout");
    assert.equal(response.headers.get("x-policy-decision"), "allow");
    assert.match(response.headers.get("x-policy-decision-id"), /^dec_/);
  });

  test("a provider rejecting the gateway's key is 502, not the caller's 401", async () => {
    const mock = await startMockProvider();
    const misconfigured = await startGateway({ mock, bindings: { OPENAI_API_KEY: "sk-wrong-provider-key" } });
    try {
      const response = await post(misconfigured, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.alice });
      const body = await expectError(response, 502, "upstream_auth_failed");
      assert.ok(!JSON.stringify(body).includes("sk-wrong-provider-key"), "the provider key never leaks");
    } finally {
      await misconfigured.close();
    }
  });

  test("an unreachable provider is 502", async () => {
    const unreachable = await startGateway({ bindings: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } });
    try {
      const response = await post(unreachable, "/v1/chat/completions", chat("gpt-4o-mini"), { key: KEYS.alice });
      await expectError(response, 502, "upstream_unreachable");
    } finally {
      await unreachable.close();
    }
  });
});

describe("decision log", () => {
  test("one JSON line per request with the decision, never the key or the prompt", async () => {
    const secretPrompt = "my-very-private-prompt-text";
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4.1", {
      messages: [{ role: "user", content: secretPrompt }],
    }), { key: KEYS.sam });
    assert.equal(response.status, 403);
    const decisionId = response.headers.get("x-policy-decision-id");
    await response.text();

    const entry = await eventually(() => gateway.decisionLogs().find((e) => e.decision_id === decisionId), {
      what: "the decision log line",
    });
    assert.equal(entry.principal, "sam");
    assert.equal(entry.team, "support");
    assert.equal(entry.action, "chat.completion");
    assert.equal(entry.model, "gpt-4.1");
    assert.equal(entry.decision, "deny");
    assert.deepEqual(entry.policies, ["free-tier-no-premium-models"]);
    assert.equal(entry.status, 403);
    assert.match(entry.policy_version, /^sha256:/);
    assert.equal(typeof entry.latency_ms, "number");
    assert.equal(entry.assessment.max_output_tokens, 256);
    assert.deepEqual(entry.assessment.secret_kinds, []);

    const lines = gateway.logs.filter((l) => l.includes(decisionId));
    assert.equal(lines.length, 1, "exactly one line for the request");
    const everything = gateway.logs.join("\n");
    assert.ok(!everything.includes(secretPrompt), "the prompt is never logged");
    for (const key of Object.values(KEYS)) {
      assert.ok(!everything.includes(key), "no caller key is ever logged");
    }
  });

  test("failed requests are logged too, with their error code", async () => {
    const before = gateway.decisionLogs().filter((e) => e.error === "invalid_api_key").length;
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4o-mini"), { key: "sk-nobody" });
    assert.equal(response.status, 401);
    await response.text();
    await eventually(() => gateway.decisionLogs().filter((e) => e.error === "invalid_api_key").length === before + 1, {
      what: "the 401 log line",
    });
  });
});

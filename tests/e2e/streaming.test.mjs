// Streaming: SSE passes through chunk by chunk. The mock sends its first event, then
// holds the rest until the test releases it, so a chunk that reaches the client before
// the release proves the worker does not buffer the answer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { startGateway, KEYS, post, chat } from "./harness.mjs";

let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway?.close());

async function readUntil(reader, decoder, predicate) {
  let text = "";
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe("incremental delivery", () => {
  for (const [name, path, body, headers, firstEvent] of [
    ["OpenAI", "/v1/chat/completions", chat("gpt-4o-mini", { stream: true }), { authorization: `Bearer ${KEYS.alice}` }, '"role":"assistant"'],
    [
      "Anthropic",
      "/v1/messages",
      { model: "claude-3-5-haiku", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] },
      { "x-api-key": KEYS.alice, "anthropic-version": "2023-06-01" },
      "event: message_start",
    ],
  ]) {
    test(`${name}: the first event arrives while the provider is still streaming`, async () => {
      gateway.mock.behave("gate");
      const response = await post(gateway, path, body, { headers });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      assert.equal(response.headers.get("x-policy-decision"), "allow");

      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const first = await readUntil(reader, decoder, (t) => t.includes("\n\n"));
      assert.ok(first.includes(firstEvent), `first chunk: ${first}`);
      assert.equal(gateway.mock.streamFinished, false, "the provider has not finished yet");

      gateway.mock.release();
      const rest = await readUntil(reader, decoder, () => false);
      assert.equal(gateway.mock.streamFinished, true);
      assert.ok((first + rest).includes("provider"), "the remaining events follow");
    });
  }
});

describe("official SDK streams", () => {
  test("OpenAI SDK iterates the chunks into the full reply", async () => {
    const client = gateway.openai(KEYS.alice);
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Say hello." }],
      max_tokens: 50,
      stream: true,
    });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, "Hello from the mock provider.");
    assert.ok(chunks >= 7, `expected one chunk per word plus framing, got ${chunks}`);
    assert.equal(gateway.mock.last().body.stream, true);
  });

  test("Anthropic SDK iterates the events into the full reply", async () => {
    const client = gateway.anthropic(KEYS.alice);
    const stream = await client.messages.create({
      model: "claude-sonnet-4",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "Say hello." }],
    });
    let text = "";
    const types = new Set();
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === "content_block_delta") text += event.delta.text;
    }
    assert.equal(text, "Hello from the mock provider.");
    assert.ok(types.has("message_start") && types.has("message_stop"));
  });

  test("a denied streaming call is a plain JSON 403, not a stream", async () => {
    const response = await post(gateway, "/v1/chat/completions", chat("gpt-4.1", { stream: true }), { key: KEYS.sam });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("content-type"), "application/json");
    const body = await response.json();
    assert.equal(body.error.decision.decision, "deny");
  });
});

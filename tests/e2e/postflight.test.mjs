// Obligations on content, end to end through the official SDKs: PII redacted from the
// prompt before it reaches the provider, and the provider's answer checked after —
// redacted, or refused — whole or streamed, with matches split across SSE events and
// across network chunks. The support team's permit carries these obligations
// (policies/access.cedar); the platform team's carries none, so its answers pass as sent.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { startGateway, eventually, KEYS } from "./harness.mjs";

const PII_REPLY = "Contact jane.doe@example.com or call +1 415 555 0132 today. The card 4111 1111 1111 1111 is on file.";
const PII_REDACTED = "Contact [REDACTED:email] or call [REDACTED:phone] today. The card [REDACTED:credit_card] is on file.";
const LEAKED_KEY = "sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj";
const KEY_REPLY = `Here is the configuration you asked about, line by line. The key is ${LEAKED_KEY} and it goes in .env.`;

let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway?.close());

const logFor = (id) => eventually(() => gateway.decisionLogs().find((l) => l.decision_id === id), { what: `log for ${id}` });
const guardEventFor = (id) =>
  eventually(() => gateway.logEvents("output_guard").find((e) => e.decision_id === id), { what: `output_guard for ${id}` });

describe("input redaction", () => {
  test("the provider never sees the PII the support permit redacts; the caller's other fields are kept", async () => {
    const client = gateway.openai(KEYS.sam);
    const { data, response } = await client.chat.completions
      .create({
        model: "gpt-4o-mini",
        max_tokens: 200,
        temperature: 0.4,
        messages: [
          { role: "system", content: "You answer support tickets." },
          { role: "user", content: "Customer jane.doe@example.com (phone +1 415 555 0132) asks about order 1182." },
        ],
      })
      .withResponse();
    assert.ok(data.choices[0].message.content.length > 0);
    const forwarded = gateway.mock.last().body;
    assert.equal(forwarded.messages[1].content, "Customer [REDACTED:email] (phone [REDACTED:phone]) asks about order 1182.");
    assert.equal(forwarded.messages[0].content, "You answer support tickets.");
    assert.equal(forwarded.temperature, 0.4);
    assert.ok(!gateway.mock.last().raw.includes("jane.doe"));

    const log = await logFor(response.headers.get("x-policy-decision-id"));
    assert.deepEqual(log.input_redacted, { email: 1, phone: 1 });
    assert.deepEqual(log.policies, ["support-model-allowlist"]);
    assert.ok(!JSON.stringify(gateway.logs).includes("jane.doe"), "the log never holds the text");
  });

  test("a permit without the obligation forwards the prompt as written", async () => {
    const client = gateway.openai(KEYS.priya);
    await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Mail jane.doe@example.com the benchmark results." }],
    });
    assert.equal(gateway.mock.last().body.messages[0].content, "Mail jane.doe@example.com the benchmark results.");
  });
});

describe("whole answers", () => {
  test("PII in an answer to support is redacted (OpenAI SDK)", async () => {
    gateway.mock.behave("reply", { text: PII_REPLY });
    const { data, response } = await gateway.openai(KEYS.sam).chat.completions
      .create({ model: "gpt-4o-mini", max_tokens: 200, messages: [{ role: "user", content: "Who handles my refund?" }] })
      .withResponse();
    assert.equal(data.choices[0].message.content, PII_REDACTED);
    assert.equal(data.usage.total_tokens > 0, true, "the rest of the answer is kept");
    const log = await logFor(response.headers.get("x-policy-decision-id"));
    assert.deepEqual(log.output_guard, { redacted: { credit_card: 1, email: 1, phone: 1 }, blocked: null });
  });

  test("the same answer to the platform team (no output obligations) is relayed as sent", async () => {
    gateway.mock.behave("reply", { text: PII_REPLY });
    const data = await gateway.openai(KEYS.priya).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Who handles my refund?" }],
    });
    assert.equal(data.choices[0].message.content, PII_REPLY);
  });

  test("a credential in an answer is refused with a provider-format error (Anthropic SDK)", async () => {
    gateway.mock.behave("reply", { text: KEY_REPLY });
    const client = gateway.anthropic(KEYS.sam);
    await assert.rejects(
      client.messages.create({ model: "claude-3-5-haiku", max_tokens: 200, messages: [{ role: "user", content: "Show my config." }] }),
      (error) => {
        assert.equal(error.status, 403);
        assert.equal(error.error.type, "error");
        assert.equal(error.error.error.type, "permission_error");
        assert.match(error.error.error.message, /openai_key/);
        assert.ok(!JSON.stringify(error.error).includes(LEAKED_KEY));
        const header = error.headers?.get?.("x-policy-decision") ?? error.headers?.["x-policy-decision"];
        assert.equal(header, "allow");
        return true;
      },
    );
  });
});

describe("streamed answers", () => {
  for (const [delta, bytes] of [
    [3, undefined],
    [5, 7],
    [1, 3],
  ]) {
    test(`PII split across ${delta}-character deltas${bytes ? ` and ${bytes}-byte network chunks` : ""} is redacted in flight (OpenAI SDK)`, async () => {
      gateway.mock.behave("reply", { text: PII_REPLY, pieceChars: delta, splitBytes: bytes });
      const { data: stream, response } = await gateway.openai(KEYS.sam).chat.completions
        .create({ model: "gpt-4o-mini", max_tokens: 200, stream: true, messages: [{ role: "user", content: "Who handles my refund?" }] })
        .withResponse();
      let text = "";
      let finish = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(text, PII_REDACTED);
      assert.equal(finish, "stop");
      const event = await guardEventFor(response.headers.get("x-policy-decision-id"));
      assert.deepEqual(event.redacted, { credit_card: 1, email: 1, phone: 1 });
      assert.equal(event.blocked, null);
      const log = await logFor(response.headers.get("x-policy-decision-id"));
      assert.equal(log.output_guard, "streamed");
    });
  }

  test("PII split across deltas is redacted in flight (Anthropic SDK, messages.stream)", async () => {
    gateway.mock.behave("reply", { text: PII_REPLY, pieceChars: 2, splitBytes: 11 });
    const stream = gateway.anthropic(KEYS.sam).messages.stream({
      model: "claude-3-5-haiku",
      max_tokens: 200,
      messages: [{ role: "user", content: "Who handles my refund?" }],
    });
    const message = await stream.finalMessage();
    assert.equal(message.content[0].text, PII_REDACTED);
    assert.equal(message.stop_reason, "end_turn");
  });

  test("the first text reaches the caller while the provider is still writing", async () => {
    const long = "The weather report for the week ahead is mild and dry everywhere. ".repeat(30);
    gateway.mock.behave("reply", { text: long, pieceChars: 8, splitBytes: 64 });
    const stream = await gateway.openai(KEYS.sam).chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 900,
      stream: true,
      messages: [{ role: "user", content: "Weather?" }],
    });
    let text = "";
    let firstTextWhileProviderBusy = null;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content ?? "";
      if (piece && firstTextWhileProviderBusy === null) firstTextWhileProviderBusy = !gateway.mock.streamFinished;
      text += piece;
    }
    assert.equal(text, long);
    assert.equal(firstTextWhileProviderBusy, true, "text flowed before the provider finished");
  });

  test("a credential split across chunks ends the stream with an error the OpenAI SDK raises, and none of it is sent", async () => {
    gateway.mock.behave("reply", { text: KEY_REPLY, pieceChars: 4, splitBytes: 9 });
    const { data: stream, response } = await gateway.openai(KEYS.sam).chat.completions
      .create({ model: "gpt-4o-mini", max_tokens: 200, stream: true, messages: [{ role: "user", content: "Show my config." }] })
      .withResponse();
    let text = "";
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      })(),
      (error) => {
        assert.match(error.message, /openai_key/);
        assert.equal(error.code, "output_blocked");
        return true;
      },
    );
    assert.ok(KEY_REPLY.startsWith(text), "what was sent is a clean prefix");
    assert.ok(!text.includes("sk-"), `no part of the key was sent: ${text}`);
    const event = await guardEventFor(response.headers.get("x-policy-decision-id"));
    assert.equal(event.blocked, "openai_key");
  });

  test("a credential ends an Anthropic stream with an error event the SDK raises", async () => {
    gateway.mock.behave("reply", { text: KEY_REPLY, pieceChars: 6 });
    const stream = gateway.anthropic(KEYS.sam).messages.stream({
      model: "claude-3-5-haiku",
      max_tokens: 200,
      messages: [{ role: "user", content: "Show my config." }],
    });
    let text = "";
    stream.on("text", (piece) => (text += piece));
    await assert.rejects(stream.finalMessage(), /openai_key/);
    assert.ok(!text.includes("sk-"), `no part of the key was sent: ${text}`);
  });
});

// Budgets under sparse traffic, in real time, on the starter limits (policies/budgets.json)
// and real Durable Objects: calls seconds apart, whole and streamed, then idle. Once the
// traffic stops the objects themselves (read directly, not through the gateway) hold
// nothing and have charged exactly what the provider billed, with leases and without; the
// same when a caller goes away before its answer.
// Then an isolate that dies holding a lease: its slice stays held, and the object's alarm
// charges it in full, bounded by 64 worst cases of the call that took it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startGateway, eventually, KEYS, post, chat, costOf, starterLine } from "./harness.mjs";
import { startMockProvider } from "./mock_provider.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// sam: org acme, team support, user sam. The spend limits' objects, as the gateway names
// them; each is leasable for these calls (a 32nd of the cap holds far more than four).
const SPEND_OBJECTS = [
  ["org:acme", starterLine("org")],
  ["team:support", starterLine("team")],
  ["user:sam", starterLine("user")],
];

// Whole and streamed answers from both providers, taken in turn, through their SDKs.
const CALLS = [
  { path: "/v1/chat/completions", body: chat("gpt-4o-mini", { max_tokens: 15 }) },
  { path: "/v1/messages", body: chat("claude-3-5-haiku", { max_tokens: 15, stream: true }) },
  { path: "/v1/chat/completions", body: chat("gpt-4o-mini", { max_tokens: 15, stream: true }) },
  { path: "/v1/messages", body: chat("claude-3-5-haiku", { max_tokens: 15 }) },
];
// The pauses between calls: 1 to 5 s, so each call finds the last one's lease closed.
const PAUSES_MS = [1000, 3000, 5000, 1500, 2500, 4000];

/// One call through the official SDK of its provider, read to the end.
async function send(gateway, { path, body }) {
  if (path === "/v1/messages") {
    const client = gateway.anthropic(KEYS.sam);
    if (!body.stream) return assert.ok((await client.messages.create(body)).content.length > 0);
    const message = await client.messages.stream(body).finalMessage();
    return assert.equal(message.stop_reason, "end_turn");
  }
  const client = gateway.openai(KEYS.sam);
  if (!body.stream) return assert.ok((await client.chat.completions.create(body)).choices.length > 0);
  let text = "";
  for await (const chunk of await client.chat.completions.create(body)) text += chunk.choices[0]?.delta?.content ?? "";
  assert.ok(text.length > 0);
}

/// Each spend object's state, once nothing is held or leased in any of them.
async function idleObjects(gateway) {
  return eventually(
    async () => {
      const states = await Promise.all(SPEND_OBJECTS.map(([name, line]) => gateway.readObject(name, [line])));
      const idle = states.every(([state]) => ["held", "leased"].every((part) => Object.values(state[part]).every((n) => n === 0)));
      return idle ? states.map(([state]) => state) : null;
    },
    // Leases close 2 s after they are taken and settling takes a round trip: a few
    // seconds, with room for a loaded machine.
    { what: "nothing held or leased in the objects", timeoutMs: 10_000 },
  );
}

for (const leases of ["on", "off"]) {
  describe(`sparse traffic, leases ${leases}`, () => {
    let gateway;
    before(async () => {
      gateway = await startGateway({ bindings: { BUDGET_LEASES: leases } });
    });
    after(() => gateway?.close());

    test("calls 1-5 s apart, then idle: nothing stays held and each object charged exactly the billed usage", async () => {
      for (const [index, pause] of PAUSES_MS.entries()) {
        await send(gateway, CALLS[index % CALLS.length]);
        await sleep(pause);
      }
      await send(gateway, CALLS[PAUSES_MS.length % CALLS.length]);
      const calls = PAUSES_MS.length + 1;
      assert.equal(gateway.mock.billed.length, calls);
      const billed = gateway.mock.billed.reduce((sum, answer) => sum + costOf(answer), 0);
      assert.ok(billed > 0);

      const states = await idleObjects(gateway);
      for (const [index, state] of states.entries()) {
        assert.equal(state.used.micro_usd, billed, `${SPEND_OBJECTS[index][0]}: ${JSON.stringify(state)}`);
      }
      // Every hold was settled by the gateway: the alarms charged none.
      assert.deepEqual(gateway.logEvents("budget_hold_expired"), []);
      assert.deepEqual(gateway.logEvents("budget_unsettled"), []);
      const settled = gateway.logEvents("budget_lease_settled");
      if (leases === "on") {
        // The calls were granted from leases in every object (a call 1 s after the last
        // finds its lease still open), and the leases were settled at what they used.
        for (const [name] of SPEND_OBJECTS) {
          const mine = settled.filter((event) => event.object === name);
          const total = (part) => mine.reduce((sum, event) => sum + event.charged[part], 0);
          assert.ok(mine.length >= 2 && mine.length <= calls, `${name}: ${JSON.stringify(mine)}`);
          assert.equal(total("requests"), calls);
          assert.equal(total("micro_usd"), billed);
        }
      } else {
        assert.deepEqual(settled, []);
      }
    });

    test("a caller that goes away before the answer leaves nothing held, and is charged what the provider billed", async () => {
      const before = await idleObjects(gateway);
      const billedBefore = gateway.mock.billed.length;
      gateway.mock.latencyMs = 1500;
      const controller = new AbortController();
      const pending = post(gateway, "/v1/chat/completions", chat("gpt-4o-mini", { max_tokens: 15 }), { key: KEYS.sam, signal: controller.signal });
      await sleep(500);
      controller.abort();
      await assert.rejects(pending, { name: "AbortError" });
      gateway.mock.latencyMs = 0;
      // workerd lets the call run on without its caller: the provider answers and bills it.
      await eventually(() => gateway.mock.billed.length === billedBefore + 1, { what: "the provider's answer" });
      const cost = costOf(gateway.mock.billed.at(-1));
      const states = await idleObjects(gateway);
      for (const [index, state] of states.entries()) {
        assert.equal(state.used.micro_usd - before[index].used.micro_usd, cost, SPEND_OBJECTS[index][0]);
      }
      assert.deepEqual(gateway.logEvents("budget_hold_expired"), []);
    });
  });
}

describe("an isolate that dies holding a lease", () => {
  const persist = mkdtempSync(join(tmpdir(), "gateway-do-"));
  let mock;
  let first;
  let second;
  before(async () => {
    mock = await startMockProvider();
  });
  after(async () => {
    await first?.mf.dispose().catch(() => {});
    await second?.mf.dispose().catch(() => {});
    await mock?.close();
    rmSync(persist, { recursive: true, force: true });
  });

  test("its slice stays held, then the alarm charges it in full: at most 64 worst cases of the call that took it", async () => {
    // The shortest holds that are still leased (60 s), so the alarm comes within the test.
    const bindings = { BUDGET_HOLD_SECONDS: "60" };
    first = await startGateway({ bindings, mock, persist });
    const [name, line] = SPEND_OBJECTS[2];
    const body = chat("gpt-4o-mini", { max_tokens: 15 });
    // A first call tells what such a call reserves; its lease is settled once it closes.
    assert.equal((await post(first, "/v1/chat/completions", body, { key: KEYS.sam })).status, 200);
    const worst = first.decisionLogs().at(-1).budget_reserved;
    await idleObjects(first);
    const [before] = await first.readObject(name, [line]);
    mock.latencyMs = 3000;
    const inFlight = post(first, "/v1/chat/completions", body, { key: KEYS.sam }).catch(() => null);
    const leased = await eventually(async () => {
      const [state] = await first.readObject(name, [line]);
      return state.leased.micro_usd > 0 ? state.leased : null;
    }, { what: "the call's lease in its object" });
    // The isolate dies with its lease open and its call in flight.
    await first.mf.dispose();
    first = null;
    await inFlight;
    mock.latencyMs = 0;

    second = await startGateway({ bindings, mock, persist });
    const [after] = await second.readObject(name, [line]);
    assert.deepEqual(after.leased, leased, "the slice is still held, as room");
    assert.equal(after.used.micro_usd - after.leased.micro_usd, before.used.micro_usd, "nothing charged yet");
    // The bound the README states: 64 of the taking call's worst case, and a 32nd of the cap.
    assert.equal(leased.micro_usd, Math.min(64 * worst.micro_usd, Math.floor(line.caps.micro_usd / 32)));

    // The alarm at the hold's expiry charges the slice in full, and says so.
    const expired = await eventually(() => second.logEvents("budget_hold_expired").find((e) => e.object === name), {
      what: "the alarm's charge",
      timeoutMs: 75_000,
    });
    assert.equal(expired.lease, true);
    assert.deepEqual(expired.charged, leased);
    const [charged] = await second.readObject(name, [line]);
    assert.equal(charged.used.micro_usd, before.used.micro_usd + leased.micro_usd);
    assert.deepEqual(charged.leased, { requests: 0, tokens: 0, micro_usd: 0 });
  });
});

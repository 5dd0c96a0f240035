// What the stream guard costs a streamed answer's reader, through workerd (Miniflare):
// the same answer streamed by the mock provider at about 350 characters a second, in
// word-sized deltas as models send them, to a caller whose decision carries output
// obligations (the support team: redact PII, block secrets) and to one whose decision
// carries none (platform), interleaved. For each: the time from the request to the first
// text, to the last byte, and how many events carrying text the caller received, against
// how many the provider sent.
//
// Writes target/bench-results/first_words.json. `--quick`: fewer rounds (a smoke test).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

import { startGateway, KEYS, post } from "../tests/e2e/harness.mjs";
import { startMockProvider } from "../tests/e2e/mock_provider.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 3 : 15;
// One delta every 14 ms at the answer's mean of ~4.9 characters a delta: ~350 characters/s.
const DELTA_MS = 14;

// An ordinary answer: prose, a list, a number, a date and an amount, but no PII, so the
// guard relays all of it.
const ANSWER =
  "Sure. Here is a short plan for the migration. First, export the current tables and " +
  "check their row counts against the dashboard. Second, run the schema change on the " +
  "staging copy during the quiet hours, around 02:00 UTC on 14 March, and compare the query " +
  "plans of the ten slowest reports. Third, if the reports stay within 5 % of their old " +
  "timings, schedule the production change and budget about $120 for the extra capacity.";
// Deltas as a tokenizer cuts text: a word with the space before it, punctuation alone.
const PIECES = ANSWER.match(/\s*[\p{L}\p{N}$%:]+|\s*[^\s\p{L}\p{N}]/gu);

const round2 = (x) => Math.round(x * 100) / 100;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// One streamed call: time to the first text, to the end, and the text events received.
async function streamedCall(gateway, key) {
  const t0 = performance.now();
  const response = await post(
    gateway,
    "/v1/chat/completions",
    { model: "gpt-4o-mini", stream: true, max_tokens: 400, messages: [{ role: "user", content: "Plan the migration." }] },
    { key },
  );
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let text = "";
  let firstTextMs = null;
  let textEvents = 0;
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").find((line) => line.startsWith("data: "))?.slice(6);
      if (!data || data === "[DONE]") continue;
      const content = JSON.parse(data).choices?.[0]?.delta?.content;
      if (content) {
        textEvents++;
        text += content;
        firstTextMs ??= performance.now() - t0;
      }
    }
  }
  return { firstTextMs, totalMs: performance.now() - t0, textEvents, text };
}

const started = Date.now();
const mock = await startMockProvider({ chunkDelayMs: DELTA_MS });
const gateway = await startGateway({ mock });
try {
  const callers = [
    { caller: "no output obligation (platform team)", key: KEYS.priya, runs: [] },
    { caller: "output guard: redact PII, block secrets (support team)", key: KEYS.sam, runs: [] },
  ];
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const caller of callers) {
      mock.behave("reply", { pieces: PIECES });
      const run = await streamedCall(gateway, caller.key);
      if (run.text !== ANSWER) throw new Error(`${caller.caller}: the answer came back changed: ${run.text}`);
      if (round > 0) caller.runs.push(run); // the first round warms up
    }
  }
  const rows = callers.map(({ caller, runs }) => ({
    caller,
    runs: runs.length,
    first_text_p50_ms: round2(median(runs.map((r) => r.firstTextMs))),
    last_byte_p50_ms: round2(median(runs.map((r) => r.totalMs))),
    provider_text_chunks: PIECES.length,
    relayed_text_chunks_p50: median(runs.map((r) => r.textEvents)),
  }));
  const [plain, guarded] = rows;
  const delay = round2(guarded.first_text_p50_ms - plain.first_text_p50_ms);
  const relayedShare = round2(guarded.relayed_text_chunks_p50 / PIECES.length);
  for (const row of rows) {
    console.log(
      `first_words: ${row.caller}: first text ${row.first_text_p50_ms} ms, last byte ${row.last_byte_p50_ms} ms, ` +
        `${row.relayed_text_chunks_p50} of ${row.provider_text_chunks} text chunks`,
    );
  }
  const result = {
    schema: 1,
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    seconds_total: Math.round((Date.now() - started) / 1000),
    how:
      `one ${ANSWER.length}-character answer streamed by the mock provider in ${PIECES.length} word-sized deltas, ` +
      `${DELTA_MS} ms apart (~${Math.round((ANSWER.length * 1000) / (PIECES.length * DELTA_MS))} characters/s), ` +
      `through the gateway to a caller with and without output obligations, ${ROUNDS} interleaved rounds after one warm-up; medians`,
    streams: rows,
    targets: [
      { name: "first text, guarded minus unguarded, p50 (ms)", target: 50, measured: delay, met: delay <= 50 },
      { name: "text chunks relayed / received by the guard", target: 0.8, at_least: true, measured: relayedShare, met: relayedShare >= 0.8 },
    ],
  };
  mkdirSync(`${root}target/bench-results`, { recursive: true });
  writeFileSync(`${root}target/bench-results/first_words.json`, JSON.stringify(result, null, 2));
  console.log("first_words: wrote target/bench-results/first_words.json");
} finally {
  await gateway.close();
}

// Soak: the built worker (build/) in Miniflare, driven at saturation for a bounded time by
// a fixed number of concurrent callers, mixing guarded (sam: support team, output guard and
// input redaction) and unguarded (priya: platform team) keys, whole and streamed answers,
// OpenAI and Anthropic, all through the local mock provider. It counts requests and
// failures by status and samples memory every `--sample-seconds`: the RSS of the workerd
// process this node process started, the isolate's wasm linear memory (from the admin
// status endpoint), its JavaScript heap in use (through workerd's inspector), and node's
// own RSS.
//
//   node bench/soak.mjs [--seconds 600] [--concurrency 32] [--sample-seconds 10]
//
// `--sparse` soaks the budgets instead: a few callers on the starter limits
// (policies/budgets.json) send calls seconds apart (pauses of 0.2 to 20 s, now and then a
// burst of five), whole and streamed, both providers, for `--seconds`; then, once traffic
// stops, every budget object the calls counted against is read directly (without the
// gateway settling anything first) and through `/v1/usage`. Each must hold nothing and
// have charged, to the micro-USD, the usage the provider reported in the answers.
// `--leases off` runs the same with every call reserved in its objects.
//
//   node bench/soak.mjs --sparse [--seconds 600] [--leases on|off] [--seed 1]
//
// Prints one JSON summary on stdout (progress on stderr) and exits 1 if any request failed
// (or, sparse, if any budget differs).
// It only talks to 127.0.0.1 (the gateway and the mock both listen there), stops by
// itself, and gives up on any single request after 30 s.
import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";

import { startGateway, KEYS, costOf, starterLine } from "../tests/e2e/harness.mjs";
import { connect, userWorker } from "./inspector.mjs";
import { startPassthrough } from "./load/targets.mjs";
import { startMockProvider } from "../tests/e2e/mock_provider.mjs";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "600" },
    concurrency: { type: "string", default: "32" },
    "sample-seconds": { type: "string", default: "10" },
    // `passthrough`: the same OpenAI traffic through the trivial JS worker of bench/load
    // instead, to tell the runtime's memory from the gateway's.
    target: { type: "string", default: "gateway" },
    sparse: { type: "boolean", default: false },
    leases: { type: "string", default: "on" },
    seed: { type: "string", default: "1" },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const SAMPLE_MS = Number(values["sample-seconds"]) * 1000;
const REQUEST_TIMEOUT_MS = 30_000;
for (const [name, value] of [["--seconds", SECONDS], ["--concurrency", CONCURRENCY], ["--sample-seconds", SAMPLE_MS]]) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
}

// The traffic mix, taken round-robin: every combination of caller, provider and delivery.
const PROMPTS = {
  sam: "Customer jane.doe@example.com (phone +1 415 555 0132) asks about order 1182.",
  priya: "Summarise the benchmark results in one line.",
};
const ROUTES = {
  openai: { path: "/v1/chat/completions", model: "gpt-4o-mini", auth: (key) => ({ authorization: `Bearer ${key}` }), end: "data: [DONE]" },
  anthropic: { path: "/v1/messages", model: "claude-3-5-haiku", auth: (key) => ({ "x-api-key": key, "anthropic-version": "2023-06-01" }), end: "event: message_stop" },
};
const PASSTHROUGH = values.target === "passthrough";
const MIX = ["sam", "priya"].flatMap((caller) =>
  (PASSTHROUGH ? ["openai"] : ["openai", "anthropic"]).flatMap((provider) =>
    [false, true].map((stream) => ({ caller, provider, stream })),
  ),
);
const REPLY = "Hello from the mock provider.";

// What went wrong with one answer, or null if it is a whole, well-formed answer.
function failureOf(status, text, { provider, stream }) {
  if (status !== 200) return String(status);
  if (stream) {
    if (/^event: error$|"error":\s*\{/m.test(text)) return "stream_error_event";
    return text.includes(ROUTES[provider].end) ? null : "stream_incomplete";
  }
  try {
    const body = JSON.parse(text);
    const reply = provider === "openai" ? body.choices?.[0]?.message?.content : body.content?.[0]?.text;
    return reply === REPLY ? null : "unexpected_body";
  } catch {
    return "unparseable_body";
  }
}

async function once(base, index) {
  const shape = MIX[index % MIX.length];
  const sent = Date.now();
  const route = ROUTES[shape.provider];
  const body = { model: route.model, max_tokens: 128, stream: shape.stream, messages: [{ role: "user", content: PROMPTS[shape.caller] }] };
  try {
    const response = await fetch(`${base}${route.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...route.auth(KEYS[shape.caller]) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const failure = failureOf(response.status, text, shape);
    return { status: response.status, failure, detail: failure && `#${index} ${shape.caller} ${shape.provider} ${shape.stream ? "stream" : "json"}, after ${Date.now() - sent} ms: ${text.slice(-300)}` };
  } catch (error) {
    const detail = `#${index} ${shape.caller} ${shape.provider} ${shape.stream ? "stream" : "json"}, after ${Date.now() - sent} ms: ${error?.name}: ${error?.message} ${error?.cause?.code ?? error?.cause?.message ?? ""}`.trim();
    return { status: "fetch_error", failure: error?.name === "TimeoutError" ? "timeout" : "fetch_error", detail };
  }
}

// The PIDs of this process's descendants named `comm` (Linux /proc).
function descendants(comm) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended meanwhile
    }
  }
  const isDescendant = (pid) => {
    for (let p = parents.get(pid), hops = 0; p && hops < 64; p = parents.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  return [...parents.keys()].filter((pid) => {
    try {
      return isDescendant(pid) && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm;
    } catch {
      return false;
    }
  });
}

function rssMb(pid) {
  try {
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

const round = (mb) => (mb === null ? null : Math.round(mb * 10) / 10);

async function main() {
  if (values.sparse) return sparseSoak();
  const mock = await startMockProvider({ chunkDelayMs: 0 });
  if (PASSTHROUGH) return passthroughSoak(mock);
  // Headers may queue behind a saturated CPU: allow them 10 s (the harness default is 2 s).
  const inspectorPort = 9300 + Math.floor(Math.random() * 500);
  const gateway = await startGateway({ mock, inspectorPort, bindings: { UPSTREAM_TIMEOUT_MS: "10000" } });
  // The isolate's JavaScript heap in use, through workerd's inspector (only the heap is
  // asked for: no domain is enabled, so no console output is sent to it; workerd does not
  // answer a forced collection, so this is the heap as V8's own collections leave it).
  const inspector = await connect(await userWorker(inspectorPort));
  const heapMb = async () => {
    try {
      const { usedSize } = await inspector.send("Runtime.getHeapUsage");
      return usedSize / 1024 / 1024;
    } catch {
      return null;
    }
  };
  const workerd = descendants("workerd");
  if (workerd.length === 0) process.stderr.write("soak: no workerd child process found; its RSS will be null\n");
  const workerdRss = () => (workerd.length ? workerd.reduce((sum, pid) => sum + (rssMb(pid) ?? 0), 0) : null);

  const counts = { requests: 0, byStatus: {}, errors: {}, examples: [] };
  // Worker output other than decision lines (errors, panics), the first few kept.
  const workerMessages = [];
  const rssSamples = [];
  const nodeSamples = [];
  // The isolate's wasm linear memory, as the worker reports it to an admin.
  const wasmSamples = [];
  const heapSamples = [];
  const wasmMb = async () => {
    try {
      const response = await fetch(`${gateway.url}/v1/policy/status`, { headers: { authorization: `Bearer ${KEYS.priya}` } });
      const bytes = (await response.json())?.isolate?.wasm_memory_bytes;
      return typeof bytes === "number" ? bytes / 1024 / 1024 : null;
    } catch {
      return null;
    }
  };
  let decisionLines = 0;
  const sample = async () => {
    // The harness keeps every worker log line; count them and let them go, so node's own
    // memory stays flat.
    for (const line of gateway.logs) {
      if (line.includes('"event":"decision"')) decisionLines += 1;
      else if (!line.includes('"event":"output_guard"') && workerMessages.length < 20) workerMessages.push(line.slice(0, 300));
    }
    gateway.logs.length = 0;
    rssSamples.push(round(workerdRss()));
    nodeSamples.push(round(process.memoryUsage().rss / 1024 / 1024));
    wasmSamples.push(round(await wasmMb()));
    heapSamples.push(round(await heapMb()));
    const elapsed = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`soak: ${elapsed}s requests=${counts.requests} errors=${JSON.stringify(counts.errors)} workerd_rss_mb=${rssSamples.at(-1)} wasm_mb=${wasmSamples.at(-1)} heap_mb=${heapSamples.at(-1)} node_rss_mb=${nodeSamples.at(-1)}\n`);
  };

  const started = Date.now();
  let deadline = started + SECONDS * 1000;
  const stop = () => (deadline = 0);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await sample();
  const sampler = setInterval(sample, SAMPLE_MS);

  let next = 0;
  const caller = async () => {
    while (Date.now() < deadline) {
      const { status, failure, detail } = await once(gateway.url, next++);
      counts.requests += 1;
      counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
      if (failure) counts.errors[failure] = (counts.errors[failure] ?? 0) + 1;
      if (failure && counts.examples.length < 5) counts.examples.push({ at_s: Math.round((Date.now() - started) / 1000), detail });
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  } finally {
    clearInterval(sampler);
    await sample();
    inspector.close();
    await gateway.close();
  }

  const seconds = (Date.now() - started) / 1000;
  const errorsByStatus = Object.fromEntries(Object.entries(counts.byStatus).filter(([status]) => status !== "200"));
  const failed = Object.values(counts.errors).reduce((a, b) => a + b, 0);
  // Growth is measured under load: from the first sample taken with traffic flowing (the
  // one before is the idle worker) to the last.
  const measured = rssSamples.slice(1).filter((mb) => mb !== null);
  const summary = {
    seconds: Math.round(seconds * 10) / 10,
    concurrency: CONCURRENCY,
    requests: counts.requests,
    requests_per_second: Math.round(counts.requests / seconds),
    errors_by_status: errorsByStatus,
    failures: counts.errors,
    failure_examples: counts.examples,
    worker_messages: workerMessages,
    decision_log_lines: decisionLines,
    rss_mb_samples: rssSamples,
    rss_growth_mb: measured.length ? round(measured.at(-1) - measured[0]) : null,
    wasm_memory_mb_samples: wasmSamples,
    isolate_heap_mb_samples: heapSamples,
    node_rss_mb_samples: nodeSamples,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failed === 0 ? 0 : 1;
}

// The trivial pass-through worker under the same load: requests and workerd's RSS only.
async function passthroughSoak(mock) {
  const target = await startPassthrough(mock);
  const workerd = descendants("workerd");
  const rss = () => round(workerd.reduce((sum, pid) => sum + (rssMb(pid) ?? 0), 0));
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const samples = [rss()];
  const sampler = setInterval(() => {
    samples.push(rss());
    process.stderr.write(`soak(passthrough): ${Math.round((Date.now() - started) / 1000)}s workerd_rss_mb=${samples.at(-1)}\n`);
  }, SAMPLE_MS);
  let requests = 0;
  let failed = 0;
  let next = 0;
  const caller = async () => {
    while (Date.now() < deadline) {
      const { failure } = await once(target.url, next++);
      requests += 1;
      if (failure) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  clearInterval(sampler);
  samples.push(rss());
  await target.close();
  const seconds = (Date.now() - started) / 1000;
  const measured = samples.slice(1);
  process.stdout.write(
    `${JSON.stringify({ target: "passthrough", seconds: Math.round(seconds * 10) / 10, requests, failed, rss_mb_samples: samples, rss_growth_mb: round(measured.at(-1) - measured[0]) })}\n`,
  );
  return failed === 0 ? 0 : 1;
}

// The usage the provider reported in one answer, as the caller received it:
// `{ model, input_tokens, output_tokens }`, or null when it carries none.
function reportedUsage(provider, stream, text) {
  if (!stream) {
    const body = JSON.parse(text);
    const usage = body.usage;
    if (!usage) return null;
    return provider === "openai"
      ? { model: body.model, input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens ?? 0 }
      : { model: body.model, input_tokens: usage.input_tokens, output_tokens: usage.output_tokens };
  }
  const events = text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)));
  if (provider === "openai") {
    const last = events.findLast((event) => event.usage);
    return last && { model: last.model, input_tokens: last.usage.prompt_tokens, output_tokens: last.usage.completion_tokens };
  }
  const start = events.find((event) => event.type === "message_start")?.message;
  const delta = events.findLast((event) => event.type === "message_delta");
  return start && { model: start.model, input_tokens: start.usage.input_tokens, output_tokens: delta?.usage?.output_tokens ?? start.usage.output_tokens };
}

// A small seeded generator (mulberry32), so a run's pauses can be replayed.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sparse traffic on the starter limits, then every budget checked against what the
// provider reported.
async function sparseSoak() {
  if (!["on", "off"].includes(values.leases)) throw new Error("--leases is on or off");
  const mock = await startMockProvider({ chunkDelayMs: 2 });
  const gateway = await startGateway({ mock, bindings: { BUDGET_LEASES: values.leases } });
  const next = random(Number(values.seed));
  const callers = { alice: "research", sam: "support", priya: "platform" };
  // micro-USD the provider reported, by caller.
  const reported = Object.fromEntries(Object.keys(callers).map((caller) => [caller, 0]));
  const counts = { calls: 0, bursts: 0, failures: 0, examples: [] };
  const started = Date.now();
  const deadline = started + SECONDS * 1000;

  const call = async (caller) => {
    const provider = next() < 0.5 ? "openai" : "anthropic";
    const stream = next() < 0.5;
    const route = ROUTES[provider];
    const body = {
      model: route.model,
      max_tokens: 64,
      stream,
      ...(stream && provider === "openai" ? { stream_options: { include_usage: true } } : {}),
      messages: [{ role: "user", content: PROMPTS[caller] ?? PROMPTS.priya }],
    };
    counts.calls += 1;
    try {
      const response = await fetch(`${gateway.url}${route.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...route.auth(KEYS[caller]) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      const usage = response.status === 200 ? reportedUsage(provider, stream, text) : null;
      if (!usage) throw new Error(`status ${response.status}, no usage: ${text.slice(0, 200)}`);
      reported[caller] += costOf(usage);
    } catch (error) {
      counts.failures += 1;
      if (counts.examples.length < 5) counts.examples.push(`${caller} ${provider} ${stream ? "stream" : "json"}: ${error.message}`);
    }
  };
  const loop = async (caller) => {
    while (Date.now() < deadline) {
      if (next() < 0.05) {
        counts.bursts += 1;
        await Promise.all(Array.from({ length: 5 }, () => call(caller)));
      } else {
        await call(caller);
      }
      const pause = 200 + next() * 19_800;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(pause, deadline - Date.now()))));
    }
  };
  const progress = setInterval(() => {
    process.stderr.write(`soak(sparse): ${Math.round((Date.now() - started) / 1000)}s calls=${counts.calls} failures=${counts.failures}\n`);
  }, SAMPLE_MS);
  await Promise.all(Object.keys(callers).map(loop));
  clearInterval(progress);
  const trafficStopped = Date.now();

  // Each spend object the calls counted against, and what the provider reported for it.
  const spendObjects = [
    ["org:acme", starterLine("org"), Object.values(reported).reduce((a, b) => a + b, 0)],
    ...Object.entries(callers).map(([caller, team]) => [`team:${team}`, starterLine("team"), reported[caller]]),
    ...Object.keys(callers).map((caller) => [`user:${caller}`, starterLine("user"), reported[caller]]),
  ];
  const idle = (state) => ["held", "leased"].every((part) => Object.values(state[part]).every((n) => n === 0));
  // Leases close 2 s after they are taken, and are settled then: allow a few seconds.
  let objects;
  for (;;) {
    objects = await Promise.all(spendObjects.map(async ([name, line]) => [name, (await gateway.readObject(name, [line]))[0]]));
    if (objects.every(([, state]) => idle(state)) || Date.now() - trafficStopped > 10_000) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const idleAfterMs = Date.now() - trafficStopped;
  const budgets = objects.map(([name, state], index) => ({
    object: name,
    reported_micro_usd: spendObjects[index][2],
    used_micro_usd: state.used.micro_usd,
    held: state.held,
    leased: state.leased,
  }));
  // What an operator sees: each caller's `/v1/usage`, against the same totals.
  const usage = {};
  for (const caller of Object.keys(callers)) {
    const response = await fetch(`${gateway.url}/v1/usage`, { headers: { authorization: `Bearer ${KEYS[caller]}` } });
    const scopes = (await response.json()).scopes ?? [];
    usage[caller] = Object.fromEntries(scopes.flatMap((scope) => scope.limits.map((limit) => [`${scope.scope}:${scope.member}`, limit])));
  }
  const usageMismatches = [];
  for (const [caller, team] of Object.entries(callers)) {
    for (const [name, expected] of [[`user:${caller}`, reported[caller]], [`team:${team}`, reported[caller]], ["org:acme", spendObjects[0][2]]]) {
      const limit = usage[caller][name];
      if (!limit || limit.used.micro_usd !== expected || !idle(limit)) usageMismatches.push({ caller, name, expected, limit });
    }
  }
  const billed = mock.billed.reduce((sum, answer) => sum + costOf(answer), 0);
  const mismatched = budgets.filter((b) => b.used_micro_usd !== b.reported_micro_usd || !idle(b));
  const expired = gateway.logEvents("budget_hold_expired");
  const unsettled = gateway.logEvents("budget_unsettled");
  const leaseSettlements = gateway.logEvents("budget_lease_settled").length;
  await gateway.close();
  const ok = counts.failures === 0 && mismatched.length === 0 && usageMismatches.length === 0 && billed === spendObjects[0][2] && expired.length === 0 && unsettled.length === 0;
  const summary = {
    mode: "sparse",
    leases: values.leases,
    seed: Number(values.seed),
    seconds: Math.round((trafficStopped - started) / 100) / 10,
    calls: counts.calls,
    bursts: counts.bursts,
    failures: counts.failures,
    failure_examples: counts.examples,
    provider_billed_micro_usd: billed,
    idle_after_ms: idleAfterMs,
    lease_settlements: leaseSettlements,
    holds_expired: expired.length,
    settlements_lost: unsettled.length,
    budgets,
    mismatched_objects: mismatched.map((b) => b.object),
    usage_mismatches: usageMismatches,
    ok,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return ok ? 0 : 1;
}

// Exit explicitly: idle keep-alive sockets must not hold the process open.
process.exit(await main());

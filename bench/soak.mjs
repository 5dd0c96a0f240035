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
// Prints one JSON summary on stdout (progress on stderr) and exits 1 if any request failed.
// It only talks to 127.0.0.1 (the gateway and the mock both listen there), stops by
// itself, and gives up on any single request after 30 s.
import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";

import { startGateway, KEYS } from "../tests/e2e/harness.mjs";
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

// Exit explicitly: idle keep-alive sockets must not hold the process open.
process.exit(await main());

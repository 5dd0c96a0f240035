// Load benchmark: added latency and throughput of each target in front of the same mock
// provider, non-streaming and streaming, driven by autocannon on loopback.
//
//   node bench/load/run.mjs [--quick] [--out target/bench-results/load.json]
//
// Each target (bench/load/targets.mjs) runs in its own process (bench/load/serve.mjs),
// pinned with taskset to core 1 with the workerd or Portkey process it starts; this
// process, the load generator, pins itself to core 0. For every target, mode (JSON,
// SSE stream) and load (1 connection: latency; 16 connections: throughput) it runs
// autocannon for a bounded time and request count, repeats that, rotating the order of
// the targets each round, and keeps the per-run p50/p99 latency (of 2xx answers, from
// autocannon's per-response timings in µs, not its 1 ms histogram), requests per
// second, non-2xx answers and errors. It reports medians over the repeats with their
// min–max, and added latency = a target's median p50/p99 minus the mock's, at 1
// connection. It never fails on a figure: only on being unable to run at all.

import autocannon from "autocannon";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { TARGETS, PROMPT, PORTKEY_GUARDRAIL, chatBody } from "./targets.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? args[outIndex + 1] : `${root}target/bench-results/load.json`;
const only = process.env.BENCH_TARGETS ? process.env.BENCH_TARGETS.split(",") : TARGETS;

const CONFIG = quick
  ? { repeats: 1, seconds: 1, warmupSeconds: 0.5 }
  : { repeats: 3, seconds: 3, warmupSeconds: 1 };
const LOADS = [
  { load: "latency", connections: 1 },
  { load: "throughput", connections: 16 },
];
const MODES = [{ stream: false }, { stream: true }];
const MAX_REQUESTS = 100_000; // per run: a bound on count as well as on time
const CHUNK_DELAY_MS = 1; // the mock's pause between SSE events

const DESCRIPTIONS = {
  mock: "the mock provider called directly (baseline)",
  passthrough: "trivial pass-through JS worker on workerd (miniflare), bench/load/passthrough.mjs",
  gateway:
    "this gateway: build/ on workerd (miniflare), KV-seeded key, the starter policies and limits (request and token caps " +
    "raised so none binds) as a signed bundle",
  portkey: "Portkey gateway 1.15.2 (node server), one input guardrail (default.regexMatch)",
};

// --- CPU pinning --------------------------------------------------------------------
function hasTaskset() {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const pinned = availableParallelism() >= 2 && hasTaskset() && !process.env.BENCH_NO_PIN;
if (pinned) execFileSync("taskset", ["-p", "-c", "0", String(process.pid)], { stdio: "ignore" });

// --- target processes ---------------------------------------------------------------
const children = new Set();
function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
}
process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

function startServer(name) {
  const argv = [`${root}bench/load/serve.mjs`, name, String(CHUNK_DELAY_MS)];
  const [command, commandArgs] = pinned
    ? ["taskset", ["-c", "1", process.execPath, ...argv]]
    : [process.execPath, argv];
  const child = spawn(command, commandArgs, { stdio: ["pipe", "pipe", "pipe"], cwd: root });
  children.add(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end();
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${name}: not ready within 60 s; ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited (${code}) before ready; ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
    });
    lines.on("line", (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return; // anything else the target prints
      }
      if (message.ready) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ ...message, stop });
      }
    });
  });
}

// --- measuring ----------------------------------------------------------------------
function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const median = (values) => {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value, digits = 3) => (value === null ? null : Number(value.toFixed(digits)));

function drive(server, { stream, connections, seconds }) {
  const latencies = [];
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${server.url}${server.path}`,
        method: "POST",
        headers: { "content-type": "application/json", ...server.headers },
        body: chatBody({ stream }),
        connections,
        pipelining: 1,
        duration: seconds,
        maxOverallRequests: MAX_REQUESTS,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        latencies.sort((a, b) => a - b);
        resolve({
          ok: latencies.length,
          p50_ms: round(percentile(latencies, 50)),
          p99_ms: round(percentile(latencies, 99)),
          rps: round(latencies.length / Math.min(elapsed, result.duration || elapsed), 1),
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          status_codes: Object.fromEntries(
            Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
          ),
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

// One request each way, checked, so that a misconfigured target shows as such rather
// than as a fast stream of errors.
async function check(server) {
  for (const { stream } of MODES) {
    const response = await fetch(`${server.url}${server.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...server.headers },
      body: chatBody({ stream }),
    });
    const text = await response.text();
    const complete = stream ? text.includes("[DONE]") : text.includes("Hello from the mock provider.");
    if (response.status !== 200 || !complete) {
      throw new Error(`${server.name}: check (stream: ${stream}) got ${response.status}: ${text.slice(0, 300)}`);
    }
  }
}

// --- the run ------------------------------------------------------------------------
const began = Date.now();
const loadBefore = loadavg()[0];
const targets = {};
const servers = [];
for (const name of only) {
  process.stdout.write(`load: starting ${name} … `);
  try {
    const server = await startServer(name);
    await check(server);
    servers.push(server);
    targets[name] = { status: "ok", description: DESCRIPTIONS[name] };
    console.log("ready");
  } catch (error) {
    targets[name] = { status: "failed", description: DESCRIPTIONS[name], error: String(error.message ?? error) };
    console.log(`failed: ${error.message ?? error}`);
  }
}
if (!servers.some((s) => s.name === "mock")) {
  console.error("load: the mock provider did not start; nothing to measure");
  process.exit(1);
}

const runs = new Map(); // key → [run]
const key = (name, stream, load) => `${name}|${stream}|${load}`;
try {
  for (const server of servers) {
    for (const { stream } of MODES) {
      await drive(server, { stream, connections: 16, seconds: CONFIG.warmupSeconds });
    }
  }
  for (let repeat = 0; repeat < CONFIG.repeats; repeat++) {
    const order = servers.map((_, i) => servers[(i + repeat) % servers.length]);
    for (const { stream } of MODES) {
      for (const { load, connections } of LOADS) {
        for (const server of order) {
          const result = await drive(server, { stream, connections, seconds: CONFIG.seconds });
          const k = key(server.name, stream, load);
          runs.set(k, [...(runs.get(k) ?? []), result]);
          console.log(
            `load: round ${repeat + 1}/${CONFIG.repeats} ${server.name.padEnd(11)} ${stream ? "stream" : "json  "} c=${String(connections).padEnd(2)} ` +
              `p50 ${result.p50_ms} ms p99 ${result.p99_ms} ms ${result.rps} req/s non2xx ${result.non2xx} errors ${result.errors}`,
          );
        }
      }
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}

const scenarios = [];
for (const server of servers) {
  for (const { stream } of MODES) {
    for (const { load, connections } of LOADS) {
      const list = runs.get(key(server.name, stream, load)) ?? [];
      const range = (field) => {
        const values = list.map((r) => r[field]).filter((v) => v !== null);
        return values.length ? [Math.min(...values), Math.max(...values)] : null;
      };
      scenarios.push({
        target: server.name,
        stream,
        load,
        connections,
        runs: list,
        median: {
          p50_ms: round(median(list.map((r) => r.p50_ms))),
          p99_ms: round(median(list.map((r) => r.p99_ms))),
          rps: round(median(list.map((r) => r.rps)), 1),
        },
        range: { p50_ms: range("p50_ms"), p99_ms: range("p99_ms"), rps: range("rps") },
        totals: {
          ok: list.reduce((sum, r) => sum + r.ok, 0),
          non2xx: list.reduce((sum, r) => sum + r.non2xx, 0),
          errors: list.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
        },
      });
    }
  }
}

const find = (target, stream, load) => scenarios.find((s) => s.target === target && s.stream === stream && s.load === load);
const added = [];
for (const { stream } of MODES) {
  const base = find("mock", stream, "latency");
  for (const server of servers.filter((s) => s.name !== "mock")) {
    const s = find(server.name, stream, "latency");
    const t = find(server.name, stream, "throughput");
    const bt = find("mock", stream, "throughput");
    const diff = (a, b) => (a === null || b === null ? null : round(a - b));
    added.push({
      target: server.name,
      stream,
      added_p50_ms: diff(s.median.p50_ms, base.median.p50_ms),
      added_p99_ms: diff(s.median.p99_ms, base.median.p99_ms),
      rps_c16: t.median.rps,
      rps_vs_mock: bt.median.rps ? round(t.median.rps / bt.median.rps, 3) : null,
    });
  }
}

const result = {
  schema: "load/1",
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  seconds_total: round((Date.now() - began) / 1000, 1),
  loadavg_1m: { start: round(loadBefore, 2), end: round(loadavg()[0], 2) },
  config: {
    ...CONFIG,
    loads: LOADS,
    max_requests_per_run: MAX_REQUESTS,
    mock_chunk_delay_ms: CHUNK_DELAY_MS,
    prompt_bytes: Buffer.byteLength(PROMPT),
    request_bytes: { json: Buffer.byteLength(chatBody({ stream: false })), stream: Buffer.byteLength(chatBody({ stream: true })) },
    pinning: pinned ? { load_generator: "core 0", servers: "core 1 (target process, workerd or Portkey, and the mock)" } : null,
    autocannon: "8.0.0",
    worker_wasm: (() => {
      try {
        const path = `${root}build/index_bg.wasm`;
        return { sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), mtime: statSync(path).mtime.toISOString() };
      } catch {
        return null;
      }
    })(),
    portkey_guardrail: PORTKEY_GUARDRAIL,
  },
  targets,
  scenarios,
  added,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`load: wrote ${out} (${result.seconds_total} s)`);
process.exit(0);

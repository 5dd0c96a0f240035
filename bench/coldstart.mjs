// Cold start and size of the built worker.
//
//   node bench/coldstart.mjs [--quick] [--out target/bench-results/coldstart.json]
//
// Size: build/index_bg.wasm raw and `gzip -9` (and build/index.js, the glue).
//
// Cold start: a fresh workerd process (Miniflare) per measurement, timed from outside
// (inside a worker, clocks only move on I/O) from `new Miniflare(...)` to the first
// answered request. Four probes isolate the steps, each in its own fresh process:
//   baseline     a tiny JS worker: answers /healthz itself, reads KV on /kv, and forwards
//                /v1/* to the mock provider as bench/load/passthrough.mjs does (workerd +
//                Miniflare start-up, the floor; and the first KV read and first
//                subrequest of any worker)
//   bytes        the same, plus the wasm's bytes as a Data module (shipping 4.5 MB to
//                workerd in its config, without compiling them)
//   compile      the baseline plus an import of build/index_bg.wasm as a compiled module,
//                never instantiated (adds the wasm compile workerd does at load)
//   instantiate  the same, plus `new WebAssembly.Instance` at top level with stub
//                imports (adds instantiation)
//   gateway      build/index.js itself (wasm-bindgen glue, instantiate, start hook)
//                answering GET /healthz, which loads no policy
// and one end-to-end probe with the e2e harness (tests/e2e/harness.mjs: KV seeded with
// the demo keys): first /healthz, then a chat request with an unknown key (401 at
// authentication), then the first policy-checked chat request (alice, gpt-4o-mini, ~1 KiB
// prompt), then 20 warm ones of each. An isolate's first request through the pipeline,
// even the 401, starts the background policy check, which loads and validates the
// embedded bundle: so the 401's extra cost over a warm 401, less the baseline's first KV
// read, is the first policy load (with the first use of the code it runs); the first
// chat's extra cost over a warm chat, less the baseline's first forwarded request, is the
// first use of the decision code.
// Repeats (7, quick 2) and reports medians with min–max. No thresholds, ever.

import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { loadavg } from "node:os";

import { startMockProvider, OPENAI_KEY } from "../tests/e2e/mock_provider.mjs";
import { startGateway, KEYS } from "../tests/e2e/harness.mjs";
import { chatBody } from "./load/targets.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const outIndex = args.indexOf("--out");
const out = outIndex >= 0 ? args[outIndex + 1] : `${root}target/bench-results/coldstart.json`;
const REPEATS = quick ? 2 : 7;
const WARM_REQUESTS = 20;
const COMPATIBILITY_DATE = "2026-04-20";

const wasmPath = `${root}build/index_bg.wasm`;
const wasm = readFileSync(wasmPath);
const glue = readFileSync(`${root}build/index.js`);

function gzip9(bytes, path) {
  try {
    // The gzip CLI, as the size target is usually checked (`gzip -9 -c | wc -c`).
    return { bytes: execFileSync("gzip", ["-9", "-c", path], { maxBuffer: 64 << 20 }).length, tool: "gzip -9" };
  } catch {
    return { bytes: gzipSync(bytes, { level: 9 }).length, tool: "node zlib level 9" };
  }
}

// --- the probe workers ----------------------------------------------------------------
const FORWARD = `
  const url = new URL(request.url);
  if (url.pathname === "/healthz") return new Response('{"status":"ok"}');
  if (url.pathname === "/kv") return new Response(String(await env.POLICY_KV.get("key:bench-missing")));
  const headers = new Headers(request.headers);
  headers.set("authorization", "Bearer " + env.OPENAI_API_KEY);
  return fetch(env.OPENAI_BASE_URL + url.pathname.replace(/^\\/v1/, ""), { method: request.method, headers, body: request.body });
`;
const PROBES = {
  baseline: `export default { async fetch(request, env) { ${FORWARD} } };`,
  bytes: `import bytes from "./index_bg.bin";
    export default { async fetch(request, env) { if (!bytes) throw new Error(); ${FORWARD} } };`,
  compile: `import wasm from "./index_bg.wasm";
    export default { async fetch(request, env) { if (!wasm) throw new Error(); ${FORWARD} } };`,
  instantiate: `import wasm from "./index_bg.wasm";
    const imports = {};
    for (const { module, name, kind } of WebAssembly.Module.imports(wasm)) {
      imports[module] ??= {};
      imports[module][name] = kind === "tag" ? WebAssembly.JSTag : () => {};
    }
    const instance = new WebAssembly.Instance(wasm, imports);
    export default { async fetch(request, env) { if (!instance) throw new Error(); ${FORWARD} } };`,
};

const now = () => performance.now();
const round = (value, digits = 1) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function timed(fn) {
  const start = now();
  const value = await fn();
  return [now() - start, value];
}

async function get(url) {
  const response = await fetch(url);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
}

async function postChat(url, headers, expect = 200) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: chatBody({ stream: false }),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 200)}`);
}

// A probe worker in a fresh workerd: [ready, first /healthz, first forwarded, warm median].
async function probe(name, mock) {
  const modules = [{ type: "ESModule", path: "probe.mjs", contents: PROBES[name] }];
  if (name === "bytes") modules.push({ type: "Data", path: "index_bg.bin", contents: wasm });
  else if (name !== "baseline") modules.push({ type: "CompiledWasm", path: "index_bg.wasm", contents: wasm });
  const start = now();
  const mf = new Miniflare({
    modules,
    compatibilityDate: COMPATIBILITY_DATE,
    port: 0,
    kvNamespaces: ["POLICY_KV"],
    bindings: { OPENAI_BASE_URL: mock.openaiBaseUrl, OPENAI_API_KEY: OPENAI_KEY },
  });
  try {
    const base = (await mf.ready).href.replace(/\/$/, "");
    const ready = now() - start;
    await get(`${base}/healthz`);
    const healthz = now() - start;
    const result = { ready_ms: ready, first_healthz_ms: healthz };
    if (name === "baseline") {
      // A first KV read alone (Miniflare's KV store starting up), then warm ones.
      const [firstKv] = await timed(() => get(`${base}/kv`));
      const warmKv = [];
      for (let i = 0; i < WARM_REQUESTS; i++) warmKv.push((await timed(() => get(`${base}/kv`)))[0]);
      Object.assign(result, { first_kv_read_ms: firstKv, warm_kv_read_ms: median(warmKv) });
      const chat = `${base}/v1/chat/completions`;
      const [first] = await timed(() => postChat(chat, {}));
      const warm = [];
      for (let i = 0; i < WARM_REQUESTS; i++) warm.push((await timed(() => postChat(chat, {})))[0]);
      Object.assign(result, { first_request_ms: first, warm_request_ms: median(warm) });
    }
    return result;
  } finally {
    await mf.dispose();
  }
}

// The built worker alone, no KV, GET /healthz (which loads no policy).
async function gatewayHealthz() {
  const start = now();
  const mf = new Miniflare({
    rootPath: root,
    modules: true,
    scriptPath: "build/index.js",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: COMPATIBILITY_DATE,
    port: 0,
    kvNamespaces: ["POLICY_KV"],
  });
  try {
    const base = (await mf.ready).href.replace(/\/$/, "");
    const ready = now() - start;
    await get(`${base}/healthz`);
    return { ready_ms: ready, first_healthz_ms: now() - start };
  } finally {
    await mf.dispose();
  }
}

// The e2e harness (KV seeded with the demo keys): first /healthz, first decision, warm.
async function gatewayDecision(mock) {
  const start = now();
  const gateway = await startGateway({ mock: { ...mock, close: async () => {} } });
  try {
    const started = now() - start;
    await get(`${gateway.url}/healthz`);
    const healthz = now() - start;
    const chat = `${gateway.url}/v1/chat/completions`;
    const headers = { authorization: `Bearer ${KEYS.alice}` };
    // An unknown key: the request path up to authentication (config, the background
    // policy check, the first KV read), answered 401 before any policy is loaded.
    const unknown = { authorization: "Bearer sk-bench-unknown-key" };
    const [firstUnknown] = await timed(() => postChat(chat, unknown, 401));
    const [first] = await timed(() => postChat(chat, headers));
    const warm = [];
    const warmUnknown = [];
    for (let i = 0; i < WARM_REQUESTS; i++) {
      warm.push((await timed(() => postChat(chat, headers)))[0]);
      warmUnknown.push((await timed(() => postChat(chat, unknown, 401)))[0]);
    }
    return {
      started_and_seeded_ms: started,
      first_healthz_ms: healthz,
      first_unknown_key_ms: firstUnknown,
      warm_unknown_key_ms: median(warmUnknown),
      first_request_ms: first,
      warm_request_ms: median(warm),
      first_decision_from_start_ms: healthz + firstUnknown + first,
    };
  } finally {
    await gateway.close();
  }
}

// --- the run --------------------------------------------------------------------------
const began = Date.now();
const loadBefore = loadavg()[0];
const rawGz = gzip9(wasm, wasmPath);
const size = {
  wasm_path: "build/index_bg.wasm",
  wasm_raw_bytes: wasm.length,
  wasm_gzip_bytes: rawGz.bytes,
  wasm_sha256: createHash("sha256").update(wasm).digest("hex"),
  wasm_mtime: statSync(wasmPath).mtime.toISOString(),
  gzip_tool: rawGz.tool,
  glue_raw_bytes: glue.length,
  glue_gzip_bytes: gzip9(glue, `${root}build/index.js`).bytes,
};
console.log(`coldstart: wasm ${size.wasm_raw_bytes} bytes raw, ${size.wasm_gzip_bytes} gzip -9`);

const mock = await startMockProvider();
const samples = { baseline: [], bytes: [], compile: [], instantiate: [], gateway_healthz: [], gateway_decision: [] };
try {
  // Node's own first fetch is slow (undici starts up); take it before timing anything.
  await fetch(`${mock.url}/`).then((r) => r.arrayBuffer());
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    // The probes in a rotated order each round, so that drift on the machine spreads evenly.
    const steps = [
      ["baseline", () => probe("baseline", mock)],
      ["bytes", () => probe("bytes", mock)],
      ["compile", () => probe("compile", mock)],
      ["instantiate", () => probe("instantiate", mock)],
      ["gateway_healthz", () => gatewayHealthz()],
      ["gateway_decision", () => gatewayDecision(mock)],
    ];
    for (let i = 0; i < steps.length; i++) {
      const [name, run] = steps[(i + repeat) % steps.length];
      samples[name].push(await run());
    }
    const d = samples.gateway_decision.at(-1);
    console.log(
      `coldstart: round ${repeat + 1}/${REPEATS}: baseline /healthz ${round(samples.baseline.at(-1).first_healthz_ms)} ms, ` +
        `compile ${round(samples.compile.at(-1).first_healthz_ms)}, instantiate ${round(samples.instantiate.at(-1).first_healthz_ms)}, ` +
        `gateway ${round(samples.gateway_healthz.at(-1).first_healthz_ms)}; first decision ${round(d.first_request_ms)} ms (warm ${round(d.warm_request_ms)})`,
    );
  }
} finally {
  await mock.close();
}

function summarise(list) {
  const fields = Object.keys(list[0] ?? {});
  return Object.fromEntries(
    fields.map((field) => {
      const values = list.map((s) => s[field]);
      return [field, { median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)) }];
    }),
  );
}
const summary = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summarise(list)]));
function splitBy(stat) {
const m = (probeName, field) => summary[probeName]?.[field]?.[stat] ?? null;
const diff = (a, b) => (a === null || b === null ? null : round(a - b));
const baselineFirstExtra = diff(m("baseline", "first_request_ms"), m("baseline", "warm_request_ms"));
const gatewayFirstExtra = diff(m("gateway_decision", "first_request_ms"), m("gateway_decision", "warm_request_ms"));
const unknownFirstExtra = diff(m("gateway_decision", "first_unknown_key_ms"), m("gateway_decision", "warm_unknown_key_ms"));
const kvFirstExtra = diff(m("baseline", "first_kv_read_ms"), m("baseline", "warm_kv_read_ms"));
const split = {
  workerd_start_ms: m("baseline", "first_healthz_ms"),
  module_bytes_ms: diff(m("bytes", "first_healthz_ms"), m("baseline", "first_healthz_ms")),
  wasm_compile_ms: diff(m("compile", "first_healthz_ms"), m("bytes", "first_healthz_ms")),
  wasm_instantiate_ms: diff(m("instantiate", "first_healthz_ms"), m("compile", "first_healthz_ms")),
  glue_and_start_ms: diff(m("gateway_healthz", "first_healthz_ms"), m("instantiate", "first_healthz_ms")),
  gateway_over_baseline_healthz_ms: diff(m("gateway_healthz", "first_healthz_ms"), m("baseline", "first_healthz_ms")),
  // An isolate's first request through the pipeline, even one refused at authentication,
  // starts the background policy check, which loads the embedded bundle (active()); so
  // the first policy load shows here, with the first use of the code it runs.
  first_unknown_key_extra_ms: unknownFirstExtra,
  baseline_first_kv_read_extra_ms: kvFirstExtra,
  first_policy_load_ms: diff(unknownFirstExtra, kvFirstExtra),
  // Then the first policy-checked chat: the first use of the decision code (body parse,
  // detectors, Cedar, forward) over a warm chat, less the baseline's first forward.
  first_request_extra_ms: gatewayFirstExtra,
  baseline_first_request_extra_ms: baselineFirstExtra,
  first_decision_code_ms: diff(gatewayFirstExtra, baselineFirstExtra),
  first_decision_from_start_ms: m("gateway_decision", "first_decision_from_start_ms"),
};
return split;
}
// Differences of medians (the figures), and of minima (noise from other work on the
// machine only ever adds time, so the minima bound each step's own cost more tightly).
const split = splitBy("median");
const split_of_minima = splitBy("min");

const result = {
  schema: "coldstart/1",
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  repeats: REPEATS,
  warm_requests: WARM_REQUESTS,
  seconds_total: round((Date.now() - began) / 1000),
  loadavg_1m: { start: round(loadBefore, 2), end: round(loadavg()[0], 2) },
  size,
  samples,
  summary,
  split,
  split_of_minima,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`coldstart: wrote ${out} (${result.seconds_total} s)`);

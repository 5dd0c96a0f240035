// Writes BENCHMARKS.md from whatever target/bench-results/*.json holds: the machine, the
// command, one section per result file (a missing one says "not run"), the targets and
// whether they are met, the noise, then bench/NOTES.md (the hand-written analysis)
// verbatim. It never fails on a figure.
//
//   node bench/render.mjs [--command "scripts/bench.sh"] [--seconds N] [--out BENCHMARKS.md]
//                         [--results target/bench-results] [--failed native,wasm]

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const results = option("--results", `${root}target/bench-results`);
const out = option("--out", `${root}BENCHMARKS.md`);
const command = option("--command", null);
const suiteSeconds = option("--seconds", null);

// Targets of issue 5 that this suite reports against.
const TARGET_ADDED_P50_MS = 1;
const TARGET_GZIP_BYTES = 1_000_000; // "1 MB", read strictly as 10^6 bytes

// --- reading --------------------------------------------------------------------------
function load(name) {
  const path = `${results}/${name}.json`;
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { unreadable: String(error.message ?? error) };
  }
}
const files = existsSync(results) ? readdirSync(results).filter((f) => f.endsWith(".json")).sort() : [];
const KNOWN = ["native", "wasm", "load", "coldstart"];
const data = Object.fromEntries(KNOWN.map((name) => [name, load(name)]));
const others = files.map((f) => f.replace(/\.json$/, "")).filter((name) => !KNOWN.includes(name));

// --- formatting -----------------------------------------------------------------------
// Counts (integers) as integers; measured values by magnitude, ≥ 1000 with separators.
const fmtFloat = (value, digits = 2) => {
  if (value === null || value === undefined) return "–";
  if (Math.abs(value) >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
};
const fmt = (value, digits = 2) => {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  if (Math.abs(value) >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
};
const bytes = (n) => (n === null || n === undefined ? "–" : `${n.toLocaleString("en-US")} B (${(n / 1e6).toFixed(2)} MB)`);
const signed = (value) => (value === null || value === undefined ? "–" : `${value >= 0 ? "+" : "−"}${fmtFloat(Math.abs(value))}`);
const range = (pair, digits) => (pair ? `${fmt(pair[0], digits)}–${fmt(pair[1], digits)}` : "–");
const met = (ok) => (ok === null || ok === undefined ? "not measured" : ok ? "**met**" : "**not met**");
function table(headers, rows) {
  const escape = (cell) => String(cell ?? "–").replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${headers.map(escape).join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}
function when(result) {
  const iso = result?.date ?? (result?.unix_time ? new Date(result.unix_time * 1000).toISOString() : null);
  return iso ? ` Measured ${iso.replace("T", " ").replace(/\.\d+Z$/, " UTC")}` : "";
}
const modeOf = (result) => (result?.mode ? ` (${result.mode} mode)` : "");

// --- the machine ------------------------------------------------------------------------
function run(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}
function machine() {
  let cpu = "unknown CPU";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {}
  const virt = run("systemd-detect-virt", []);
  return {
    cpu,
    cores: availableParallelism(),
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: `Linux ${release()}`,
    virtualised: virt && virt !== "none" ? virt : null,
    node: process.version,
    rust: run("rustc", ["--version"]),
    workerd: run(`${root}node_modules/.bin/workerd`, ["--version"]),
  };
}

// --- sections ---------------------------------------------------------------------------
const lines = [];
const say = (...text) => lines.push(...text);
// Steps scripts/bench.sh saw fail in this run (their output is in its log).
const failedSteps = new Set((option("--failed", "") || "").split(",").filter(Boolean));
const notRun = (what, how) =>
  say(
    failedSteps.has(what)
      ? `Not run: its step failed in this run of \`scripts/bench.sh\` (the error is in that run's output), so there is no \`target/bench-results/${what}.json\`. ${how}`
      : `Not run: no \`target/bench-results/${what}.json\`. ${how}`,
    "",
  );

const m = machine();
const now = new Date();
say(
  "# Benchmarks",
  "",
  "Generated by `bench/render.mjs` from `target/bench-results/*.json`; do not edit by hand (the",
  "hand-written analysis is `bench/NOTES.md`, appended at the end). Rerun everything with one command:",
  "",
  "```sh",
  "scripts/bench.sh           # full: the figures below (repeats, medians)",
  "scripts/bench.sh --quick   # CI smoke: one short round of everything",
  "```",
  "",
  `- Date: ${now.toISOString().slice(0, 10)}${command ? `; command: \`${command}\`` : ""}${suiteSeconds ? ` (${fmt(Number(suiteSeconds), 0)} s in all)` : ""}.`,
  `- Machine: ${m.cpu}, ${m.cores} cores${m.virtualised ? ` (virtualised: ${m.virtualised})` : ""}, ${m.memory} RAM, ${m.kernel}.`,
  `- Tools: Node ${m.node}${m.rust ? `, ${m.rust}` : ""}${m.workerd ? `, workerd ${m.workerd.replace(/^workerd\s*/, "")}` : ""} (miniflare 4.20260426.0), autocannon 8.0.0.`,
  "- Benchmarks here are measurements, not tests: nothing fails on a figure.",
  "",
);

// Targets summary (filled as sections are rendered).
const targets = [];

// Native and wasm decision cost (another script writes these; its schema in bench/README.md).
function renderGeneric(result) {
  if (result.unreadable) return say(`The result file could not be read: ${result.unreadable}`, "");
  const scalars = [];
  for (const [key, value] of Object.entries(result)) {
    if (["schema", "date", "mode"].includes(key)) continue;
    if (value === null || typeof value !== "object") {
      scalars.push(`- ${key}: ${fmt(value)}`);
    } else if (Array.isArray(value) && value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) {
      const headers = [...new Set(value.flatMap((row) => Object.keys(row)))];
      say(`**${key}**`, "", table(headers, value.map((row) => headers.map((h) => cellOf(row[h])))), "");
    } else if (Array.isArray(value)) {
      scalars.push(`- ${key}: ${value.map(cellOf).join(", ")}`);
    } else {
      const rows = Object.entries(value).map(([k, v]) => [k, cellOf(v)]);
      say(`**${key}**`, "", table(["", "value"], rows), "");
    }
  }
  if (scalars.length) say(...scalars, "");
}
function cellOf(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "object") {
    if (Array.isArray(value)) return value.map(cellOf).join(", ");
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : fmt(v)}`)
      .join("; ");
  }
  return fmt(value);
}
function collectTargets(result, source) {
  // If the other scripts report targets as [{name|target, value|figure, target|limit, met}],
  // carry them into the summary.
  for (const t of Array.isArray(result?.targets) ? result.targets : []) {
    if (t && typeof t === "object") {
      targets.push([
        t.name ?? t.what ?? t.metric ?? source,
        cellOf(t.value ?? t.figure ?? t.measured),
        typeof (t.target ?? t.limit ?? t.goal) === "number" ? `≤ ${fmt(t.target ?? t.limit ?? t.goal)}` : cellOf(t.target ?? t.limit ?? t.goal),
        met(t.met),
        source,
      ]);
    }
  }
}

// The decision-cost results (schema llm-policy-gateway/bench-native/v1, documented in
// benches/decision.rs and bench/README.md; wasm.json is expected to follow it): known
// arrays get chosen columns, anything else is rendered generically.
const spreadOf = (rounds) => {
  if (!Array.isArray(rounds) || rounds.length < 2) return null;
  const sorted = [...rounds].sort((a, b) => a - b);
  return [sorted[0], sorted.at(-1)];
};
// Columns a stats row may carry, in the order shown; a column appears when any row has it.
const STAT_COLUMNS = [
  ["engine", "engine", (v) => v],
  ["policies", "policies", (v) => v],
  ["prompt_bytes", "prompt", (v) => v],
  ["slice_policies", "in the slice", (v) => v],
  ["bytes", "bytes", (v) => v],
  ["p50_us", "p50", fmt],
  ["p99_us", "p99", fmt],
  ["mean_us", "mean", fmt],
  ["round_p50_us", "round p50 min–max", (v) => range(spreadOf(v))],
  ["floor_p50_us", "Cedar floor p50", fmt],
  ["ratio_to_floor", "× floor", (v) => fmt(v, 1)],
  ["native_p50_us", "native p50", fmt],
  ["ratio_to_native", "× native", (v) => fmt(v, 2)],
  ["ratio_to_our_floor", "÷ our floor", (v) => fmt(v, 2)],
  ["ratio_to_our_full", "÷ our full", (v) => fmt(v, 2)],
  ["n", "n", (v) => v],
];
function statsTable(rows, extra = []) {
  const columns = [...STAT_COLUMNS.slice(0, 4), ...extra, ...STAT_COLUMNS.slice(4)].filter(([key]) => rows.some((r) => r[key] !== undefined));
  return table(
    columns.map(([, label]) => label),
    rows.map((r) => columns.map(([key, , show]) => (r[key] === undefined || r[key] === null ? "–" : show(r[key])))),
  );
}
const mib = (n) => (typeof n === "number" ? `${(n / 2 ** 20).toFixed(1)} MiB` : cellOf(n));
const SECTIONS = [
  ["full_decision", "**Full decision** (request JSON bytes → decision), µs; p50/p99/mean are medians over rounds:"],
  ["cedar_floor", "**Cedar floor** (`is_authorized` alone on a prebuilt request), µs:"],
  ["floor", "**Cedar floor** (`is_authorized` alone on a prebuilt request), µs:"],
  ["cedar_slice", "**Cedar on the request's slice** (the same call over the policies whose scope the request satisfies: what the pipeline hands Cedar, `src/engine/slice.rs`), µs:"],
  ["cedar_wasm_stateful", "**@cedar-policy/cedar-wasm, stateful** (policies and schema preparsed once), µs; ÷ = its p50 divided by ours:"],
  ["cedar_wasm_stateless", "**@cedar-policy/cedar-wasm, stateless** (policy text and schema in every call), µs:"],
];
function renderDecision(result) {
  if (result.unreadable) return say(`The result file could not be read: ${result.unreadable}`, "");
  const rest = { ...result };
  for (const key of ["schema", "mode", "unix_time", "date", "machine", "targets"]) delete rest[key];
  if (result.machine) {
    const mc = result.machine;
    const extras = [result.profile && `cargo profile \`${result.profile}\``, result.node && `node ${result.node}`, result.cedar_wasm?.version && `@cedar-policy/cedar-wasm ${result.cedar_wasm.version}`].filter(Boolean);
    say(`Machine as the run saw it: ${[mc.cpu_model, mc.cpus && `${mc.cpus} cpus`, mc.os, mc.arch].filter(Boolean).join(", ")}${extras.length ? `; ${extras.join("; ")}` : ""}.`, "");
    delete rest.profile;
    delete rest.node;
    delete rest.cedar_wasm;
  }
  if (rest.request && typeof rest.request === "object") {
    say(`Request: ${cellOf(rest.request)}.`, "");
    delete rest.request;
  }
  if (rest.module && typeof rest.module === "object" && !Array.isArray(rest.module)) {
    const mod = rest.module;
    say(`Module: ${mod.file ? `\`${mod.file}\`, ` : ""}${mod.bytes ? `${bytes(mod.bytes)} raw` : ""}${mod.gzip_bytes ? `, ${bytes(mod.gzip_bytes)} gzipped` : ""}.`, "");
    delete rest.module;
  }
  for (const [key, title] of SECTIONS) {
    if (!Array.isArray(rest[key]) || !rest[key].length) continue;
    say(title, "", statsTable(rest[key]), "");
    delete rest[key];
  }
  if (Array.isArray(rest.detectors)) {
    say("**Detectors** (injection, PII, secrets over prose), µs:", "");
    const rows = rest.detectors.map((r) => ({ ...r, mib_s: r.p50_us ? r.bytes / 2 ** 20 / (r.p50_us / 1e6) : undefined }));
    say(statsTable(rows, [["mib_s", "MiB/s at p50", (v) => fmt(v, 1)]]), "");
    delete rest.detectors;
  }
  if (Array.isArray(rest.policy_sets)) {
    say("**Policy sets** loaded (generated, strictly validated):", "");
    const keys = [...new Set(rest.policy_sets.flatMap((r) => Object.keys(r)))];
    say(table(keys, rest.policy_sets.map((r) => keys.map((k) => (typeof r[k] === "number" ? fmt(r[k]) : cellOf(r[k]))))), "");
    delete rest.policy_sets;
  }
  const memory = rest.memory;
  if (memory && typeof memory === "object") {
    const rows = Array.isArray(memory) ? memory : [memory];
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    say("**Memory** (bytes shown in MiB):", "");
    say(table(keys.map((k) => k.replace(/_bytes$/, "")), rows.map((r) => keys.map((k) => (k.endsWith("_bytes") ? mib(r[k]) : cellOf(r[k]))))), "");
    delete rest.memory;
  }
  if (Object.keys(rest).length) renderGeneric(rest);
}

say("## Native and wasm decision cost", "");
for (const [name, script] of [
  ["native", "bench/run_native.sh"],
  ["wasm", "bench/run_wasm.sh"],
]) {
  say(`### ${name === "native" ? "Native" : "Wasm"} (\`${script}\`)`, "");
  const result = data[name];
  if (!result) {
    notRun(name, `\`${script}\` writes it${existsSync(`${root}${script}`) ? "" : " (not in this tree yet)"}.`);
    continue;
  }
  if (when(result)) say(`${when(result).trim()}${modeOf(result)}.`, "");
  renderDecision(result);
  collectTargets(result, name);
}

// Load.
say("## Added latency and throughput through the worker (`bench/load/`)", "");
const loadResult = data.load;
let addedGateway = null;
if (!loadResult) {
  notRun("load", "`node bench/load/run.mjs [--quick]` writes it.");
} else if (loadResult.unreadable) {
  say(`The result file could not be read: ${loadResult.unreadable}`, "");
} else {
  const c = loadResult.config;
  say(
    `${when(loadResult).trim()}${modeOf(loadResult)}, ${fmt(loadResult.seconds_total, 0)} s. Every target sits in front of the same`,
    "local mock provider (`tests/e2e/mock_provider.mjs`) on loopback. The request: an OpenAI chat",
    `completion for \`gpt-4o-mini\` with a ${c.prompt_bytes}-byte prompt (${c.request_bytes.json} bytes of JSON), allowed by the`,
    "policies (demo key alice); streaming asks for `stream: true` and times the whole SSE answer",
    `(the mock writes 9 events, ${c.mock_chunk_delay_ms} ms apart). autocannon ${c.autocannon}, ${c.repeats} round(s) of ${c.seconds} s per scenario`,
    `(at most ${c.max_requests_per_run.toLocaleString("en-US")} requests each), after a ${c.warmupSeconds} s warm-up, target order rotated each round;`,
    "latency percentiles are over every 2xx answer of a run (µs timings), then the median over rounds.",
    ...(c.worker_wasm ? [`The gateway ran \`build/index_bg.wasm\` SHA-256 \`${c.worker_wasm.sha256.slice(0, 16)}…\`, built ${c.worker_wasm.mtime.replace("T", " ").replace(/\.\d+Z$/, " UTC")}.`] : []),
    c.pinning
      ? `Pinned with taskset: load generator on ${c.pinning.load_generator}; ${c.pinning.servers}.`
      : "Not pinned (taskset missing or a single core).",
    "",
  );
  const rows = Object.entries(loadResult.targets).map(([name, t]) => [
    `\`${name}\``,
    t.description,
    t.status === "ok" ? "ran" : `**could not run**: ${t.error}`,
  ]);
  say(table(["target", "what", "status"], rows), "");

  const scen = (target, stream, load) => loadResult.scenarios.find((s) => s.target === target && s.stream === stream && s.load === load);
  const added = (target, stream) => loadResult.added.find((a) => a.target === target && a.stream === stream);
  for (const stream of [false, true]) {
    const label = stream ? "Streaming (SSE)" : "Non-streaming (JSON)";
    const pass = scen("passthrough", stream, "latency");
    say(`### ${label}: latency at 1 connection`, "");
    say(
      table(
        ["target", "p50 ms", "p99 ms", "added p50 vs mock", "added p99 vs mock", "added p50 vs pass-through", "p50 min–max over rounds", "non-2xx", "errors"],
        loadResult.scenarios
          .filter((s) => s.stream === stream && s.load === "latency")
          .map((s) => {
            const a = added(s.target, stream);
            const overPass = pass && s.target !== "mock" && s.target !== "passthrough" ? s.median.p50_ms - pass.median.p50_ms : null;
            return [
              `\`${s.target}\``,
              fmt(s.median.p50_ms, 3),
              fmt(s.median.p99_ms, 3),
              a ? signed(a.added_p50_ms) : "(baseline)",
              a ? signed(a.added_p99_ms) : "(baseline)",
              overPass === null ? "–" : signed(overPass),
              range(s.range.p50_ms, 3),
              s.totals.non2xx,
              s.totals.errors,
            ];
          }),
      ),
      "",
    );
    say(`### ${label}: throughput at ${scen("mock", stream, "throughput")?.connections ?? 16} connections`, "");
    say(
      table(
        ["target", "req/s", "vs mock", "req/s min–max", "p50 ms", "p99 ms", "non-2xx", "errors"],
        loadResult.scenarios
          .filter((s) => s.stream === stream && s.load === "throughput")
          .map((s) => {
            const base = scen("mock", stream, "throughput");
            return [
              `\`${s.target}\``,
              fmt(s.median.rps, 0),
              base?.median.rps ? `${((100 * s.median.rps) / base.median.rps).toFixed(0)} %` : "–",
              range(s.range.rps, 0),
              fmt(s.median.p50_ms, 3),
              fmt(s.median.p99_ms, 3),
              s.totals.non2xx,
              s.totals.errors,
            ];
          }),
      ),
      "",
    );
  }
  addedGateway = added("gateway", false)?.added_p50_ms ?? null;
  targets.push([
    "added latency through workerd, p50 (non-streaming, 1 connection, gateway − mock direct)",
    addedGateway === null ? "–" : `${fmt(addedGateway, 3)} ms`,
    `≤ ${TARGET_ADDED_P50_MS} ms`,
    met(addedGateway === null ? null : addedGateway <= TARGET_ADDED_P50_MS),
    "load",
  ]);
  say(
    "Added latency is a target's median p50 (or p99) minus the mock's, both at 1 connection;",
    "\"vs pass-through\" subtracts the trivial JS worker instead, which leaves what the gateway's own",
    "work costs (authentication with a KV read, the policy decision, the detectors, the decision log)",
    "over any worker in that place. Throughput is closed-loop: 16 connections, each sending its next",
    "request when the last is answered, all servers sharing one core. Miniflare's KV is a local",
    "store, not Cloudflare's edge cache, and workerd runs behind Miniflare's entry worker: both",
    "apply to the pass-through worker too. The gateway prints one decision-log line per request,",
    "which the e2e harness collects in the node process that hosts it, on the same core.",
    "",
  );
  const portkey = loadResult.targets.portkey;
  if (portkey?.status === "ok") {
    say(
      "Portkey runs its node server (`build/start-server.js`) with `--headless`, its config in the",
      "`x-portkey-config` header (provider openai, custom host = the mock) and one input guardrail,",
      `\`${JSON.stringify(loadResult.config.portkey_guardrail)}\`.`,
      "It is loaded with `bench/load/portkey_preload.mjs`, which copies each fetched response's headers",
      "into a mutable `Headers`: without it every streamed answer fails with `TypeError: immutable`",
      "under the `@hono/node-server` npm resolves today (Portkey-AI/gateway#1389). Portkey's stream",
      "transformer also waits 25 ms before forwarding the first chunk (a `setTimeout(25)` in its",
      "`build/start-server.js`), which shows in its streaming latency.",
      "",
    );
  }
}

// Cold start and size.
say("## Cold start and size (`bench/coldstart.mjs`)", "");
const cold = data.coldstart;
if (!cold) {
  notRun("coldstart", "`node bench/coldstart.mjs [--quick]` writes it.");
} else if (cold.unreadable) {
  say(`The result file could not be read: ${cold.unreadable}`, "");
} else {
  const s = cold.size;
  say(`${when(cold).trim()}${modeOf(cold)}, ${fmt(cold.seconds_total, 0)} s${s.wasm_sha256 ? `; the wasm measured has SHA-256 \`${s.wasm_sha256.slice(0, 16)}…\`${s.wasm_mtime ? `, built ${s.wasm_mtime.replace("T", " ").replace(/\.\d+Z$/, " UTC")}` : ""}` : ""}.`, "");
  say(
    table(
      ["file", "raw", `compressed (${s.gzip_tool})`],
      [
        [`\`${s.wasm_path}\``, bytes(s.wasm_raw_bytes), bytes(s.wasm_gzip_bytes)],
        ["`build/index.js` (glue)", bytes(s.glue_raw_bytes), bytes(s.glue_gzip_bytes)],
      ],
    ),
    "",
  );
  targets.push([
    "wasm size, gzip -9",
    bytes(s.wasm_gzip_bytes),
    `≤ 1 MB (${TARGET_GZIP_BYTES.toLocaleString("en-US")} B)`,
    met(s.wasm_gzip_bytes <= TARGET_GZIP_BYTES),
    "coldstart",
  ]);
  const sum = cold.summary;
  const cell = (probe, field) => {
    const v = sum[probe]?.[field];
    return v ? `${fmt(v.median, 1)} (${fmt(v.min, 1)}–${fmt(v.max, 1)})` : "–";
  };
  say(
    `Each figure: a fresh workerd process (Miniflare) per measurement, timed from \`new Miniflare()\`, in ms,`,
    `median (min–max) of ${cold.repeats} rounds; warm = median of ${cold.warm_requests} requests that follow.`,
    "",
    table(
      ["probe (fresh process each)", "ready", "first /healthz answered", "first chat answered (after /healthz)", "warm chat"],
      [
        ["baseline: tiny JS worker (answers /healthz, forwards chat to the mock)", cell("baseline", "ready_ms"), cell("baseline", "first_healthz_ms"), cell("baseline", "first_request_ms"), cell("baseline", "warm_request_ms")],
        ["baseline: one KV read (after /healthz, before the chat)", "–", "–", cell("baseline", "first_kv_read_ms"), cell("baseline", "warm_kv_read_ms")],
        ["baseline + the wasm's bytes as a data module (not compiled)", cell("bytes", "ready_ms"), cell("bytes", "first_healthz_ms"), "–", "–"],
        ["baseline + imports the wasm (compiled, not instantiated)", cell("compile", "ready_ms"), cell("compile", "first_healthz_ms"), "–", "–"],
        ["baseline + imports and instantiates it (stub imports)", cell("instantiate", "ready_ms"), cell("instantiate", "first_healthz_ms"), "–", "–"],
        ["the gateway, `build/index.js`, no keys seeded", cell("gateway_healthz", "ready_ms"), cell("gateway_healthz", "first_healthz_ms"), "–", "–"],
        ["the gateway via the e2e harness (KV seeded): chat with an unknown key (401 at authentication)", "–", "–", cell("gateway_decision", "first_unknown_key_ms"), cell("gateway_decision", "warm_unknown_key_ms")],
        ["the gateway via the e2e harness (KV seeded): policy-checked chat (after the 401)", cell("gateway_decision", "started_and_seeded_ms"), cell("gateway_decision", "first_healthz_ms"), cell("gateway_decision", "first_request_ms"), cell("gateway_decision", "warm_request_ms")],
      ],
    ),
    "",
  );
  const sp = cold.split;
  const mins = cold.split_of_minima ?? {};
  const twoColumns = (rows) => rows.map(([label, key, plain]) => [label, plain ? fmt(sp[key], 1) : signed(sp[key]), key in mins ? (plain ? fmt(mins[key], 1) : signed(mins[key])) : "–"]);
  say(
    "Split, in ms: differences of the medians above, and of the minima (other work on the machine only",
    "adds time, so minima bound a step's own cost more tightly); a difference smaller than the min–max",
    "spread above is noise:",
    "",
    table(
      ["step", "from medians", "from minima"],
      twoColumns([
        ["workerd + Miniflare start-up to first answer (baseline worker)", "workerd_start_ms", true],
        ["shipping 4.5 MB of module bytes to workerd (bytes − baseline; a Miniflare cost)", "module_bytes_ms"],
        ["wasm compile at load (compile − bytes)", "wasm_compile_ms"],
        ["wasm instantiate (instantiate − compile)", "wasm_instantiate_ms"],
        ["wasm-bindgen glue and start hook (gateway − instantiate)", "glue_and_start_ms"],
        ["**the gateway's script over a JS worker, to first /healthz**", "gateway_over_baseline_healthz_ms"],
        ["first request through the pipeline (unknown key → 401) over a warm one: first KV reads, and the background policy check every isolate's first request starts, which loads the embedded bundle", "first_unknown_key_extra_ms"],
        ["the same for the baseline's first KV read (Miniflare's KV store starting)", "baseline_first_kv_read_extra_ms"],
        ["**first policy load** (with the first use of the code it runs), the difference", "first_policy_load_ms"],
        ["first policy-checked chat (after the 401) over a warm one", "first_request_extra_ms"],
        ["the same for the baseline's first forwarded request", "baseline_first_request_extra_ms"],
        ["**first use of the decision code** (parse, detectors, Cedar, forward), the difference", "first_decision_code_ms"],
        ["fresh process to first policy-checked answer (harness: start, seed KV, /healthz, 401, chat)", "first_decision_from_start_ms", true],
      ]),
    ),
    "",
    "Node 20 cannot compile this module (it uses the wasm exception-handling and GC opcodes, which",
    "its V8 lacks), so compile and instantiate are measured in workerd itself, by difference.",
    "Memory after loading 1,000 policies is measured separately (see the decision-cost sections).",
    "",
  );
}
for (const name of others) {
  say(`## Other results: \`${name}.json\``, "");
  const result = load(name);
  if (result?.date) say(`${when(result).trim()}${modeOf(result)}.`, "");
  renderGeneric(result);
  collectTargets(result, name);
}

// Targets.
say("## Targets (issue 5)", "");
say(
  targets.length
    ? table(["target", "measured", "goal", "", "from"], targets)
    : "No target could be checked: no result files.",
  "",
);

// Noise.
say("## Noise", "");
const noise = [];
if (loadResult?.scenarios) {
  const spreads = loadResult.scenarios
    .filter((s) => s.runs.length > 1 && s.range.p50_ms && s.median.p50_ms)
    .map((s) => ({ s, p50: (s.range.p50_ms[1] - s.range.p50_ms[0]) / s.median.p50_ms, rps: s.range.rps && s.median.rps ? (s.range.rps[1] - s.range.rps[0]) / s.median.rps : 0 }));
  if (spreads.length) {
    const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const worst = spreads.reduce((a, b) => (b.p50 > a.p50 ? b : a));
    noise.push(
      `Load: over ${loadResult.config.repeats} rounds the p50 of a scenario varied by a median of ${(100 * med(spreads.map((x) => x.p50))).toFixed(0)} % of its value ` +
        `(max–min over median; worst ${(100 * worst.p50).toFixed(0)} %, \`${worst.s.target}\` ${worst.s.stream ? "streaming" : "JSON"} at ${worst.s.connections} connection(s)), ` +
        `and req/s by a median of ${(100 * med(spreads.map((x) => x.rps))).toFixed(0)} %.`,
    );
  } else {
    noise.push("Load: one short round per scenario (quick mode): no spread measured; quick figures are a smoke test, not figures to quote.");
  }
  if (loadResult.loadavg_1m) {
    noise.push(`The machine's 1-minute load average was ${loadResult.loadavg_1m.start} at the start of the load run and ${loadResult.loadavg_1m.end} at its end (${m.cores} cores; above ~1 means other work competed for them).`);
  }
}
for (const name of ["native", "wasm"]) {
  const rows = Array.isArray(data[name]?.full_decision) ? data[name].full_decision : [];
  const spreads = rows
    .map((r) => ({ r, range: spreadOf(r.round_p50_us) }))
    .filter((x) => x.range && x.r.p50_us)
    .map((x) => (x.range[1] - x.range[0]) / x.r.p50_us)
    .sort((a, b) => a - b);
  if (spreads.length) {
    noise.push(
      `Decision cost, ${name}: the p50 of a combination varied across rounds by a median of ${(100 * spreads[Math.floor(spreads.length / 2)]).toFixed(0)} % ` +
        `(worst ${(100 * spreads.at(-1)).toFixed(0)} %) of its value.`,
    );
  }
}
if (cold?.summary) {
  const h = cold.summary.gateway_healthz?.first_healthz_ms;
  if (h) noise.push(`Cold start: the gateway's first /healthz ranged ${fmt(h.min, 0)}–${fmt(h.max, 0)} ms around a median of ${fmt(h.median, 0)} ms over ${cold.repeats} fresh processes${cold.loadavg_1m ? ` (load average ${cold.loadavg_1m.start} → ${cold.loadavg_1m.end})` : ""}.`);
}
noise.push(
  "Loopback on a shared machine: absolute figures move with the host; compare targets within one " +
    "run, which all see the same conditions (interleaved rounds), rather than across runs.",
);
say(...noise.map((line) => `- ${line}`), "");

// Not run.
const missing = [];
for (const name of KNOWN) if (!data[name]) missing.push(`\`${name}\``);
const failed = loadResult?.targets ? Object.entries(loadResult.targets).filter(([, t]) => t.status !== "ok") : [];
if (missing.length || failed.length) {
  say("## Not run here", "");
  if (missing.length) say(`- Result files missing: ${missing.join(", ")} (their sections above say which script writes them${failedSteps.size ? `; failed in this run: ${[...failedSteps].map((f) => `\`${f}\``).join(", ")}` : ""}).`);
  for (const [name, t] of failed) say(`- Load target \`${name}\` (${t.description}): ${t.error}`);
  say("");
}

// The analysis, verbatim.
const notes = `${root}bench/NOTES.md`;
say("---", "");
if (existsSync(notes)) {
  say(readFileSync(notes, "utf8").trimEnd(), "");
} else {
  say("## Analysis", "", "(bench/NOTES.md is missing.)", "");
}

writeFileSync(out, lines.join("\n"));
console.log(`render: wrote ${out}`);

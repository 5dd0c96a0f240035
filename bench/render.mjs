// Writes BENCHMARKS.md from whatever target/bench-results/*.json holds: the machine, the
// command, one section per result file (a missing one says "not run"), the targets and
// whether they are met, the noise, then bench/NOTES.md (the hand-written analysis)
// verbatim. How each figure is measured is in bench/README.md. It never fails on a figure.
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
// Steps scripts/bench.sh saw fail in this run (their output is in its log).
const failedSteps = new Set((option("--failed", "") || "").split(",").filter(Boolean));

// The targets this report checks itself; the result files carry the others.
const TARGET_ADDED_P50_MS = 1;
const TARGET_GZIP_BYTES = 1_000_000; // "1 MB", read strictly as 10^6 bytes

// --- reading --------------------------------------------------------------------------
function readJson(path) {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { unreadable: String(error.message ?? error) };
  }
}
const KNOWN = ["native", "wasm", "load", "coldstart"];
const others = (existsSync(results) ? readdirSync(results) : [])
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => f.replace(/\.json$/, ""))
  .filter((name) => !KNOWN.includes(name));
const data = Object.fromEntries([...KNOWN, ...others].map((name) => [name, readJson(`${results}/${name}.json`)]));

// --- formatting -----------------------------------------------------------------------
// Measured values by magnitude, ≥ 1000 with separators; `fmt` shows counts (integers) whole.
const fmtFloat = (value, digits = 2) => {
  if (value === null || value === undefined) return "–";
  if (Math.abs(value) >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
};
const fmt = (value, digits = 2) => {
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  if (value === null || value === undefined || typeof value === "number") return fmtFloat(value, digits);
  return String(value);
};
const bytes = (n) => (n === null || n === undefined ? "–" : `${n.toLocaleString("en-US")} B (${(n / 1e6).toFixed(2)} MB)`);
const signed = (value) => (value === null || value === undefined ? "–" : `${value >= 0 ? "+" : "−"}${fmtFloat(Math.abs(value))}`);
const range = (pair, digits) => (pair ? `${fmt(pair[0], digits)}–${fmt(pair[1], digits)}` : "–");
const met = (ok) => (ok === null || ok === undefined ? "not measured" : ok ? "**met**" : "**not met**");
const utc = (iso) => iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");
const mib = (n) => (typeof n === "number" ? `${(n / 2 ** 20).toFixed(1)} MiB` : cellOf(n));
function table(headers, rows) {
  const escape = (cell) => String(cell ?? "–").replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${headers.map(escape).join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}
function cellOf(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.map(cellOf).join(", ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : fmt(v)}`)
      .join("; ");
  }
  return fmt(value);
}
// "Measured <date> (<mode> mode)", or "" when the file has no date.
function measured(result) {
  const iso = result?.date ?? (result?.unix_time ? new Date(result.unix_time * 1000).toISOString() : null);
  return iso ? `Measured ${utc(iso)}${result.mode ? ` (${result.mode} mode)` : ""}` : "";
}

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
    cpu = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {}
  const virt = run("systemd-detect-virt", []);
  const version = (pkg) => readJson(`${root}node_modules/${pkg}/package.json`)?.version;
  const workerd = run(`${root}node_modules/.bin/workerd`, ["--version"])?.replace(/^workerd\s*/, "");
  const miniflare = version("miniflare");
  const autocannon = version("autocannon");
  return {
    cpu,
    cores: availableParallelism(),
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: `Linux ${release()}`,
    virtualised: virt && virt !== "none" ? virt : null,
    tools: [
      `Node ${process.version}`,
      run("rustc", ["--version"]),
      workerd && `workerd ${workerd}${miniflare ? ` (miniflare ${miniflare})` : ""}`,
      autocannon && `autocannon ${autocannon}`,
    ].filter(Boolean),
  };
}

// --- the report -------------------------------------------------------------------------
const lines = [];
const say = (...text) => lines.push(...text);
const targets = []; // [what, measured, goal, met, from], filled as sections render

// A known result file's section: "not run" when the file is absent, else `render` on it.
function section(title, name, how, render) {
  say(title, "");
  const result = data[name];
  if (!result) {
    return say(
      failedSteps.has(name)
        ? `Not run: its step failed in this run of \`scripts/bench.sh\` (the error is in that run's output), so there is no \`target/bench-results/${name}.json\`. ${how}`
        : `Not run: no \`target/bench-results/${name}.json\`. ${how}`,
      "",
    );
  }
  if (result.unreadable) return say(`The result file could not be read: ${result.unreadable}`, "");
  render(result);
}

const m = machine();
say(
  "# Benchmarks",
  "",
  "Generated by `bench/render.mjs` from `target/bench-results/*.json`; do not edit by hand. How",
  "each figure is measured: `bench/README.md`; the hand-written analysis, `bench/NOTES.md`, is",
  "appended at the end. Rerun everything with one command:",
  "",
  "```sh",
  "scripts/bench.sh           # full: the figures below (repeats, medians)",
  "scripts/bench.sh --quick   # CI smoke: one short round of everything",
  "```",
  "",
  `- Date: ${new Date().toISOString().slice(0, 10)}${command ? `; command: \`${command}\`` : ""}${suiteSeconds ? ` (${fmt(Number(suiteSeconds), 0)} s in all)` : ""}.`,
  `- Machine: ${m.cpu}, ${m.cores} cores${m.virtualised ? ` (virtualised: ${m.virtualised})` : ""}, ${m.memory} RAM, ${m.kernel}.`,
  `- Tools: ${m.tools.join(", ")}.`,
  "- Benchmarks here are measurements, not tests: nothing fails on a figure.",
  "",
);

// Anything without a dedicated renderer: scalars as a list, arrays of objects and objects
// as tables.
function renderGeneric(result) {
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
      say(`**${key}**`, "", table(["", "value"], Object.entries(value).map(([k, v]) => [k, cellOf(v)])), "");
    }
  }
  if (scalars.length) say(...scalars, "");
}
// A result file's own targets, `[{name, target, measured, met}]` (a numeric target is an
// upper bound), into the summary.
function collectTargets(result, source) {
  for (const t of Array.isArray(result?.targets) ? result.targets : []) {
    if (!t || typeof t !== "object") continue;
    // A numeric target is a ceiling unless the result says `at_least`.
    const goal = typeof t.target === "number" ? `${t.at_least ? "≥" : "≤"} ${fmt(t.target)}` : cellOf(t.target);
    targets.push([t.name ?? source, cellOf(t.measured), goal, met(t.met), source]);
  }
}

// --- decision cost: native.json and wasm.json (schemas in bench/README.md) --------------
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
const FLOOR = "**Cedar floor** (`is_authorized` alone on a prebuilt request), µs:";
const STAT_SECTIONS = [
  ["full_decision", "**Full decision** (request JSON bytes → decision), µs; p50/p99/mean are medians over rounds:"],
  ["cedar_floor", FLOOR],
  ["floor", FLOOR],
  ["cedar_slice", "**Cedar on the request's slice** (the same call over the policies whose scope the request satisfies: what the pipeline hands Cedar, `crates/policy/src/slice.rs`), µs:"],
  ["cedar_wasm_stateful", "**@cedar-policy/cedar-wasm, stateful** (policies and schema preparsed once), µs; ÷ = its p50 divided by ours:"],
  ["cedar_wasm_stateless", "**@cedar-policy/cedar-wasm, stateless** (policy text and schema in every call), µs:"],
];
function renderDecision(result, source) {
  if (measured(result)) say(`${measured(result)}.`, "");
  const rest = { ...result };
  for (const key of ["schema", "mode", "unix_time", "date", "machine", "targets", "request", "module"]) delete rest[key];
  if (result.machine) {
    const mc = result.machine;
    const extras = [result.profile && `cargo profile \`${result.profile}\``, result.node && `node ${result.node}`, result.cedar_wasm?.version && `@cedar-policy/cedar-wasm ${result.cedar_wasm.version}`].filter(Boolean);
    say(`Machine as the run saw it: ${[mc.cpu_model, mc.cpus && `${mc.cpus} cpus`, mc.os, mc.arch].filter(Boolean).join(", ")}${extras.length ? `; ${extras.join("; ")}` : ""}.`, "");
    for (const key of ["profile", "node", "cedar_wasm"]) delete rest[key];
  }
  if (result.request && typeof result.request === "object") say(`Request: ${cellOf(result.request)}.`, "");
  const mod = result.module;
  if (mod && typeof mod === "object" && !Array.isArray(mod)) {
    say(`Module: ${mod.file ? `\`${mod.file}\`, ` : ""}${mod.bytes ? `${bytes(mod.bytes)} raw` : ""}${mod.gzip_bytes ? `, ${bytes(mod.gzip_bytes)} gzipped` : ""}.`, "");
  }
  for (const [key, title] of STAT_SECTIONS) {
    if (!Array.isArray(rest[key]) || !rest[key].length) continue;
    say(title, "", statsTable(rest[key]), "");
    delete rest[key];
  }
  if (Array.isArray(rest.detectors)) {
    const rows = rest.detectors.map((r) => ({ ...r, mib_s: r.p50_us ? r.bytes / 2 ** 20 / (r.p50_us / 1e6) : undefined }));
    say("**Detectors** (injection, PII, secrets over prose), µs:", "", statsTable(rows, [["mib_s", "MiB/s at p50", (v) => fmt(v, 1)]]), "");
    delete rest.detectors;
  }
  if (Array.isArray(rest.policy_sets)) {
    const keys = [...new Set(rest.policy_sets.flatMap((r) => Object.keys(r)))];
    say("**Policy sets** loaded (generated, strictly validated):", "");
    say(table(keys, rest.policy_sets.map((r) => keys.map((k) => (typeof r[k] === "number" ? fmt(r[k]) : cellOf(r[k]))))), "");
    delete rest.policy_sets;
  }
  if (rest.memory && typeof rest.memory === "object") {
    const rows = Array.isArray(rest.memory) ? rest.memory : [rest.memory];
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    say("**Memory** (bytes shown in MiB):", "");
    say(table(keys.map((k) => k.replace(/_bytes$/, "")), rows.map((r) => keys.map((k) => (k.endsWith("_bytes") ? mib(r[k]) : cellOf(r[k]))))), "");
    delete rest.memory;
  }
  if (Object.keys(rest).length) renderGeneric(rest);
  collectTargets(result, source);
}

say("## Native and wasm decision cost", "");
section("### Native (`bench/run_native.sh`)", "native", "`bench/run_native.sh` writes it.", (r) => renderDecision(r, "native"));
section("### Wasm (`bench/run_wasm.sh`)", "wasm", "`bench/run_wasm.sh` writes it.", (r) => renderDecision(r, "wasm"));

// --- load.json ----------------------------------------------------------------------------
section("## Added latency and throughput through the worker (`bench/load/`)", "load", "`node bench/load/run.mjs [--quick]` writes it.", (load) => {
  const c = load.config;
  say(
    `${measured(load)}, ${fmt(load.seconds_total, 0)} s. Every target sits in front of the same`,
    "local mock provider (`tests/e2e/mock_provider.mjs`) on loopback. The request: an OpenAI chat",
    `completion for \`gpt-4o-mini\` with a ${c.prompt_bytes}-byte prompt (${c.request_bytes.json} bytes of JSON), allowed by the`,
    "policies (demo key alice); streaming asks for `stream: true` and times the whole SSE answer",
    `(the mock writes 9 events, ${c.mock_chunk_delay_ms} ms apart). autocannon ${c.autocannon}, ${c.repeats} round(s) of ${c.seconds} s per scenario`,
    `(at most ${c.max_requests_per_run.toLocaleString("en-US")} requests each), after a ${c.warmupSeconds} s warm-up, target order rotated each round;`,
    "latency percentiles are over every 2xx answer of a run (µs timings), then the median over rounds.",
    ...(c.worker_wasm ? [`The gateway ran \`build/index_bg.wasm\` SHA-256 \`${c.worker_wasm.sha256.slice(0, 16)}…\`, built ${utc(c.worker_wasm.mtime)}.`] : []),
    c.pinning ? `Pinned with taskset: load generator on ${c.pinning.load_generator}; ${c.pinning.servers}.` : "Not pinned (taskset missing or a single core).",
    "",
  );
  const status = Object.entries(load.targets).map(([name, t]) => [`\`${name}\``, t.description, t.status === "ok" ? "ran" : `**could not run**: ${t.error}`]);
  say(table(["target", "what", "status"], status), "");

  const scen = (target, stream, kind) => load.scenarios.find((s) => s.target === target && s.stream === stream && s.load === kind);
  const added = (target, stream) => load.added.find((a) => a.target === target && a.stream === stream);
  for (const stream of [false, true]) {
    const label = stream ? "Streaming (SSE)" : "Non-streaming (JSON)";
    const of = (kind) => load.scenarios.filter((s) => s.stream === stream && s.load === kind);
    const pass = scen("passthrough", stream, "latency");
    say(`### ${label}: latency at 1 connection`, "");
    const latency = of("latency").map((s) => {
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
    });
    say(table(["target", "p50 ms", "p99 ms", "added p50 vs mock", "added p99 vs mock", "added p50 vs pass-through", "p50 min–max over rounds", "non-2xx", "errors"], latency), "");
    const base = scen("mock", stream, "throughput");
    say(`### ${label}: throughput at ${base?.connections ?? 16} connections`, "");
    const throughput = of("throughput").map((s) => [
      `\`${s.target}\``,
      fmt(s.median.rps, 0),
      base?.median.rps ? `${((100 * s.median.rps) / base.median.rps).toFixed(0)} %` : "–",
      range(s.range.rps, 0),
      fmt(s.median.p50_ms, 3),
      fmt(s.median.p99_ms, 3),
      s.totals.non2xx,
      s.totals.errors,
    ]);
    say(table(["target", "req/s", "vs mock", "req/s min–max", "p50 ms", "p99 ms", "non-2xx", "errors"], throughput), "");
  }
  const gateway = added("gateway", false)?.added_p50_ms ?? null;
  targets.push([
    "added latency through workerd, p50 (non-streaming, 1 connection, gateway − mock direct)",
    gateway === null ? "–" : `${fmt(gateway, 3)} ms`,
    `≤ ${TARGET_ADDED_P50_MS} ms`,
    met(gateway === null ? null : gateway <= TARGET_ADDED_P50_MS),
    "load",
  ]);
  say(
    "Added latency is a target's median p50 (or p99) minus the mock's, both at 1 connection;",
    "\"vs pass-through\" subtracts the trivial JS worker instead, which leaves what the gateway's own",
    "work costs over any worker in that place. Throughput is closed-loop: each connection sends its",
    "next request when the last is answered.",
    ...(load.targets.portkey?.status === "ok" ? [`Portkey's one input guardrail: \`${JSON.stringify(c.portkey_guardrail)}\`.`] : []),
    "",
  );
});

// --- coldstart.json -------------------------------------------------------------------------
section("## Cold start and size (`bench/coldstart.mjs`)", "coldstart", "`node bench/coldstart.mjs [--quick]` writes it.", (cold) => {
  const s = cold.size;
  const built = s.wasm_mtime ? `, built ${utc(s.wasm_mtime)}` : "";
  say(`${measured(cold)}, ${fmt(cold.seconds_total, 0)} s${s.wasm_sha256 ? `; the wasm measured has SHA-256 \`${s.wasm_sha256.slice(0, 16)}…\`${built}` : ""}.`, "");
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
  targets.push(["wasm size, gzip -9", bytes(s.wasm_gzip_bytes), `≤ 1 MB (${TARGET_GZIP_BYTES.toLocaleString("en-US")} B)`, met(s.wasm_gzip_bytes <= TARGET_GZIP_BYTES), "coldstart"]);

  // [label, probe, field] per cell; null for an empty one.
  const probes = [
    ["baseline: tiny JS worker (answers /healthz, forwards chat to the mock)", ["baseline", "ready_ms"], ["baseline", "first_healthz_ms"], ["baseline", "first_request_ms"], ["baseline", "warm_request_ms"]],
    ["baseline: one KV read (after /healthz, before the chat)", null, null, ["baseline", "first_kv_read_ms"], ["baseline", "warm_kv_read_ms"]],
    ["baseline + the wasm's bytes as a data module (not compiled)", ["bytes", "ready_ms"], ["bytes", "first_healthz_ms"], null, null],
    ["baseline + imports the wasm (compiled, not instantiated)", ["compile", "ready_ms"], ["compile", "first_healthz_ms"], null, null],
    ["baseline + imports and instantiates it (stub imports)", ["instantiate", "ready_ms"], ["instantiate", "first_healthz_ms"], null, null],
    ["the gateway, `build/index.js`, no keys seeded", ["gateway_healthz", "ready_ms"], ["gateway_healthz", "first_healthz_ms"], null, null],
    ["the gateway via the e2e harness (KV seeded): chat with an unknown key (401 at authentication)", null, null, ["gateway_decision", "first_unknown_key_ms"], ["gateway_decision", "warm_unknown_key_ms"]],
    ["the gateway via the e2e harness (KV seeded): policy-checked chat (after the 401)", ["gateway_decision", "started_and_seeded_ms"], ["gateway_decision", "first_healthz_ms"], ["gateway_decision", "first_request_ms"], ["gateway_decision", "warm_request_ms"]],
  ];
  const cell = (at) => {
    const v = at && cold.summary[at[0]]?.[at[1]];
    return v ? `${fmt(v.median, 1)} (${fmt(v.min, 1)}–${fmt(v.max, 1)})` : "–";
  };
  say(
    "Each figure: a fresh workerd process (Miniflare) per measurement, timed from `new Miniflare()`, in ms,",
    `median (min–max) of ${cold.repeats} rounds; warm = median of ${cold.warm_requests} requests that follow.`,
    "",
    table(
      ["probe (fresh process each)", "ready", "first /healthz answered", "first chat answered (after /healthz)", "warm chat"],
      probes.map(([label, ...cells]) => [label, ...cells.map(cell)]),
    ),
    "",
  );

  // [label, key, whether it is a duration rather than a difference]
  const steps = [
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
  ];
  const mins = cold.split_of_minima ?? {};
  const show = (value, plain) => (plain ? fmt(value, 1) : signed(value));
  say(
    "Split, in ms: differences of the medians above, and of the minima (other work on the machine only",
    "adds time, so minima bound a step's own cost more tightly); a difference smaller than the min–max",
    "spread above is noise:",
    "",
    table(
      ["step", "from medians", "from minima"],
      steps.map(([label, key, plain]) => [label, show(cold.split[key], plain), key in mins ? show(mins[key], plain) : "–"]),
    ),
    "",
  );
});

// --- any other result file ------------------------------------------------------------------
for (const name of others) {
  section(`## Other results: \`${name}.json\``, name, "", (result) => {
    if (measured(result)) say(`${measured(result)}.`, "");
    renderGeneric(result);
    collectTargets(result, name);
  });
}

// --- targets, noise, what did not run -------------------------------------------------------
say("## Targets", "", targets.length ? table(["target", "measured", "goal", "", "from"], targets) : "No target could be checked: no result files.", "");

const noise = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = data.load?.scenarios ? data.load : null;
if (load) {
  const spreads = load.scenarios
    .filter((s) => s.runs.length > 1 && s.range.p50_ms && s.median.p50_ms)
    .map((s) => ({ s, p50: (s.range.p50_ms[1] - s.range.p50_ms[0]) / s.median.p50_ms, rps: s.range.rps && s.median.rps ? (s.range.rps[1] - s.range.rps[0]) / s.median.rps : 0 }));
  if (spreads.length) {
    const worst = spreads.reduce((a, b) => (b.p50 > a.p50 ? b : a));
    noise.push(
      `Load: over ${load.config.repeats} rounds the p50 of a scenario varied by a median of ${(100 * median(spreads.map((x) => x.p50))).toFixed(0)} % of its value ` +
        `(max–min over median; worst ${(100 * worst.p50).toFixed(0)} %, \`${worst.s.target}\` ${worst.s.stream ? "streaming" : "JSON"} at ${worst.s.connections} connection(s)), ` +
        `and req/s by a median of ${(100 * median(spreads.map((x) => x.rps))).toFixed(0)} %.`,
    );
  } else {
    noise.push("Load: one short round per scenario (quick mode): no spread measured; quick figures are a smoke test, not figures to quote.");
  }
  if (load.loadavg_1m) {
    noise.push(`The machine's 1-minute load average was ${load.loadavg_1m.start} at the start of the load run and ${load.loadavg_1m.end} at its end (${m.cores} cores; above ~1 means other work competed for them).`);
  }
}
for (const name of ["native", "wasm"]) {
  const spreads = (Array.isArray(data[name]?.full_decision) ? data[name].full_decision : [])
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
const cold = data.coldstart;
const healthz = cold?.summary?.gateway_healthz?.first_healthz_ms;
if (healthz) {
  noise.push(`Cold start: the gateway's first /healthz ranged ${fmt(healthz.min, 0)}–${fmt(healthz.max, 0)} ms around a median of ${fmt(healthz.median, 0)} ms over ${cold.repeats} fresh processes${cold.loadavg_1m ? ` (load average ${cold.loadavg_1m.start} → ${cold.loadavg_1m.end})` : ""}.`);
}
say("## Noise", "", ...(noise.length ? noise.map((line) => `- ${line}`) : ["No spread measured: no load, decision-cost or cold-start results."]), "");

const missing = KNOWN.filter((name) => !data[name]).map((name) => `\`${name}\``);
const failed = data.load?.targets ? Object.entries(data.load.targets).filter(([, t]) => t.status !== "ok") : [];
if (missing.length || failed.length) {
  say("## Not run here", "");
  if (missing.length) say(`- Result files missing: ${missing.join(", ")} (their sections above say which script writes them${failedSteps.size ? `; failed in this run: ${[...failedSteps].map((f) => `\`${f}\``).join(", ")}` : ""}).`);
  for (const [name, t] of failed) say(`- Load target \`${name}\` (${t.description}): ${t.error}`);
  say("");
}

// --- the analysis, verbatim -------------------------------------------------------------------
const notes = `${root}bench/NOTES.md`;
say("---", "", existsSync(notes) ? readFileSync(notes, "utf8").trimEnd() : "## Analysis\n\n(bench/NOTES.md is missing.)", "");

writeFileSync(out, lines.join("\n"));
console.log(`render: wrote ${out}`);

// Decision cost inside wasm and the memory a loaded policy set takes, under node.
//
// Ours: the gateway's engine compiled to wasm32 (bench/wasm-engine, built by
// bench/run_wasm.sh with wasm-pack --target nodejs), loading each generated policy set
// (bench/policy_sets/generate.rs: 10, 100, 1000 policies) once with strict validation,
// then deciding in a loop:
//   * full_decision: request JSON bytes -> parse, route, detectors, Cedar request,
//     authorize (the whole pipeline, as the worker runs it);
//   * floor: Cedar's is_authorized alone on a request prebuilt inside the module.
// Peer: @cedar-policy/cedar-wasm 4.13.0 on the same policies (keyed by @id), the same
// schema, entities, context and request (the Cedar request our pipeline builds, exported
// as Cedar JSON):
//   * stateful: preparseSchema + preparsePolicySet once, then statefulIsAuthorized;
//   * stateless: isAuthorized with the policy text and schema in every call.
// Both validate the request against the schema, as ours does. The script checks that every
// engine returns the same decision and deciding policies, and stops if not.
// The fair comparison with cedar-wasm is our floor (Cedar alone); the full decision is
// reported beside it. Nothing fails on a speed: targets are reported, never asserted.
//
// Timing: each call timed on its own with process.hrtime.bigint(), after a warm-up, for
// a time budget per combination; rounds interleave the combinations; reported p50, p99 and
// mean are medians over rounds. Memory: a fresh node process per engine and set size,
// warmed up on the 10-policy set, reports our module's linear memory (memory.buffer
// byteLength, via the wasm_memory_bytes export) and process.memoryUsage().rss before and
// after loading the set (for cedar-wasm: RSS around preparseSchema + preparsePolicySet).
//
// Usage: node bench/wasm_decide.mjs [--quick] [--pkg DIR] [--out FILE] [--native FILE]
//   --pkg     the wasm-pack output (default target/wasm-bench/pkg)
//   --out     the results file (default target/bench-results/wasm.json)
//   --native  native results to compute ratios against (default target/bench-results/native.json)
//
// wasm.json (schema "llm-policy-gateway/bench-wasm/v1"; times in microseconds):
// {
//   "schema", "mode": "full"|"quick", "unix_time", "node", "machine": {os, arch, cpus, cpu_model},
//   "module": { "file", "bytes", "gzip_bytes" }, "cedar_wasm": { "version" },
//   "request": { principal, team, org, tier, model, action, country, prompt_bytes_for_cedar },
//   "policy_sets": [ { policies, load_ms, decision, deciding_policies,
//                      cedar_wasm_decision, cedar_wasm_deciding_policies, agree } ],
//   "full_decision": [ { policies, prompt_bytes, p50_us, p99_us, mean_us, min_us, n, rounds,
//                        round_p50_us, native_p50_us, ratio_to_native } ],
//   "floor":         [ { policies, ...same stats, native_p50_us, ratio_to_native } ],
//   "detectors":     [ { bytes, ...same stats, native_p50_us, ratio_to_native } ] (every
//                      detector over benchmark prose, `detect::scan_text`),
//   "cedar_wasm_stateful":  [ { policies, ...same stats, ratio_to_our_floor, ratio_to_our_full } ],
//   "cedar_wasm_stateless": [ { policies, ...same stats, ratio_to_our_floor, ratio_to_our_full } ],
//   "memory": [ { engine: "ours"|"cedar-wasm", policies, wasm_memory_before_bytes,
//                 wasm_memory_after_load_bytes, wasm_memory_delta_bytes (ours only),
//                 rss_before_bytes, rss_after_bytes, rss_delta_bytes, load_ms } ],
//   "targets": [ { name, target, measured, met } ]  (target: a number is an upper bound;
//                 a lower bound is the string "≥ 4" with target_min: 4)
// }
// ratio_to_native = wasm p50 / native p50 (same policies and prompt); ratio_to_our_* =
// cedar-wasm p50 / our p50 (how many times faster ours is); the cedar-wasm and floor rows
// use the 4 KiB request.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const quick = flag('--quick');
const pkgDir = path.resolve(option('--pkg', path.join(root, 'target/wasm-bench/pkg')));
const outFile = path.resolve(option('--out', path.join(root, 'target/bench-results/wasm.json')));
const nativeFile = path.resolve(
  option('--native', path.join(root, 'target/bench-results/native.json')),
);

const SIZES = [10, 100, 1000];
const PROMPTS = quick ? [4096] : [1024, 4096, 32 * 1024];
const CEDAR_PROMPT = 4096;
const DETECTOR_SIZES = quick ? [4096] : [1024, 32 * 1024, 256 * 1024];
const ROUNDS = quick ? 3 : 5;
const ROUND_MS = quick ? 150 : 500;
// At least this many calls per round, however slow (stateless cedar-wasm at 1000 policies).
const MIN_CALLS = quick ? 5 : 20;

function loadOurs() {
  const file = path.join(pkgDir, 'gateway_wasm_bench.js');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: build it with bench/run_wasm.sh`);
  }
  return require(file);
}

const loadCedar = () => require('@cedar-policy/cedar-wasm/nodejs');

// The module's linear memory (an export of bench/wasm-engine; it only grows).
const wasmMemoryBytes = (ours) => ours.wasm_memory_bytes();

// --- child mode: memory after loading one set, in a fresh process --------------------

// Run in a fresh process per engine and set. A warm-up first loads the 10-policy set,
// decides once and frees it, so lazy compilation of the module's code is not counted; then
// the set (generated by the parent, read from a file, so no generation runs in this
// module) is loaded and memory read before and after.
function memoryChild(engine, n, setFile, warmFile) {
  const setJson = readFileSync(setFile, 'utf8');
  const warmJson = readFileSync(warmFile, 'utf8');
  const rss = () => process.memoryUsage().rss;
  const elapsedMs = (from) => Number(process.hrtime.bigint() - from) / 1e6;
  if (engine === 'ours') {
    const ours = loadOurs();
    const warm = new ours.Decider(warmJson);
    warm.decide(ours.chat_body(CEDAR_PROMPT));
    warm.free();
    globalThis.gc?.();
    const before = { wasm: wasmMemoryBytes(ours), rss: rss() };
    const started = process.hrtime.bigint();
    const decider = new ours.Decider(setJson);
    const loadMs = elapsedMs(started);
    globalThis.gc?.();
    const after = { wasm: wasmMemoryBytes(ours), rss: rss() };
    if (decider.policy_count !== n) throw new Error(`loaded ${decider.policy_count} of ${n}`);
    return {
      engine,
      policies: n,
      wasm_memory_before_bytes: before.wasm,
      wasm_memory_after_load_bytes: after.wasm,
      wasm_memory_delta_bytes: after.wasm - before.wasm,
      rss_before_bytes: before.rss,
      rss_after_bytes: after.rss,
      rss_delta_bytes: after.rss - before.rss,
      load_ms: round2(loadMs),
    };
  }
  const cedar = loadCedar();
  const set = JSON.parse(setJson);
  const warm = JSON.parse(warmJson);
  check(cedar.preparseSchema('warm-schema', warm.schema), 'preparseSchema');
  check(cedar.preparsePolicySet('warm', { staticPolicies: warm.policies }), 'preparsePolicySet');
  globalThis.gc?.();
  const before = rss();
  const started = process.hrtime.bigint();
  check(cedar.preparseSchema('schema', set.schema), 'preparseSchema');
  check(cedar.preparsePolicySet('set', { staticPolicies: set.policies }), 'preparsePolicySet');
  const loadMs = elapsedMs(started);
  globalThis.gc?.();
  const after = rss();
  return {
    engine,
    policies: n,
    wasm_memory_before_bytes: null,
    wasm_memory_after_load_bytes: null,
    rss_before_bytes: before,
    rss_after_bytes: after,
    rss_delta_bytes: after - before,
    load_ms: round2(loadMs),
  };
}

function check(answer, what) {
  if (answer.type !== 'success') {
    throw new Error(`${what} failed: ${JSON.stringify(answer.errors ?? answer)}`);
  }
  return answer;
}

function memoryAll(setJsons) {
  const dir = path.join(path.dirname(pkgDir), 'sets');
  mkdirSync(dir, { recursive: true });
  const files = new Map();
  for (const [n, json] of setJsons) {
    const file = path.join(dir, `${n}.json`);
    writeFileSync(file, json);
    files.set(n, file);
  }
  const rows = [];
  for (const engine of ['ours', 'cedar-wasm']) {
    for (const n of SIZES) {
      const child = spawnSync(
        process.execPath,
        ['--expose-gc', fileURLToPath(import.meta.url), '--memory-child', engine, String(n),
          files.get(n), files.get(SIZES[0]), '--pkg', pkgDir],
        { encoding: 'utf8' },
      );
      if (child.status !== 0) {
        throw new Error(`memory child ${engine} ${n} failed: ${child.stderr}`);
      }
      rows.push(JSON.parse(child.stdout));
    }
  }
  return rows;
}

// --- timing -------------------------------------------------------------------------

const round2 = (x) => Math.round(x * 100) / 100;
let sink = 0;

class Samples {
  constructor() {
    this.rounds = [];
  }

  // Times fn call by call for about `ms`, after a warm-up of a tenth of that.
  round(ms, fn) {
    const budget = BigInt(Math.round(ms * 1e6));
    const warmEnd = process.hrtime.bigint() + budget / 10n;
    while (process.hrtime.bigint() < warmEnd) sink ^= fn() ? 1 : 0;
    const times = [];
    const end = process.hrtime.bigint() + budget;
    for (;;) {
      const t0 = process.hrtime.bigint();
      sink ^= fn() ? 1 : 0;
      const t1 = process.hrtime.bigint();
      times.push(Number(t1 - t0));
      if (t1 >= end && times.length >= MIN_CALLS) break;
    }
    times.sort((a, b) => a - b);
    this.rounds.push(times);
  }

  summary() {
    const pct = (v, q) => v[Math.min(v.length - 1, Math.round((v.length - 1) * q))];
    const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const us = (ns) => round2(ns / 1000);
    const p50s = this.rounds.map((r) => pct(r, 0.5));
    return {
      p50_us: us(median(p50s)),
      p99_us: us(median(this.rounds.map((r) => pct(r, 0.99)))),
      mean_us: us(median(this.rounds.map((r) => r.reduce((a, b) => a + b, 0) / r.length))),
      min_us: us(Math.min(...this.rounds.map((r) => r[0]))),
      n: this.rounds.reduce((a, r) => a + r.length, 0),
      rounds: this.rounds.length,
      round_p50_us: p50s.map(us),
    };
  }
}

// --- the benchmark ------------------------------------------------------------------

const sorted = (ids) => [...ids].sort();
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function prepare(ours, cedar, n) {
  const setJson = ours.generate_policy_set(n);
  const set = JSON.parse(setJson);
  // The load time: median of three strict loads (the module is warm by the second).
  const loads = [];
  let decider = null;
  for (let i = 0; i < 3; i++) {
    decider?.free();
    const started = process.hrtime.bigint();
    decider = new ours.Decider(setJson);
    loads.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const loadMs = loads.sort((a, b) => a - b)[1];
  if (decider.policy_count !== n) throw new Error(`loaded ${decider.policy_count} of ${n}`);

  const bodies = new Map(PROMPTS.concat([CEDAR_PROMPT]).map((s) => [s, ours.chat_body(s)]));
  for (const [size, body] of bodies) {
    const d = JSON.parse(decider.decide_json(body));
    if (d.decision !== 'allow' || d.errors.length > 0 || decider.decide(body) !== 1) {
      throw new Error(`${n} policies, ${size} B: the benchmark request must be allowed: ${JSON.stringify(d)}`);
    }
  }
  const body = bodies.get(CEDAR_PROMPT);
  const ourDecision = JSON.parse(decider.decide_json(body));
  decider.prepare_floor(body);
  const floorDecision = JSON.parse(decider.explain_floor());

  // cedar-wasm on the very request our pipeline built.
  const request = JSON.parse(decider.cedar_request(body));
  const { entities, ...call } = request;
  const setId = `set-${n}`;
  check(cedar.preparseSchema('schema', set.schema), 'preparseSchema');
  check(cedar.preparsePolicySet(setId, { staticPolicies: set.policies }), 'preparsePolicySet');
  const statefulCall = {
    ...call,
    entities,
    preparsedSchemaName: 'schema',
    preparsedPolicySetId: setId,
    validateRequest: true,
  };
  const statelessCall = {
    ...call,
    entities,
    schema: set.schema,
    policies: { staticPolicies: set.policies },
    validateRequest: true,
  };
  const answer = (a, what) => {
    check(a, what);
    if (a.response.diagnostics.errors.length > 0) {
      throw new Error(`${what}: ${JSON.stringify(a.response.diagnostics.errors)}`);
    }
    return { decision: a.response.decision, policies: sorted(a.response.diagnostics.reason) };
  };
  const stateful = answer(cedar.statefulIsAuthorized(statefulCall), 'statefulIsAuthorized');
  const stateless = answer(cedar.isAuthorized(statelessCall), 'isAuthorized');
  const ourView = { decision: ourDecision.decision, policies: sorted(ourDecision.policies) };
  const agree = [floorDecision, stateful, stateless].every((x) => same(x, ourView));
  console.error(
    `${n} policies: ours ${JSON.stringify(ourView)}, our floor ${JSON.stringify(floorDecision)}, ` +
      `cedar-wasm stateful ${JSON.stringify(stateful)}, stateless ${JSON.stringify(stateless)}`,
  );
  if (!agree) throw new Error(`${n} policies: the engines disagree`);

  return {
    n,
    setJson,
    decider,
    bodies,
    statefulCall,
    statelessCall,
    info: {
      policies: n,
      load_ms: round2(loadMs),
      decision: ourView.decision,
      deciding_policies: ourView.policies,
      cedar_wasm_decision: stateful.decision,
      cedar_wasm_deciding_policies: stateful.policies,
      agree,
    },
  };
}

function readNative() {
  try {
    return JSON.parse(readFileSync(nativeFile, 'utf8'));
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return { os: process.platform, arch: process.arch, cpus: cpus.length, cpu_model: cpus[0]?.model ?? null };
}

function main() {
  const ours = loadOurs();
  const cedar = loadCedar();
  const prepared = SIZES.map((n) => prepare(ours, cedar, n));

  const full = new Map();
  const floor = new Map();
  const stateful = new Map();
  const stateless = new Map();
  const detectors = new Map();
  const proses = DETECTOR_SIZES.map((size) => [size, new ours.Prose(size)]);
  const get = (map, key) => {
    if (!map.has(key)) map.set(key, new Samples());
    return map.get(key);
  };
  for (let r = 0; r < ROUNDS; r++) {
    console.error(`round ${r + 1}/${ROUNDS}`);
    for (const p of prepared) {
      for (const size of PROMPTS) {
        const body = p.bodies.get(size);
        get(full, `${p.n}/${size}`).round(ROUND_MS, () => p.decider.decide(body) === 1);
      }
      get(floor, p.n).round(ROUND_MS, () => p.decider.authorize_floor());
      get(stateful, p.n).round(ROUND_MS, () =>
        cedar.statefulIsAuthorized(p.statefulCall).response?.decision === 'allow');
      // Stateless reparses every policy on every call: a shorter budget at 1000 policies.
      get(stateless, p.n).round(ROUND_MS, () =>
        cedar.isAuthorized(p.statelessCall).response?.decision === 'allow');
    }
    for (const [size, prose] of proses) {
      get(detectors, size).round(ROUND_MS, () => prose.scan() >= 0);
    }
  }

  const native = readNative();
  const nativeFull = (n, size) =>
    native?.full_decision?.find((v) => v.policies === n && v.prompt_bytes === size)?.p50_us ?? null;
  const nativeDetectors = (size) => native?.detectors?.find((v) => v.bytes === size)?.p50_us ?? null;
  const nativeFloor = (n) => native?.cedar_floor?.find((v) => v.policies === n)?.p50_us ?? null;
  const ratio = (a, b) => (a != null && b ? round2(a / b) : null);

  const fullRows = [];
  for (const p of prepared) {
    for (const size of PROMPTS) {
      const s = get(full, `${p.n}/${size}`).summary();
      const nat = nativeFull(p.n, size);
      fullRows.push({ policies: p.n, prompt_bytes: size, ...s, native_p50_us: nat, ratio_to_native: ratio(s.p50_us, nat) });
    }
  }
  const floorRows = prepared.map((p) => {
    const s = get(floor, p.n).summary();
    const nat = nativeFloor(p.n);
    return { policies: p.n, ...s, native_p50_us: nat, ratio_to_native: ratio(s.p50_us, nat) };
  });
  const detectorRows = DETECTOR_SIZES.map((size) => {
    const s = get(detectors, size).summary();
    const nat = nativeDetectors(size);
    return { bytes: size, ...s, native_p50_us: nat, ratio_to_native: ratio(s.p50_us, nat) };
  });
  const ourFull4k = (n) => fullRows.find((v) => v.policies === n && v.prompt_bytes === CEDAR_PROMPT)?.p50_us;
  const ourFloor = (n) => floorRows.find((v) => v.policies === n)?.p50_us;
  const peerRows = (map) =>
    prepared.map((p) => {
      const s = get(map, p.n).summary();
      return {
        policies: p.n,
        ...s,
        ratio_to_our_floor: ratio(s.p50_us, ourFloor(p.n)),
        ratio_to_our_full: ratio(s.p50_us, ourFull4k(p.n)),
      };
    });
  const statefulRows = peerRows(stateful);
  const statelessRows = peerRows(stateless);

  console.error('memory (fresh node processes)');
  const memory = memoryAll(prepared.map((p) => [p.n, p.setJson]));

  const wasmFile = path.join(pkgDir, 'gateway_wasm_bench_bg.wasm');
  const wasmBytes = readFileSync(wasmFile);
  const row100 = fullRows.find((v) => v.policies === 100 && v.prompt_bytes === 4096);
  const stateful100 = statefulRows.find((v) => v.policies === 100);
  const cedarPkg = JSON.parse(
    readFileSync(path.join(root, 'node_modules/@cedar-policy/cedar-wasm/package.json'), 'utf8'),
  );
  const report = {
    schema: 'llm-policy-gateway/bench-wasm/v1',
    mode: quick ? 'quick' : 'full',
    unix_time: Math.floor(Date.now() / 1000),
    node: process.version,
    machine: machine(),
    module: {
      file: path.relative(root, wasmFile),
      bytes: statSync(wasmFile).size,
      gzip_bytes: gzipSync(wasmBytes, { level: 9 }).length,
    },
    cedar_wasm: { version: cedarPkg.version },
    request: {
      principal: 'alice', team: 'research', org: 'acme', tier: 'pro', model: 'gpt-4o-mini',
      action: 'chat.completion', country: 'US', prompt_bytes_for_cedar: CEDAR_PROMPT,
    },
    policy_sets: prepared.map((p) => p.info),
    full_decision: fullRows,
    floor: floorRows,
    detectors: detectorRows,
    cedar_wasm_stateful: statefulRows,
    cedar_wasm_stateless: statelessRows,
    memory,
    targets: [
      {
        name: 'in-wasm full decision p50 / native p50, 100 policies, 4 KiB prompt',
        target: 2.0,
        measured: row100?.ratio_to_native ?? null,
        met: row100?.ratio_to_native != null ? row100.ratio_to_native <= 2.0 : null,
      },
      // At-least targets carry their direction in a string (a number means "at most").
      {
        name: 'cedar-wasm stateful p50 / our in-wasm full decision p50, 100 policies, 4 KiB',
        target: '≥ 4',
        target_min: 4.0,
        measured: stateful100?.ratio_to_our_full ?? null,
        met: stateful100?.ratio_to_our_full != null ? stateful100.ratio_to_our_full >= 4.0 : null,
      },
      {
        name: 'cedar-wasm stateful p50 / our in-wasm Cedar floor p50, 100 policies',
        target: '≥ 4',
        target_min: 4.0,
        measured: stateful100?.ratio_to_our_floor ?? null,
        met: stateful100?.ratio_to_our_floor != null ? stateful100.ratio_to_our_floor >= 4.0 : null,
      },
    ],
  };
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`wrote ${path.relative(root, outFile)}`);
  printTable(report);
  if (sink === 2) console.log(''); // keep `sink` alive
}

function printTable(r) {
  const f = (x, w = 9) => (x == null ? '-' : x.toFixed(1)).padStart(w);
  console.log('\nin wasm (node)         policies  prompt    p50 µs    p99 µs   ×native');
  for (const v of r.full_decision) {
    console.log(`ours full decision     ${String(v.policies).padStart(8)}  ${String(v.prompt_bytes).padStart(6)} ${f(v.p50_us)} ${f(v.p99_us)} ${f(v.ratio_to_native)}`);
  }
  for (const v of r.floor) {
    console.log(`ours Cedar floor       ${String(v.policies).padStart(8)}  ${'4096'.padStart(6)} ${f(v.p50_us)} ${f(v.p99_us)} ${f(v.ratio_to_native)}`);
  }
  for (const v of r.detectors) {
    console.log(`ours detectors         ${'-'.padStart(8)}  ${String(v.bytes).padStart(6)} ${f(v.p50_us)} ${f(v.p99_us)} ${f(v.ratio_to_native)}`);
  }
  for (const [name, rows] of [['cedar-wasm stateful ', r.cedar_wasm_stateful], ['cedar-wasm stateless', r.cedar_wasm_stateless]]) {
    for (const v of rows) {
      console.log(`${name}   ${String(v.policies).padStart(8)}  ${'4096'.padStart(6)} ${f(v.p50_us)} ${f(v.p99_us)}   (${f(v.ratio_to_our_floor, 0)}× our floor, ${f(v.ratio_to_our_full, 0)}× our full)`);
    }
  }
  for (const m of r.memory) {
    const mib = (b) => (b == null ? '-' : (b / 1048576).toFixed(1));
    console.log(`memory ${m.engine.padEnd(10)} ${String(m.policies).padStart(5)} policies: wasm memory ${mib(m.wasm_memory_after_load_bytes)} MiB (+${mib(m.wasm_memory_delta_bytes)}), RSS +${mib(m.rss_delta_bytes)} MiB, load ${m.load_ms} ms`);
  }
}

if (flag('--memory-child')) {
  const i = args.indexOf('--memory-child');
  process.stdout.write(
    JSON.stringify(memoryChild(args[i + 1], Number(args[i + 2]), args[i + 3], args[i + 4])),
  );
} else {
  main();
}

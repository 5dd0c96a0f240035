// Runs the built worker (build/index.js + index_bg.wasm) in Miniflare on workerd, with a
// real KV namespace seeded with caller keys, real SQLite-backed Durable Objects for
// budgets, and the mock provider as upstream.
import { Miniflare } from "miniflare";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { demoKeys, keyRecordName } from "../../scripts/seed_keys.mjs";
import { startMockProvider, OPENAI_KEY, ANTHROPIC_KEY } from "./mock_provider.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

export const KEYS = Object.fromEntries(demoKeys().map(({ key, principal }) => [principal.user, key]));

// Extra principals only the tests use.
const TEST_KEYS = [
  { key: "sk-test-fred", principal: { user: "fred", team: "research", org: "acme", roles: [], tier: "free" } },
  { key: "sk-test-olga", principal: { user: "olga", team: "marketing", org: "acme", roles: [], tier: "pro" } },
  { key: "sk-test-broken", principal: "{not json" },
];
KEYS.fred = "sk-test-fred";
KEYS.olga = "sk-test-olga";
KEYS.broken = "sk-test-broken";

// A budget store that fails: its objects answer 500, or never answer.
function brokenBudgetStore(hang) {
  return `export class BrokenBudget {
  async fetch() {
    ${hang ? "await new Promise(() => {});" : ""}
    return new Response("budget store failure", { status: 500 });
  }
}`;
}

// `persist`: a folder where the Durable Objects' storage outlives this Miniflare, so a
// second gateway started on it is the same deployment after an isolate restart.
// `inspectorPort` opens workerd's inspector (bench/profile_workerd.mjs profiles through it).
// `budgetStore`: "real" (the worker's own Durable Objects), or "failing" / "hanging" (the
// budget binding points at objects that answer 500 or never answer). `workers`: more
// Miniflare workers beside the gateway (a benchmark driver bound to its objects, say).
export async function startGateway({ bindings = {}, cf = { country: "US" }, mock, inspectorPort, budgetStore = "real", workers = [], persist } = {}) {
  mock ??= await startMockProvider();
  const logs = [];
  const broken = budgetStore !== "real";
  const gateway = {
    name: "gateway",
    rootPath: root,
    modules: true,
    scriptPath: "build/index.js",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-04-20",
    kvNamespaces: ["POLICY_KV"],
    durableObjects: {
      BUDGETS: broken
        ? { className: "BrokenBudget", scriptName: "broken-budget-store", useSQLite: true }
        : { className: "BudgetObject", useSQLite: true },
    },
    bindings: {
      OPENAI_BASE_URL: mock.openaiBaseUrl,
      ANTHROPIC_BASE_URL: mock.anthropicBaseUrl,
      OPENAI_API_KEY: OPENAI_KEY,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      MAX_BODY_BYTES: "65536",
      UPSTREAM_TIMEOUT_MS: "2000",
      ...bindings,
    },
  };
  const brokenStore = {
    name: "broken-budget-store",
    modules: true,
    script: brokenBudgetStore(budgetStore === "hanging"),
    compatibilityDate: "2026-04-20",
    durableObjects: { BROKEN: { className: "BrokenBudget", useSQLite: true } },
  };
  const mf = new Miniflare({
    port: 0,
    cf,
    ...(inspectorPort ? { inspectorPort } : {}),
    ...(persist ? { durableObjectsPersist: persist } : {}),
    workers: [gateway, ...(broken ? [brokenStore] : []), ...workers],
    handleRuntimeStdio(stdout, stderr) {
      const collect = (stream) => {
        let pending = "";
        stream.on("data", (chunk) => {
          pending += chunk.toString();
          const lines = pending.split("\n");
          pending = lines.pop();
          logs.push(...lines.filter((l) => l.trim()));
        });
      };
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  const kv = await mf.getKVNamespace("POLICY_KV");
  for (const { key, principal } of [...demoKeys(), ...TEST_KEYS]) {
    const value = typeof principal === "string" ? principal : JSON.stringify(principal);
    await kv.put(keyRecordName(key), value);
  }
  const base = url.href.replace(/\/$/, "");
  return {
    // The official SDKs, pointed at the gateway as a user would point them.
    openai: (key) => new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 }),
    anthropic: (key) => new Anthropic({ apiKey: key, baseURL: base, maxRetries: 0 }),
    mf,
    mock,
    kv,
    url: base,
    logs,
    // One budget object's state of `lines`, read from the object itself (not through the
    // gateway, whose `/v1/usage` first settles this isolate's idle leases).
    async readObject(name, lines) {
      const namespace = await mf.getDurableObjectNamespace("BUDGETS");
      const stub = namespace.get(namespace.idFromName(name));
      const response = await stub.fetch("https://budget/op", { method: "POST", body: JSON.stringify({ op: "read", lines }) });
      if (response.status !== 200) throw new Error(`budget object ${name}: ${response.status}`);
      return (await response.json()).states;
    },
    // The decision log lines the worker printed so far, parsed.
    decisionLogs: () => logEvents(logs, "decision"),
    // Any structured log event by name (`output_guard`, `policy_swap`, …), parsed.
    logEvents: (event) => logEvents(logs, event),
    async close() {
      await mf.dispose();
      await mock.close();
    },
  };
}

function logEvents(logs, event) {
  return logs.flatMap((line) => {
    const start = line.indexOf("{");
    if (start < 0) return [];
    try {
      const entry = JSON.parse(line.slice(start));
      return entry.event === event ? [entry] : [];
    } catch {
      return [];
    }
  });
}

// Polls until `predicate` (sync or async) holds (log lines arrive asynchronously), or throws.
export async function eventually(predicate, { timeoutMs = 3000, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/// Publishes a signed bundle as `policy publish` does (under its version and as the latest)
/// and waits until the gateway decides with it.
export async function publishBundle(gateway, bundle) {
  const text = JSON.stringify(bundle);
  await gateway.kv.put(`policy:bundle:v${bundle.version}`, text);
  await gateway.kv.put("policy:bundle", text);
  await eventually(
    async () => {
      const response = await fetch(`${gateway.url}/v1/policy/status`, { headers: { authorization: `Bearer ${KEYS.priya}` } });
      return (await response.json()).policy?.version === bundle.version;
    },
    { what: `bundle v${bundle.version} active`, timeoutMs: 5000 },
  );
}

export function post(gateway, path, body, { key, headers = {}, signal } = {}) {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    signal,
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const chat = (model, extra = {}) => ({
  model,
  messages: [{ role: "user", content: "Say hello." }],
  max_tokens: 256,
  ...extra,
});

const catalog = JSON.parse(readFileSync(new URL("../../policies/models.json", import.meta.url), "utf8")).models;
const starter = JSON.parse(readFileSync(new URL("../../policies/budgets.json", import.meta.url), "utf8")).limits;

/// What the gateway charges for one answer the provider billed (`mock.billed`), in
/// micro-USD, by the gateway's formula: tokens × USD per million, rounded up.
export function costOf({ model, input_tokens, output_tokens }) {
  const entry = Object.values(catalog).find((m) => m.upstream_model === model);
  if (!entry) throw new Error(`no catalog model is served as ${model}`);
  const prices = entry.usd_per_million_tokens;
  return Math.ceil(input_tokens * prices.input + output_tokens * prices.output);
}

/// The starter limit (policies/budgets.json) of `scope` as a budget object's line.
export function starterLine(scope) {
  const limit = starter.find((l) => l.scope === scope);
  const caps = {};
  if (limit.spend_usd !== undefined) caps.micro_usd = Math.round(limit.spend_usd * 1e6);
  if (limit.requests !== undefined) caps.requests = limit.requests;
  if (limit.tokens !== undefined) caps.tokens = limit.tokens;
  return { limit: limit.id, window: limit.window, caps };
}

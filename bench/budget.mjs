// What budget metering costs, through workerd (Miniflare) with real SQLite-backed Durable
// Objects:
//
// - one budget object's throughput: a driver worker inside workerd, bound to the gateway's
//   budget objects as the gateway itself is, runs reserve → settle pairs against one
//   object for a fixed time at several concurrencies (pairs/s);
// - the latency metering adds to a call: the same chat call, one at a time from Node,
//   under a bundle with no limits, with one budget object (the key's) and with the starter
//   limits' four scopes (org, team, user and key objects; caps raised so none binds),
//   interleaved in rounds; p50/p99 of each and the difference from no limits. Twice: as
//   shipped (hot limits leased by the isolate, so most calls reach no object) and with
//   `BUDGET_LEASES=off` (every call reserves and settles in its objects), each against
//   its own gateway's calls without limits.
//
// Writes target/bench-results/budget.json. `--quick`: short runs (a smoke test).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

import { startGateway, publishBundle, KEYS, post, chat } from "../tests/e2e/harness.mjs";
import { makeBundle, policySource, signBundle } from "../tests/e2e/bundles.mjs";
import { meteredStarterLimits } from "./load/targets.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const quick = process.argv.includes("--quick");
const PAIR_SECONDS = quick ? 1 : 4;
const CONCURRENCY = quick ? [1, 16] : [1, 4, 16, 64];
const CALLS = quick ? 90 : 600;
const ROUNDS = quick ? 1 : 10;

// Runs reserve → settle pairs against one object for `durationMs` with `concurrency`
// loops; the clock inside workerd advances at each I/O, so the elapsed time is exact to
// the millisecond over the whole run.
const DRIVER = `
export default {
  async fetch(request, env) {
    const { object, concurrency, durationMs } = await request.json();
    const stub = env.BUDGETS.get(env.BUDGETS.idFromName(object));
    const lines = [{ limit: "bench", window: "month", caps: { micro_usd: 9000000000000000, requests: 9000000000000000 } }];
    const amount = { requests: 1, tokens: 1000, micro_usd: 1000 };
    const op = (body) => stub.fetch("https://budget/op", { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
    let pairs = 0;
    let refused = 0;
    let next = 0;
    const started = Date.now();
    const deadline = started + durationMs;
    async function loop() {
      while (Date.now() < deadline) {
        const hold = "h" + next++;
        const reply = await op({ op: "reserve", hold, lines, amount, ttl_ms: 60000 });
        if (!reply.granted) refused++;
        await op({ op: "settle", hold, actual: { requests: 1, tokens: 500, micro_usd: 500 } });
        pairs++;
      }
    }
    await Promise.all(Array.from({ length: concurrency }, loop));
    return Response.json({ pairs, refused, elapsed_ms: Date.now() - started });
  },
};
`;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round2 = (x) => Math.round(x * 100) / 100;

async function publish(gateways, version, limits) {
  for (const gateway of gateways) await publishBundle(gateway, signBundle(makeBundle({ ...policySource(), limits }, version)));
}

async function timedCalls(gateway, n) {
  const body = chat("gpt-4o-mini", { max_tokens: 100 });
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const response = await post(gateway, "/v1/chat/completions", body, { key: KEYS.priya });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`call ${i}: status ${response.status}`);
    times.push(performance.now() - t0);
  }
  return times;
}

const started = Date.now();
const gateway = await startGateway({
  bindings: { POLICY_REFRESH_SECONDS: "0.1" },
  workers: [
    {
      name: "budget-driver",
      modules: true,
      script: DRIVER,
      compatibilityDate: "2026-04-20",
      durableObjects: { BUDGETS: { className: "BudgetObject", scriptName: "gateway", useSQLite: true } },
      routes: ["budget-driver.local/*"],
    },
  ],
});
const unleased = await startGateway({ bindings: { POLICY_REFRESH_SECONDS: "0.1", BUDGET_LEASES: "off" } });
try {
  const driver = await gateway.mf.getWorker("budget-driver");
  const throughput = [];
  for (const concurrency of CONCURRENCY) {
    const response = await driver.fetch("http://budget-driver.local/", {
      method: "POST",
      body: JSON.stringify({ object: `bench:${concurrency}`, concurrency, durationMs: PAIR_SECONDS * 1000 }),
    });
    const { pairs, refused, elapsed_ms } = await response.json();
    throughput.push({
      concurrency,
      pairs,
      refused,
      seconds: round2(elapsed_ms / 1000),
      pairs_per_s: Math.round(pairs / (elapsed_ms / 1000)),
      ms_per_pair_per_loop: round2((elapsed_ms * concurrency) / pairs),
    });
    console.log(`budget: ${concurrency} loop(s): ${pairs} pairs in ${elapsed_ms} ms`);
  }

  // Interleaved rounds, so drift in the machine's load hits every configuration alike.
  // The starter limits' scopes (org, team, user, key), with caps no benchmark reaches.
  const starterLimits = meteredStarterLimits();
  const bundles = [
    { limits: "none", text: "" },
    { limits: "key only (1 budget object)", text: JSON.stringify({ limits: starterLimits.filter((l) => l.scope === "key") }) },
    { limits: "starter scopes (4 budget objects)", text: JSON.stringify({ limits: starterLimits }) },
  ];
  const configurations = [
    ...bundles.map((b) => ({ ...b, gateway, leases: "on", times: [] })),
    ...bundles.map((b) => ({ ...b, gateway: unleased, leases: "off", times: [] })),
  ];
  let version = 0;
  await timedCalls(gateway, 20); // warm-up
  await timedCalls(unleased, 20);
  for (let round = 0; round < ROUNDS; round++) {
    for (const bundle of bundles) {
      await publish([gateway, unleased], ++version, bundle.text);
      for (const configuration of configurations.filter((c) => c.limits === bundle.limits)) {
        configuration.times.push(...(await timedCalls(configuration.gateway, CALLS / ROUNDS)));
      }
    }
  }
  const stats = (times) => {
    const sorted = [...times].sort((a, b) => a - b);
    return { n: sorted.length, p50_ms: round2(percentile(sorted, 50)), p99_ms: round2(percentile(sorted, 99)) };
  };
  const callLatency = configurations.map(({ limits, leases, times }) => {
    const base = stats(configurations.find((c) => c.leases === leases && c.limits === "none").times);
    const s = stats(times);
    return { leases, limits, ...s, added_p50_ms: round2(s.p50_ms - base.p50_ms), added_p99_ms: round2(s.p99_ms - base.p99_ms) };
  });
  for (const row of callLatency) console.log(`budget: leases ${row.leases}, ${row.limits}: p50 ${row.p50_ms} ms (+${row.added_p50_ms})`);
  const added = (leases) => callLatency.find((r) => r.leases === leases && r.limits.startsWith("key only")).added_p50_ms;
  const [oneObject, oneObjectUnleased] = [added("on"), added("off")];

  const result = {
    schema: 1,
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    seconds_total: Math.round((Date.now() - started) / 1000),
    how:
      "one budget object: reserve→settle pairs from a driver worker inside workerd; calls: sequential chat calls from Node " +
      "without limits, with one budget object (key) and with the starter's four (org, team, user, key), interleaved rounds, " +
      "against a gateway as shipped (leases on) and one with BUDGET_LEASES=off",
    one_object_throughput: throughput,
    call_latency: callLatency,
    targets: [
      { name: "latency one budget object adds to a call, p50 (ms)", target: 0.5, measured: oneObject, met: oneObject <= 0.5 },
      {
        name: "the same with every call reserving in the object (BUDGET_LEASES=off), p50 (ms)",
        target: 0.5,
        measured: oneObjectUnleased,
        met: oneObjectUnleased <= 0.5,
      },
    ],
  };
  mkdirSync(`${root}target/bench-results`, { recursive: true });
  writeFileSync(`${root}target/bench-results/budget.json`, JSON.stringify(result, null, 2));
  console.log("budget: wrote target/bench-results/budget.json");
} finally {
  await gateway.close();
  await unleased.close();
}

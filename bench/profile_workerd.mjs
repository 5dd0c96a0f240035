// Where the gateway's time goes inside workerd: a V8 CPU profile of the worker's isolate
// while autocannon drives the load benchmark's request through it (1 connection).
//
//   KEEP_WASM_NAMES=1 FORCE_BUILD=1 bash scripts/build-worker.sh   # names in the profile
//   node bench/profile_workerd.mjs [--stream] [--seconds 6] [--out target/workerd.cpuprofile]
//
// It starts the gateway as the e2e harness does, with workerd's inspector open, samples
// every 50 µs through the DevTools protocol (Profiler domain), and prints the functions
// with the most self and inclusive time, in µs per request. The .cpuprofile it writes
// opens in Chrome DevTools (Performance → load profile). Sampling slows the isolate, and
// console output is also sent to the inspector while it is attached: read the figures as
// shares, not latencies. A diagnostic, not a benchmark: it measures nothing for
// BENCHMARKS.md.
import { connect, userWorker } from "./inspector.mjs";
import autocannon from "autocannon";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { startGateway, publishBundle, KEYS } from "../tests/e2e/harness.mjs";
import { makeBundle, policySource, signBundle } from "../tests/e2e/bundles.mjs";
import { chatBody, meteredStarterLimits } from "./load/targets.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const stream = args.includes("--stream");
const seconds = Number(option("--seconds", "6"));
const out = option("--out", `${root}target/workerd.cpuprofile`);
const inspectorPort = 9300 + Math.floor(Math.random() * 500);

process.chdir(root);
const gateway = await startGateway({ inspectorPort, bindings: { POLICY_REFRESH_SECONDS: "1" } });
try {
  // As the load benchmark runs it: every limit metered, none binding.
  const limits = JSON.stringify({ limits: meteredStarterLimits() });
  await publishBundle(gateway, signBundle(makeBundle({ ...policySource(), limits }, 1)));
  const inspector = await connect(await userWorker(inspectorPort));

  const load = (duration) =>
    new Promise((resolve, reject) =>
      autocannon(
        {
          url: `${gateway.url}/v1/chat/completions`,
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEYS.alice}` },
          body: chatBody({ stream }),
          connections: 1,
          duration,
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      ),
    );
  await load(2); // warm the isolate, the key cache and the policy bundle
  gateway.logs.length = 0;
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 50 });
  await inspector.send("Profiler.start");
  const result = await load(seconds);
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();

  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  const requests = result.requests.total;
  console.log(`${requests} requests (${result.non2xx} non-2xx), p50 ${result.latency.p50} ms under the profiler; profile: ${out}`);
  report(profile, requests);
} finally {
  await gateway.close();
}

// Self and inclusive time per function name, as a share of all samples and µs per request.
function report(profile, requests) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const name = (id) => {
    const frame = nodes.get(id).callFrame;
    return frame.functionName || `(anonymous ${frame.url}:${frame.lineNumber})`;
  };
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((sample, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    self.set(name(sample), (self.get(name(sample)) ?? 0) + dt);
    const seen = new Set();
    for (let id = sample; id !== undefined; id = parent.get(id)) {
      const fn = name(id);
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + dt);
    }
  });
  const show = (title, times, count) => {
    console.log(`\n${title}\n   share   µs/request  function`);
    for (const [fn, t] of [...times].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${((100 * t) / total).toFixed(1).padStart(7)} %  ${(t / requests).toFixed(1).padStart(9)}  ${fn.slice(0, 150)}`);
    }
  };
  show("self time", self, 30);
  show("inclusive time", inclusive, 40);
}

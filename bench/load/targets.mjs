// The four things the load benchmark drives, each started in front of (or as) the same
// mock provider (tests/e2e/mock_provider.mjs):
//   mock         the mock provider itself, called directly: the baseline
//   passthrough  a trivial JS worker on workerd (miniflare) that forwards to the mock
//   gateway      this project's built worker (build/), started as the e2e harness does
//   portkey      the open-source Portkey gateway (@portkey-ai/gateway, its node server)
//                with one input guardrail (default.regexMatch), custom host = the mock
// startTarget(name) returns { name, url, path, headers, close() }: where to POST a chat
// completion and with which headers. Every process it starts is stopped by close().

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

import { startMockProvider, OPENAI_KEY } from "../../tests/e2e/mock_provider.mjs";
import { startGateway, publishBundle, KEYS } from "../../tests/e2e/harness.mjs";
import { makeBundle, policySource, signBundle } from "../../tests/e2e/bundles.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));

export const TARGETS = ["mock", "passthrough", "gateway", "portkey"];

// The one Portkey guardrail: deny prompts that match a prompt-injection phrase. The
// benchmark prompt does not match, so every request passes the check and is forwarded.
export const PORTKEY_GUARDRAIL = {
  "default.regexMatch": { rule: "[Ii]gnore (all )?(previous|prior) instructions", not: true },
  deny: true,
};

// The starter limits (org, team, user and key budgets) with their request and token caps
// raised a thousandfold, so every call is metered in its four scopes but none binds: the
// starter key limit of 600 requests a minute would refuse a load run within a second.
export function meteredStarterLimits() {
  const raise = (limit) => ({
    ...limit,
    ...(limit.requests ? { requests: limit.requests * 1000 } : {}),
    ...(limit.tokens ? { tokens: limit.tokens * 1000 } : {}),
  });
  return JSON.parse(policySource().limits).limits.map(raise);
}

export async function startTarget(name, { chunkDelayMs = 1 } = {}) {
  const mock = await startMockProvider({ chunkDelayMs });
  try {
    switch (name) {
      case "mock":
        return {
          name,
          url: mock.url,
          path: "/openai/v1/chat/completions",
          headers: { authorization: `Bearer ${OPENAI_KEY}` },
          close: () => mock.close(),
        };
      case "passthrough":
        return await startPassthrough(mock);
      case "gateway": {
        const gateway = await startGateway({ mock, bindings: { POLICY_REFRESH_SECONDS: "1" } });
        const limits = JSON.stringify({ limits: meteredStarterLimits() });
        await publishBundle(gateway, signBundle(makeBundle({ ...policySource(), limits }, 1)));
        return {
          name,
          url: gateway.url,
          path: "/v1/chat/completions",
          headers: { authorization: `Bearer ${KEYS.alice}` },
          // The harness keeps every log line the worker prints; a long run should not.
          trimLogs: () => gateway.logs.splice(0, gateway.logs.length),
          close: () => gateway.close(),
        };
      }
      case "portkey":
        return await startPortkey(mock);
      default:
        throw new Error(`unknown target ${name} (one of ${TARGETS.join(", ")})`);
    }
  } catch (error) {
    await mock.close();
    throw error;
  }
}

export async function startPassthrough(mock, { port = 0 } = {}) {
  const mf = new Miniflare({
    rootPath: root,
    modules: true,
    scriptPath: `${here}passthrough.mjs`,
    compatibilityDate: "2026-04-20",
    port,
    bindings: { OPENAI_BASE_URL: mock.openaiBaseUrl, OPENAI_API_KEY: OPENAI_KEY },
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  return {
    name: "passthrough",
    url,
    path: "/v1/chat/completions",
    headers: { authorization: "Bearer sk-anything" },
    mf,
    close: async () => {
      await mf.dispose();
      await mock.close();
    },
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPortkey(mock) {
  const port = await freePort();
  const entry = `${root}node_modules/@portkey-ai/gateway/build/start-server.js`;
  const child = spawn(
    process.execPath,
    ["--import", `${here}portkey_preload.mjs`, entry, `--port=${port}`, "--headless"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_ENV: "production" } },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  child.stderr.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const config = {
    provider: "openai",
    api_key: OPENAI_KEY,
    custom_host: mock.openaiBaseUrl,
    input_guardrails: [PORTKEY_GUARDRAIL],
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await mock.close();
      throw new Error(`portkey exited (${child.exitCode}): ${output}`);
    }
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        await mock.close();
        throw new Error(`portkey did not answer within 30 s: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    name: "portkey",
    url,
    path: "/v1/chat/completions",
    headers: { "x-portkey-config": JSON.stringify(config) },
    pid: child.pid,
    close: async () => {
      await stop();
      await mock.close();
    },
  };
}

// About 1 KiB of ordinary prose: no injection phrase, no PII, no secrets, so the
// gateway's detectors scan it all and its policies allow it (alice, research team, pro
// tier, on gpt-4o-mini), and Portkey's guardrail checks it and lets it through.
export const PROMPT = [
  "Please summarise the following notes from our weekly planning meeting in three short bullet points.",
  "The team reviewed progress on the data pipeline migration, which is now about two thirds complete.",
  "Most of the remaining work is in the reporting jobs, which still read from the old warehouse tables.",
  "We agreed to move the nightly aggregation first, because it blocks the new dashboards for the sales group.",
  "Testing showed that the new jobs finish roughly twenty minutes earlier than the old ones on average.",
  "There was a long discussion about retention: the archive should keep raw events for at least a year,",
  "while the derived tables can be rebuilt and so only need to be kept for ninety days.",
  "The design review for the caching layer is scheduled for next Thursday afternoon in the large room.",
  "Finally, everyone should update their estimates in the planning board before the end of the week.",
  "Keep the summary neutral in tone and suitable for sharing with the wider engineering organisation.",
].join(" ");

export function chatBody({ stream }) {
  return JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: PROMPT }],
    max_tokens: 256,
    ...(stream ? { stream: true } : {}),
  });
}

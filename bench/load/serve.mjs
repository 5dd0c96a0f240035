// Hosts one load-benchmark target in its own process, so that the driver can pin it (and
// the workerd or Portkey process it starts) to a different core from the load generator.
//
//   node bench/load/serve.mjs <mock|passthrough|gateway|portkey> [chunkDelayMs]
//
// Prints one JSON line {url, path, headers} once the target answers, then serves until
// its stdin closes (the driver exiting, for any reason) or it gets SIGTERM/SIGINT; it
// then stops everything it started.

import { startTarget } from "./targets.mjs";

const [name, chunkDelay = "1"] = process.argv.slice(2);
const target = await startTarget(name, { chunkDelayMs: Number(chunkDelay) });

let closing = false;
async function shutdown(code = 0) {
  if (closing) return;
  closing = true;
  try {
    await target.close();
  } finally {
    process.exit(code);
  }
}
process.on("SIGTERM", () => shutdown());
process.on("SIGINT", () => shutdown());
process.stdin.on("end", () => shutdown());
process.stdin.on("close", () => shutdown());
process.stdin.resume();

// The worker's decision log lines are collected by the harness; drop them now and then.
if (target.trimLogs) setInterval(target.trimLogs, 1000).unref();

const { url, path, headers } = target;
process.stdout.write(`${JSON.stringify({ ready: true, name, url, path, headers })}\n`);

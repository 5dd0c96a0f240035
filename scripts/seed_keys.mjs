// Writes the demo caller keys into the local KV of `wrangler dev`: each key's SHA-256
// (never the key itself) maps to its principal. Usage: node scripts/seed_keys.mjs
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const keyRecordName = (key) => `key:${createHash("sha256").update(key).digest("hex")}`;

export function demoKeys() {
  const file = new URL("./demo_keys.json", import.meta.url);
  return JSON.parse(readFileSync(file, "utf8")).keys;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const entries = demoKeys().map(({ key, principal }) => ({ key: keyRecordName(key), value: JSON.stringify(principal) }));
  const file = join(mkdtempSync(join(tmpdir(), "seed-")), "keys.json");
  writeFileSync(file, JSON.stringify(entries));
  execFileSync("wrangler", ["kv", "bulk", "put", file, "--binding", "POLICY_KV", "--local"], { stdio: "inherit" });
  for (const { key, principal } of demoKeys()) {
    console.log(`  ${key.padEnd(16)} → ${principal.user} (team ${principal.team}, tier ${principal.tier}, roles ${principal.roles.join(",")})`);
  }
}

// Builds and signs policy bundles in JavaScript, independently of the Rust code, so the
// end-to-end tests also check the bundle format itself (content hash and the canonical
// signing message) across two implementations.
import { createHash, createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (path) => readFileSync(`${root}/${path}`, "utf8");

export const TEST_KEY = JSON.parse(read("tests/fixtures/signing/test-signing-key.json"));

/// The policies/ directory as a bundle source, named as build.rs names its files.
export function policySource() {
  const policies = readdirSync(`${root}/policies`)
    .filter((name) => name.endsWith(".cedar"))
    .sort()
    .map((name) => ({ name: `policies/${name}`, text: read(`policies/${name}`) }));
  return {
    schema: read("policies/schema.cedarschema"),
    policies,
    catalog: read("policies/models.json"),
    limits: read("policies/budgets.json"),
  };
}

function lengthPrefixed(parts) {
  return Buffer.concat(
    parts.flatMap((part) => {
      const bytes = Buffer.isBuffer(part) ? part : Buffer.from(part, "utf8");
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(bytes.length));
      return [length, bytes];
    }),
  );
}

export function contentHash({ schema, policies, catalog, limits = "" }) {
  const files = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts = ["schema", schema, ...files.flatMap((f) => ["policy-file", f.name, f.text]), "catalog", catalog];
  // A set without limits hashes as it did before limits existed.
  if (limits) parts.push("limits", limits);
  return createHash("sha256").update(lengthPrefixed(parts)).digest("hex");
}

export function makeBundle(source, version, createdAt = new Date().toISOString()) {
  return {
    format: 1,
    version,
    created_at: createdAt,
    schema: source.schema,
    policies: source.policies,
    catalog: source.catalog,
    ...(source.limits ? { limits: source.limits } : {}),
    content_hash: contentHash(source),
  };
}

function signingMessage(bundle) {
  const u32 = Buffer.alloc(4);
  u32.writeUInt32LE(bundle.format);
  const u64 = Buffer.alloc(8);
  u64.writeBigUInt64LE(BigInt(bundle.version));
  return lengthPrefixed(["llm-policy-gateway/policy-bundle/v1", u32, u64, bundle.created_at, bundle.content_hash]);
}

function privateKey({ secret_key, public_key }) {
  const b64url = (hex) => Buffer.from(hex, "hex").toString("base64url");
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(secret_key), x: b64url(public_key) }, format: "jwk" });
}

/// Signs whatever the bundle says (content hash included): tests tamper before signing.
export function signBundle(bundle, key = TEST_KEY) {
  const signature = sign(null, signingMessage(bundle), privateKey(key));
  return { ...bundle, signature: { key_id: key.id, ed25519: signature.toString("hex") } };
}

/// A key pair the worker does not trust, under a trusted key's id or its own.
export function untrustedKey(id = "intruder") {
  const { publicKey, privateKey: secret } = generateKeyPairSync("ed25519");
  const hex = (b64url) => Buffer.from(b64url, "base64url").toString("hex");
  return { id, secret_key: hex(secret.export({ format: "jwk" }).d), public_key: hex(publicKey.export({ format: "jwk" }).x) };
}

/// The source with one more policy file.
export function withPolicy(source, name, text) {
  return { ...source, policies: [...source.policies, { name, text }] };
}

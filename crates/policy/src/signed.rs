//! Signed, versioned policy bundles: what operators publish to KV and what the worker
//! swaps in at run time.
//!
//! A bundle carries the whole policy source (schema, policy files, model catalog), a
//! monotonically increasing version, its creation time, the content hash of the source,
//! and an Ed25519 signature over a canonical encoding of version, time and hash. The hash
//! covers every byte of the source, so the signature does too.
//!
//! Verification runs cheapest first (size, JSON, signature, hash) and only then parses and
//! validates the Cedar source, so garbage costs little. The embedded set is a bundle too
//! (version 0, trusted because it is compiled in), loaded through the same code.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::bundle::{content_hash, BundleError, BundleSource, PolicyBundle, Validation};

/// The bundle format this build reads and writes.
pub const FORMAT: u32 = 1;
/// Domain separation: a signature over a bundle means nothing anywhere else.
const SIGNING_CONTEXT: &[u8] = b"llm-policy-gateway/policy-bundle/v1";
/// The default cap on a bundle's encoded size (KV values may be up to 25 MiB; a policy set
/// that large is a mistake or an attack, and parsing it would eat the worker's CPU).
pub const DEFAULT_MAX_BUNDLE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// Which trusted key signed (an id from the trusted keys file).
    pub key_id: String,
    /// The 64-byte Ed25519 signature, hex.
    pub ed25519: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBundle {
    pub format: u32,
    pub version: u64,
    /// RFC 3339 time the bundle was made.
    pub created_at: String,
    pub schema: String,
    pub policies: Vec<BundleFile>,
    pub catalog: String,
    /// `budgets.json`; absent when the set declares no limits.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub limits: String,
    /// Hex SHA-256 of the source, as `bundle::content_hash` computes it.
    pub content_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<BundleSignature>,
}

/// The public keys that may sign bundles, as `{"keys":[{"id":"…","public_key":"<hex>"}]}`.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(String, VerifyingKey)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedKeysFile {
    keys: Vec<TrustedKeyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedKeyEntry {
    id: String,
    public_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("trusted keys file is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key `{0}` is not a 32-byte hex Ed25519 public key")]
    PublicKey(String),
    #[error("key id `{0}` is used twice")]
    DuplicateId(String),
    #[error("the secret key is not 32 bytes of hex")]
    SecretKey,
}

impl TrustedKeys {
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        let file: TrustedKeysFile = serde_json::from_str(text)?;
        let mut keys: Vec<(String, VerifyingKey)> = Vec::with_capacity(file.keys.len());
        for entry in file.keys {
            if keys.iter().any(|(id, _)| *id == entry.id) {
                return Err(KeyError::DuplicateId(entry.id));
            }
            let key = decode_array::<32>(&entry.public_key)
                .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
                .ok_or_else(|| KeyError::PublicKey(entry.id.clone()))?;
            keys.push((entry.id, key));
        }
        Ok(Self { keys })
    }

    pub fn key(&self, id: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, key)| key)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A signing key pair, as the CLI's `keygen` writes it:
/// `{"id":"…","secret_key":"<hex>","public_key":"<hex>"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPairFile {
    pub id: String,
    pub secret_key: String,
    pub public_key: String,
}

impl KeyPairFile {
    pub fn from_secret(id: &str, secret: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&secret);
        Self {
            id: id.to_owned(),
            secret_key: hex::encode(secret),
            public_key: hex::encode(signing.verifying_key().as_bytes()),
        }
    }

    pub fn signing_key(&self) -> Result<SigningKey, KeyError> {
        decode_array::<32>(&self.secret_key)
            .map(|bytes| SigningKey::from_bytes(&bytes))
            .ok_or(KeyError::SecretKey)
    }
}

/// How far a bundle is trusted before it is loaded.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'k> {
    /// Compiled into the worker by build.rs, which validated it: no signature needed.
    BuiltIn,
    /// From outside (KV, a file): must be signed by one of these keys and validated.
    SignedBy(&'k TrustedKeys),
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("bundle is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("bundle is not valid JSON: {0}")]
    Json(String),
    #[error("bundle format {0} is not supported (this build reads format {FORMAT})")]
    Format(u32),
    #[error("bundle is not signed")]
    Unsigned,
    #[error("bundle is signed by `{0}`, which is not a trusted key")]
    UnknownKey(String),
    #[error("bundle signature does not verify")]
    BadSignature,
    #[error("bundle content hash does not match its content")]
    HashMismatch,
    #[error("bundle does not load: {0}")]
    Invalid(#[from] BundleError),
}

impl VerifyError {
    /// A short stable name for logs and the status endpoint.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::TooLarge { .. } => "too_large",
            VerifyError::Json(_) => "malformed",
            VerifyError::Format(_) => "unsupported_format",
            VerifyError::Unsigned => "unsigned",
            VerifyError::UnknownKey(_) => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::HashMismatch => "hash_mismatch",
            VerifyError::Invalid(_) => "invalid_policies",
        }
    }
}

/// A bundle that verified and loaded, ready to decide with.
#[derive(Debug)]
pub struct VerifiedBundle {
    pub policy: PolicyBundle,
    pub version: u64,
    pub created_at: String,
    /// `None` for the built-in bundle.
    pub signed_by: Option<String>,
}

impl SignedBundle {
    /// An unsigned bundle of `source`, after checking that it loads and validates.
    pub fn build(
        source: &BundleSource<'_>,
        version: u64,
        created_at: &str,
    ) -> Result<Self, BundleError> {
        PolicyBundle::load(source, Validation::Strict)?;
        Ok(Self::from_source(source, version, created_at))
    }

    /// An unsigned bundle of `source`, not validated (the embedded set, checked by build.rs).
    pub fn from_source(source: &BundleSource<'_>, version: u64, created_at: &str) -> Self {
        let mut policies: Vec<BundleFile> = source
            .policy_files
            .iter()
            .map(|f| BundleFile {
                name: f.name.to_owned(),
                text: f.text.to_owned(),
            })
            .collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            format: FORMAT,
            version,
            created_at: created_at.to_owned(),
            schema: source.schema.to_owned(),
            policies,
            catalog: source.catalog.to_owned(),
            limits: source.limits.to_owned(),
            content_hash: content_hash(source),
            signature: None,
        }
    }

    pub fn source(&self) -> BundleSource<'_> {
        let files = self
            .policies
            .iter()
            .map(|f| (f.name.as_str(), f.text.as_str()));
        BundleSource::new(&self.schema, &self.catalog, files).with_limits(&self.limits)
    }

    /// The canonical bytes a signature covers: length-prefixed context, format, version,
    /// creation time and content hash.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(160);
        let mut part = |bytes: &[u8]| {
            message.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            message.extend_from_slice(bytes);
        };
        part(SIGNING_CONTEXT);
        part(&self.format.to_le_bytes());
        part(&self.version.to_le_bytes());
        part(self.created_at.as_bytes());
        part(self.content_hash.as_bytes());
        message
    }

    pub fn sign(&mut self, key_id: &str, key: &SigningKey) {
        let signature = key.sign(&self.signing_message());
        self.signature = Some(BundleSignature {
            key_id: key_id.to_owned(),
            ed25519: hex::encode(signature.to_bytes()),
        });
    }

    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses an encoded bundle, refusing oversize input before reading it as JSON.
    pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<Self, VerifyError> {
        if bytes.len() > max_bytes {
            return Err(VerifyError::TooLarge {
                size: bytes.len(),
                limit: max_bytes,
            });
        }
        let bundle: SignedBundle =
            serde_json::from_slice(bytes).map_err(|e| VerifyError::Json(e.to_string()))?;
        if bundle.format != FORMAT {
            return Err(VerifyError::Format(bundle.format));
        }
        Ok(bundle)
    }

    /// Checks the signature (unless built in) and the content hash, then loads the policy
    /// source (validating it unless built in).
    pub fn verify_and_load(&self, trust: Trust<'_>) -> Result<VerifiedBundle, VerifyError> {
        let (validation, signed_by) = match trust {
            Trust::BuiltIn => (Validation::AlreadyValidated, None),
            Trust::SignedBy(keys) => {
                let signature = self.signature.as_ref().ok_or(VerifyError::Unsigned)?;
                let key = keys
                    .key(&signature.key_id)
                    .ok_or_else(|| VerifyError::UnknownKey(signature.key_id.clone()))?;
                let bytes =
                    decode_array::<64>(&signature.ed25519).ok_or(VerifyError::BadSignature)?;
                key.verify(&self.signing_message(), &Signature::from_bytes(&bytes))
                    .map_err(|_| VerifyError::BadSignature)?;
                (Validation::Strict, Some(signature.key_id.clone()))
            }
        };
        let source = self.source();
        if content_hash(&source) != self.content_hash {
            return Err(VerifyError::HashMismatch);
        }
        let policy = PolicyBundle::load(&source, validation)?;
        Ok(VerifiedBundle {
            policy,
            version: self.version,
            created_at: self.created_at.clone(),
            signed_by,
        })
    }
}

fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text.trim(), &mut out).ok()?;
    Some(out)
}

/// Where bundles live in the `POLICY_KV` namespace.
pub mod kv_entry {
    /// The newest published bundle: what the worker swaps to when nothing is pinned.
    pub const LATEST: &str = "policy:bundle";
    /// A version an operator pinned (its number as text): the worker serves that
    /// version's bundle, even if older than the active one (a rollback).
    pub const PIN: &str = "policy:pin";

    /// Every published version is also kept under its number, so it can be pinned.
    pub fn version(version: u64) -> String {
        format!("policy:bundle:v{version}")
    }
}

//! Caller API keys are never stored: KV holds each key's SHA-256 under `key:<hex>`.
//!
//! A plain SHA-256 (no salt, no stretching) is the usual choice for high-entropy API keys:
//! it cannot be reversed for random keys, and it lets the lookup be one KV read.

use sha2::{Digest, Sha256};

const KV_PREFIX: &str = "key:";

fn key_hash(api_key: &str) -> String {
    hex::encode(Sha256::digest(api_key.as_bytes()))
}

/// The id that names a key in budgets and logs: the first 16 hex digits (64 bits) of its
/// SHA-256, which identify it without revealing it.
pub fn key_id(api_key: &str) -> String {
    let mut hash = key_hash(api_key);
    hash.truncate(16);
    hash
}

/// The name of the KV entry that holds the caller key's principal record.
pub fn kv_entry(api_key: &str) -> String {
    format!("{KV_PREFIX}{}", key_hash(api_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_entry_is_the_prefixed_sha256_hex() {
        // sha256("abc"), from FIPS 180-2.
        assert_eq!(
            kv_entry("abc"),
            "key:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! Authentication: the caller's key (OpenAI's `Authorization: Bearer`, Anthropic's
//! `x-api-key`) is hashed and looked up in KV, where it maps to a principal.

use worker::{Headers, KvStore};

use crate::engine::keys;
use crate::engine::Principal;

use super::reply::{ErrorKind, Failure};

/// KV may serve a key record from its edge cache for this long (Cloudflare's minimum):
/// a revoked key stops working within a minute.
const KEY_CACHE_TTL_SECONDS: u64 = 60;

/// The key the caller presented, if any.
pub fn presented_key(headers: &Headers) -> Option<String> {
    let bearer = headers
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    bearer
        .or_else(|| headers.get("x-api-key").ok().flatten())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
}

pub async fn authenticate(headers: &Headers, kv: &KvStore) -> Result<Principal, Failure> {
    let key = presented_key(headers).ok_or_else(|| {
        Failure::new(
            ErrorKind::Authentication,
            "missing_api_key",
            "no api key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        )
    })?;
    let record = kv
        .get(&keys::kv_key(&key))
        .cache_ttl(KEY_CACHE_TTL_SECONDS)
        .text()
        .await
        .map_err(|_| {
            Failure::new(
                ErrorKind::Unavailable,
                "key_store_unavailable",
                "the key store could not be read; try again",
            )
        })?;
    let unknown = || {
        Failure::new(
            ErrorKind::Authentication,
            "invalid_api_key",
            "invalid api key",
        )
    };
    let record = record.ok_or_else(unknown)?;
    // A malformed record is an operator error; the caller only learns the key is unusable.
    Principal::from_json(&record).map_err(|_| unknown())
}

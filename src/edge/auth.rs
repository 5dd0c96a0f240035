//! Authentication: the caller's key (OpenAI's `Authorization: Bearer`, Anthropic's
//! `x-api-key`) is hashed and looked up in KV, where it maps to a principal.
//!
//! Known keys are also remembered per isolate for [`ISOLATE_CACHE_MS`], so a busy isolate
//! does not call KV on every request: a revoked key stops working within KV's edge-cache
//! TTL plus that (90 s at most).

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Headers, KvStore};

use gateway_engine::caller_key;
use gateway_policy::Principal;

use super::reply::{ErrorKind, Failure};

/// KV may serve a key record from its edge cache for this long (Cloudflare's minimum):
/// a revoked key stops working within a minute.
const KEY_CACHE_TTL_SECONDS: u64 = 60;

/// How long an isolate trusts a key record it read from KV.
const ISOLATE_CACHE_MS: f64 = 30_000.0;
/// Bounds the isolate's memory: the cache starts over when it holds this many callers.
const ISOLATE_CACHE_MAX_CALLERS: usize = 4096;

thread_local! {
    /// KV entry name (from the SHA-256 of the caller's key, never the key) → principal and
    /// expiry.
    static KNOWN_CALLERS: RefCell<HashMap<String, (Principal, f64)>> =
        RefCell::new(HashMap::new());
}

fn cached(entry: &str, now_ms: f64) -> Option<Principal> {
    KNOWN_CALLERS.with(|callers| {
        let callers = callers.borrow();
        let (principal, expires) = callers.get(entry)?;
        (now_ms < *expires).then(|| principal.clone())
    })
}

fn remember(entry: String, principal: &Principal, now_ms: f64) {
    KNOWN_CALLERS.with(|callers| {
        let mut callers = callers.borrow_mut();
        if callers.len() >= ISOLATE_CACHE_MAX_CALLERS {
            callers.clear();
        }
        callers.insert(entry, (principal.clone(), now_ms + ISOLATE_CACHE_MS));
    });
}

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

/// An authenticated caller: who the key stands for, and the key's id (`caller_key::key_id`).
pub struct Caller {
    pub principal: Principal,
    pub key_id: String,
}

pub async fn authenticate(headers: &Headers, kv: &KvStore) -> Result<Caller, Failure> {
    let key = presented_key(headers).ok_or_else(|| {
        Failure::new(
            ErrorKind::Authentication,
            "missing_api_key",
            "no api key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        )
    })?;
    let entry = caller_key::kv_entry(&key);
    let key_id = caller_key::key_id(&key);
    let now_ms = js_sys::Date::now();
    if let Some(principal) = cached(&entry, now_ms) {
        return Ok(Caller { principal, key_id });
    }
    let record = kv
        .get(&entry)
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
    let principal = Principal::from_json(&record).map_err(|_| unknown())?;
    remember(entry, &principal, now_ms);
    Ok(Caller { principal, key_id })
}

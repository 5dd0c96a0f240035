//! The policy bundle this isolate decides with, and its refresh from KV.
//!
//! The embedded bundle is loaded on an isolate's first request and is the floor. Requests
//! never wait on KV: each borrows the active bundle through an `Rc` (so a swap never
//! changes the bundle under a request in flight), and at most every refresh interval a
//! request starts a background check (`ctx.wait_until`) that reads KV, verifies the
//! bundle there (size, signature, hash, schema validation, anti-rollback) and swaps it in
//! only when all of that passes. Otherwise the last good bundle stays and the status
//! endpoint says why. No request ever awaits a refresh another request started.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use worker::{Context, Env, KvStore};

use crate::embedded;
use gateway_policy::signed::{kv_entry, SignedBundle, Trust, TrustedKeys, VerifiedBundle};
use gateway_policy::PolicyBundle;

use super::config::{Config, KV_BINDING};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Embedded,
    Kv,
}

pub struct ActivePolicy {
    pub bundle: PolicyBundle,
    pub version: u64,
    pub source: Source,
    pub created_at: String,
    pub signed_by: Option<String>,
    /// ISO 8601 time the bundle was loaded into this isolate.
    pub loaded_at: String,
    /// Whether an operator pin chose this bundle.
    pub pinned: bool,
}

/// What the last background check did, for the status endpoint.
#[derive(Default)]
struct RefreshState {
    started_ms: Option<f64>,
    in_flight: bool,
    attempted_at: Option<String>,
    outcome: Option<&'static str>,
    error: Option<String>,
    /// Digest of the last bundle refused, so the same bytes are not re-verified (and
    /// re-logged) every interval.
    rejected_digest: Option<[u8; 32]>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<ActivePolicy>>> = const { RefCell::new(None) };
    static REFRESH: RefCell<RefreshState> = RefCell::new(RefreshState::default());
    static TRUSTED: RefCell<Option<Rc<Result<TrustedKeys, String>>>> = const { RefCell::new(None) };
}

/// A refresh that has not reported back after this long is presumed dropped.
const STALE_REFRESH_MS: f64 = 30_000.0;

/// The active policy, loading the embedded bundle on an isolate's first use.
pub fn active() -> Result<Rc<ActivePolicy>, String> {
    if let Some(active) = ACTIVE.with(|slot| slot.borrow().clone()) {
        return Ok(active);
    }
    let verified = embedded::bundle()
        .verify_and_load(Trust::BuiltIn)
        .map_err(|e| e.to_string())?;
    let active = Rc::new(activate(verified, Source::Embedded, false));
    ACTIVE.with(|slot| *slot.borrow_mut() = Some(Rc::clone(&active)));
    Ok(active)
}

fn activate(verified: VerifiedBundle, source: Source, pinned: bool) -> ActivePolicy {
    ActivePolicy {
        bundle: verified.policy,
        version: verified.version,
        source,
        created_at: verified.created_at,
        signed_by: verified.signed_by,
        loaded_at: now_iso(),
        pinned,
    }
}

fn trusted_keys() -> Rc<Result<TrustedKeys, String>> {
    TRUSTED.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| Rc::new(embedded::trusted_keys().map_err(|e| e.to_string())))
            .clone()
    })
}

/// Starts a background check of KV when one is due. Returns at once.
pub fn maybe_refresh(env: &Env, ctx: &Context, config: &Config) {
    let now = js_sys::Date::now();
    let due = REFRESH.with(|state| {
        let mut state = state.borrow_mut();
        let since = state.started_ms.map(|started| now - started);
        let due = match since {
            None => true,
            Some(elapsed) if state.in_flight => elapsed >= STALE_REFRESH_MS,
            Some(elapsed) => elapsed >= config.policy_refresh_ms,
        };
        if due {
            state.started_ms = Some(now);
            state.in_flight = true;
        }
        due
    });
    if !due {
        return;
    }
    let Ok(kv) = env.kv(KV_BINDING) else {
        finish("error", Some("the policy store is not bound".to_owned()));
        return;
    };
    let max_bytes = config.max_bundle_bytes;
    ctx.wait_until(async move {
        let (outcome, error) = match refresh(&kv, max_bytes).await {
            Ok(outcome) => (outcome, None),
            Err(Refusal::Unreachable(error)) => ("unreachable", Some(error)),
            Err(Refusal::Rejected(error)) => ("rejected", Some(error)),
        };
        finish(outcome, error);
    });
}

fn finish(outcome: &'static str, error: Option<String>) {
    REFRESH.with(|state| {
        let mut state = state.borrow_mut();
        state.in_flight = false;
        state.attempted_at = Some(now_iso());
        state.outcome = Some(outcome);
        state.error = error;
    });
}

enum Refusal {
    /// KV could not be read: keep serving, try again next interval.
    Unreachable(String),
    /// What KV holds is not acceptable: keep the last good bundle.
    Rejected(String),
}

/// One check: read the pin and the bundle it selects, verify, and swap if newer.
async fn refresh(kv: &KvStore, max_bytes: usize) -> Result<&'static str, Refusal> {
    let unreachable = |e: worker::KvError| Refusal::Unreachable(format!("kv read failed: {e}"));
    let pin = kv.get(kv_entry::PIN).text().await.map_err(unreachable)?;
    let pin = match pin.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            reject_event(
                None,
                "bad_pin",
                &format!("pin `{text}` is not a version number"),
            )
        })?),
    };

    let current = active().map_err(Refusal::Unreachable)?;
    if pin == Some(embedded::VERSION) {
        // Pinning version 0 rolls back to the embedded set.
        if current.source == Source::Embedded {
            return Ok("unchanged");
        }
        let verified = embedded::bundle()
            .verify_and_load(Trust::BuiltIn)
            .map_err(|e| Refusal::Rejected(e.to_string()))?;
        swap(activate(verified, Source::Embedded, true), &current);
        return Ok("swapped");
    }

    let key = pin.map_or_else(|| kv_entry::LATEST.to_owned(), kv_entry::version);
    let Some(bytes) = kv.get(&key).bytes().await.map_err(unreachable)? else {
        return match pin {
            Some(version) => Err(reject_event(
                None,
                "pin_not_found",
                &format!("pinned version {version} is not in kv (`{key}`)"),
            )),
            // Nothing published: the active bundle (at least the embedded one) stays.
            None => Ok("empty"),
        };
    };

    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    if let Some(error) = REFRESH.with(|state| {
        let state = state.borrow();
        (state.rejected_digest == Some(digest)).then(|| state.error.clone())
    }) {
        return Err(Refusal::Rejected(error.unwrap_or_default()));
    }
    let rejected = |kind: &'static str, message: String| {
        REFRESH.with(|state| state.borrow_mut().rejected_digest = Some(digest));
        reject_event(Some(&key), kind, &message)
    };

    let signed =
        SignedBundle::parse(&bytes, max_bytes).map_err(|e| rejected(e.kind(), e.to_string()))?;
    if signed.version == current.version && signed.content_hash == current.bundle.content_hash() {
        return Ok("unchanged");
    }
    if let Some(version) = pin {
        if signed.version != version {
            return Err(rejected(
                "pin_mismatch",
                format!(
                    "`{key}` holds version {}, not the pinned {version}",
                    signed.version
                ),
            ));
        }
    } else if signed.version <= current.version {
        return Err(rejected(
            "rollback",
            format!(
                "version {} is not newer than the active version {} (pin a version to roll back)",
                signed.version, current.version
            ),
        ));
    }

    let keys = trusted_keys();
    let keys = keys
        .as_ref()
        .as_ref()
        .map_err(|e| rejected("no_trusted_keys", format!("trusted keys unusable: {e}")))?;
    let verified = signed
        .verify_and_load(Trust::SignedBy(keys))
        .map_err(|e| rejected(e.kind(), e.to_string()))?;
    swap(activate(verified, Source::Kv, pin.is_some()), &current);
    REFRESH.with(|state| state.borrow_mut().rejected_digest = None);
    Ok("swapped")
}

fn swap(next: ActivePolicy, previous: &ActivePolicy) {
    let line = json!({
        "event": "policy_swap",
        "ts": now_iso(),
        "from": { "version": previous.version, "policy_version": previous.bundle.version(), "source": previous.source },
        "to": {
            "version": next.version,
            "policy_version": next.bundle.version(),
            "source": next.source,
            "signed_by": next.signed_by,
            "pinned": next.pinned,
        },
    });
    worker::console_log!("{line}");
    ACTIVE.with(|slot| *slot.borrow_mut() = Some(Rc::new(next)));
}

fn reject_event(key: Option<&str>, kind: &'static str, message: &str) -> Refusal {
    let line = json!({
        "event": "policy_rejected",
        "ts": now_iso(),
        "key": key,
        "reason": kind,
        "error": message,
    });
    worker::console_log!("{line}");
    Refusal::Rejected(format!("{kind}: {message}"))
}

/// The refresh half of the status endpoint.
pub fn refresh_status(config: &Config) -> serde_json::Value {
    let keys = trusted_keys();
    let (trusted, keys_error) = match keys.as_ref() {
        Ok(keys) => (keys.ids().map(str::to_owned).collect::<Vec<_>>(), None),
        Err(error) => (Vec::new(), Some(error.clone())),
    };
    REFRESH.with(|state| {
        let state = state.borrow();
        json!({
            "interval_seconds": config.policy_refresh_ms / 1000.0,
            "in_flight": state.in_flight,
            "last_attempt_at": state.attempted_at,
            "last_outcome": state.outcome,
            "last_error": state.error,
            "trusted_keys": trusted,
            "trusted_keys_error": keys_error,
            "trusted_keys_file": embedded::TRUSTED_KEYS_FILE,
        })
    })
}

pub fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

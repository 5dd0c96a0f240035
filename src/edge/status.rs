//! `GET /healthz` (unauthenticated liveness) and `GET /v1/policy/status` (admin keys
//! only): which policy version is active, where it came from, when it was loaded, and the
//! isolate's wasm memory size.

use serde_json::json;
use worker::{Context, Env, Request, Response};

use super::config::{Config, KV_BINDING};
use super::reply::{json_response, ErrorKind, Failure};
use super::{auth, policy_state};

pub fn health() -> Response {
    json_response(200, &json!({ "status": "ok" }))
}

pub async fn policy_status(request: &Request, env: &Env, ctx: &Context) -> Response {
    let config = Config::of_isolate(env);
    policy_state::maybe_refresh(env, ctx, &config);
    match status_body(request, env, &config).await {
        Ok(body) => json_response(200, &body),
        Err(failure) => super::refused(request, "/v1/policy/status", failure),
    }
}

async fn status_body(
    request: &Request,
    env: &Env,
    config: &Config,
) -> Result<serde_json::Value, Failure> {
    let kv = env.kv(KV_BINDING).map_err(|_| {
        Failure::new(
            ErrorKind::Internal,
            "internal_error",
            "the key store is not bound",
        )
    })?;
    let principal = auth::authenticate(request.headers(), &kv).await?.principal;
    if !principal.is_admin() {
        return Err(Failure::new(
            ErrorKind::Permission,
            "admin_required",
            "the policy status needs a key with the `admin` role",
        ));
    }
    let (policy, load_error) = match policy_state::active() {
        Ok(active) => (
            json!({
                "version": active.version,
                "policy_version": active.bundle.version(),
                "content_hash": active.bundle.content_hash(),
                "source": active.source,
                "created_at": active.created_at,
                "signed_by": active.signed_by,
                "pinned": active.pinned,
                "loaded_at": active.loaded_at,
                "policy_count": active.bundle.policy_count(),
                "models": active.bundle.catalog().models.keys().collect::<Vec<_>>(),
            }),
            None,
        ),
        Err(error) => (serde_json::Value::Null, Some(error)),
    };
    Ok(json!({
        "policy": policy,
        "load_error": load_error,
        "refresh": policy_state::refresh_status(config),
        "isolate": { "wasm_memory_bytes": wasm_memory_bytes() },
    }))
}

/// The size of this isolate's wasm linear memory (it only grows: a leak shows here).
fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| {
            memory
                .buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map_or(0.0, |buffer| f64::from(buffer.byte_length()))
        })
        .unwrap_or(0.0)
}

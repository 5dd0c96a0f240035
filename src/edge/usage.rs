//! `GET /v1/usage`: a caller's own budgets and rate limits (spend, requests and tokens
//! used in each limit's current window, the caps, and when each window resets). An admin
//! key may name any scope member: `?scope=team&member=research`.

use serde_json::json;
use worker::{Env, Request, Response};

use gateway_policy::limits::{Scope, ScopeMembers};

use super::config::{Config, KV_BINDING};
use super::reply::{json_response, ErrorKind, Failure};
use super::{auth, metering, policy_state};

pub async fn usage(request: &Request, env: &Env) -> Response {
    match usage_body(request, env).await {
        Ok(body) => json_response(200, &body),
        Err(failure) => super::refused(request, "/v1/usage", failure),
    }
}

async fn usage_body(request: &Request, env: &Env) -> Result<serde_json::Value, Failure> {
    let config = Config::of_isolate(env);
    let kv = env
        .kv(KV_BINDING)
        .map_err(|_| internal("the key store is not bound"))?;
    let caller = auth::authenticate(request.headers(), &kv).await?;
    let policy = policy_state::active().map_err(|_| internal("the policy set failed to load"))?;
    let mut scope = None;
    let mut member = None;
    for (name, value) in query_pairs(&request.inner().url())? {
        match name.as_str() {
            "scope" => {
                scope = Some(
                    Scope::ALL
                        .into_iter()
                        .find(|s| s.id() == value)
                        .ok_or_else(|| bad_query("`scope` is one of org, team, user, key"))?,
                );
            }
            "member" => member = Some(value),
            _ => return Err(bad_query("the query takes `scope` and `member` only")),
        }
    }
    let scopes = match (scope, member) {
        (None, None) => {
            let members = ScopeMembers::of(&caller.principal, &caller.key_id);
            metering::read_usage(env, &config, policy.bundle.limits(), &members, None).await?
        }
        (Some(scope), Some(member)) => {
            if !caller.principal.is_admin() {
                return Err(Failure::new(
                    ErrorKind::Permission,
                    "admin_required",
                    "another scope's usage needs a key with the `admin` role",
                ));
            }
            let members = ScopeMembers {
                org: &member,
                team: &member,
                user: &member,
                key: &member,
            };
            metering::read_usage(env, &config, policy.bundle.limits(), &members, Some(scope))
                .await?
        }
        _ => return Err(bad_query("give both `scope` and `member`, or neither")),
    };
    Ok(json!({
        "object": "usage",
        "policy_version": policy.bundle.version(),
        "scopes": scopes,
    }))
}

/// The decoded `name=value` pairs of a URL's query. Decoding is JavaScript's own
/// (`decodeURIComponent`): Rust's URL parser would bring its Unicode host tables into the
/// wasm for one query string.
fn query_pairs(url: &str) -> Result<Vec<(String, String)>, Failure> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let decode = |text: &str| {
        js_sys::decode_uri_component(&text.replace('+', " "))
            .ok()
            .and_then(|decoded| decoded.as_string())
            .ok_or_else(|| bad_query("the query is not valid percent-encoding"))
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn bad_query(message: &str) -> Failure {
    Failure::new(ErrorKind::InvalidRequest, "invalid_query", message)
}

fn internal(message: &str) -> Failure {
    Failure::new(ErrorKind::Internal, "internal_error", message)
}

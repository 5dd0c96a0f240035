//! The life of one LLM request, top to bottom:
//! authenticate → read and normalise → route → reserve → decide → forward → relay and
//! settle → log.
//!
//! Each phase either continues or answers now with a `Failure`, rendered in the caller's
//! provider format. Nothing here panics; every path ends in a response and a log line.

use worker::{Context, Env, Request, Response};

use gateway_engine::budget;
use gateway_engine::decision::random_decision_id;
use gateway_engine::guard::OutputGuard;
use gateway_engine::{CallError, Decide, Endpoint, LlmCall, RequestFacts, RouteError};
use gateway_policy::catalog::Provider;
use gateway_policy::limits::ScopeMembers;

use super::config::{Config, Upstream, KV_BINDING};
use super::guarded::{Answer, Settlement};
use super::log::{self, DecisionLog};
use super::metering::{self, Charge, Metered};
use super::reply::{set_policy_headers, with_decision_headers, ErrorKind, Failure};
use super::{auth, body, guarded, policy_state, upstream};

pub async fn handle(
    mut request: Request,
    env: &Env,
    ctx: &Context,
    endpoint: Endpoint,
) -> Response {
    let started = js_sys::Date::now();
    let mut log = DecisionLog::new(endpoint, policy_state::now_iso());
    let config = Config::of_isolate(env);
    // Never awaited here: a due check of KV for newer policies runs in the background.
    policy_state::maybe_refresh(env, ctx, &config);
    let response = match life(&mut request, env, ctx, &config, endpoint, &mut log).await {
        Ok(response) => response,
        Err(failure) => {
            log.failure(&failure);
            let mut response = failure.into_response(endpoint.wire_format());
            // A failure after the decision (upstream down, say) still names it.
            if let Some((verdict, id, version)) = log.decided() {
                set_policy_headers(response.headers_mut(), verdict, id, version);
            }
            response
        }
    };
    log.emit(response.status_code(), js_sys::Date::now() - started);
    response
}

async fn life(
    request: &mut Request,
    env: &Env,
    ctx: &Context,
    config: &Config,
    endpoint: Endpoint,
    log: &mut DecisionLog,
) -> Result<Response, Failure> {
    // Authenticate: the key maps to a principal, or the call ends here.
    let kv = env
        .kv(KV_BINDING)
        .map_err(|_| internal("the key store is not bound"))?;
    let caller = auth::authenticate(request.headers(), &kv).await?;
    let principal = &caller.principal;
    log.principal(principal);

    // Read and normalise the body into one typed call.
    body::require_json(request)?;
    let bytes = body::read_limited(request, config.max_body_bytes).await?;
    let mut call = LlmCall::parse(endpoint, &bytes).map_err(call_failure)?;
    drop(bytes);
    if endpoint.wire_format() == Provider::Anthropic {
        // Beta features change what the model may do: policy decides on them, and only
        // they are forwarded.
        upstream::anthropic_version(request.headers())?;
        let beta = request.headers().get("anthropic-beta").ok().flatten();
        call.set_beta_features(beta.as_deref())
            .map_err(call_failure)?;
    }

    // Route to a catalog model, then decide with the active policy bundle. Only a
    // catalog id is logged: the caller's model string is free text.
    let policy = policy_state::active().map_err(|_| internal("the policy set failed to load"))?;
    let route = policy.bundle.route(&call).map_err(|error| {
        log.call(&log::model_not_in_catalog(&call.model), call.stream);
        route_failure(error)
    })?;
    log.call(route.model_id, call.stream);
    let decision_id =
        random_decision_id().map_err(|_| internal("no randomness for a decision id"))?;

    // Reserve the call's worst case in every budget it counts against, all or none; the
    // decision then sees each scope's state. The decision id names the holds.
    let members = ScopeMembers::of(principal, &caller.key_id);
    let metered = metering::reserve(
        env,
        ctx,
        config,
        policy.bundle.limits(),
        &members,
        Charge {
            hold: &decision_id,
            worst: budget::worst_case(&call, route.model),
            prices: &route.model.usd_per_million_tokens,
        },
    )
    .await?;
    if let Some(metered) = &metered {
        log.budget_reserved(metered.reserved());
    }
    let facts = RequestFacts {
        country: request.cf().and_then(|cf| cf.country()),
        budgets: metered.as_ref().map(Metered::budgets).unwrap_or_default(),
    };
    let clock_us = || js_sys::Date::now() * 1000.0;
    let decision = policy
        .bundle
        .decide(decision_id, principal, &call, route, &facts, &clock_us);
    log.decision(&decision);
    if !decision.is_allowed() {
        if let Some(metered) = metered {
            metered.release(ctx, config);
        }
        return Err(Failure::denied(decision));
    }

    // Apply what the deciding permits require, then forward with the provider key only
    // the gateway holds, and relay the answer.
    log.input_redacted(call.apply_obligations(&decision.obligations));
    // A metered stream asks the provider for its usage, to settle at what it used.
    let caller_asked_usage = match metered {
        Some(_) => call.ask_for_stream_usage(),
        None => true,
    };
    let rate_headers = metered.as_ref().map(Metered::headers);
    let provider = route.model.provider;
    let forwarded = forward(request, env, config, &mut call, route.model, provider).await;
    let response = match forwarded {
        Ok(response) => response,
        Err(failure) => {
            // The provider generated nothing: the holds go.
            if let Some(metered) = metered {
                metered.release(ctx, config);
            }
            return Err(failure);
        }
    };
    let answer = Answer {
        provider,
        guard: OutputGuard::from_obligations(&decision.obligations),
        decision_id: &decision.id,
        settlement: metered.map(|metered| Settlement {
            metered,
            caller_asked_usage,
        }),
    };
    let response = guarded::check_answer(response, answer, log, ctx, config).await?;
    let response = with_decision_headers(response, &decision);
    if let Some(rate_headers) = rate_headers {
        set_rate_headers(&response, &rate_headers);
    }
    Ok(response)
}

/// Sends the call upstream with the provider key only the gateway holds.
async fn forward(
    request: &Request,
    env: &Env,
    config: &Config,
    call: &mut LlmCall,
    model: &gateway_policy::catalog::ModelInfo,
    provider: Provider,
) -> Result<Response, Failure> {
    let upstream_config = Upstream::of_isolate(env, provider).ok_or_else(|| {
        internal(format!(
            "the gateway has no upstream configured for {}",
            provider.id()
        ))
    })?;
    let upstream_body = call
        .upstream_body(&model.upstream_model)
        .map_err(|e| internal(e.to_string()))?;
    let answer = upstream::forward(
        &upstream_config,
        provider,
        call,
        request.headers(),
        upstream_body,
        config.upstream_timeout_ms,
    )
    .await?;
    upstream::relay(answer, provider)
}

/// A metered call's rate-limit headers describe the caller's own budgets, in place of the
/// provider's (which describe the gateway's provider account).
fn set_rate_headers(response: &Response, rate_headers: &[(&'static str, String)]) {
    let headers = response.headers();
    let provider_limits: Vec<String> = headers
        .keys()
        .filter(|name| name.starts_with("x-ratelimit-"))
        .collect();
    for name in provider_limits {
        let _ = headers.delete(&name);
    }
    for (name, value) in rate_headers {
        let _ = headers.set(name, value);
    }
}

fn call_failure(error: CallError) -> Failure {
    let failure = Failure::new(ErrorKind::InvalidRequest, error.code(), error.to_string());
    match &error {
        CallError::Unsupported(field) => failure.with_caller_param(field),
        _ => failure.with_param(error.known_param()),
    }
}

fn route_failure(error: RouteError) -> Failure {
    match error {
        RouteError::UnknownModel(_) => {
            Failure::new(ErrorKind::NotFound, "model_not_found", error.to_string())
                .with_param(Some("model"))
        }
        RouteError::WrongEndpoint { .. } => Failure::new(
            ErrorKind::InvalidRequest,
            "wrong_endpoint",
            error.to_string(),
        )
        .with_param(Some("model")),
    }
}

fn internal(message: impl Into<String>) -> Failure {
    Failure::new(ErrorKind::Internal, "internal_error", message)
}

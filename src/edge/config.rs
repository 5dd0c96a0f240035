//! The worker's configuration: wrangler `[vars]` and secrets, with defaults for the
//! optional ones. Bindings are fixed for an isolate's life (a new deployment or secret
//! starts new isolates), so they are read once per isolate: each read crosses into
//! JavaScript, and a profile under load showed them costing more than the Cedar call.

use std::cell::OnceCell;

use worker::Env;

use gateway_policy::catalog::Provider;
use gateway_policy::signed::DEFAULT_MAX_BUNDLE_BYTES;

pub const KV_BINDING: &str = "POLICY_KV";
/// The Durable Object namespace of the budget objects (one per scope member).
pub const BUDGET_BINDING: &str = "BUDGETS";

const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 60_000;
const DEFAULT_POLICY_REFRESH_SECONDS: f64 = 30.0;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_BUDGET_TIMEOUT_MS: u64 = 2_000;
const DEFAULT_BUDGET_HOLD_SECONDS: u64 = 900;

/// What a call does when the budget store cannot answer (unreachable, failing, slow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetFailure {
    /// Refuse the call with a 503 (the default: a budget that cannot be checked holds).
    Closed,
    /// Let the call through unmetered, and log it.
    Open,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub max_body_bytes: usize,
    /// Time allowed for the provider's response headers; a stream may then run longer.
    pub upstream_timeout_ms: u64,
    /// Longest wait for the next chunk of an answer's body; a provider that stalls longer
    /// has its answer ended with an error.
    pub stream_idle_timeout_ms: u64,
    /// How often an isolate checks KV for a newer policy bundle.
    pub policy_refresh_ms: f64,
    /// Largest policy bundle accepted from KV.
    pub max_bundle_bytes: usize,
    pub budget_failure: BudgetFailure,
    /// Longest wait for a budget object's answer.
    pub budget_timeout_ms: u64,
    /// How long a call's hold lasts unsettled before its budget object charges it in full.
    pub budget_hold_ms: u64,
    /// Whether this isolate may lease slices of hot limits (`gateway_engine::budget::lease`);
    /// without leases every call reserves in its objects.
    pub budget_leases: bool,
}

thread_local! {
    static CONFIG: OnceCell<Config> = const { OnceCell::new() };
    static UPSTREAMS: OnceCell<Vec<(Provider, Upstream)>> = const { OnceCell::new() };
}

impl Config {
    /// The isolate's configuration, read from `env` on first use.
    pub fn of_isolate(env: &Env) -> Self {
        CONFIG.with(|config| config.get_or_init(|| Self::from_env(env)).clone())
    }

    fn from_env(env: &Env) -> Self {
        Self {
            max_body_bytes: var(env, "MAX_BODY_BYTES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            upstream_timeout_ms: var(env, "UPSTREAM_TIMEOUT_MS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_UPSTREAM_TIMEOUT_MS),
            stream_idle_timeout_ms: var(env, "STREAM_IDLE_TIMEOUT_MS")
                .and_then(|v| v.parse().ok())
                .filter(|ms| *ms > 0)
                .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
            policy_refresh_ms: var(env, "POLICY_REFRESH_SECONDS")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .unwrap_or(DEFAULT_POLICY_REFRESH_SECONDS)
                * 1000.0,
            max_bundle_bytes: var(env, "MAX_BUNDLE_BYTES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_MAX_BUNDLE_BYTES),
            // Anything but an explicit "open" fails closed.
            budget_failure: match var(env, "BUDGET_STORE_FAILURE").as_deref() {
                Some("open") => BudgetFailure::Open,
                _ => BudgetFailure::Closed,
            },
            budget_timeout_ms: var(env, "BUDGET_TIMEOUT_MS")
                .and_then(|v| v.parse().ok())
                .filter(|ms| *ms > 0)
                .unwrap_or(DEFAULT_BUDGET_TIMEOUT_MS),
            budget_hold_ms: var(env, "BUDGET_HOLD_SECONDS")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|s| *s > 0)
                .unwrap_or(DEFAULT_BUDGET_HOLD_SECONDS)
                .saturating_mul(1000),
            budget_leases: var(env, "BUDGET_LEASES").as_deref() != Some("off"),
        }
    }
}

/// Where a provider's API lives and the key the gateway (only) holds for it.
#[derive(Clone)]
pub struct Upstream {
    pub base_url: String,
    pub api_key: String,
    /// The provider account headers the gateway sends (OpenAI's `openai-organization`,
    /// `openai-project`): set by the deployment, never by a caller.
    pub account_headers: Vec<(&'static str, String)>,
}

impl Upstream {
    /// The isolate's upstream for `provider`, read from `env` on first use; `None` when
    /// its base URL var or key secret is missing.
    pub fn of_isolate(env: &Env, provider: Provider) -> Option<Self> {
        UPSTREAMS.with(|upstreams| {
            upstreams
                .get_or_init(|| {
                    Provider::ALL
                        .iter()
                        .filter_map(|&p| Some((p, Self::for_provider(env, p)?)))
                        .collect()
                })
                .iter()
                .find(|(p, _)| *p == provider)
                .map(|(_, upstream)| upstream.clone())
        })
    }

    /// `None` when the base URL var or the key secret is missing.
    fn for_provider(env: &Env, provider: Provider) -> Option<Self> {
        let (url_var, key_secret) = match provider {
            Provider::Openai => ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
            Provider::Anthropic => ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
        };
        let base_url = var(env, url_var)?.trim_end_matches('/').to_owned();
        let api_key = env.secret(key_secret).ok()?.to_string();
        let account_headers = match provider {
            Provider::Openai => [
                ("openai-organization", "OPENAI_ORGANIZATION"),
                ("openai-project", "OPENAI_PROJECT"),
            ]
            .into_iter()
            .filter_map(|(header, name)| Some((header, var(env, name).filter(|v| !v.is_empty())?)))
            .collect(),
            Provider::Anthropic => Vec::new(),
        };
        (!base_url.is_empty() && !api_key.is_empty()).then_some(Self {
            base_url,
            api_key,
            account_headers,
        })
    }
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

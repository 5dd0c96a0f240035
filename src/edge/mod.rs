//! The Cloudflare Worker: routes HTTP to the engine. Only this module imports `worker`.

mod auth;
mod body;
mod budget_object;
mod config;
mod guarded;
mod log;
mod metering;
mod pipeline;
mod policy_state;
mod reply;
mod status;
mod upstream;
mod usage;

use worker::{event, Context, Env, Method, Request, Response, Result};

use gateway_engine::Endpoint;
use gateway_policy::catalog::Provider;
use reply::{ErrorKind, Failure};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = request.path();
    let method = request.method();
    let response = match (Endpoint::from_path(&path), path.as_str()) {
        (Some(endpoint), _) if method == Method::Post => {
            pipeline::handle(request, &env, &ctx, endpoint).await
        }
        (Some(endpoint), _) => refused(&request, endpoint.path(), method_not_allowed("POST")),
        (None, "/healthz") if method == Method::Get => status::health(),
        (None, "/v1/policy/status") if method == Method::Get => {
            status::policy_status(&request, &env, &ctx).await
        }
        (None, "/v1/usage") if method == Method::Get => usage::usage(&request, &env).await,
        (None, _) => match GET_ROUTES.into_iter().find(|route| *route == path) {
            Some(route) => refused(&request, route, method_not_allowed("GET")),
            None => {
                let failure = Failure::new(
                    ErrorKind::NotFound,
                    "route_not_found",
                    format!("no route for `{path}`"),
                );
                refused(&request, "unknown", failure)
            }
        },
    };
    Ok(response)
}

/// The routes answered for `GET` only.
const GET_ROUTES: [&str; 3] = ["/healthz", "/v1/policy/status", "/v1/usage"];

/// A request refused outside the LLM endpoints' pipeline (an unknown route, a wrong
/// method, a refused status or usage read): answered in the format its path or headers
/// speak (an Anthropic SDK gets an Anthropic error), with its decision line.
fn refused(request: &Request, route: &'static str, failure: Failure) -> Response {
    let started = js_sys::Date::now();
    let mut line = log::DecisionLog::unrouted(route, policy_state::now_iso());
    line.failure(&failure);
    let response = failure.into_response(wire_format_of(request));
    line.emit(response.status_code(), js_sys::Date::now() - started);
    response
}

/// Whose wire format a request speaks: Anthropic's on its paths (`/v1/messages…`,
/// `/v1/complete`) or when it carries Anthropic's headers; OpenAI's otherwise.
fn wire_format_of(request: &Request) -> Provider {
    let path = request.path();
    let headers = request.headers();
    let has = |name: &str| headers.has(name).unwrap_or(false);
    let anthropic = path.starts_with("/v1/messages")
        || path == "/v1/complete"
        || has("anthropic-version")
        || (has("x-api-key") && !has("authorization"));
    if anthropic {
        Provider::Anthropic
    } else {
        Provider::Openai
    }
}

fn method_not_allowed(allowed: &'static str) -> Failure {
    Failure::new(
        ErrorKind::MethodNotAllowed,
        "method_not_allowed",
        format!("this route accepts `{allowed}` only"),
    )
    .with_headers(vec![("allow", allowed.to_owned())])
}

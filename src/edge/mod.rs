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
        (Some(endpoint), _) => method_not_allowed("POST", endpoint.wire_format()),
        (None, "/healthz") if method == Method::Get => status::health(),
        (None, "/v1/policy/status") if method == Method::Get => {
            status::policy_status(&request, &env, &ctx).await
        }
        (None, "/v1/usage") if method == Method::Get => usage::usage(&request, &env).await,
        (None, "/healthz" | "/v1/policy/status" | "/v1/usage") => {
            method_not_allowed("GET", Provider::Openai)
        }
        (None, _) => Failure::new(
            ErrorKind::NotFound,
            "route_not_found",
            format!("no route for `{path}`"),
        )
        .into_response(Provider::Openai),
    };
    Ok(response)
}

fn method_not_allowed(allowed: &str, format: Provider) -> Response {
    let mut response = Failure::new(
        ErrorKind::MethodNotAllowed,
        "method_not_allowed",
        format!("this route accepts `{allowed}` only"),
    )
    .into_response(format);
    let _ = response.headers_mut().set("allow", allowed);
    response
}

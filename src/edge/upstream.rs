//! Forwarding an allowed call to its provider, and passing the answer back.
//!
//! The provider key replaces the caller's; hop-by-hop and credential headers stay
//! behind. The answer's body is handed back as the same `ReadableStream`, so SSE chunks
//! reach the caller as the provider sends them and nothing is buffered.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::pin_mut;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody,
    ResponseBuilder,
};

use crate::engine::catalog::Provider;
use crate::engine::Endpoint;

use super::config::Upstream;
use super::reply::{ErrorKind, Failure};

/// Anthropic's API requires a version header; SDKs send one, curl users may not.
const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// Headers that describe one connection (RFC 9110 §7.6.1) or carry the caller's
/// credentials or the edge's own metadata: never forwarded in either direction.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn is_client_only(name: &str) -> bool {
    is_hop_by_hop(name)
        || matches!(
            name,
            "authorization" | "x-api-key" | "cookie" | "x-real-ip" | "true-client-ip"
        )
        || name.starts_with("cf-")
        || name.starts_with("x-forwarded-")
}

fn upstream_headers(client: &Headers, provider: Provider, api_key: &str) -> Headers {
    let headers = Headers::new();
    // Also drop any header the caller named in `Connection` (hop-by-hop by declaration).
    let declared: Vec<String> = client
        .get("connection")
        .ok()
        .flatten()
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    for (name, value) in client.entries() {
        if !is_client_only(&name) && !declared.contains(&name) {
            let _ = headers.append(&name, &value);
        }
    }
    let _ = headers.set("content-type", "application/json");
    match provider {
        Provider::Openai => {
            let _ = headers.set("authorization", &format!("Bearer {api_key}"));
        }
        Provider::Anthropic => {
            let _ = headers.set("x-api-key", api_key);
            if !headers.has("anthropic-version").unwrap_or(false) {
                let _ = headers.set("anthropic-version", DEFAULT_ANTHROPIC_VERSION);
            }
        }
    }
    headers
}

pub async fn forward(
    upstream: &Upstream,
    provider: Provider,
    endpoint: Endpoint,
    client_headers: &Headers,
    body: Vec<u8>,
    timeout_ms: u64,
) -> Result<Response, Failure> {
    let url = format!("{}{}", upstream.base_url, endpoint.upstream_path());
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(upstream_headers(
            client_headers,
            provider,
            &upstream.api_key,
        ))
        .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    let request = Request::new_with_init(&url, &init).map_err(|_| {
        Failure::new(
            ErrorKind::Internal,
            "upstream_misconfigured",
            format!("the {} base url is not valid", provider.id()),
        )
    })?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let send = fetch.send_with_signal(&signal);
    let deadline = Delay::from(Duration::from_millis(timeout_ms));
    pin_mut!(send, deadline);
    match select(send, deadline).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(_), _)) => Err(Failure::new(
            ErrorKind::Upstream,
            "upstream_unreachable",
            format!("{} could not be reached", provider.id()),
        )),
        Either::Right(_) => {
            controller.abort();
            Err(Failure::new(
                ErrorKind::Timeout,
                "upstream_timeout",
                format!("{} did not answer within {timeout_ms} ms", provider.id()),
            ))
        }
    }
}

/// The provider's answer as the caller's response: same status and body stream, minus
/// hop-by-hop headers. A rejection of the gateway's own provider key is not the caller's
/// fault, so it becomes a 502 rather than an SDK authentication error.
pub fn relay(upstream: Response, provider: Provider) -> Result<Response, Failure> {
    let status = upstream.status_code();
    if status == 401 || status == 403 {
        return Err(Failure::new(
            ErrorKind::Upstream,
            "upstream_auth_failed",
            format!("{} rejected the gateway's credentials", provider.id()),
        ));
    }
    let headers = Headers::new();
    for (name, value) in upstream.headers().entries() {
        if !is_hop_by_hop(&name) {
            let _ = headers.append(&name, &value);
        }
    }
    let (_, body) = upstream.into_parts();
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers);
    Ok(match body {
        ResponseBody::Stream(stream) => builder.stream(stream),
        ResponseBody::Body(bytes) => builder.fixed(bytes),
        ResponseBody::Empty => builder.empty(),
    })
}

//! Forwarding an allowed call to its provider, and passing the answer back.
//!
//! Headers cross by allowlist, both ways. To the provider go the gateway's own key and
//! account headers, the content type, and only these caller headers: `accept`,
//! `user-agent`, `idempotency-key` and, for Anthropic, a well-formed `anthropic-version`
//! and the `anthropic-beta` features policy decided on. To the caller go only the
//! provider's content type, request ids, processing time and rate-limit headers; never a
//! cookie, an account or organisation id, or the provider's own metadata.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::pin_mut;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody,
    ResponseBuilder,
};

use gateway_engine::{Endpoint, LlmCall};
use gateway_policy::catalog::Provider;

use super::config::Upstream;
use super::reply::{ErrorKind, Failure};

/// Anthropic's API requires a version header; SDKs send one, curl users may not.
const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// Caller headers forwarded to either provider as they are.
const FORWARDED_HEADERS: [&str; 3] = ["accept", "user-agent", "idempotency-key"];

/// Provider headers relayed to the caller.
fn is_relayed(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "x-request-id"
            | "request-id"
            | "openai-processing-ms"
            | "retry-after"
            | "retry-after-ms"
    ) || name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
}

/// Content encodings the runtime decodes as the body is read: an answer in any other
/// encoding cannot be read by the gateway (nor relayed without its header), so it is
/// refused.
fn is_decoded_encoding(encoding: &str) -> bool {
    encoding.split(',').map(str::trim).all(|e| {
        e.is_empty()
            || e.eq_ignore_ascii_case("identity")
            || e.eq_ignore_ascii_case("gzip")
            || e.eq_ignore_ascii_case("br")
    })
}

/// The caller's `anthropic-version` (a date, `2023-06-01`), or the default when absent.
pub fn anthropic_version(client: &Headers) -> Result<String, Failure> {
    let Some(version) = client.get("anthropic-version").ok().flatten() else {
        return Ok(DEFAULT_ANTHROPIC_VERSION.to_owned());
    };
    let version = version.trim();
    let well_formed = version.len() == 10
        && version.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if well_formed {
        Ok(version.to_owned())
    } else {
        Err(Failure::new(
            ErrorKind::InvalidRequest,
            "invalid_request",
            "`anthropic-version` must be a date such as `2023-06-01`",
        )
        .with_param(Some("anthropic-version")))
    }
}

fn upstream_headers(
    client: &Headers,
    call: &LlmCall,
    provider: Provider,
    upstream: &Upstream,
) -> Result<Headers, Failure> {
    let headers = Headers::new();
    for name in FORWARDED_HEADERS {
        if let Some(value) = client.get(name).ok().flatten() {
            let _ = headers.set(name, &value);
        }
    }
    let _ = headers.set("content-type", "application/json");
    match provider {
        Provider::Openai => {
            let _ = headers.set("authorization", &format!("Bearer {}", upstream.api_key));
        }
        Provider::Anthropic => {
            let _ = headers.set("x-api-key", &upstream.api_key);
            let _ = headers.set("anthropic-version", &anthropic_version(client)?);
            if !call.beta_features.is_empty() {
                let _ = headers.set("anthropic-beta", &call.beta_features.join(","));
            }
        }
    }
    for (name, value) in &upstream.account_headers {
        let _ = headers.set(name, value);
    }
    Ok(headers)
}

pub async fn forward(
    upstream: &Upstream,
    provider: Provider,
    call: &LlmCall,
    client_headers: &Headers,
    body: Vec<u8>,
    timeout_ms: u64,
) -> Result<Response, Failure> {
    let endpoint: Endpoint = call.endpoint;
    let url = format!("{}{}", upstream.base_url, endpoint.upstream_path());
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(upstream_headers(client_headers, call, provider, upstream)?)
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

/// The provider's answer as the caller's response: same status and body stream, with the
/// relayed headers only. A rejection of the gateway's own provider key is not the caller's
/// fault, so it becomes a 502 rather than an SDK authentication error; an answer in an
/// encoding the runtime does not decode is refused.
pub fn relay(upstream: Response, provider: Provider) -> Result<Response, Failure> {
    let status = upstream.status_code();
    if status == 401 || status == 403 {
        return Err(Failure::new(
            ErrorKind::Upstream,
            "upstream_auth_failed",
            format!("{} rejected the gateway's credentials", provider.id()),
        ));
    }
    let encoding = upstream
        .headers()
        .get("content-encoding")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !is_decoded_encoding(&encoding) {
        return Err(Failure::new(
            ErrorKind::Upstream,
            "upstream_unreadable",
            format!(
                "the answer from {} came in a content encoding the gateway cannot read",
                provider.id()
            ),
        ));
    }
    let headers = Headers::new();
    for (name, value) in upstream.headers().entries() {
        if is_relayed(&name) {
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

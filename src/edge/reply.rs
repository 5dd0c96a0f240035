//! Every answer the gateway writes itself: errors in the caller's provider format (so the
//! official SDKs raise their usual exceptions), status JSON, and the policy headers.

use serde_json::Value;
use worker::{Headers, Response, ResponseBuilder};

use gateway_engine::guard::provider_error;
use gateway_engine::Decision;
use gateway_policy::catalog::Provider;

pub const DECISION_HEADER: &str = "x-policy-decision";
pub const DECISION_ID_HEADER: &str = "x-policy-decision-id";
pub const VERSION_HEADER: &str = "x-policy-version";

/// What went wrong, in the vocabulary both providers share (Anthropic's error types;
/// OpenAI's SDK keys on the status alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    RateLimited,
    Upstream,
    Timeout,
    Internal,
    Unavailable,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::Permission => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::TooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::MethodNotAllowed => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::Permission => "permission_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::TooLarge => "request_too_large",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::Upstream | ErrorKind::Timeout | ErrorKind::Internal => "api_error",
            ErrorKind::Unavailable => "overloaded_error",
        }
    }
}

/// An error answer, before it is rendered in a provider's format.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ErrorKind,
    /// A stable machine-readable code (OpenAI's `code`), e.g. `policy_denied`.
    pub code: &'static str,
    /// Lowercase, user input in backticks, never internals.
    pub message: String,
    pub param: Option<String>,
    /// The field at fault as the decision line names it: the gateway's own field names as
    /// they are, a caller's (free text) only by a digest.
    pub logged_param: Option<String>,
    pub decision: Option<Box<Decision>>,
    /// Headers the answer carries (a rate limit's `retry-after`, say).
    pub headers: Vec<(&'static str, String)>,
}

impl Failure {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            param: None,
            logged_param: None,
            decision: None,
            headers: Vec::new(),
        }
    }

    /// The field at fault, one the gateway knows by name.
    pub fn with_param(mut self, param: Option<&'static str>) -> Self {
        self.param = param.map(str::to_owned);
        self.logged_param = self.param.clone();
        self
    }

    /// The field at fault, named by the caller: the answer names it, the log only by digest.
    pub fn with_caller_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self.logged_param = Some(super::log::digest_of("field", param));
        self
    }

    pub fn denied(decision: Decision) -> Self {
        let message = format!("request denied by policy: {}", decision.reason);
        Self {
            decision: Some(Box::new(decision)),
            ..Self::new(ErrorKind::Permission, "policy_denied", message)
        }
    }

    /// The body in the caller's provider format, with the decision inside when there is one.
    pub fn body(&self, format: Provider) -> Value {
        let mut body = provider_error(
            format,
            self.kind.type_name(),
            self.code,
            &self.message,
            self.param.as_deref(),
        );
        let decision = self
            .decision
            .as_deref()
            .map(|d| serde_json::to_value(d).unwrap_or(Value::Null));
        if let (Some(decision), Some(error)) = (decision, body.get_mut("error")) {
            if let Some(error) = error.as_object_mut() {
                error.insert("decision".to_owned(), decision);
            }
        }
        body
    }

    pub fn with_headers(mut self, headers: Vec<(&'static str, String)>) -> Self {
        self.headers = headers;
        self
    }

    pub fn into_response(self, format: Provider) -> Response {
        let response = json_response(self.kind.status(), &self.body(format));
        for (name, value) in &self.headers {
            let _ = response.headers().set(name, value);
        }
        match &self.decision {
            Some(decision) => with_decision_headers(response, decision),
            None => response,
        }
    }
}

pub fn json_response(status: u16, body: &Value) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.to_string().into_bytes())
}

pub fn set_policy_headers(headers: &Headers, verdict: &str, decision_id: &str, version: &str) {
    let _ = headers.set(DECISION_HEADER, verdict);
    let _ = headers.set(DECISION_ID_HEADER, decision_id);
    let _ = headers.set(VERSION_HEADER, version);
}

pub fn with_decision_headers(mut response: Response, decision: &Decision) -> Response {
    set_policy_headers(
        response.headers_mut(),
        decision.decision.as_str(),
        &decision.id,
        &decision.policy_version,
    );
    response
}

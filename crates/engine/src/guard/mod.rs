//! Post-flight: the provider's answer checked against the decision's output obligations
//! (`@obligation_redact_output`, `@obligation_block_output`) before the caller sees it.
//!
//! * [`body`]: a whole JSON answer — redacted in place, or refused.
//! * [`stream`]: an SSE answer, event by event as it arrives — text deltas pass through a
//!   [`window::Window`] per text stream, so a match split across chunks is still caught
//!   while nothing waits for the end of the answer; a blocked kind ends the stream with an
//!   error event in the provider's format.
//!
//! Every string of the answer is checked, wherever it sits (`engine::wire` says what each
//! is): text deltas through windows, everything else (citations, server-tool results,
//! titles, unknown event kinds) whole. An answer the guard cannot read (not the JSON or
//! SSE it expects, media, an event too large) is refused, never relayed. With a guard
//! active, log probabilities are dropped, since their tokens would spell out what was
//! redacted.

pub mod body;
pub mod sse;
pub mod stream;
pub mod window;

use serde::Serialize;
use serde_json::{json, Value};

use crate::detect::{Kind, KindCounts, KindSet};
use gateway_policy::catalog::Provider;
use gateway_policy::obligations::{self, Obligation};

/// What the answer is checked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputGuard {
    pub redact: KindSet,
    pub block: KindSet,
}

impl OutputGuard {
    pub fn from_obligations(obligations: &[Obligation]) -> Self {
        let (redact, block) = obligations::output_guard(obligations);
        OutputGuard { redact, block }
    }

    /// Whether the answer needs checking at all (otherwise it is relayed untouched).
    pub fn is_active(&self) -> bool {
        !self.redact.union(self.block).is_empty()
    }
}

/// What the guard did to one answer (for the log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuardReport {
    pub redacted: KindCounts,
    pub blocked: Option<Kind>,
}

/// The error code a blocked answer reports.
pub const BLOCKED_CODE: &str = "output_blocked";
/// The error code of an answer the guard could not read (and so did not relay).
pub const UNREADABLE_CODE: &str = "answer_unreadable";

/// Why a blocked answer was refused; names the kind, never the text.
pub fn blocked_message(kind: Kind) -> String {
    format!(
        "the answer contained {} and policy does not allow it to be returned",
        kind.name()
    )
}

/// An error object in the provider's own format: OpenAI's `{"error":{…}}`, Anthropic's
/// `{"type":"error","error":{…}}`. `type_name` is Anthropic's error type.
pub fn provider_error(
    provider: Provider,
    type_name: &str,
    code: &str,
    message: &str,
    param: Option<&str>,
) -> Value {
    match provider {
        Provider::Openai => json!({
            "error": { "message": message, "type": type_name, "param": param, "code": code }
        }),
        Provider::Anthropic => json!({
            "type": "error",
            "error": { "type": type_name, "message": message }
        }),
    }
}

/// An SSE error event in the provider's format (OpenAI: a `data:` line holding an error
/// object; Anthropic: an `error` event), which the SDKs raise as an exception.
pub fn error_event(provider: Provider, type_name: &str, code: &str, message: &str) -> Vec<u8> {
    let error = provider_error(provider, type_name, code, message, None);
    let name = match provider {
        Provider::Openai => None,
        Provider::Anthropic => Some("error"),
    };
    sse::Event::encode(name, &error.to_string())
}

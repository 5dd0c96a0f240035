//! Post-flight at the edge: the provider's answer passes through the decision's output
//! guard (`engine::guard`) before the caller sees it. Without output obligations, or for
//! an error answer, the response is relayed untouched.
//!
//! A streamed answer is transformed chunk by chunk as it arrives (nothing waits for the
//! end); its guard report is logged as one `output_guard` event when the stream ends. A
//! whole answer is read, checked and rewritten, or replaced by a provider-format error.

use futures_util::stream::{self, StreamExt};
use worker::{ByteStream, Response, ResponseBuilder};

use crate::engine::catalog::Provider;
use crate::engine::guard::body::{self, Checked};
use crate::engine::guard::stream::StreamGuard;
use crate::engine::guard::{blocked_message, OutputGuard, BLOCKED_CODE};

use super::log::{self, DecisionLog};
use super::reply::{ErrorKind, Failure};

pub async fn check_answer(
    mut answer: Response,
    provider: Provider,
    guard: OutputGuard,
    decision_id: &str,
    log: &mut DecisionLog,
) -> Result<Response, Failure> {
    let status = answer.status_code();
    if !guard.is_active() || !(200..300).contains(&status) {
        return Ok(answer);
    }
    let headers = answer.headers().clone();
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers.clone());
    let is_event_stream = headers
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("text/event-stream"));

    if is_event_stream {
        let upstream = answer.stream().map_err(|_| unreadable(provider))?;
        let guarded = guard_stream(upstream, StreamGuard::new(provider, guard), decision_id);
        log.output_streamed();
        return builder
            .from_stream(guarded)
            .map_err(|_| unreadable(provider));
    }

    let bytes = whole_body(answer).await.map_err(|_| unreadable(provider))?;
    let (checked, report) = body::check(&guard, provider, &bytes);
    log.output(&report);
    match checked {
        Checked::Unchanged => Ok(builder.fixed(bytes)),
        Checked::Rewritten(rewritten) => Ok(builder.fixed(rewritten)),
        Checked::Blocked => {
            let kind = report.blocked.map(blocked_message).unwrap_or_default();
            Err(Failure::new(ErrorKind::Permission, BLOCKED_CODE, kind))
        }
    }
}

/// The answer's body in one `arrayBuffer()` call: worker's `Response::bytes` reads it
/// chunk by chunk, each read and the reader's lock crossing into JavaScript.
async fn whole_body(answer: Response) -> Result<Vec<u8>, wasm_bindgen::JsValue> {
    let answer: web_sys::Response = answer.into();
    let buffer = wasm_bindgen_futures::JsFuture::from(answer.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The provider's byte stream through the guard. Once the guard ends the answer (a
/// blocked kind), the rest of the provider's stream is not read.
fn guard_stream(
    upstream: ByteStream,
    guard: StreamGuard,
    decision_id: &str,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, worker::Error>> {
    let decision_id = decision_id.to_owned();
    stream::unfold(Some((upstream, guard, decision_id)), |state| async move {
        let (mut upstream, mut guard, decision_id) = state?;
        let (out, done) = match upstream.next().await {
            Some(Ok(chunk)) => {
                let out = guard.push(&chunk);
                (out, guard.is_ended())
            }
            // The provider's stream broke or ended: send what is held (checked).
            Some(Err(_)) | None => (guard.finish(), true),
        };
        if done {
            log::output_guard_event(&decision_id, &guard.report());
            return Some((Ok(out), None));
        }
        Some((Ok(out), Some((upstream, guard, decision_id))))
    })
}

fn unreadable(provider: Provider) -> Failure {
    Failure::new(
        ErrorKind::Upstream,
        "upstream_unreadable",
        format!("the answer from {} could not be read", provider.id()),
    )
}

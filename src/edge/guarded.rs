//! Post-flight at the edge: the provider's answer on its way to the caller. Every
//! successful answer is read under an idle timeout (a provider that stalls mid-answer is
//! cut off with an error); with output obligations it also passes the decision's guard
//! (`engine::guard`), and an answer the guard cannot read is refused. Error answers are
//! relayed as they are.
//!
//! A streamed answer is transformed chunk by chunk as it arrives (nothing waits for the
//! end); its guard report is logged as one `output_guard` event when the stream ends. A
//! whole answer is read, checked and rewritten, or replaced by a provider-format error.
//!
//! A metered call is settled here: a whole answer at the usage it reports; a stream at
//! the usage its meter read when it ends, or, when the caller goes away first, at what
//! was relayed until then. An error answer releases the holds (nothing was generated).

use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};
use futures_util::{pin_mut, Future};
use worker::{ByteStream, Context, Delay, Response, ResponseBuilder};

use gateway_engine::budget::{self, StreamMeter, Usage};

use gateway_engine::guard::body::{self, Checked};
use gateway_engine::guard::stream::StreamGuard;
use gateway_engine::guard::{blocked_message, error_event, OutputGuard, BLOCKED_CODE};
use gateway_policy::catalog::Provider;

use super::config::Config;
use super::log::{self, DecisionLog};
use super::metering::Metered;
use super::reply::{ErrorKind, Failure};

/// A metered call's holds, to settle once the answer's usage is known.
pub struct Settlement {
    pub metered: Metered,
    /// Whether the caller asked for OpenAI's stream usage chunk (else it is taken out).
    pub caller_asked_usage: bool,
}

/// How an allowed call's answer is to be handled.
pub struct Answer<'a> {
    pub provider: Provider,
    pub guard: OutputGuard,
    pub decision_id: &'a str,
    /// The call's budget holds, when it is metered.
    pub settlement: Option<Settlement>,
}

pub async fn check_answer(
    mut answer: Response,
    how: Answer<'_>,
    log: &mut DecisionLog,
    ctx: &Context,
    config: &Config,
) -> Result<Response, Failure> {
    let Answer {
        provider,
        guard,
        decision_id,
        settlement,
    } = how;
    let idle_timeout_ms = config.stream_idle_timeout_ms;
    let status = answer.status_code();
    if !(200..300).contains(&status) {
        if let Some(settlement) = settlement {
            settlement.metered.release(ctx, config);
        }
        return Ok(answer);
    }
    let headers = answer.headers().clone();
    let content_type = headers
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers);

    if content_type.starts_with("text/event-stream") {
        let upstream = answer.stream().map_err(|_| unreadable(provider))?;
        let guard = guard.is_active().then(|| StreamGuard::new(provider, guard));
        if guard.is_some() {
            log.output_streamed();
        }
        let metering =
            settlement.map(|settlement| StreamMetering::start(ctx, config, provider, settlement));
        let relayed = relay_stream(
            upstream,
            guard,
            metering,
            provider,
            decision_id,
            idle_timeout_ms,
        );
        return builder
            .from_stream(relayed)
            .map_err(|_| unreadable(provider));
    }
    if guard.is_active() && !content_type.starts_with("application/json") {
        if let Some(settlement) = settlement {
            settlement.metered.settle_in_full(ctx, config);
        }
        return Err(unreadable(provider));
    }

    let bytes = within(idle_timeout_ms, whole_body(answer)).await;
    if let Some(settlement) = settlement {
        // The provider billed the call whatever happens to the answer from here.
        let usage = match &bytes {
            Some(Ok(bytes)) => budget::usage_of_answer(provider, bytes),
            _ => None,
        };
        match usage {
            Some(usage) => settlement.metered.settle(ctx, config, usage),
            None => settlement.metered.settle_in_full(ctx, config),
        }
    }
    let bytes = bytes
        .ok_or_else(|| stalled(provider, idle_timeout_ms))?
        .map_err(|_| unreadable(provider))?;
    if !guard.is_active() {
        return Ok(builder.fixed(bytes));
    }
    let (checked, report) = body::check(&guard, provider, &bytes);
    log.output(&report);
    match checked {
        Checked::Unchanged => Ok(builder.fixed(bytes)),
        Checked::Rewritten(rewritten) => Ok(builder.fixed(rewritten)),
        Checked::Blocked => {
            let kind = report.blocked.map(blocked_message).unwrap_or_default();
            Err(Failure::new(ErrorKind::Permission, BLOCKED_CODE, kind))
        }
        Checked::Unreadable => Err(unreadable(provider)),
    }
}

/// `future`'s output, or `None` if it takes longer than `ms`.
pub async fn within<T>(ms: u64, future: impl Future<Output = T>) -> Option<T> {
    let deadline = Delay::from(Duration::from_millis(ms));
    pin_mut!(future, deadline);
    match select(future, deadline).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// The answer's body in one `arrayBuffer()` call: worker's `Response::bytes` reads it
/// chunk by chunk, each read and the reader's lock crossing into JavaScript.
async fn whole_body(answer: Response) -> Result<Vec<u8>, wasm_bindgen::JsValue> {
    let answer: web_sys::Response = answer.into();
    let buffer = wasm_bindgen_futures::JsFuture::from(answer.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A metered stream: the meter reading its usage, and the way to hand that usage to the
/// settlement waiting in `waitUntil`. Dropping it (the stream ended, or the caller went
/// away and the runtime dropped the stream) hands over what the meter read.
struct StreamMetering {
    meter: StreamMeter,
    input_bound: u64,
    usage: Option<oneshot::Sender<Usage>>,
}

impl StreamMetering {
    fn start(ctx: &Context, config: &Config, provider: Provider, settlement: Settlement) -> Self {
        let (sender, receiver) = oneshot::channel::<Usage>();
        let metered = settlement.metered;
        let input_bound = metered.input_bound;
        let timeout_ms = config.budget_timeout_ms;
        ctx.wait_until(async move {
            match receiver.await {
                Ok(usage) => metered.settlement(timeout_ms, Some(usage)).await,
                // Never handed over: charge the whole reservation, never less.
                Err(_) => metered.settlement(timeout_ms, None).await,
            }
        });
        StreamMetering {
            meter: StreamMeter::new(provider, settlement.caller_asked_usage),
            input_bound,
            usage: Some(sender),
        }
    }
}

impl Drop for StreamMetering {
    fn drop(&mut self) {
        if let Some(sender) = self.usage.take() {
            let _ = sender.send(self.meter.usage(self.input_bound));
        }
    }
}

struct Relay {
    upstream: ByteStream,
    guard: Option<StreamGuard>,
    metering: Option<StreamMetering>,
    provider: Provider,
    decision_id: String,
    idle_timeout_ms: u64,
}

/// The provider's byte stream on its way to the caller, through the guard when there is
/// one. A chunk that does not arrive within the idle timeout ends the answer with the
/// provider's error event; once the guard ends the answer (a blocked kind), the rest of
/// the provider's stream is not read.
fn relay_stream(
    upstream: ByteStream,
    guard: Option<StreamGuard>,
    metering: Option<StreamMetering>,
    provider: Provider,
    decision_id: &str,
    idle_timeout_ms: u64,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, worker::Error>> {
    let relay = Relay {
        upstream,
        guard,
        metering,
        provider,
        decision_id: decision_id.to_owned(),
        idle_timeout_ms,
    };
    stream::unfold(Some(relay), |state| async move {
        let mut relay = state?;
        let next = within(relay.idle_timeout_ms, relay.upstream.next()).await;
        // The meter reads the provider's events first (and takes out a usage chunk the
        // caller did not ask for); the guard sees what the meter passes on.
        let next = match (next, relay.metering.as_mut()) {
            (Some(Some(Ok(chunk))), Some(metering)) => Some(Some(Ok(metering.meter.push(&chunk)))),
            (next, _) => next,
        };
        let tail = match (&next, relay.metering.as_mut()) {
            (Some(Some(Err(_)) | None), Some(metering)) => metering.meter.finish(),
            _ => Vec::new(),
        };
        let (out, done) = match (next, relay.guard.as_mut()) {
            (Some(Some(Ok(chunk))), Some(guard)) => {
                let out = guard.push(&chunk);
                (out, guard.is_ended())
            }
            (Some(Some(Ok(chunk))), None) => (chunk, false),
            // The provider's stream broke or ended: send what is held (checked).
            (Some(Some(Err(_)) | None), Some(guard)) => {
                let mut out = guard.push(&tail);
                out.extend(guard.finish());
                (out, true)
            }
            (Some(Some(Err(_)) | None), None) => (tail, true),
            (None, _) => {
                log::upstream_stalled(&relay.decision_id, relay.idle_timeout_ms);
                let message = format!(
                    "{} sent nothing for {} ms; the answer was cut off",
                    relay.provider.id(),
                    relay.idle_timeout_ms
                );
                let event = error_event(
                    relay.provider,
                    "timeout_error",
                    "upstream_timeout",
                    &message,
                );
                (event, true)
            }
        };
        if done {
            if let Some(guard) = &relay.guard {
                log::output_guard_event(&relay.decision_id, &guard.report());
            }
            return Some((Ok(out), None));
        }
        Some((Ok(out), Some(relay)))
    })
}

fn unreadable(provider: Provider) -> Failure {
    Failure::new(
        ErrorKind::Upstream,
        "upstream_unreadable",
        format!(
            "the answer from {} could not be read, so it was not relayed",
            provider.id()
        ),
    )
}

fn stalled(provider: Provider, ms: u64) -> Failure {
    Failure::new(
        ErrorKind::Timeout,
        "upstream_timeout",
        format!("{} stopped sending its answer for {ms} ms", provider.id()),
    )
}

//! Post-flight checks on answers (`engine::guard`) and input redaction
//! (`LlmCall::redact`): streamed answers must come out exactly as if the whole text had
//! been checked at once, however the provider's bytes are chunked, while text that cannot
//! be part of a finding is sent on without waiting for the end.

mod framing;
mod input_redaction;
mod obligations;
mod random_texts;
mod streams;
mod unicode_text;
mod whole_answers;
mod window;

use crate::support::{pieces, through_window};
use gateway_engine::detect::{Kind, KindSet};
use gateway_engine::guard::sse::{Event, Framer};
use gateway_engine::guard::stream::StreamGuard;
use gateway_engine::guard::OutputGuard;
use gateway_policy::catalog::Provider;
use serde_json::{json, Value};

const ANSWER: &str = "Sure. You can reach Jane at jane.doe@example.com or on +1 415 555 0132 \
    during office hours. Her card on file is 4111 1111 1111 1111, and the refund goes to \
    DE89 3704 0044 0532 0130 00 next week. Nothing else in this note is personal: the \
    weather was fine and the meeting ran long, as meetings do.";
const EMAIL: &str = "jane.doe@example.com";

fn pii() -> KindSet {
    KindSet::parse("pii").unwrap()
}

fn secrets() -> KindSet {
    KindSet::parse("secrets").unwrap()
}

/// A guard that redacts PII and blocks secrets.
fn pii_guard() -> OutputGuard {
    OutputGuard {
        redact: pii(),
        block: secrets(),
    }
}

/// A guard that redacts PII and blocks nothing.
fn pii_redactor() -> OutputGuard {
    OutputGuard {
        redact: pii(),
        block: KindSet::EMPTY,
    }
}

/// Streams `text` through a window in pieces of `size` characters.
fn stream_through_window(
    text: &str,
    size: usize,
    redact: KindSet,
    block: KindSet,
) -> Result<String, Kind> {
    through_window(&pieces(text, size), redact, block)
}

// ---------------------------------------------------------------------------------------
// Provider streams

fn openai_stream(deltas: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
               "choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
    };
    out.extend(Event::encode(
        None,
        &chunk(json!({"role":"assistant","content":""}), Value::Null).to_string(),
    ));
    for d in deltas {
        out.extend(Event::encode(
            None,
            &chunk(json!({"content": d}), Value::Null).to_string(),
        ));
    }
    out.extend(Event::encode(
        None,
        &chunk(json!({}), json!("stop")).to_string(),
    ));
    out.extend(b"data: [DONE]\n\n");
    out
}

fn anthropic_stream(deltas: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut event =
        |name: &str, data: Value| out.extend(Event::encode(Some(name), &data.to_string()));
    event(
        "message_start",
        json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku","stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}),
    );
    event(
        "content_block_start",
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
    );
    for d in deltas {
        event(
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":d}}),
        );
    }
    event(
        "content_block_stop",
        json!({"type":"content_block_stop","index":0}),
    );
    event(
        "message_delta",
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":20}}),
    );
    event("message_stop", json!({"type":"message_stop"}));
    out
}

fn provider_stream(provider: Provider, deltas: &[String]) -> Vec<u8> {
    match provider {
        Provider::Openai => openai_stream(deltas),
        Provider::Anthropic => anthropic_stream(deltas),
    }
}

/// Runs provider bytes through a guard in chunks of `size` bytes.
fn guard_bytes(
    provider: Provider,
    guard: OutputGuard,
    bytes: &[u8],
    size: usize,
) -> (Vec<u8>, StreamGuard) {
    let mut stream = StreamGuard::new(provider, guard);
    let mut out = Vec::new();
    for chunk in bytes.chunks(size) {
        out.extend(stream.push(chunk));
    }
    out.extend(stream.finish());
    (out, stream)
}

/// Runs provider bytes through a guard in the given chunks.
fn guard_chunks(
    provider: Provider,
    guard: OutputGuard,
    chunks: &[&[u8]],
) -> (Vec<u8>, StreamGuard) {
    let mut stream = StreamGuard::new(provider, guard);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(stream.push(chunk));
    }
    out.extend(stream.finish());
    (out, stream)
}

fn events_of(bytes: &[u8]) -> Vec<Event> {
    let mut framer = Framer::new(1 << 20);
    let mut events = framer.push(bytes).unwrap();
    events.extend(framer.finish());
    events
}

/// The text a client reassembles from the deltas, and whether the stream ended normally.
fn reassemble(provider: Provider, bytes: &[u8]) -> (String, Option<Value>) {
    let mut text = String::new();
    for event in events_of(bytes) {
        if event.data == "[DONE]" {
            continue;
        }
        let value: Value = serde_json::from_str(&event.data).unwrap();
        let is_error = match provider {
            Provider::Openai => value.get("error").is_some(),
            Provider::Anthropic => event.name.as_deref() == Some("error"),
        };
        if is_error {
            return (text, Some(value));
        }
        let piece = match provider {
            Provider::Openai => value.pointer("/choices/0/delta/content"),
            Provider::Anthropic => value.pointer("/delta/text"),
        };
        if let Some(Value::String(piece)) = piece {
            text.push_str(piece);
        }
    }
    (text, None)
}

//! `StreamGuard` on a streamed answer built from arbitrary bytes: the answer's text (lossy
//! UTF-8, with some bytes standing for multi-byte whitespace, CJK and emoji) is cut into
//! deltas, wrapped in OpenAI chunks or Anthropic `content_block_delta` events, and the
//! resulting SSE bytes are cut at arbitrary offsets (inside multi-byte characters too)
//! before they reach the guard.
//!
//! * Never a panic; the output is UTF-8 and every event in it is JSON (or `[DONE]`).
//! * A redact-only guard: the stream runs to its end (`[DONE]`, `message_stop`) and the
//!   text a client reassembles from the deltas is exactly the whole-text redaction,
//!   `redact(text, &find_kinds(text, kinds))`, however the text and the bytes were cut.
//! * A guard that blocks: when the whole text has no finding of a blocked kind, the same
//!   as above; when it has one, the answer ends with the provider's error event naming
//!   that kind, and what was sent before is a prefix of the redaction of the text before
//!   that finding.
//!
//! Input: byte 0 picks the provider, the channel (OpenAI content or tool-call arguments,
//! Anthropic text or thinking) and the guard; bytes 1 and 2 bound the delta size (in
//! characters) and the chunk size (in bytes) and seed the cutting; the rest is the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

use gateway_engine::detect::{find_kinds, redact, KindSet};
use gateway_engine::guard::sse::{Event, Framer};
use gateway_engine::guard::stream::StreamGuard;
use gateway_engine::guard::OutputGuard;
use gateway_policy::catalog::Provider;

/// What the bytes 0xF0–0xFF stand for in the text: whitespace of two and three bytes,
/// CJK, an emoji and a joiner, a Latin letter with an accent, a byte-order mark.
const WIDE: [&str; 16] = [
    "\u{a0}", "\u{202f}", "\u{2009}", "\u{3000}", "\u{2028}", "\u{85}", "\u{1680}", "\u{2029}",
    "東", "京", "。", "😀", "\u{200d}", "é", "中", "\u{feff}",
];

/// A small deterministic generator for the cuts (xorshift), seeded from the input.
struct Cuts(u64);

impl Cuts {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn text_of(bytes: &[u8]) -> String {
    let mut raw = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match b {
            0xF0..=0xFF => raw.extend_from_slice(WIDE[usize::from(b - 0xF0)].as_bytes()),
            _ => raw.push(b),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Channel {
    /// OpenAI `content` or Anthropic `text_delta`.
    Text,
    /// OpenAI tool-call `arguments` or Anthropic `thinking_delta`.
    Other,
}

fn openai_stream(deltas: &[String], channel: Channel) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
               "choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
        .to_string()
    };
    let piece = |text: &str| match channel {
        Channel::Text => json!({ "content": text }),
        Channel::Other => json!({"tool_calls":[{"index":0,"function":{"arguments":text}}]}),
    };
    let first = match channel {
        Channel::Text => json!({"role":"assistant","content":""}),
        Channel::Other => json!({"role":"assistant","content":null,"tool_calls":[
            {"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}),
    };
    let finish = match channel {
        Channel::Text => "stop",
        Channel::Other => "tool_calls",
    };
    let mut out = Event::encode(None, &chunk(first, Value::Null));
    for d in deltas {
        out.extend(Event::encode(None, &chunk(piece(d), Value::Null)));
    }
    out.extend(Event::encode(None, &chunk(json!({}), json!(finish))));
    out.extend(b"data: [DONE]\n\n");
    out
}

fn anthropic_stream(deltas: &[String], channel: Channel) -> Vec<u8> {
    let (block, delta_type, field) = match channel {
        Channel::Text => (json!({"type":"text","text":""}), "text_delta", "text"),
        Channel::Other => (
            json!({"type":"thinking","thinking":""}),
            "thinking_delta",
            "thinking",
        ),
    };
    let mut out = Vec::new();
    let mut event =
        |name: &str, data: Value| out.extend(Event::encode(Some(name), &data.to_string()));
    event(
        "message_start",
        json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",
               "content":[],"model":"claude-3-5-haiku","stop_reason":null,
               "usage":{"input_tokens":5,"output_tokens":1}}}),
    );
    event(
        "content_block_start",
        json!({"type":"content_block_start","index":0,"content_block":block}),
    );
    for d in deltas {
        event(
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,
                   "delta":{"type":delta_type, field: d}}),
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

/// What a client reads from the guard's output: the text of the channel's deltas, the
/// error event that ended the answer (if one did), and the last event's data.
struct Received {
    text: String,
    error: Option<Value>,
    last: Option<String>,
}

fn receive(provider: Provider, channel: Channel, out: &[u8]) -> Received {
    let mut framer = Framer::new(usize::MAX);
    let mut events = framer.push(out).unwrap_or_else(|e| panic!("{e}"));
    events.extend(framer.finish());
    let mut received = Received {
        text: String::new(),
        error: None,
        last: events.last().map(|e| e.data.clone()),
    };
    for (i, event) in events.iter().enumerate() {
        if event.data == "[DONE]" {
            continue;
        }
        let value: Value = serde_json::from_str(&event.data)
            .unwrap_or_else(|e| panic!("event {i} is not JSON ({e}): {:?}", event.data));
        let is_error = match provider {
            Provider::Openai => value.get("error").is_some(),
            Provider::Anthropic => event.name.as_deref() == Some("error"),
        };
        if is_error {
            assert_eq!(i + 1, events.len(), "events after the error event");
            received.error = Some(value);
            break;
        }
        match provider {
            Provider::Openai => {
                for choice in value["choices"].as_array().into_iter().flatten() {
                    assert_eq!(choice["index"], json!(0), "a choice that was never sent");
                    let delta = &choice["delta"];
                    match channel {
                        Channel::Text => {
                            if let Some(t) = delta["content"].as_str() {
                                received.text.push_str(t);
                            }
                        }
                        Channel::Other => {
                            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                                if let Some(t) = call["function"]["arguments"].as_str() {
                                    received.text.push_str(t);
                                }
                            }
                        }
                    }
                }
            }
            Provider::Anthropic => {
                let field = match channel {
                    Channel::Text => "text",
                    Channel::Other => "thinking",
                };
                if value["type"] == "content_block_delta" {
                    if let Some(t) = value["delta"][field].as_str() {
                        received.text.push_str(t);
                    }
                }
            }
        }
    }
    received
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = data.split_at(data.len().min(3));
    let flags = head.first().copied().unwrap_or(0);
    let max_delta = 1 + usize::from(head.get(1).copied().unwrap_or(0) % 32);
    let max_chunk = 1 + usize::from(head.get(2).copied().unwrap_or(0) % 64);
    let provider = if flags & 1 == 0 {
        Provider::Openai
    } else {
        Provider::Anthropic
    };
    let channel = if flags & 2 == 0 {
        Channel::Text
    } else {
        Channel::Other
    };
    let kinds = |list: &str| KindSet::parse(list).unwrap_or_else(|e| panic!("{e:?}"));
    let guard = match (flags >> 2) & 3 {
        0 => OutputGuard {
            redact: kinds("pii"),
            block: KindSet::EMPTY,
        },
        1 => OutputGuard {
            redact: kinds("pii,secrets"),
            block: KindSet::EMPTY,
        },
        2 => OutputGuard {
            redact: kinds("pii"),
            block: kinds("secrets"),
        },
        _ => OutputGuard {
            redact: KindSet::EMPTY,
            block: kinds("pii,secrets"),
        },
    };
    let text = text_of(body);

    // The text in deltas of 1..=max_delta characters.
    let seed = head.iter().fold(0u64, |seed, &b| seed << 8 | u64::from(b));
    let mut cuts = Cuts(0x9E37_79B9_7F4A_7C15 ^ seed);
    let chars: Vec<char> = text.chars().collect();
    let mut deltas = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let end = (at + 1 + cuts.below(max_delta)).min(chars.len());
        deltas.push(chars[at..end].iter().collect::<String>());
        at = end;
    }
    let bytes = match provider {
        Provider::Openai => openai_stream(&deltas, channel),
        Provider::Anthropic => anthropic_stream(&deltas, channel),
    };

    // The SSE bytes in chunks of 1..=max_chunk bytes.
    let mut stream = StreamGuard::new(provider, guard);
    let mut out = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at((1 + cuts.below(max_chunk)).min(rest.len()));
        out.extend(stream.push(chunk));
        rest = tail;
    }
    out.extend(stream.finish());
    assert!(std::str::from_utf8(&out).is_ok(), "the output is not UTF-8");

    let received = receive(provider, channel, &out);
    let all = guard.redact.union(guard.block);
    let found = find_kinds(&text, all);
    let report = stream.report();
    match found.iter().find(|f| guard.block.contains(f.kind)) {
        None => {
            assert!(
                received.error.is_none(),
                "blocked without a blocked kind: {:?}",
                received.error
            );
            assert_eq!(report.blocked, None);
            let last = match provider {
                Provider::Openai => "[DONE]",
                Provider::Anthropic => r#"{"type":"message_stop"}"#,
            };
            assert_eq!(
                received.last.as_deref(),
                Some(last),
                "the answer did not run to its end"
            );
            assert_eq!(
                received.text,
                redact(&text, &found),
                "not the whole-text redaction"
            );
        }
        Some(first) => {
            let error = received
                .error
                .unwrap_or_else(|| panic!("{first:?} not blocked"));
            assert_eq!(report.blocked, Some(first.kind), "blocked for another kind");
            assert!(error.to_string().contains(first.kind.name()), "{error}");
            let before = &text[..first.start];
            let redacted: Vec<_> = found
                .iter()
                .filter(|f| f.end <= first.start)
                .copied()
                .collect();
            let sent_at_most = redact(before, &redacted);
            assert!(
                sent_at_most.starts_with(&received.text),
                "sent {:?}, beyond the redaction of the text before {first:?}: {sent_at_most:?}",
                received.text
            );
        }
    }
});

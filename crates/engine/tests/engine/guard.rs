//! Post-flight checks on answers (`engine::guard`) and input redaction
//! (`LlmCall::redact`): streamed answers must come out exactly as if the whole text had
//! been checked at once, however the provider's bytes are chunked, while text that cannot
//! be part of a finding is sent on without waiting for the end.

use crate::support::Rng;
use gateway_engine::detect::{self, Kind, KindSet};
use gateway_engine::guard::body::{self, Checked};
use gateway_engine::guard::sse::{Event, Framer};
use gateway_engine::guard::stream::StreamGuard;
use gateway_engine::guard::window::{Release, Window, WINDOW};
use gateway_engine::guard::OutputGuard;
use gateway_engine::{Endpoint, LlmCall};
use gateway_policy::catalog::Provider;
use gateway_policy::obligations::{self, Obligation};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ANSWER: &str = "Sure. You can reach Jane at jane.doe@example.com or on +1 415 555 0132 \
    during office hours. Her card on file is 4111 1111 1111 1111, and the refund goes to \
    DE89 3704 0044 0532 0130 00 next week. Nothing else in this note is personal: the \
    weather was fine and the meeting ran long, as meetings do.";
const KEY: &str = "sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj";

fn pii() -> KindSet {
    KindSet::parse("pii").unwrap()
}

fn secrets() -> KindSet {
    KindSet::parse("secrets").unwrap()
}

fn whole_text_redaction(text: &str, kinds: KindSet) -> String {
    detect::redact_kinds(text, kinds).map_or_else(|| text.to_owned(), |(redacted, _)| redacted)
}

/// Splits `text` into pieces of `size` characters.
fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

// ---------------------------------------------------------------------------------------
// Window

fn stream_through_window(
    text: &str,
    size: usize,
    redact: KindSet,
    block: KindSet,
) -> Result<String, Kind> {
    let mut window = Window::new(redact, block);
    let mut out = String::new();
    for piece in pieces(text, size) {
        match window.push(&piece) {
            Release::Text(t) => out.push_str(&t),
            Release::Blocked(kind) => return Err(kind),
        }
    }
    match window.finish() {
        Release::Text(t) => out.push_str(&t),
        Release::Blocked(kind) => return Err(kind),
    }
    Ok(out)
}

#[test]
fn a_window_redacts_as_the_whole_text_would_for_every_delta_size() {
    let expected = whole_text_redaction(ANSWER, pii());
    assert!(expected.contains("[REDACTED:email]") && expected.contains("[REDACTED:iban]"));
    for size in 1..=40 {
        assert_eq!(
            stream_through_window(ANSWER, size, pii(), KindSet::EMPTY).unwrap(),
            expected,
            "delta size {size}"
        );
    }
}

#[test]
fn a_window_releases_text_before_the_end() {
    let mut window = Window::new(pii(), KindSet::EMPTY);
    let mut released = 0;
    for piece in pieces(ANSWER, 4) {
        if let Release::Text(t) = window.push(&piece) {
            released += t.len();
        }
    }
    // All but the held tail went out while the answer was still arriving.
    assert!(
        released > 0 && released + 2 * WINDOW >= ANSWER.len(),
        "released {released} of {}",
        ANSWER.len()
    );
}

#[test]
fn a_window_holds_a_key_split_across_deltas_and_blocks_it() {
    let text = format!(
        "{} Here is the key you asked for: {KEY} and that is all.",
        "Some words. ".repeat(20)
    );
    for size in [1, 3, 7, 16, 64] {
        let mut window = Window::new(KindSet::EMPTY, secrets());
        let mut sent = String::new();
        let mut blocked = None;
        for piece in pieces(&text, size) {
            match window.push(&piece) {
                Release::Text(t) => sent.push_str(&t),
                Release::Blocked(kind) => {
                    blocked = Some(kind);
                    break;
                }
            }
        }
        // The key is blocked once the text after it settles it, here at the end.
        if blocked.is_none() {
            match window.finish() {
                Release::Text(t) => sent.push_str(&t),
                Release::Blocked(kind) => blocked = Some(kind),
            }
        }
        assert_eq!(blocked, Some(Kind::OpenaiKey), "delta size {size}");
        assert!(
            !sent.contains("sk-"),
            "no part of the key went out (delta size {size}): {sent}"
        );
    }
}

#[test]
fn a_window_holds_a_private_key_block_until_it_ends() {
    let block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n\
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----";
    let text = format!("The key file reads:\n{block}\nKeep it safe, and rotate it soon please.");
    let expected = whole_text_redaction(&text, secrets());
    assert!(expected.contains("[REDACTED:private_key]"), "{expected}");
    for size in [1, 5, 13, 50] {
        assert_eq!(
            stream_through_window(&text, size, secrets(), KindSet::EMPTY).unwrap(),
            expected,
            "delta size {size}"
        );
    }
}

#[test]
fn a_window_over_a_long_clean_answer_does_linear_work() {
    let text = "The weather was fine and the meeting ran long. ".repeat(2000);
    let before = detect::work_counter();
    let out = stream_through_window(&text, 3, pii().union(secrets()), KindSet::EMPTY).unwrap();
    let work = detect::work_counter() - before;
    assert_eq!(out, text);
    // Debug builds count work; each byte is scanned a few times, never once per delta.
    if cfg!(debug_assertions) {
        assert!(
            work < 40 * text.len() as u64,
            "work {work} for {} bytes",
            text.len()
        );
    }
}

// ---------------------------------------------------------------------------------------
// SSE framing

#[test]
fn the_framer_yields_the_same_events_however_the_bytes_are_chunked() {
    let stream = b"event: message_start\ndata: {\"a\":1}\n\n: a comment\ndata: one\ndata: two\n\n\
        data: {\"b\":2}\r\n\r\nevent: ping\ndata: {}\n\n";
    let mut whole = Framer::new(1 << 20);
    let expected = whole.push(stream).unwrap();
    assert_eq!(expected.len(), 4);
    assert_eq!(expected[0].name.as_deref(), Some("message_start"));
    assert_eq!(expected[1].data, "one\ntwo");
    assert_eq!(expected[2].data, "{\"b\":2}");
    for size in 1..=9 {
        let mut framer = Framer::new(1 << 20);
        let mut events: Vec<Event> = Vec::new();
        for chunk in stream.chunks(size) {
            events.extend(framer.push(chunk).unwrap());
        }
        assert!(framer.finish().is_none());
        assert_eq!(events, expected, "chunk size {size}");
    }
}

#[test]
fn the_framer_refuses_an_endless_event() {
    let mut framer = Framer::new(1024);
    assert!(framer.push(&[b'x'; 600]).is_ok());
    assert!(framer.push(&[b'x'; 600]).is_err());
}

// ---------------------------------------------------------------------------------------
// Streamed answers

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

#[test]
fn streamed_answers_are_redacted_across_chunk_boundaries() {
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let expected = whole_text_redaction(ANSWER, pii());
    for provider in [Provider::Openai, Provider::Anthropic] {
        for delta_size in [1, 4, 11] {
            let deltas = pieces(ANSWER, delta_size);
            let bytes = match provider {
                Provider::Openai => openai_stream(&deltas),
                Provider::Anthropic => anthropic_stream(&deltas),
            };
            for byte_size in [1, 7, 64, 4096] {
                let (out, stream) = guard_bytes(provider, guard, &bytes, byte_size);
                let (text, error) = reassemble(provider, &out);
                assert!(error.is_none(), "{provider:?}");
                assert_eq!(
                    text, expected,
                    "{provider:?} delta {delta_size} bytes {byte_size}"
                );
                let report = stream.report();
                assert_eq!(report.redacted.get("email"), Some(&1));
                assert_eq!(report.redacted.get("credit_card"), Some(&1));
                assert_eq!(report.blocked, None);
            }
        }
    }
}

#[test]
fn a_streamed_answer_keeps_its_event_structure() {
    let guard = OutputGuard {
        redact: pii(),
        block: KindSet::EMPTY,
    };
    let bytes = anthropic_stream(&pieces(ANSWER, 6));
    let (out, _) = guard_bytes(Provider::Anthropic, guard, &bytes, 13);
    let names: Vec<String> = events_of(&out).into_iter().filter_map(|e| e.name).collect();
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    let stop = names
        .iter()
        .position(|n| n == "content_block_stop")
        .unwrap();
    assert!(names[..stop]
        .iter()
        .skip(2)
        .all(|n| n == "content_block_delta"));
    assert_eq!(
        &names[stop..],
        ["content_block_stop", "message_delta", "message_stop"]
    );

    let bytes = openai_stream(&pieces(ANSWER, 6));
    let (out, _) = guard_bytes(Provider::Openai, guard, &bytes, 13);
    let events = events_of(&out);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let finish: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(
        finish.pointer("/choices/0/finish_reason"),
        Some(&json!("stop"))
    );
}

#[test]
fn a_clean_streamed_answer_starts_flowing_before_it_ends() {
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let text = "The weather was fine and the meeting ran long, as meetings do. ".repeat(20);
    let deltas = pieces(&text, 5);
    let bytes = openai_stream(&deltas);
    let mut stream = StreamGuard::new(Provider::Openai, guard);
    // Push the first half of the provider's bytes only: most of its text must be out.
    let half = &bytes[..bytes.len() / 2];
    let out = stream.push(half);
    let (sent, _) = reassemble(Provider::Openai, &out);
    let whole_events = half.windows(2).rposition(|w| w == b"\n\n").unwrap() + 2;
    let (arrived, _) = reassemble(Provider::Openai, &half[..whole_events]);
    assert!(
        !sent.is_empty() && sent.len() + 2 * WINDOW >= arrived.len(),
        "sent {} of {}",
        sent.len(),
        arrived.len()
    );
    assert!(arrived.starts_with(&sent));
}

#[test]
fn a_streamed_secret_ends_the_answer_with_a_provider_error_event() {
    let text = format!(
        "{}The key is {KEY} as requested. More text follows here.",
        "Plain words. ".repeat(12)
    );
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    for provider in [Provider::Openai, Provider::Anthropic] {
        for delta_size in [2, 9] {
            let deltas = pieces(&text, delta_size);
            let bytes = match provider {
                Provider::Openai => openai_stream(&deltas),
                Provider::Anthropic => anthropic_stream(&deltas),
            };
            for byte_size in [3, 50, 100_000] {
                let (out, stream) = guard_bytes(provider, guard, &bytes, byte_size);
                let out_text = String::from_utf8(out.clone()).unwrap();
                assert!(
                    !out_text.contains("sk-"),
                    "no part of the key went out: {out_text}"
                );
                let (sent, error) = reassemble(provider, &out);
                let error = error.expect("an error event ends the stream");
                assert!(text.starts_with(&sent));
                match provider {
                    Provider::Openai => {
                        assert_eq!(error.pointer("/error/code"), Some(&json!("output_blocked")))
                    }
                    Provider::Anthropic => assert_eq!(
                        error.pointer("/error/type"),
                        Some(&json!("permission_error"))
                    ),
                }
                assert!(error.to_string().contains("openai_key"));
                assert_eq!(
                    events_of(&out).last().map(|e| e.data.contains("error")),
                    Some(true),
                    "nothing after the error"
                );
                assert_eq!(stream.report().blocked, Some(Kind::OpenaiKey));
                assert!(stream.is_ended());
            }
        }
    }
}

#[test]
fn streamed_tool_call_arguments_are_checked_too() {
    let args = r#"{"to":"jane.doe@example.com","body":"see you at noon"}"#;
    let mut bytes = Vec::new();
    for (i, piece) in pieces(args, 5).iter().enumerate() {
        let call = if i == 0 {
            json!({"index":0,"id":"call_1","type":"function","function":{"name":"send","arguments":piece}})
        } else {
            json!({"index":0,"function":{"arguments":piece}})
        };
        bytes.extend(Event::encode(None, &json!({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[call]},"finish_reason":null}]}).to_string()));
    }
    bytes.extend(Event::encode(None, &json!({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}).to_string()));
    let guard = OutputGuard {
        redact: pii(),
        block: KindSet::EMPTY,
    };
    let (out, _) = guard_bytes(Provider::Openai, guard, &bytes, 17);
    let mut rebuilt = String::new();
    for event in events_of(&out) {
        let value: Value = serde_json::from_str(&event.data).unwrap();
        if let Some(Value::String(piece)) =
            value.pointer("/choices/0/delta/tool_calls/0/function/arguments")
        {
            rebuilt.push_str(piece);
        }
    }
    assert_eq!(
        rebuilt,
        r#"{"to":"[REDACTED:email]","body":"see you at noon"}"#
    );
}

#[test]
fn comments_and_unknown_events_pass_untouched_and_unreadable_ones_end_the_answer() {
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let bytes =
        b": keep-alive\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\ndata: {\"unknown\":true}\n\n";
    let (out, stream) = guard_bytes(Provider::Anthropic, guard, bytes, 5);
    assert_eq!(out, bytes.to_vec());
    assert!(stream.report().redacted.is_empty());

    let garbage = b": keep-alive\n\nevent: ping\ndata: not json\n\ndata: {\"type\":\"ping\"}\n\n";
    let (out, stream) = guard_bytes(Provider::Anthropic, guard, garbage, 5);
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with(": keep-alive\n\nevent: error\n"), "{out}");
    assert!(
        out.ends_with("could not be checked\"}}\n\n"),
        "nothing after it: {out}"
    );
    assert!(stream.is_ended());
}

// ---------------------------------------------------------------------------------------
// Unicode text and arbitrary splits

/// French puts a no-break space (U+00A0) or a narrow one (U+202F) before `:;!?»`.
const FRENCH: &str = "Bonjour\u{a0}! Votre rendez-vous est confirmé\u{202f}: mardi à 14\u{a0}h, \
    salle B. Merci de votre patience\u{a0}; à bientôt\u{202f}? «\u{a0}Très bien\u{a0}», \
    dit-elle. Le compte rendu suivra\u{a0}: ordre du jour, décisions, suites à donner. ";
/// Japanese and Chinese text use the ideographic space (U+3000), three bytes long.
const JAPANESE: &str =
    "東京の会議は予定どおり始まりました。\u{3000}資料は前日にお送りします。\u{3000}\
    ご不明な点があればお知らせください。\u{3000}";
const CHINESE: &str =
    "今天的会议很顺利。\u{3000}我们下周再讨论预算。\u{3000}谢谢大家的参与。\u{3000}";
const EMAIL: &str = "jane.doe@example.com";

fn pii_guard() -> OutputGuard {
    OutputGuard {
        redact: pii(),
        block: secrets(),
    }
}

impl Rng {
    /// `text` cut into pieces of 1..=`max` characters.
    fn char_pieces(&mut self, text: &str, max: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let end = (at + 1 + self.below(max)).min(chars.len());
            out.push(chars[at..end].iter().collect());
            at = end;
        }
        out
    }

    /// `bytes` cut into chunks of 1..=`max` bytes, through multi-byte characters.
    fn byte_chunks<'a>(&mut self, bytes: &'a [u8], max: usize) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at((1 + self.below(max)).min(rest.len()));
            out.push(chunk);
            rest = tail;
        }
        out
    }
}

fn provider_stream(provider: Provider, deltas: &[String]) -> Vec<u8> {
    match provider {
        Provider::Openai => openai_stream(deltas),
        Provider::Anthropic => anthropic_stream(deltas),
    }
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

/// Streams `text` through a redact-only window in deltas of 1 to 12 characters: each
/// time the same as the whole-text redaction, which must contain `finding`.
fn streams_as_the_whole_text(text: &str, kinds: KindSet, finding: &str) {
    let expected = whole_text_redaction(text, kinds);
    assert!(expected.contains(finding), "{expected}");
    for size in 1..=12 {
        assert_eq!(
            stream_through_window(text, size, kinds, KindSet::EMPTY).unwrap(),
            expected,
            "delta size {size}"
        );
    }
}

#[test]
fn a_window_reads_through_invisible_characters_between_digit_groups() {
    // The detectors read `+1 415 555 555 0132` through the zero-width no-break spaces, so
    // the window must not send `+1 ` on its own while they arrive.
    let text = format!(
        "打\u{3000}+1 {}415 555 555 0132\u{3000}谢谢。",
        "\u{FEFF}".repeat(80)
    );
    streams_as_the_whole_text(&text, pii(), "[REDACTED:phone]");
}

#[test]
fn a_window_keeps_the_name_of_a_hex_secret_broken_by_invisible_characters() {
    // The detectors read the hex string whole through the zero-width no-break spaces,
    // and it is a secret only after its name: the window must hold the name for it.
    let text = format!(
        "Here is the configuration you asked for. The api key is 094a3c5e8f1b2d7c9e0a4b6c8d{}1e3f5a7b9c0d2e and that is all.",
        "\u{FEFF}".repeat(4)
    );
    streams_as_the_whole_text(&text, pii().union(secrets()), "[REDACTED:high_entropy]");
}

#[test]
fn a_window_measures_a_hex_secret_name_in_what_the_detectors_read() {
    // Invisible characters between the name and the hex string vanish for the detectors,
    // so the name is nearer than its bytes say: the window holds it all the same.
    let text = format!(
        "The api key is 094a3c{}%5e8f1b2d7c9e0a4b7c8d1e3f5a7b9c0d2e and the card is on file.",
        "\u{FEFF}".repeat(7)
    );
    streams_as_the_whole_text(&text, pii().union(secrets()), "[REDACTED:high_entropy]");
}

#[test]
fn a_window_cuts_after_a_multi_byte_space() {
    // Only ideographic spaces: every cut falls right after one of them.
    let text = JAPANESE.repeat(6);
    for size in 1..=12 {
        assert_eq!(
            stream_through_window(&text, size, pii(), secrets()).unwrap(),
            text,
            "delta size {size}"
        );
    }
}

#[test]
fn streamed_french_japanese_and_chinese_answers_pass_unchanged() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for text in [FRENCH.repeat(3), JAPANESE.repeat(4), CHINESE.repeat(6)] {
        for provider in [Provider::Openai, Provider::Anthropic] {
            for delta_size in [1, 3, 7, 20] {
                let bytes = provider_stream(provider, &pieces(&text, delta_size));
                for byte_size in [1, 2, 3, 5, 13, 4096] {
                    let (out, stream) = guard_bytes(provider, pii_guard(), &bytes, byte_size);
                    let (sent, error) = reassemble(provider, &out);
                    assert!(error.is_none(), "{provider:?}: {error:?}");
                    assert_eq!(
                        sent, text,
                        "{provider:?} delta {delta_size} bytes {byte_size}"
                    );
                    assert_eq!(stream.report(), Default::default());
                }
                // And at random byte boundaries.
                let chunks = rng.byte_chunks(&bytes, 9);
                let (out, _) = guard_chunks(provider, pii_guard(), &chunks);
                assert_eq!(reassemble(provider, &out), (text.clone(), None));
            }
        }
    }
}

#[test]
fn streamed_unicode_answers_change_only_where_they_had_findings() {
    let texts = [
        format!(
            "{FRENCH}Écrivez à {EMAIL}\u{a0}! Ou appelez le +33 6 12 34 56 78\u{202f}; {FRENCH}"
        ),
        format!("{JAPANESE}{JAPANESE}連絡先は{EMAIL}です。\u{3000}{JAPANESE}"),
        format!("{CHINESE}{CHINESE}请发邮件到\u{3000}{EMAIL}\u{3000}{CHINESE}{CHINESE}"),
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for text in &texts {
        let expected = whole_text_redaction(text, pii());
        let mut by_hand = text.replace(EMAIL, "[REDACTED:email]");
        by_hand = by_hand.replace("+33 6 12 34 56 78", "[REDACTED:phone]");
        assert_eq!(expected, by_hand, "the whole-text redaction of {text:?}");
        for provider in [Provider::Openai, Provider::Anthropic] {
            for round in 0..8 {
                let bytes = provider_stream(provider, &rng.char_pieces(text, 1 + round * 3));
                let chunks = rng.byte_chunks(&bytes, 1 + round * 2);
                let (out, stream) = guard_chunks(provider, pii_guard(), &chunks);
                assert!(String::from_utf8(out.clone()).is_ok());
                assert_eq!(reassemble(provider, &out), (expected.clone(), None));
                assert_eq!(stream.report().redacted.get("email"), Some(&1));
                assert_eq!(stream.report().blocked, None);
            }
        }
    }
}

/// Fragments for random texts: ASCII words and punctuation, whitespace of one to three
/// bytes, CJK, emoji (one with a joiner), digits, and pieces of emails, phone, card,
/// IBAN, SSN and IP address numbers, glued to anything.
const POOL: &[&str] = &[
    "the ",
    "meeting ",
    "ran ",
    "long",
    ". ",
    ", ",
    "\n",
    " ",
    "\t",
    "x",
    "(",
    ")",
    ":",
    "-",
    "+",
    ".",
    "\u{a0}",
    "\u{202f}",
    "\u{2009}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\u{1680}",
    "東京",
    "会議",
    "中文",
    "はい",
    "。",
    "😀",
    "👩\u{200d}💻",
    "é",
    "0",
    "1",
    "7",
    "12",
    "42",
    "078",
    "05",
    "415",
    "555",
    "0132",
    "1120",
    "4111",
    "1111",
    "2024-05-01",
    " 0",
    "1 ",
    "+1 415 555 0132",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "078-05-1120",
    "12345678Z",
    "DE89 3704 0044 0532 0130 00",
    "DE",
    "NWBK",
    "192.168.0.1",
    "fe80::1",
    "jane.doe",
    "@",
    "example.com",
    EMAIL,
    "x@y.io",
];

fn random_text(rng: &mut Rng, pool: &[&str], max_fragments: usize) -> String {
    (0..rng.below(max_fragments + 1))
        .map(|_| pool[rng.below(pool.len())])
        .collect()
}

/// Pushes `text` through a window in random pieces, then finishes it.
fn window_release(rng: &mut Rng, text: &str, redact: KindSet) -> String {
    let mut window = Window::new(redact, KindSet::EMPTY);
    let mut out = String::new();
    for piece in rng.char_pieces(text, 24) {
        match window.push(&piece) {
            Release::Text(t) => out.push_str(&t),
            Release::Blocked(kind) => panic!("{kind:?} blocked, nothing is"),
        }
    }
    match window.finish() {
        Release::Text(t) => out.push_str(&t),
        Release::Blocked(kind) => panic!("{kind:?} blocked, nothing is"),
    }
    assert!(window.is_empty());
    out
}

const CASES: usize = if cfg!(target_arch = "wasm32") {
    300
} else {
    3000
};

// Exactly the whole-text redaction: a detector decides from a match and the token around
// it (digit groups joined by spaces are one token; a hex secret also needs the name before
// it), and the window cuts only at a token start, holds a match the cut would split whole,
// and keeps a hex secret's name with it. Only a token longer than MAX_HOLD is cut inside;
// these texts have none.
#[test]
fn random_unicode_through_a_window_gives_the_whole_text_redaction() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for case in 0..CASES {
        let text = random_text(&mut rng, POOL, 120);
        let expected = detect::redact(&text, &detect::find_kinds(&text, pii()));
        assert_eq!(
            window_release(&mut rng, &text, pii()),
            expected,
            "case {case}: {text:?}"
        );
    }
}

#[test]
fn random_secrets_through_a_window_give_the_whole_text_redaction() {
    const SECRETS: &[&str] = &[
        "the ",
        " ",
        "\n",
        "\u{a0}",
        "\u{3000}",
        "東京",
        "😀",
        "x",
        "=",
        "/",
        "+",
        "secret: ",
        "api key is ",
        KEY,
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "094a3c5e8f1b2d7c9e0a4b6c8d1e3f5a7b9c0d2e",
        "Zx9Kq2Lm8Np4Rt6Vw1Yb3Hc5Jd7Fg0Sa",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc123",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n",
        "-----END RSA PRIVATE KEY-----",
        "-----BEGIN CERTIFICATE-----\n",
        EMAIL,
        "4111 1111 1111 1111",
    ];
    let kinds = pii().union(secrets());
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    for case in 0..CASES / 2 {
        let text = random_text(&mut rng, SECRETS, 60);
        let expected = detect::redact(&text, &detect::find_kinds(&text, kinds));
        assert_eq!(
            window_release(&mut rng, &text, kinds),
            expected,
            "case {case}: {text:?}"
        );
    }
}

#[test]
fn a_window_keeps_a_hex_secrets_name_with_it() {
    let hex = "094a3c5e8f1b2d7c9e0a4b6c8d1e3f5a7b9c0d2e";
    // The hex string starts with 100 digits: until its letters arrive it is no secret.
    let late = format!("{}abcdef", "1".repeat(100));
    for secret in [hex, late.as_str()] {
        for filler in 0..60 {
            let text = format!(
                "{}the api key is {secret} and nothing else.",
                "word ".repeat(filler)
            );
            let expected = whole_text_redaction(&text, secrets());
            assert!(expected.contains("[REDACTED:high_entropy]"), "{expected}");
            for size in [1, 7, 40] {
                assert_eq!(
                    stream_through_window(&text, size, secrets(), KindSet::EMPTY).unwrap(),
                    expected,
                    "filler {filler}, delta size {size}"
                );
            }
        }
    }
}

#[test]
fn a_window_reads_a_number_in_spaced_groups_whole() {
    // No SSN in the whole text (the groups make one longer number), nor when streamed.
    for filler in 0..40 {
        let text = format!(
            "{}ref 2024 078-05-1120 ok. {}",
            "word ".repeat(filler),
            "z ".repeat(60)
        );
        assert_eq!(whole_text_redaction(&text, pii()), text);
        for size in [1, 5, 30] {
            assert_eq!(
                stream_through_window(&text, size, pii(), KindSet::EMPTY).unwrap(),
                text,
                "filler {filler}, delta size {size}"
            );
        }
    }
}

#[test]
fn a_window_blocks_only_on_findings_the_rest_cannot_change() {
    // While its last group arrives, `044 0532 0999` is a phone; the whole number is not.
    for filler in 0..30 {
        let text = format!(
            "{}ref 044 0532 099999999999 ok. {}",
            "word ".repeat(filler),
            "z ".repeat(60)
        );
        assert_eq!(whole_text_redaction(&text, pii()), text);
        for size in 1..=12 {
            assert_eq!(
                stream_through_window(&text, size, KindSet::EMPTY, pii()),
                Ok(text.clone()),
                "filler {filler}, delta size {size}"
            );
        }
    }
}

#[test]
fn random_unicode_streams_split_anywhere_give_the_whole_text_redaction() {
    let mut rng = Rng(0xBF58_476D_1CE4_E5B9);
    for case in 0..CASES / 10 {
        let text = random_text(&mut rng, POOL, 80);
        let expected = whole_text_redaction(&text, pii());
        for provider in [Provider::Openai, Provider::Anthropic] {
            let bytes = provider_stream(provider, &rng.char_pieces(&text, 12));
            let max = 1 + rng.below(64);
            let chunks = rng.byte_chunks(&bytes, max);
            let guard = OutputGuard {
                redact: pii(),
                block: KindSet::EMPTY,
            };
            let (out, _) = guard_chunks(provider, guard, &chunks);
            assert!(String::from_utf8(out.clone()).is_ok(), "case {case}");
            assert_eq!(
                reassemble(provider, &out),
                (expected.clone(), None),
                "case {case} {provider:?}: {text:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Whole answers

#[test]
fn a_whole_openai_answer_is_redacted_in_place() {
    let answer = json!({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",
        "choices":[{"index":0,"message":{"role":"assistant","content":ANSWER,"refusal":null},
                    "logprobs":{"content":[{"token":"jane","logprob":-0.1}]},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":5,"completion_tokens":50,"total_tokens":55}});
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let (checked, report) = body::check(&guard, Provider::Openai, answer.to_string().as_bytes());
    let Checked::Rewritten(bytes) = checked else {
        panic!("expected a rewrite, got {checked:?}")
    };
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        value["choices"][0]["message"]["content"],
        json!(whole_text_redaction(ANSWER, pii()))
    );
    assert_eq!(
        value["choices"][0]["logprobs"],
        Value::Null,
        "logprobs would spell the redacted tokens"
    );
    assert_eq!(value["usage"], answer["usage"], "everything else is kept");
    assert_eq!(report.redacted.get("iban"), Some(&1));
}

#[test]
fn a_whole_anthropic_answer_with_a_secret_is_blocked() {
    let answer = json!({"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku",
        "content":[{"type":"text","text":"Here you go."},
                   {"type":"tool_use","id":"t1","name":"store","input":{"value":KEY}}],
        "stop_reason":"tool_use"});
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let (checked, report) = body::check(&guard, Provider::Anthropic, answer.to_string().as_bytes());
    assert_eq!(checked, Checked::Blocked);
    assert_eq!(report.blocked, Some(Kind::OpenaiKey));
}

#[test]
fn a_clean_whole_answer_is_relayed_byte_for_byte_and_one_not_json_refused() {
    let answer =
        br#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"All fine."}]}"#;
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    assert_eq!(
        body::check(&guard, Provider::Anthropic, answer).0,
        Checked::Unchanged
    );
    assert_eq!(
        body::check(&guard, Provider::Openai, b"not json").0,
        Checked::Unreadable
    );
}

// ---------------------------------------------------------------------------------------
// Input redaction

/// The prose the caller sent, in walk order.
fn texts_of(call: &LlmCall) -> Vec<String> {
    let mut texts = Vec::new();
    call.visit_slots(&mut |slot, t| {
        if slot.is_prose() {
            texts.push(t.to_owned())
        }
    });
    texts
}

#[test]
fn the_mutable_walk_visits_exactly_what_the_detectors_see() {
    let chat = json!({"model":"gpt-4o","messages":[
        {"role":"system","content":"be brief"},
        {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x"}}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"q\":\"a\"}"}}]},
        {"role":"tool","tool_call_id":"1","content":"result"}],
        "tools":[{"type":"function","function":{"name":"f","description":"find","parameters":{"type":"object"}}}]});
    let messages = json!({"model":"claude-3-5-haiku","max_tokens":10,"system":[{"type":"text","text":"sys"}],"messages":[
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"inner"}]}]},
        {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"a":["b",{"c":"d"}]}}]}]});
    let embeddings = json!({"model":"text-embedding-3-small","input":["one","two"]});
    for (endpoint, body) in [
        (Endpoint::ChatCompletions, chat),
        (Endpoint::Messages, messages),
        (Endpoint::Embeddings, embeddings),
    ] {
        let mut call = LlmCall::parse(endpoint, body.to_string().as_bytes()).unwrap();
        let mut seen = Vec::new();
        call.visit_text(&mut |t| seen.push(t.to_owned()));
        let mut mutably = Vec::new();
        call.visit_text_mut(&mut |_, t| mutably.push(t.clone()));
        assert!(!seen.is_empty());
        assert_eq!(seen, mutably, "{endpoint:?}");
    }
}

#[test]
fn input_redaction_replaces_findings_everywhere_the_caller_wrote() {
    let body = json!({"model":"gpt-4o-mini","temperature":0.3,"messages":[
        {"role":"system","content":"Reply to jane.doe@example.com's ticket."},
        {"role":"user","content":[{"type":"text","text":"Her phone is +1 415 555 0132."}]},
        {"role":"tool","tool_call_id":"1","content":"card 4111 1111 1111 1111"}]});
    let mut call = LlmCall::parse(Endpoint::ChatCompletions, body.to_string().as_bytes()).unwrap();
    let counts = call.redact(KindSet::parse("email,phone").unwrap());
    assert_eq!(counts.get("email"), Some(&1));
    assert_eq!(counts.get("phone"), Some(&1));
    assert_eq!(counts.get("credit_card"), None, "only the kinds asked for");
    let texts = texts_of(&call);
    assert_eq!(texts[0], "Reply to [REDACTED:email]'s ticket.");
    assert_eq!(texts[1], "Her phone is [REDACTED:phone].");
    assert_eq!(texts[2], "card 4111 1111 1111 1111");
    let forwarded: Value =
        serde_json::from_slice(&call.upstream_body("gpt-4o-mini-2024-07-18").unwrap()).unwrap();
    assert_eq!(forwarded["temperature"], json!(0.3));
    assert_eq!(
        forwarded["messages"][1]["content"][0]["text"],
        json!("Her phone is [REDACTED:phone].")
    );
}

// ---------------------------------------------------------------------------------------
// Obligations

#[test]
fn merged_obligations_unite_kinds_and_blocking_beats_redacting() {
    let kinds = |list: &str| KindSet::parse(list).unwrap();
    let merged = obligations::merge([
        Obligation::CapOutputTokens { max: 900 },
        Obligation::RedactOutput {
            kinds: kinds("email,phone"),
        },
        Obligation::BlockOutput {
            kinds: kinds("email"),
        },
        Obligation::RedactInput {
            kinds: kinds("iban"),
        },
        Obligation::RedactInput {
            kinds: kinds("phone"),
        },
        Obligation::CapOutputTokens { max: 300 },
    ]);
    assert_eq!(
        serde_json::to_value(&merged).unwrap(),
        json!([
            { "kind": "cap_output_tokens", "max": 300 },
            { "kind": "redact_input", "kinds": ["iban", "phone"] },
            { "kind": "redact_output", "kinds": ["phone"] },
            { "kind": "block_output", "kinds": ["email"] }
        ])
    );
    let guard = OutputGuard::from_obligations(&merged);
    assert!(guard.is_active());
    assert_eq!(
        (guard.redact, guard.block),
        (kinds("phone"), kinds("email"))
    );
    assert!(!OutputGuard::from_obligations(&merged[..2]).is_active());
}

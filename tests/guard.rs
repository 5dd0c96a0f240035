//! Post-flight checks on answers (`engine::guard`) and input redaction
//! (`LlmCall::redact`): streamed answers must come out exactly as if the whole text had
//! been checked at once, however the provider's bytes are chunked, while text that cannot
//! be part of a finding is sent on without waiting for the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use llm_policy_gateway::engine::catalog::Provider;
use llm_policy_gateway::engine::detect::{self, Kind, KindSet};
use llm_policy_gateway::engine::guard::body::{self, Checked};
use llm_policy_gateway::engine::guard::sse::{Event, Framer};
use llm_policy_gateway::engine::guard::stream::StreamGuard;
use llm_policy_gateway::engine::guard::window::{Release, Window, WINDOW};
use llm_policy_gateway::engine::guard::OutputGuard;
use llm_policy_gateway::engine::obligations::{self, Obligation};
use llm_policy_gateway::engine::{Endpoint, LlmCall};
use serde_json::{json, Value};

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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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
        assert_eq!(blocked, Some(Kind::OpenaiKey), "delta size {size}");
        assert!(
            !sent.contains("sk-"),
            "no part of the key went out (delta size {size}): {sent}"
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn garbage_and_unknown_events_pass_untouched() {
    let guard = OutputGuard {
        redact: pii(),
        block: secrets(),
    };
    let bytes = b": keep-alive\n\nevent: ping\ndata: not json\n\ndata: {\"unknown\":true}\n\n";
    let (out, stream) = guard_bytes(Provider::Anthropic, guard, bytes, 5);
    assert_eq!(out, bytes.to_vec());
    assert!(stream.report().redacted.is_empty());
}

// ---------------------------------------------------------------------------------------
// Whole answers

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_clean_whole_answer_is_relayed_byte_for_byte() {
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
        Checked::Unchanged
    );
}

// ---------------------------------------------------------------------------------------
// Input redaction

fn texts_of(call: &LlmCall) -> Vec<String> {
    let mut texts = Vec::new();
    call.visit_text(&mut |t| texts.push(t.to_owned()));
    texts
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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
        let seen = texts_of(&call);
        let mut mutably = Vec::new();
        call.visit_text_mut(&mut |_, t| mutably.push(t.clone()));
        assert!(!seen.is_empty());
        assert_eq!(seen, mutably, "{endpoint:?}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

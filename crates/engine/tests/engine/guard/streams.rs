//! Streamed answers: redacted across chunk boundaries, flowing before they end, ended by
//! a provider error event when a secret would go out, event structure kept.

use super::{
    anthropic_stream, events_of, guard_bytes, openai_stream, pii, pii_guard, pii_redactor,
    provider_stream, reassemble, ANSWER,
};
use crate::support::{pieces, whole_text_redaction, OPENAI_KEY as KEY};
use gateway_engine::detect::Kind;
use gateway_engine::guard::sse::Event;
use gateway_engine::guard::stream::StreamGuard;
use gateway_policy::catalog::Provider;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn streamed_answers_are_redacted_across_chunk_boundaries() {
    let guard = pii_guard();
    let expected = whole_text_redaction(ANSWER, pii());
    for provider in [Provider::Openai, Provider::Anthropic] {
        for delta_size in [1, 4, 11] {
            let deltas = pieces(ANSWER, delta_size);
            let bytes = provider_stream(provider, &deltas);
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
    let guard = pii_redactor();
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
    let guard = pii_guard();
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
    // All of it but the unfinished last word.
    let held = arrived.strip_prefix(&sent).unwrap();
    assert!(
        !sent.is_empty() && !held.contains(char::is_whitespace),
        "sent {} of {}, held {held:?}",
        sent.len(),
        arrived.len()
    );
}

#[test]
fn a_streamed_secret_ends_the_answer_with_a_provider_error_event() {
    let text = format!(
        "{}The key is {KEY} as requested. More text follows here.",
        "Plain words. ".repeat(12)
    );
    let guard = pii_guard();
    for provider in [Provider::Openai, Provider::Anthropic] {
        for delta_size in [2, 9] {
            let deltas = pieces(&text, delta_size);
            let bytes = provider_stream(provider, &deltas);
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
    let guard = pii_redactor();
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
    let guard = pii_guard();
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

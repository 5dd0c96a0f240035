//! Reading usage from streamed answers: OpenAI's final usage chunk (taken out when the
//! caller did not ask for it), Anthropic's cumulative `message_delta`, and counting what
//! was relayed when the stream is cut off.

use gateway_engine::budget::{StreamMeter, Usage};
use gateway_policy::catalog::Provider;
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn event(data: &serde_json::Value) -> String {
    format!("data: {data}\n\n")
}

fn openai_stream(with_usage: bool) -> String {
    let mut out = String::new();
    for word in ["Hello", " there", ", friend"] {
        out +=
            &event(&json!({"choices": [{"index": 0, "delta": {"content": word}}], "usage": null}));
    }
    out += &event(
        &json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null}),
    );
    if with_usage {
        out += &event(
            &json!({"choices": [], "usage": {"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25}}),
        );
    }
    out + "data: [DONE]\n\n"
}

fn anthropic_stream(finished: bool) -> String {
    let mut out = String::from("event: message_start\n");
    out += &event(
        &json!({"type": "message_start", "message": {"usage": {"input_tokens": 30, "cache_read_input_tokens": 10, "output_tokens": 1}}}),
    );
    for word in ["Hello", " there"] {
        out += "event: content_block_delta\n";
        out += &event(
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}),
        );
    }
    if finished {
        out += "event: message_delta\n";
        out += &event(
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}}),
        );
        out += "event: message_delta\n";
        out +=
            &event(&json!({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 12}}));
        out += "event: message_stop\n";
        out += &event(&json!({"type": "message_stop"}));
    }
    out
}

/// The meter's output for `input` fed in `size`-byte chunks, and the meter.
fn run(provider: Provider, caller_asked: bool, input: &str, size: usize) -> (String, StreamMeter) {
    let mut meter = StreamMeter::new(provider, caller_asked);
    let mut out = Vec::new();
    for chunk in input.as_bytes().chunks(size) {
        out.extend(meter.push(chunk));
    }
    out.extend(meter.finish());
    (String::from_utf8(out).unwrap(), meter)
}

#[test]
fn openai_usage_is_read_and_its_chunk_taken_out_unless_the_caller_asked() {
    for size in [1, 5, 64, 4096] {
        let (out, meter) = run(Provider::Openai, false, &openai_stream(true), size);
        assert_eq!(out, openai_stream(false), "chunks of {size}");
        assert!(meter.is_complete());
        assert_eq!(
            meter.usage(999),
            Usage {
                input_tokens: 21,
                output_tokens: 4
            }
        );

        let (out, _) = run(Provider::Openai, true, &openai_stream(true), size);
        assert_eq!(out, openai_stream(true));
    }
}

#[test]
fn a_cut_openai_stream_is_charged_the_input_bound_and_the_relayed_output() {
    let (_, meter) = run(Provider::Openai, false, &openai_stream(false), 7);
    assert!(!meter.is_complete());
    let usage = meter.usage(500);
    assert_eq!(usage.input_tokens, 500);
    // "Hello", " there", ", friend": at least one token each.
    assert!(usage.output_tokens >= 3, "{usage:?}");
}

#[test]
fn anthropic_usage_keeps_the_last_cumulative_output_count() {
    for size in [1, 13, 4096] {
        let (out, meter) = run(Provider::Anthropic, false, &anthropic_stream(true), size);
        assert_eq!(
            out,
            anthropic_stream(true),
            "Anthropic's stream passes unchanged"
        );
        assert_eq!(
            meter.usage(999),
            Usage {
                input_tokens: 40,
                output_tokens: 12
            }
        );
    }
}

#[test]
fn a_cut_anthropic_stream_keeps_the_reported_input_and_counts_the_output() {
    let (_, meter) = run(Provider::Anthropic, false, &anthropic_stream(false), 9);
    let usage = meter.usage(999);
    assert_eq!(usage.input_tokens, 40);
    assert!(usage.output_tokens >= 2, "{usage:?}");
}

#[test]
fn an_unfinished_last_event_is_passed_on_when_the_stream_ends() {
    let input = format!("{}data: {{\"choices\": [", openai_stream(false));
    let (out, _) = run(Provider::Openai, false, &input, 3);
    assert_eq!(out, input);
}

#[test]
fn tool_call_arguments_count_as_output() {
    let stream = event(&json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"name": "lookup", "arguments": "{\"city\": \"Paris, France\"}"}}
    ]}}]}));
    let (_, meter) = run(Provider::Openai, false, &stream, 4096);
    assert!(meter.usage(0).output_tokens >= 5);
}

//! OpenAI chat completions: content strings and parts, tool round trips, output limits,
//! the stream flag, tools and legacy functions, and malformed messages and models.

use super::{ids, invalid, parse_err, with_fields, COUNT_EXPECTED, MESSAGES_EXPECTED};
use crate::support::{parse, parse_ok, prose, PNG_BASE64};
use gateway_engine::tokens;
use gateway_engine::{CallError, Endpoint};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn openai_chat_with_string_content() {
    let call = parse_ok(
        Endpoint::ChatCompletions,
        &json!({
            "model": "gpt-4o-mini",
            "messages": [
                { "role": "system", "content": "You are terse." },
                { "role": "user", "content": "Say hi" }
            ]
        }),
    );
    assert_eq!(call.endpoint, Endpoint::ChatCompletions);
    assert_eq!(call.model, "gpt-4o-mini");
    assert!(!call.stream);
    assert_eq!(call.max_output_tokens, None);
    assert!(!call.tools_present);
    assert_eq!(call.message_count, 2);
    assert_eq!(prose(&call), ["You are terse.", "Say hi"]);
    // Estimates per text: 4 (three words and a full stop), 2; the roles; 4 per message.
    assert_eq!(call.estimated_input_tokens(), 4 + 2 + ids(&call) + 2 * 4);
}

#[test]
fn openai_content_parts_count_images_and_audio_by_size() {
    let call = parse_ok(
        Endpoint::ChatCompletions,
        &json!({
            "model": "gpt-4o",
            "messages": [{
                "role": "user",
                "content": [
                    { "type": "text", "text": "What is in this image?" },
                    {
                        "type": "image_url",
                        "image_url": { "url": format!("data:image/png;base64,{PNG_BASE64}"), "detail": "low" }
                    },
                    { "type": "text", "text": "And this one?" },
                    { "type": "image_url", "image_url": { "url": "https://example.com/cat.jpg" } },
                    { "type": "input_audio", "input_audio": { "data": "UklGRiQAAABXQVZFZm10IBAAAAABAAEA", "format": "wav" } }
                ]
            }],
            "max_tokens": 300
        }),
    );
    assert_eq!(call.message_count, 1);
    assert_eq!(
        prose(&call),
        [
            "What is in this image?",
            "And this one?",
            "https://example.com/cat.jpg"
        ]
    );
    // Estimates per text: 6, 4; the inline image by size (at least 85); the image the
    // provider fetches, as its URL plus 1,600; the audio by size (24 bytes: 2); roles,
    // block types and formats; one message → 4.
    let url = tokens::estimate("https://example.com/cat.jpg");
    assert_eq!(
        call.estimated_input_tokens(),
        6 + 4 + 85 + url + 1_600 + 2 + ids(&call) + 4
    );
    assert_eq!(call.max_output_tokens, Some(300));
}

#[test]
fn openai_tool_round_trip_visits_arguments_and_tool_results() {
    let call = parse_ok(
        Endpoint::ChatCompletions,
        &json!({
            "model": "gpt-4o",
            "messages": [
                { "role": "user", "content": "What's the weather in Paris?" },
                {
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [{
                        "id": "call_abc",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"
                        }
                    }]
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_abc",
                    "content": "{\"temperature\":18,\"condition\":\"light rain\"}"
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_def",
                    "content": [{ "type": "text", "text": "humidity 80%" }]
                }
            ],
            "tools": [{
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the current weather for a city",
                    "parameters": { "type": "object", "properties": { "city": { "type": "string" } } }
                }
            }],
            "tool_choice": "auto"
        }),
    );
    assert!(call.tools_present);
    assert_eq!(call.message_count, 4);
    assert_eq!(
        prose(&call),
        [
            "What's the weather in Paris?",
            "get_weather",
            r#"{"city":"Paris","unit":"celsius"}"#,
            r#"{"temperature":18,"condition":"light rain"}"#,
            "humidity 80%",
            // The tool definition's strings, then the tool choice, in source order (the
            // JSON-schema `type`s are enums, counted with the ids).
            "get_weather",
            "Get the current weather for a city",
            "auto",
        ]
    );
    // Estimates per text (`engine::tokens::estimate`): 9, 4, 11 (JSON punctuation), 14, 5,
    // then the tool: 4, 8; the choice: 1; ids and enums; and 4 messages × 4.
    assert_eq!(
        call.estimated_input_tokens(),
        9 + 4 + 11 + 14 + 5 + (4 + 8) + 1 + ids(&call) + 16
    );
}

#[test]
fn either_output_limit_is_read_and_both_must_agree() {
    let with = |extra: Value| {
        let body = json!({
            "model": "o3-mini",
            "messages": [{ "role": "developer", "content": "Think step by step." }]
        });
        parse_ok(Endpoint::ChatCompletions, &with_fields(body, extra)).max_output_tokens
    };
    assert_eq!(with(json!({})), None);
    assert_eq!(with(json!({ "max_tokens": 300 })), Some(300));
    assert_eq!(with(json!({ "max_completion_tokens": 500 })), Some(500));
    assert_eq!(
        with(json!({ "max_completion_tokens": 500, "max_tokens": 500 })),
        Some(500)
    );
    let both = json!({"model":"o3-mini","messages":[{"role":"user","content":"x"}],
        "max_completion_tokens":500,"max_tokens":300});
    assert_eq!(
        parse_err(Endpoint::ChatCompletions, &both).param(),
        Some("max_tokens"),
        "two different limits are ambiguous"
    );
    assert_eq!(
        with(json!({ "max_completion_tokens": null, "max_tokens": 300 })),
        Some(300)
    );
    assert_eq!(
        with(json!({ "max_tokens": null, "max_completion_tokens": null })),
        None
    );
    assert_eq!(with(json!({ "max_tokens": 0 })), Some(0));
    assert_eq!(
        with(json!({ "max_tokens": u64::MAX })),
        Some(u64::MAX),
        "the full u64 range is read; clamping is the decision's business"
    );
}

#[test]
fn malformed_output_caps_are_refused_with_their_field() {
    let body = |field: &str, value: Value| {
        let mut body =
            json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }] });
        body[field] = value;
        body
    };
    for (field, value) in [
        ("max_tokens", json!(-1)),
        ("max_tokens", json!(1.5)),
        ("max_tokens", json!(1024.0)),
        ("max_tokens", json!("1024")),
        ("max_completion_tokens", json!("512")),
        ("max_completion_tokens", json!(-100)),
        ("max_completion_tokens", json!(true)),
    ] {
        let error = parse_err(Endpoint::ChatCompletions, &body(field, value.clone()));
        let expected_field = if field == "max_tokens" {
            "max_tokens"
        } else {
            "max_completion_tokens"
        };
        assert_eq!(
            error,
            invalid(expected_field, COUNT_EXPECTED),
            "{field}: {value}"
        );
        assert_eq!(error.param(), Some(expected_field));
    }
    // Both limits are read, whichever is set.
    let mut both = body("max_completion_tokens", json!(100));
    both["max_tokens"] = json!(-1);
    assert_eq!(
        parse_err(Endpoint::ChatCompletions, &both),
        invalid("max_tokens", COUNT_EXPECTED)
    );
}

#[test]
fn stream_flag() {
    let with = |stream: Value| {
        parse(
            Endpoint::ChatCompletions,
            &json!({
                "model": "gpt-4o-mini",
                "messages": [{ "role": "user", "content": "hi" }],
                "stream": stream,
                "stream_options": { "include_usage": true }
            }),
        )
    };
    assert!(with(json!(true)).unwrap().stream);
    assert!(!with(json!(false)).unwrap().stream);
    assert!(!with(Value::Null).unwrap().stream);
    assert_eq!(
        with(json!("true")).unwrap_err(),
        invalid("stream", "a boolean")
    );
    assert_eq!(with(json!(1)).unwrap_err(), invalid("stream", "a boolean"));
}

#[test]
fn tools_and_legacy_functions() {
    let with = |extra: Value| {
        let body = json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": "hi" }] });
        parse(Endpoint::ChatCompletions, &with_fields(body, extra))
    };
    let tool = json!({ "type": "function", "function": { "name": "f", "parameters": {} } });
    let function = json!({ "name": "f", "parameters": {} });

    assert!(!with(json!({})).unwrap().tools_present);
    assert!(with(json!({ "tools": [tool] })).unwrap().tools_present);
    assert!(
        with(json!({ "functions": [function] }))
            .unwrap()
            .tools_present
    );
    assert!(
        with(json!({ "tools": [], "functions": [function] }))
            .unwrap()
            .tools_present
    );
    assert!(
        !with(json!({ "tools": [], "functions": [] }))
            .unwrap()
            .tools_present
    );
    assert!(
        !with(json!({ "tools": null, "functions": null }))
            .unwrap()
            .tools_present
    );
    assert_eq!(
        with(json!({ "tools": { "type": "function" } })).unwrap_err(),
        invalid("tools", "an array of objects")
    );
    assert_eq!(
        with(json!({ "functions": "f" })).unwrap_err(),
        invalid("functions", "an array of objects")
    );
}

#[test]
fn malformed_messages_are_refused() {
    let with = |messages: Value| {
        parse(
            Endpoint::ChatCompletions,
            &json!({ "model": "gpt-4o-mini", "messages": messages, "max_tokens": 10 }),
        )
    };
    assert_eq!(
        with(Value::Null).unwrap_err(),
        CallError::Missing("messages")
    );
    for messages in [
        json!("hello"),
        json!([]),
        json!({ "role": "user", "content": "hi" }),
        json!([{ "content": "no role" }]),
        json!([{ "role": "user", "content": "ok" }, { "role": 1, "content": "numeric role" }]),
        json!(["hello"]),
    ] {
        assert_eq!(
            with(messages.clone()).unwrap_err(),
            invalid("messages", MESSAGES_EXPECTED),
            "{messages}"
        );
    }
    let missing = parse_err(
        Endpoint::ChatCompletions,
        &json!({ "model": "gpt-4o-mini" }),
    );
    assert_eq!(missing, CallError::Missing("messages"));
    assert_eq!(missing.to_string(), "`messages` is required");
    assert_eq!(missing.param(), Some("messages"));
}

#[test]
fn the_model_must_be_a_non_empty_string() {
    let with = |model: Value| {
        parse(
            Endpoint::ChatCompletions,
            &json!({ "model": model, "messages": [{ "role": "user", "content": "hi" }] }),
        )
    };
    assert_eq!(with(Value::Null).unwrap_err(), CallError::Missing("model"));
    let non_empty = invalid("model", "a non-empty string");
    for model in [json!(""), json!("   "), json!(4), json!(["gpt-4o"])] {
        assert_eq!(with(model.clone()).unwrap_err(), non_empty, "{model}");
    }
    assert_eq!(non_empty.to_string(), "`model` must be a non-empty string");
    // The model is read before anything endpoint-specific.
    assert_eq!(
        parse_err(Endpoint::Messages, &json!({})),
        CallError::Missing("model")
    );
    assert_eq!(
        parse_err(Endpoint::Embeddings, &json!({ "input": "x" })),
        CallError::Missing("model")
    );
    // Whitespace around a real id is not trimmed away: routing sees it as sent.
    assert_eq!(with(json!(" gpt-4o ")).unwrap().model, " gpt-4o ");
}

//! Anthropic messages: system prompts as text or blocks, tool use and tool results,
//! the required output cap, and malformed system prompts and tools.

use super::{ids, invalid, parse_err, with_fields, COUNT_EXPECTED};
use crate::support::{parse, parse_ok, prose, PNG_BASE64};
use gateway_engine::{CallError, Endpoint};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn anthropic_with_a_string_system_prompt() {
    let call = parse_ok(
        Endpoint::Messages,
        &json!({
            "model": "claude-sonnet-4",
            "max_tokens": 1024,
            "system": "You are a poet.",
            "messages": [{ "role": "user", "content": "Write a haiku about rust." }]
        }),
    );
    assert_eq!(call.endpoint, Endpoint::Messages);
    assert_eq!(call.model, "claude-sonnet-4");
    assert_eq!(call.max_output_tokens, Some(1024));
    assert_eq!(call.message_count, 1, "the system prompt is not a message");
    assert!(!call.stream);
    assert!(!call.tools_present);
    assert_eq!(
        prose(&call),
        ["You are a poet.", "Write a haiku about rust."]
    );
    // Estimates per text: 5, 7; the role; one message → 4.
    assert_eq!(call.estimated_input_tokens(), 5 + 7 + ids(&call) + 4);
}

#[test]
fn anthropic_with_system_blocks() {
    let call = parse_ok(
        Endpoint::Messages,
        &json!({
            "model": "claude-3-5-haiku",
            "max_tokens": 256,
            "stream": true,
            "system": [
                { "type": "text", "text": "You are a poet.", "cache_control": { "type": "ephemeral" } },
                { "type": "text", "text": "Answer in English." }
            ],
            "messages": [
                { "role": "user", "content": [{ "type": "text", "text": "Describe this:" },
                    { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": PNG_BASE64 } }] }
            ]
        }),
    );
    assert!(call.stream);
    assert_eq!(
        prose(&call),
        ["You are a poet.", "Answer in English.", "Describe this:"]
    );
    // Estimates per text: 5, 5, 4; the image by size (at least 85); roles and block types;
    // one message → 4.
    assert_eq!(
        call.estimated_input_tokens(),
        5 + 5 + 4 + 85 + ids(&call) + 4
    );
}

#[test]
fn anthropic_tool_use_and_tool_result_blocks() {
    let call = parse_ok(
        Endpoint::Messages,
        &json!({
            "model": "claude-sonnet-4",
            "max_tokens": 2048,
            "tools": [{
                "name": "get_weather",
                "description": "Current weather for a city",
                "input_schema": { "type": "object", "properties": { "city": { "type": "string" } } }
            }],
            "tool_choice": { "type": "auto" },
            "messages": [
                { "role": "user", "content": "What's the weather in Paris?" },
                {
                    "role": "assistant",
                    "content": [
                        { "type": "text", "text": "Let me check." },
                        {
                            "type": "tool_use",
                            "id": "toolu_01",
                            "name": "get_weather",
                            "input": { "city": "Paris", "days": 3, "units": ["celsius"] }
                        }
                    ]
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_01",
                            "content": [
                                { "type": "text", "text": "18°C, light rain" },
                                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": PNG_BASE64 } }
                            ]
                        },
                        { "type": "tool_result", "tool_use_id": "toolu_02", "content": "ok", "is_error": false },
                        { "type": "text", "text": "Thanks!" }
                    ]
                }
            ]
        }),
    );
    assert!(call.tools_present);
    assert_eq!(call.message_count, 3);
    assert_eq!(
        prose(&call),
        [
            // Every string in source order: the tool definition first.
            "get_weather",
            "Current weather for a city",
            "What's the weather in Paris?",
            "Let me check.",
            "get_weather",
            "Paris",
            "celsius",
            "18°C, light rain",
            "ok",
            "Thanks!",
        ]
    );
    // Estimates per text: the tool: 4, 6; then 9, 4, 4, 2, 2, "18°C, light rain" → 6 (the
    // digits, the degree sign, the comma and two words), 1, 3; the image by size (85);
    // ids and enums; and 3 messages × 4.
    assert_eq!(
        call.estimated_input_tokens(),
        (4 + 6) + 9 + 4 + 4 + 2 + 2 + 6 + 1 + 3 + 85 + ids(&call) + 12
    );
}

#[test]
fn anthropic_requires_max_tokens() {
    let with = |extra: Value| {
        let body = json!({
            "model": "claude-sonnet-4",
            "messages": [{ "role": "user", "content": "hi" }]
        });
        parse(Endpoint::Messages, &with_fields(body, extra))
    };
    let missing = with(json!({})).unwrap_err();
    assert_eq!(missing, CallError::Missing("max_tokens"));
    assert_eq!(missing.to_string(), "`max_tokens` is required");
    assert_eq!(
        with(json!({ "max_tokens": null })).unwrap_err(),
        CallError::Missing("max_tokens")
    );
    // Anthropic has no `max_completion_tokens`: it is an unknown field, refused.
    assert_eq!(
        with(json!({ "max_completion_tokens": 100 })).unwrap_err(),
        CallError::Unsupported("max_completion_tokens".to_owned())
    );
    for bad in [json!(-5), json!(1.5), json!("100")] {
        assert_eq!(
            with(json!({ "max_tokens": bad.clone() })).unwrap_err(),
            invalid("max_tokens", COUNT_EXPECTED),
            "{bad}"
        );
    }
    assert_eq!(
        with(json!({ "max_tokens": 64000 }))
            .unwrap()
            .max_output_tokens,
        Some(64000)
    );
    // Messages are checked before the output cap.
    assert_eq!(
        parse_err(Endpoint::Messages, &json!({ "model": "claude-sonnet-4" })),
        CallError::Missing("messages")
    );
}

#[test]
fn anthropic_system_must_be_text_or_blocks_and_tools_an_array() {
    let with = |extra: Value| {
        let body = json!({
            "model": "claude-sonnet-4",
            "max_tokens": 100,
            "messages": [{ "role": "user", "content": "hi" }]
        });
        parse(Endpoint::Messages, &with_fields(body, extra))
    };
    let system_expected = invalid("system", "a string or an array of content blocks");
    assert_eq!(
        with(json!({ "system": { "text": "be brief" } })).unwrap_err(),
        system_expected
    );
    assert_eq!(with(json!({ "system": 7 })).unwrap_err(), system_expected);
    assert!(with(json!({ "system": null })).is_ok());
    assert_eq!(
        with(json!({ "tools": "get_weather" })).unwrap_err(),
        invalid("tools", "an array of objects")
    );
    assert!(!with(json!({ "tools": [] })).unwrap().tools_present);
    // OpenAI's legacy `functions` means nothing to Anthropic: an unknown field, refused.
    assert_eq!(
        with(json!({ "functions": [{ "name": "f" }] })).unwrap_err(),
        CallError::Unsupported("functions".to_owned())
    );
}

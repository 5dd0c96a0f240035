//! Normalisation of SDK wire bodies into `LlmCall`: OpenAI chat completions and
//! embeddings, Anthropic messages, the texts a guard would scan, token estimates, the
//! body forwarded upstream, and refusals of malformed input.

use gateway_engine::tokens;
use gateway_engine::wire::Slot;
use gateway_engine::{CallError, Endpoint, LlmCall};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn parse(endpoint: Endpoint, body: &Value) -> Result<LlmCall, CallError> {
    LlmCall::parse(endpoint, &serde_json::to_vec(body).unwrap())
}

fn parse_ok(endpoint: Endpoint, body: &Value) -> LlmCall {
    parse(endpoint, body).unwrap_or_else(|e| panic!("{body} should normalise: {e}"))
}

fn parse_err(endpoint: Endpoint, body: &Value) -> CallError {
    match parse(endpoint, body) {
        Ok(call) => panic!("{body} should be refused, normalised to {call:?}"),
        Err(e) => e,
    }
}

/// The prose the caller sent (ids, enums, media and the model name left out).
fn texts(call: &LlmCall) -> Vec<String> {
    let mut seen = Vec::new();
    call.visit_slots(&mut |slot, text| {
        if slot.is_prose() {
            seen.push(text.to_owned())
        }
    });
    seen
}

/// Tokens of the ids and enums the caller sent (roles, block types, formats): they are
/// counted like text.
fn ids(call: &LlmCall) -> u64 {
    let mut total = 0;
    call.visit_slots(&mut |slot, text| {
        if slot == Slot::Identifier {
            total += tokens::estimate(text)
        }
    });
    total
}

fn invalid(field: &'static str, expected: &'static str) -> CallError {
    CallError::Invalid { field, expected }
}

const MESSAGES_EXPECTED: &str = "a non-empty array of messages, each with a string `role`";
const INPUT_EXPECTED: &str = "a string, an array of strings, or token arrays";
const COUNT_EXPECTED: &str = "a non-negative integer";

// A 1×1 PNG, as SDKs inline images.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

// ---------------------------------------------------------------------------------------
// Endpoints

#[test]
fn endpoints_map_paths_to_actions_wire_formats_and_upstream_paths() {
    use gateway_policy::catalog::Provider;
    let table = [
        (
            "/v1/chat/completions",
            Endpoint::ChatCompletions,
            "chat.completion",
            Provider::Openai,
            "/chat/completions",
        ),
        (
            "/v1/embeddings",
            Endpoint::Embeddings,
            "embedding",
            Provider::Openai,
            "/embeddings",
        ),
        (
            "/v1/messages",
            Endpoint::Messages,
            "message",
            Provider::Anthropic,
            "/messages",
        ),
    ];
    for (path, endpoint, action, provider, upstream) in table {
        assert_eq!(Endpoint::from_path(path), Some(endpoint));
        assert_eq!(endpoint.action(), action);
        assert_eq!(endpoint.wire_format(), provider);
        assert_eq!(endpoint.upstream_path(), upstream);
    }
    for path in [
        "/v1/completions",
        "/v1/chat/completions/",
        "/chat/completions",
        "/v1/Messages",
        "",
    ] {
        assert_eq!(Endpoint::from_path(path), None, "{path:?}");
    }
}

// ---------------------------------------------------------------------------------------
// OpenAI chat completions

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
    assert_eq!(texts(&call), ["You are terse.", "Say hi"]);
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
        texts(&call),
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
        texts(&call),
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
        let mut body = json!({
            "model": "o3-mini",
            "messages": [{ "role": "developer", "content": "Think step by step." }]
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse_ok(Endpoint::ChatCompletions, &body).max_output_tokens
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
        let mut body =
            json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": "hi" }] });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(Endpoint::ChatCompletions, &body)
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

// ---------------------------------------------------------------------------------------
// OpenAI embeddings

#[test]
fn embeddings_of_one_string() {
    let call = parse_ok(
        Endpoint::Embeddings,
        &json!({
            "model": "text-embedding-3-small",
            "input": "The food was delicious and the waiter was friendly.",
            "encoding_format": "float"
        }),
    );
    assert_eq!(call.endpoint, Endpoint::Embeddings);
    assert_eq!(call.message_count, 1);
    assert_eq!(call.max_output_tokens, None);
    assert!(!call.stream);
    assert!(!call.tools_present);
    assert_eq!(
        texts(&call),
        ["The food was delicious and the waiter was friendly."]
    );
    // Nine words and a full stop → 13 tokens (long words cost more), the encoding format,
    // plus 4 for the input.
    assert_eq!(call.estimated_input_tokens(), 13 + ids(&call) + 4);
}

#[test]
fn embeddings_of_an_array_of_strings() {
    let call = parse_ok(
        Endpoint::Embeddings,
        &json!({
            "model": "text-embedding-3-large",
            "input": ["first document", "second document here", ""],
            "dimensions": 256
        }),
    );
    assert_eq!(call.message_count, 3);
    assert_eq!(texts(&call), ["first document", "second document here", ""]);
    // Two words → 3, three words → 5, nothing → 0, and 3 inputs × 4.
    assert_eq!(call.estimated_input_tokens(), 3 + 5 + 12);
}

#[test]
fn embeddings_of_one_token_id_array_count_each_id() {
    let call = parse_ok(
        Endpoint::Embeddings,
        &json!({ "model": "text-embedding-3-small", "input": [9906, 1917, 0, 100256] }),
    );
    assert_eq!(call.message_count, 1, "a flat id array is one input");
    assert!(texts(&call).is_empty(), "token ids are not text");
    assert_eq!(call.estimated_input_tokens(), 4 + 4);
}

#[test]
fn embeddings_of_token_id_arrays_count_every_id() {
    let call = parse_ok(
        Endpoint::Embeddings,
        &json!({
            "model": "text-embedding-3-small",
            "input": [[9906, 1917], [15339, 1070, 3723], [1]]
        }),
    );
    assert_eq!(call.message_count, 3);
    assert!(texts(&call).is_empty());
    // 2 + 3 + 1 ids and 3 inputs × 4.
    assert_eq!(call.estimated_input_tokens(), 6 + 12);
}

#[test]
fn malformed_embedding_inputs_are_refused() {
    let with = |input: Value| {
        parse(
            Endpoint::Embeddings,
            &json!({ "model": "text-embedding-3-small", "input": input }),
        )
    };
    assert_eq!(with(Value::Null).unwrap_err(), CallError::Missing("input"));
    assert_eq!(
        parse_err(
            Endpoint::Embeddings,
            &json!({ "model": "text-embedding-3-small" })
        ),
        CallError::Missing("input")
    );
    for input in [
        json!([]),
        json!({ "text": "hello" }),
        json!(42),
        json!(true),
        json!([["not", "ids"]]),
        json!([[1, 2], [3, "4"]]),
        json!([true]),
        json!([null]),
        json!([{ "text": "hello" }]),
    ] {
        assert_eq!(
            with(input.clone()).unwrap_err(),
            invalid("input", INPUT_EXPECTED),
            "{input}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Anthropic messages

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
        texts(&call),
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
        texts(&call),
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
        texts(&call),
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
        let mut body = json!({
            "model": "claude-sonnet-4",
            "messages": [{ "role": "user", "content": "hi" }]
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(Endpoint::Messages, &body)
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
        let mut body = json!({
            "model": "claude-sonnet-4",
            "max_tokens": 100,
            "messages": [{ "role": "user", "content": "hi" }]
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(Endpoint::Messages, &body)
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

// ---------------------------------------------------------------------------------------
// The body forwarded upstream

#[test]
fn openai_options_survive_and_the_model_becomes_the_upstream_name() {
    let original = json!({
        "model": "gpt-4o-mini",
        "messages": [{ "role": "user", "content": "Reply in JSON." }],
        "temperature": 0.7,
        "top_p": 0.9,
        "n": 1,
        "seed": 9_007_199_254_740_993_u64,
        "logit_bias": { "50256": -100 },
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "strict": true,
                "schema": { "type": "object", "properties": { "answer": { "type": "string" } } }
            }
        },
        "metadata": { "ticket": "T-1234" },
        "store": false,
        "user": "user-42"
    });
    let mut call = parse_ok(Endpoint::ChatCompletions, &original);
    assert_eq!(call.body().get("temperature"), Some(&json!(0.7)));

    let forwarded: Value =
        serde_json::from_slice(&call.upstream_body("gpt-4o-mini-2024-07-18").unwrap()).unwrap();
    let mut expected = original.clone();
    expected["model"] = json!("gpt-4o-mini-2024-07-18");
    assert_eq!(forwarded, expected);
    // Integers beyond 2^53 are forwarded exactly, not through a float.
    assert_eq!(forwarded["seed"].as_u64(), Some(9_007_199_254_740_993));
    // The call still names the caller's catalog id; forwarding twice is stable.
    assert_eq!(call.model, "gpt-4o-mini");
    let again: Value =
        serde_json::from_slice(&call.upstream_body("gpt-4o-mini-2024-07-18").unwrap()).unwrap();
    assert_eq!(again, expected);
}

#[test]
fn anthropic_options_survive_and_the_model_becomes_the_upstream_name() {
    let original = json!({
        "model": "claude-sonnet-4",
        "max_tokens": 4096,
        "thinking": { "type": "enabled", "budget_tokens": 2048 },
        "top_k": 40,
        "stop_sequences": ["\n\nHuman:"],
        "metadata": { "user_id": "4f1c2a" },
        "system": [{ "type": "text", "text": "Be brief.", "cache_control": { "type": "ephemeral" } }],
        "messages": [{ "role": "user", "content": "Plan a trip to Kyoto." }]
    });
    let mut call = parse_ok(Endpoint::Messages, &original);
    let forwarded: Value =
        serde_json::from_slice(&call.upstream_body("claude-sonnet-4-20250514").unwrap()).unwrap();
    let mut expected = original;
    expected["model"] = json!("claude-sonnet-4-20250514");
    assert_eq!(forwarded, expected);
}

#[test]
fn embedding_options_survive_upstream() {
    let original = json!({
        "model": "text-embedding-3-large",
        "input": ["a", "b"],
        "dimensions": 256,
        "encoding_format": "base64",
        "user": "user-7"
    });
    let mut call = parse_ok(Endpoint::Embeddings, &original);
    let forwarded: Value =
        serde_json::from_slice(&call.upstream_body("text-embedding-3-large").unwrap()).unwrap();
    assert_eq!(forwarded, original);
}

// ---------------------------------------------------------------------------------------
// Bodies that are not JSON objects, or are hostile

#[test]
fn invalid_json_is_a_json_error() {
    for (bytes, fragment) in [
        (&b""[..], "EOF while parsing a value at line 1 column 0"),
        (
            b"{\"model\": \"gpt-4o\",",
            "EOF while parsing a value at line 1 column 19",
        ),
        (b"{'model': 'gpt-4o'}", "key must be a string"),
        (
            b"{\"model\": \"gpt-4o\"} trailing",
            "trailing characters at line 1 column 21",
        ),
        (
            b"model=gpt-4o&stream=true",
            "expected value at line 1 column 1",
        ),
    ] {
        match LlmCall::parse(Endpoint::ChatCompletions, bytes) {
            Err(CallError::Json(message)) => assert!(
                message.contains(fragment),
                "{:?}: `{message}` lacks `{fragment}`",
                String::from_utf8_lossy(bytes)
            ),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }
    let error = CallError::Json("x".to_owned());
    assert_eq!(error.to_string(), "request body is not valid JSON: x");
    assert_eq!(error.param(), None);
}

#[test]
fn invalid_utf8_is_a_json_error() {
    // A Latin-1 "é" (0xE9) inside a string, as a misconfigured client would send it.
    let bytes =
        b"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xe9\"}]}";
    match LlmCall::parse(Endpoint::ChatCompletions, bytes) {
        Err(CallError::Json(message)) => {
            assert!(message.contains("invalid unicode code point"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // A lone continuation byte in the model name.
    let bytes = b"{\"model\":\"gpt-4o\x80\",\"input\":\"x\"}";
    assert!(matches!(
        LlmCall::parse(Endpoint::Embeddings, bytes),
        Err(CallError::Json(_))
    ));
}

#[test]
fn bodies_that_are_not_objects_are_refused() {
    for body in [
        &b"[]"[..],
        b"[{\"model\":\"gpt-4o\"}]",
        b"\"gpt-4o\"",
        b"null",
        b"42",
        b"true",
    ] {
        for endpoint in [
            Endpoint::ChatCompletions,
            Endpoint::Embeddings,
            Endpoint::Messages,
        ] {
            assert_eq!(
                LlmCall::parse(endpoint, body),
                Err(CallError::NotAnObject),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
    assert_eq!(
        CallError::NotAnObject.to_string(),
        "request body must be a JSON object"
    );
}

#[test]
fn nesting_beyond_the_recursion_limit_is_an_error_not_a_crash() {
    let depth = 100_000;
    let body = format!(
        "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":{}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    match LlmCall::parse(Endpoint::ChatCompletions, body.as_bytes()) {
        Err(CallError::Json(message)) => {
            assert!(message.contains("recursion limit exceeded"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Objects nest the same way.
    let body = format!(
        "{{\"model\":\"gpt-4o-mini\",\"input\":{}1{}}}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    assert!(matches!(
        LlmCall::parse(Endpoint::Embeddings, body.as_bytes()),
        Err(CallError::Json(m)) if m.contains("recursion limit exceeded")
    ));
}

#[test]
fn deep_tool_input_within_the_limit_is_visited() {
    // 100 levels of objects inside a tool_use input: under serde's limit of 128.
    let mut input = json!("deep secret");
    for _ in 0..100 {
        input = json!({ "next": input });
    }
    let call = parse_ok(
        Endpoint::Messages,
        &json!({
            "model": "claude-sonnet-4",
            "max_tokens": 100,
            "messages": [{
                "role": "assistant",
                "content": [{ "type": "tool_use", "id": "toolu_1", "name": "t", "input": input }]
            }]
        }),
    );
    // The tool's name, then the string 100 levels down.
    assert_eq!(texts(&call), ["t", "deep secret"]);
}

#[test]
fn a_huge_single_line_body_is_parsed_and_estimated() {
    let content = "a".repeat(4 * 1024 * 1024);
    let body = format!(
        "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"{content}\"}}],\"max_tokens\":10}}"
    );
    let call = LlmCall::parse(Endpoint::ChatCompletions, body.as_bytes()).unwrap();
    assert_eq!(call.message_count, 1);
    // One run of 4 MiB letters: a quarter of a token per letter beyond the first few; the
    // role; one message.
    assert_eq!(call.estimated_input_tokens(), 1024 * 1024 + ids(&call) + 4);

    // The same line cut short: an error naming the position, not a panic.
    let cut = &body.as_bytes()[..body.len() - 20];
    match LlmCall::parse(Endpoint::ChatCompletions, cut) {
        Err(CallError::Json(message)) => {
            assert!(message.contains("EOF while parsing"), "{message}");
            assert!(message.contains("line 1 column"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

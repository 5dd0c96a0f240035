//! Bodies that are not JSON objects, or are hostile: invalid JSON and UTF-8, deep
//! nesting, a huge single line.

use super::ids;
use crate::support::{parse_ok, prose};
use gateway_engine::{CallError, Endpoint, LlmCall};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

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
    assert_eq!(prose(&call), ["t", "deep secret"]);
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

//! OpenAI embeddings: a string, an array of strings, token id arrays, and malformed inputs.

use super::{ids, invalid, parse_err, INPUT_EXPECTED};
use crate::support::{parse, parse_ok, prose};
use gateway_engine::{CallError, Endpoint};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

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
        prose(&call),
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
    assert_eq!(prose(&call), ["first document", "second document here", ""]);
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
    assert!(prose(&call).is_empty(), "token ids are not text");
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
    assert!(prose(&call).is_empty());
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

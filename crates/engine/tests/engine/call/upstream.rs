//! The body forwarded upstream: every option kept, the model renamed to the upstream one.

use crate::support::parse_ok;
use gateway_engine::Endpoint;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

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

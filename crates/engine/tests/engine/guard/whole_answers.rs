//! Whole (non-streamed) answers: redacted in place, blocked on a secret, relayed byte for
//! byte when clean, refused when unreadable.

use super::{pii, pii_guard, ANSWER};
use crate::support::{whole_text_redaction, OPENAI_KEY as KEY};
use gateway_engine::detect::Kind;
use gateway_engine::guard::body::{self, Checked};
use gateway_policy::catalog::Provider;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn a_whole_openai_answer_is_redacted_in_place() {
    let answer = json!({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",
        "choices":[{"index":0,"message":{"role":"assistant","content":ANSWER,"refusal":null},
                    "logprobs":{"content":[{"token":"jane","logprob":-0.1}]},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":5,"completion_tokens":50,"total_tokens":55}});
    let guard = pii_guard();
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
    let guard = pii_guard();
    let (checked, report) = body::check(&guard, Provider::Anthropic, answer.to_string().as_bytes());
    assert_eq!(checked, Checked::Blocked);
    assert_eq!(report.blocked, Some(Kind::OpenaiKey));
}

#[test]
fn a_clean_whole_answer_is_relayed_byte_for_byte_and_one_not_json_refused() {
    let answer =
        br#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"All fine."}]}"#;
    let guard = pii_guard();
    assert_eq!(
        body::check(&guard, Provider::Anthropic, answer).0,
        Checked::Unchanged
    );
    assert_eq!(
        body::check(&guard, Provider::Openai, b"not json").0,
        Checked::Unreadable
    );
}

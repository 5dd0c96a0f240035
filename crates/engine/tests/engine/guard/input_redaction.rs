//! Input redaction (`LlmCall::redact`): every string the detectors read is rewritten in
//! the body forwarded upstream.

use crate::support::prose;
use gateway_engine::detect::KindSet;
use gateway_engine::{Endpoint, LlmCall};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
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
        let mut seen = Vec::new();
        call.visit_text(&mut |t| seen.push(t.to_owned()));
        let mut mutably = Vec::new();
        call.visit_text_mut(&mut |_, t| mutably.push(t.clone()));
        assert!(!seen.is_empty());
        assert_eq!(seen, mutably, "{endpoint:?}");
    }
}

#[test]
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
    let texts = prose(&call);
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

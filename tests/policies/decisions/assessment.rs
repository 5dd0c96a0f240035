//! The assessment a decision carries (cost and detector kinds, never text), and a
//! permit's obligations applied to the forwarded call.

use crate::support::{decide_call, principal};
use gateway_engine::decision::Decision;
use gateway_engine::{Endpoint, LlmCall};
use gateway_policy::Tier;
use llm_policy_gateway::embedded;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn the_assessment_reports_cost_and_detector_kinds_never_text() {
    let bundle = embedded::load().unwrap();
    let body = json!({
        "model": "gpt-4o-mini",
        "max_tokens": 1000,
        "messages": [{ "role": "user", "content": "Mail jane.doe@example.com the key AKIAIOSFODNN7EXAMPLE" }]
    });
    let caller = principal("priya", "platform", "acme", &[], Tier::Enterprise);
    let (decision, _) = decide_call(&bundle, &caller, Endpoint::ChatCompletions, &body);
    let assessment = &decision.assessment;
    assert_eq!(assessment.max_output_tokens, 1000);
    assert_eq!(assessment.pii_kinds, ["email"]);
    assert_eq!(assessment.secret_kinds, ["aws_access_key"]);
    // gpt-4o-mini: $0.15 in, $0.60 out per million tokens, so micro-USD = tokens × price.
    let expected = (assessment.estimated_input_tokens as f64 * 0.15 + 1000.0 * 0.6).ceil() as u64;
    assert_eq!(assessment.estimated_cost_micro_usd, expected);
    assert_eq!(decision.policy_ids(), ["no-secrets-upstream"]);
    let text = serde_json::to_string(&decision).unwrap();
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE") && !text.contains("jane.doe"));
}

/// Decides a messages request by a free-tier caller in the support team.
fn support_call(body: Value) -> (Decision, LlmCall) {
    let bundle = embedded::load().unwrap();
    let caller = principal("sam", "support", "acme", &[], Tier::Free);
    decide_call(&bundle, &caller, Endpoint::Messages, &body)
}

#[test]
fn a_permit_with_an_obligation_caps_the_forwarded_output_tokens() {
    let (decision, mut call) = support_call(json!({
        "model": "claude-3-5-haiku",
        "max_tokens": 900,
        "messages": [{ "role": "user", "content": "hi" }]
    }));
    assert_eq!(decision.policy_ids(), ["support-model-allowlist"]);
    assert_eq!(
        serde_json::to_value(&decision.obligations).unwrap(),
        json!([
            { "kind": "cap_output_tokens", "max": 512 },
            { "kind": "redact_input", "kinds": ["credit_card", "email", "iban", "national_id", "phone"] },
            { "kind": "redact_output", "kinds": ["credit_card", "email", "iban", "ip_address", "national_id", "phone"] },
            { "kind": "block_output", "kinds": ["anthropic_key", "aws_access_key", "github_token", "google_api_key", "high_entropy", "jwt", "openai_key", "private_key", "slack_token"] }
        ])
    );
    assert!(call.cap_output_tokens(512));
    let body: Value = serde_json::from_slice(&call.upstream_body("up").unwrap()).unwrap();
    assert_eq!(body["max_tokens"], 512);
    // A smaller request is left as it is.
    assert!(!call.cap_output_tokens(600));
}

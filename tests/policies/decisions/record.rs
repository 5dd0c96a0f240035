//! The decision record as JSON: allows with their permits, denies with their forbids,
//! default and fail-closed denies, the evaluation time and the decision id.

use super::{assert_decision_id, carol, carol_embeds_hello, decide, decision_json, saying_hi};
use crate::support::principal;
use gateway_engine::decision::random_decision_id;
use gateway_engine::Endpoint;
use gateway_policy::Tier;
use llm_policy_gateway::embedded;
use serde_json::json;
use std::collections::HashSet;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn an_allow_serialises_with_its_permits() {
    let bundle = embedded::load().unwrap();
    let decision = carol_embeds_hello(&bundle, Some("US"), &[1_000.0, 1_250.75]);
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["principal"], "carol");
    assert_eq!(json["action"], "embedding");
    assert_eq!(json["model"], "text-embedding-3-small");
    assert_eq!(
        json["eval_us"], 250,
        "microseconds between the two clock reads"
    );
    assert_eq!(json["errors"], json!([]));
    let reason = |id: &str| bundle.reason(&cedar_policy::PolicyId::new(id)).unwrap();
    assert_eq!(
        json["policies"],
        json!([
            { "id": "embeddings-for-the-org", "reason": reason("embeddings-for-the-org") },
            { "id": "platform-all-models", "reason": reason("platform-all-models") },
        ])
    );
    assert_eq!(
        json["reason"],
        format!(
            "{}; {}",
            reason("embeddings-for-the-org"),
            reason("platform-all-models")
        )
    );
    assert!(decision.is_allowed());
    assert_eq!(
        decision.policy_ids(),
        ["embeddings-for-the-org", "platform-all-models"]
    );
}

#[test]
fn a_deny_serialises_with_its_forbids() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("bob", "support", "acme", &["agent"], Tier::Free),
        Endpoint::Messages,
        &saying_hi("claude-3-5-haiku", 4096),
        Some("KP"),
        &[5.0, 5.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["principal"], "bob");
    assert_eq!(json["action"], "message");
    assert_eq!(json["model"], "claude-3-5-haiku");
    assert_eq!(json["eval_us"], 0);
    let ids: Vec<&str> = json["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "embargoed-regions",
            "free-tier-cost-cap",
            "free-tier-output-cap"
        ]
    );
    assert!(!decision.is_allowed());
}

#[test]
fn a_default_deny_has_no_policies_and_says_so() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("mia", "marketing", "acme", &[], Tier::Pro),
        Endpoint::ChatCompletions,
        &saying_hi("gpt-4o-mini", 10),
        None,
        &[0.0, 3.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["policies"], json!([]));
    assert_eq!(json["errors"], json!([]));
    assert_eq!(
        json["reason"],
        "no policy permits this request (denied by default)"
    );
    assert_eq!(json["action"], "chat.completion");
    assert_eq!(json["eval_us"], 3);
}

#[test]
fn a_fail_closed_deny_lists_its_errors() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &carol(),
        Endpoint::ChatCompletions,
        &saying_hi("gpt-4o-mini", u64::MAX),
        None,
        &[10.0, 20.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["policies"], json!([]));
    assert_eq!(
        json["reason"],
        "a policy failed to evaluate, so the request is denied (fail closed)"
    );
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.contains("prompt-fits-context-window") && error.contains("overflow"),
        "the error names the policy and the overflow: {error}"
    );
}

#[test]
fn a_clock_that_goes_backwards_gives_zero_not_a_wrapped_duration() {
    let bundle = embedded::load().unwrap();
    let decision = carol_embeds_hello(&bundle, None, &[2_000.0, 1_000.0]);
    assert_eq!(decision.eval_us, 0);
}

#[test]
fn decision_ids_are_prefixed_random_128_bit_hex() {
    let ids: Vec<String> = (0..1000).map(|_| random_decision_id().unwrap()).collect();
    for id in &ids {
        assert_decision_id(id);
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "decision ids repeat");
}

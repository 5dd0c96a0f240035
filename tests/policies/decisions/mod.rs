//! The decision record: its JSON shape, id and timing, the assessment it carries, and the
//! obligations a permit attaches.

mod assessment;
mod record;

use crate::support::{is_lower_hex, principal};
use gateway_engine::decision::{random_decision_id, Decision, RequestFacts};
use gateway_engine::{Decide, Endpoint, LlmCall};
use gateway_policy::bundle::PolicyBundle;
use gateway_policy::{Principal, Tier};
use llm_policy_gateway::embedded;
use serde_json::{json, Value};
use std::cell::Cell;
use std::collections::BTreeSet;

/// The platform team's admin, on the enterprise tier.
fn carol() -> Principal {
    principal("carol", "platform", "acme", &["admin"], Tier::Enterprise)
}

/// A chat or messages body for `model`: one user message, "hi", and `max_tokens`.
fn saying_hi(model: &str, max_tokens: u64) -> Value {
    json!({
        "model": model,
        "max_tokens": max_tokens,
        "messages": [{ "role": "user", "content": "hi" }]
    })
}

/// Decides one request against the embedded bundle with a clock that reads `ticks`.
fn decide(
    bundle: &PolicyBundle,
    principal: &Principal,
    endpoint: Endpoint,
    body: &Value,
    country: Option<&str>,
    ticks: &[f64],
) -> Decision {
    let call = LlmCall::parse(endpoint, &serde_json::to_vec(body).unwrap()).unwrap();
    let route = bundle.route(&call).unwrap();
    let reads = Cell::new(0usize);
    let clock = || {
        let i = reads.get();
        reads.set(i + 1);
        ticks[i]
    };
    let decision = bundle.decide(
        random_decision_id().unwrap(),
        principal,
        &call,
        route,
        &RequestFacts {
            country: country.map(str::to_owned),
            ..RequestFacts::default()
        },
        &clock,
    );
    assert_eq!(
        reads.get(),
        2,
        "the clock is read before and after evaluation"
    );
    decision
}

/// carol embeds "hello" with text-embedding-3-small.
fn carol_embeds_hello(bundle: &PolicyBundle, country: Option<&str>, ticks: &[f64]) -> Decision {
    let body = json!({ "model": "text-embedding-3-small", "input": "hello" });
    decide(
        bundle,
        &carol(),
        Endpoint::Embeddings,
        &body,
        country,
        ticks,
    )
}

fn assert_decision_id(id: &str) {
    let hex = id
        .strip_prefix("dec_")
        .unwrap_or_else(|| panic!("`{id}` lacks the dec_ prefix"));
    assert!(
        is_lower_hex(hex, 32),
        "`{id}` is not dec_ and 32 hex digits"
    );
}

/// Checks the JSON every decision shares and returns it.
fn decision_json(decision: &Decision) -> serde_json::Map<String, Value> {
    let value = serde_json::to_value(decision).unwrap();
    let Value::Object(object) = value else {
        panic!("a decision serialises to an object, got {value}");
    };
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "action",
            "assessment",
            "decision",
            "errors",
            "eval_us",
            "id",
            "model",
            "obligations",
            "policies",
            "policy_version",
            "principal",
            "reason",
        ])
    );
    assert_decision_id(object["id"].as_str().unwrap());
    assert!(matches!(
        object["decision"].as_str(),
        Some("allow" | "deny")
    ));
    assert!(!object["reason"].as_str().unwrap().is_empty());
    for policy in object["policies"].as_array().unwrap() {
        let policy = policy.as_object().unwrap();
        let keys: BTreeSet<&str> = policy.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "reason"]));
        assert!(!policy["id"].as_str().unwrap().is_empty());
        assert!(!policy["reason"].as_str().unwrap().is_empty());
    }
    assert!(object["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));
    let version = object["policy_version"].as_str().unwrap();
    assert_eq!(
        version,
        format!("sha256:{}", &embedded::CONTENT_HASH[..16]),
        "the policy version is the short content hash"
    );
    assert!(object["principal"].is_string());
    assert!(object["action"].is_string());
    assert!(object["model"].is_string());
    assert!(object["eval_us"].is_u64());
    assert!(object["obligations"].is_array());
    if object["decision"] == "deny" {
        assert_eq!(
            object["obligations"],
            json!([]),
            "a deny carries no obligations"
        );
    }
    let assessment = object["assessment"].as_object().unwrap();
    let keys: BTreeSet<&str> = assessment.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "estimated_cost_micro_usd",
            "estimated_input_tokens",
            "injection_families",
            "injection_score",
            "largest_input_tokens",
            "max_output_tokens",
            "pii_kinds",
            "secret_kinds",
        ])
    );
    for counter in [
        "estimated_cost_micro_usd",
        "estimated_input_tokens",
        "injection_score",
        "largest_input_tokens",
        "max_output_tokens",
    ] {
        assert!(assessment[counter].is_u64(), "{counter}");
    }
    object
}

//! Broken schemas: one that does not parse, and one that does not accept the request
//! context the gateway sends for every action it asks about.

use super::{load_strict, load_with_schema_edit};
use gateway_engine::Endpoint;
use gateway_policy::bundle::{BundleError, BundleSource};
use llm_policy_gateway::embedded;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn a_schema_that_does_not_parse_is_refused() {
    let source = BundleSource {
        schema: "namespace Llm { entity User { roles: Set<String> ",
        ..embedded::source()
    };
    assert!(matches!(load_strict(&source), Err(BundleError::Schema(_))));
}

/// The schema must accept the context the gateway sends (checked once at load, so
/// requests skip Cedar's per-request context check).
#[test]
fn a_schema_that_does_not_accept_the_request_context_is_refused() {
    let cases = [
        // An attribute the gateway sends with another type.
        ("injection_score: Long,", "injection_score: String,"),
        // A required attribute the gateway never sends.
        ("stream: Bool,", "stream: Bool,\n    tenant: String,"),
        // `country` made required: a request without it would not fit.
        ("country?: String,", "country: String,"),
    ];
    for (from, to) in cases {
        match load_with_schema_edit(from, to) {
            Err(error @ BundleError::RequestContext(_)) => {
                let message = format!("{error}");
                assert!(message.contains("request context"), "{message}");
                assert!(message.contains("is not valid for"), "{message}");
                // It says what the gateway sends, so the fix is clear.
                assert!(message.contains(from.trim_end_matches(',')), "{message}");
            }
            other => panic!("{from} -> {to}: {other:?}"),
        }
    }
}

#[test]
fn the_context_check_covers_every_action_the_gateway_asks_about() {
    use gateway_policy::context::ACTIONS;
    let mut asked: Vec<&str> = [
        Endpoint::ChatCompletions,
        Endpoint::Embeddings,
        Endpoint::Messages,
    ]
    .iter()
    .map(|e| e.action())
    .collect();
    asked.sort_unstable();
    assert_eq!(asked, ACTIONS);
}

//! `budgets.json`: what a valid limit set means, and the line-numbered error each kind
//! of broken one reports (through a bundle load, as `build.rs` and `policy validate` see
//! it).

use super::load_strict;
use gateway_policy::bundle::{BundleError, BundleSource};
use gateway_policy::limits::{LimitSet, LimitsError, Scope, ScopeMembers, Window};
use gateway_policy::Principal;
use llm_policy_gateway::embedded;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn limits_error(text: &str) -> String {
    let source = BundleSource {
        limits: text,
        ..embedded::source()
    };
    match load_strict(&source) {
        Err(error @ BundleError::Limits(_)) => error.to_string(),
        other => panic!("expected a limits error, got {other:?}"),
    }
}

#[test]
fn the_embedded_set_declares_a_limit_for_every_scope() {
    let bundle = embedded::load().unwrap();
    let scopes: Vec<Scope> = bundle.limits().iter().map(|l| l.scope).collect();
    assert_eq!(scopes, Scope::ALL.to_vec());
}

#[test]
fn dollars_become_micro_usd_and_match_star_applies_to_every_member() {
    let set = LimitSet::from_json(
        r#"{"limits": [
            {"id": "t", "scope": "team", "match": "*", "window": "month", "spend_usd": 12.345678},
            {"id": "r", "scope": "team", "match": "research", "window": "minute", "requests": 5, "tokens": 900},
            {"id": "k", "scope": "key", "match": "00ff00ff00ff00ff", "window": "day", "requests": 1}
        ]}"#,
    )
    .unwrap();
    let team = set.get("t").unwrap();
    assert_eq!(
        (team.window, team.caps.micro_usd),
        (Window::Month, Some(12_345_678))
    );
    let principal =
        Principal::from_json(r#"{"user": "u", "team": "research", "org": "o", "tier": "pro"}"#)
            .unwrap();
    let members = ScopeMembers::of(&principal, "00ff00ff00ff00ff");
    let applying: Vec<(&str, &str)> = set
        .applying_to(&members)
        .map(|(limit, member)| (limit.id.as_str(), member))
        .collect();
    assert_eq!(
        applying,
        vec![
            ("t", "research"),
            ("r", "research"),
            ("k", "00ff00ff00ff00ff")
        ]
    );
    let other = ScopeMembers::of(&principal, "another-key");
    assert_eq!(set.applying_to(&other).count(), 2);
}

#[test]
fn an_empty_text_declares_no_limits() {
    assert!(LimitSet::from_json("").unwrap().is_empty());
    assert!(LimitSet::from_json("{\"limits\": []}").unwrap().is_empty());
}

#[test]
fn a_limit_that_caps_nothing_is_refused_with_its_line() {
    let text = "{\"limits\": [\n  {\"id\": \"a\", \"scope\": \"org\", \"match\": \"*\", \"window\": \"day\", \"requests\": 1},\n  {\"id\": \"b\", \"scope\": \"org\", \"match\": \"*\", \"window\": \"day\"}\n]}";
    assert_eq!(
        limits_error(text),
        "budgets.json: line 3: limit `b`: it caps nothing: give `spend_usd`, `requests` or `tokens`"
    );
}

#[test]
fn a_duplicate_id_names_the_line_of_its_second_use() {
    let text = "{\"limits\": [\n {\"id\": \"a\", \"scope\": \"org\", \"match\": \"*\", \"window\": \"day\", \"requests\": 1},\n\n {\"id\": \"a\", \"scope\": \"team\", \"match\": \"*\", \"window\": \"day\", \"requests\": 2}\n]}";
    assert_eq!(
        LimitSet::from_json(text).unwrap_err(),
        LimitsError::Limit {
            line: 4,
            id: "a".to_owned(),
            message: "the id is used twice".to_owned()
        }
    );
}

#[test]
fn unknown_scopes_windows_and_fields_are_refused_by_the_parser_with_a_position() {
    for (text, wanted) in [
        (
            r#"{"limits": [{"id": "a", "scope": "project", "match": "*", "window": "day", "requests": 1}]}"#,
            "unknown variant `project`",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "week", "requests": 1}]}"#,
            "unknown variant `week`",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "day", "rpm": 1}]}"#,
            "unknown field `rpm`",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "day", "requests": -1}]}"#,
            "invalid value",
        ),
    ] {
        let message = limits_error(text);
        assert!(message.contains(wanted), "{message}");
        assert!(message.contains("line 1 column"), "{message}");
    }
}

#[test]
fn out_of_range_caps_and_blank_names_are_refused() {
    let cases = [
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "day", "spend_usd": -0.5}]}"#,
            "`spend_usd` must be between 0 and",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "day", "spend_usd": 1e300}]}"#,
            "`spend_usd` must be between 0 and",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "*", "window": "day", "tokens": 9007199254740992}]}"#,
            "cannot be kept exactly",
        ),
        (
            r#"{"limits": [{"id": " ", "scope": "org", "match": "*", "window": "day", "tokens": 1}]}"#,
            "the id is empty",
        ),
        (
            r#"{"limits": [{"id": "a", "scope": "org", "match": "", "window": "day", "tokens": 1}]}"#,
            "`match` is empty",
        ),
    ];
    for (text, wanted) in cases {
        let message = limits_error(text);
        assert!(message.contains(wanted), "{message}");
    }
}

#[test]
fn limits_are_part_of_the_bundle_version() {
    let embedded = embedded::source();
    let changed = embedded.limits.replace("50000", "50001");
    assert_ne!(changed, embedded.limits);
    let a = gateway_policy::bundle::content_hash(&embedded);
    let b = gateway_policy::bundle::content_hash(&BundleSource {
        limits: &changed,
        ..embedded::source()
    });
    assert_ne!(a, b);
}

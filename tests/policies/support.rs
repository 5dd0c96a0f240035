//! Helpers shared by the policy tests: callers, and decisions with no request facts and
//! a clock that stands still.

use gateway_engine::decision::{Decision, RequestFacts};
use gateway_engine::{Decide, Endpoint, LlmCall};
use gateway_policy::bundle::PolicyBundle;
use gateway_policy::{Principal, Tier};
use serde_json::Value;

pub fn principal(user: &str, team: &str, org: &str, roles: &[&str], tier: Tier) -> Principal {
    Principal {
        user: user.to_owned(),
        team: team.to_owned(),
        org: org.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        tier,
    }
}

/// Parses `body` for `endpoint`, routes it and decides it on `bundle` for `principal`:
/// the decision, and the call for what the decision asks of it.
pub fn decide_call(
    bundle: &PolicyBundle,
    principal: &Principal,
    endpoint: Endpoint,
    body: &Value,
) -> (Decision, LlmCall) {
    let call = LlmCall::parse(endpoint, &serde_json::to_vec(body).unwrap())
        .unwrap_or_else(|e| panic!("{body} should normalise: {e}"));
    let route = bundle
        .route(&call)
        .unwrap_or_else(|e| panic!("{body} should route: {e:?}"));
    let decision = bundle.decide(
        "dec_test".to_owned(),
        principal,
        &call,
        route,
        &RequestFacts::default(),
        &|| 0.0,
    );
    (decision, call)
}

/// Whether `s` is `len` lowercase hex digits.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

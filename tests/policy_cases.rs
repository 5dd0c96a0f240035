//! Data-driven decision cases against the embedded policy set.
//!
//! Each file under `tests/policy_cases/` lists requests as an SDK would send them, the
//! caller's key record and the expected outcome: a decision with its exact deciding
//! policies, a routing failure, or a normalisation failure. The files are embedded with
//! `include_str!` so the same cases run natively and on wasm32 under node.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use llm_policy_gateway::engine::bundle::PolicyBundle;
use llm_policy_gateway::engine::decision::{RequestFacts, RouteError, Verdict};
use llm_policy_gateway::engine::{embedded, Endpoint, LlmCall, Principal};
use serde::Deserialize;
use serde_json::Value;

/// Every case file, by name. A new file must be added here.
const CASE_FILES: &[(&str, &str)] = &[
    (
        "team_access.json",
        include_str!("policy_cases/team_access.json"),
    ),
    (
        "tier_limits.json",
        include_str!("policy_cases/tier_limits.json"),
    ),
    (
        "guard_rails.json",
        include_str!("policy_cases/guard_rails.json"),
    ),
    ("errors.json", include_str!("policy_cases/errors.json")),
];

const DEFAULT_DENY_REASON: &str = "no policy permits this request (denied by default)";
const FAIL_CLOSED_REASON: &str =
    "a policy failed to evaluate, so the request is denied (fail closed)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: Principal,
    endpoint: String,
    request: Value,
    #[serde(default)]
    country: Option<String>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    policies: Option<Vec<String>>,
    #[serde(default)]
    errors: Option<bool>,
    #[serde(default)]
    route_error: Option<String>,
    #[serde(default)]
    call_error: Option<String>,
}

/// What a case expects, checked for consistency before anything runs.
enum Outcome<'a> {
    Decision {
        verdict: Verdict,
        policies: &'a [String],
        errors: bool,
    },
    RouteError(&'a str),
    CallError(&'a str),
}

impl Expect {
    fn outcome(&self) -> Result<Outcome<'_>, String> {
        match (&self.decision, &self.route_error, &self.call_error) {
            (Some(decision), None, None) => {
                let verdict = match decision.as_str() {
                    "allow" => Verdict::Allow,
                    "deny" => Verdict::Deny,
                    other => return Err(format!("unknown expected decision `{other}`")),
                };
                let policies = self
                    .policies
                    .as_deref()
                    .ok_or("a decision case must list `policies` (possibly empty)")?;
                let mut sorted = policies.to_vec();
                sorted.sort();
                sorted.dedup();
                if sorted != policies {
                    return Err("expected `policies` must be sorted and unique".to_owned());
                }
                let errors = self.errors.unwrap_or(false);
                if verdict == Verdict::Allow && (policies.is_empty() || errors) {
                    return Err("an allow needs deciding permits and no errors".to_owned());
                }
                if errors && !policies.is_empty() {
                    return Err("a fail-closed deny lists no policies".to_owned());
                }
                Ok(Outcome::Decision {
                    verdict,
                    policies,
                    errors,
                })
            }
            (None, Some(route_error), None) if self.policies.is_none() && self.errors.is_none() => {
                Ok(Outcome::RouteError(route_error))
            }
            (None, None, Some(call_error)) if self.policies.is_none() && self.errors.is_none() => {
                Ok(Outcome::CallError(call_error))
            }
            _ => Err(
                "`expect` needs exactly one of `decision` (with `policies`), `route_error` or \
                 `call_error`"
                    .to_owned(),
            ),
        }
    }
}

fn endpoint(name: &str) -> Result<Endpoint, String> {
    match name {
        "chat_completions" => Ok(Endpoint::ChatCompletions),
        "embeddings" => Ok(Endpoint::Embeddings),
        "messages" => Ok(Endpoint::Messages),
        other => Err(format!("unknown endpoint `{other}`")),
    }
}

fn route_error_name(error: &RouteError) -> &'static str {
    match error {
        RouteError::UnknownModel(_) => "unknown_model",
        RouteError::WrongEndpoint { .. } => "wrong_endpoint",
    }
}

fn load_case_files() -> Vec<(&'static str, CaseFile)> {
    CASE_FILES
        .iter()
        .map(|&(name, text)| {
            let file: CaseFile = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{name}: not a valid case file: {e}"));
            assert!(
                !file.description.trim().is_empty(),
                "{name}: needs a description"
            );
            assert!(!file.cases.is_empty(), "{name}: lists no cases");
            (name, file)
        })
        .collect()
}

/// Runs one case; `Err` describes the first mismatch.
fn run_case(bundle: &PolicyBundle, case: &Case) -> Result<(), String> {
    let outcome = case.expect.outcome()?;
    let endpoint = endpoint(&case.endpoint)?;
    let body = serde_json::to_vec(&case.request).map_err(|e| e.to_string())?;

    let call = match (LlmCall::parse(endpoint, &body), &outcome) {
        (Err(error), Outcome::CallError(expected)) => {
            let message = error.to_string();
            return if message.contains(expected) {
                Ok(())
            } else {
                Err(format!(
                    "call error `{message}` does not contain `{expected}`"
                ))
            };
        }
        (Err(error), _) => return Err(format!("unexpected call error: {error}")),
        (Ok(_), Outcome::CallError(expected)) => {
            return Err(format!(
                "the request normalised, expected a call error containing `{expected}`"
            ))
        }
        (Ok(call), _) => call,
    };

    let route = match (bundle.route(&call), &outcome) {
        (Err(error), Outcome::RouteError(expected)) => {
            let actual = route_error_name(&error);
            return if actual == *expected {
                Ok(())
            } else {
                Err(format!(
                    "route error `{actual}` ({error}), expected `{expected}`"
                ))
            };
        }
        (Err(error), _) => return Err(format!("unexpected route error: {error}")),
        (Ok(route), Outcome::RouteError(expected)) => {
            return Err(format!(
                "the call routed to `{}`, expected route error `{expected}`",
                route.model_id
            ))
        }
        (Ok(route), _) => route,
    };

    let Outcome::Decision {
        verdict,
        policies,
        errors,
    } = outcome
    else {
        return Err("unreachable: call and route errors were handled".to_owned());
    };

    let facts = RequestFacts {
        country: case.country.clone(),
    };
    let decision = bundle.decide(
        "dec_test".to_owned(),
        &case.principal,
        &call,
        route,
        &facts,
        &|| 0.0,
    );

    let mut problems = Vec::new();
    if decision.decision != verdict {
        problems.push(format!(
            "decision `{}`, expected `{}`",
            decision.decision.as_str(),
            verdict.as_str()
        ));
    }
    let actual_ids = decision.policy_ids();
    if actual_ids != policies {
        problems.push(format!(
            "deciding policies {actual_ids:?}, expected {policies:?}"
        ));
    }
    if decision.errors.is_empty() == errors {
        problems.push(format!(
            "evaluation errors {:?}, expected {}",
            decision.errors,
            if errors { "some" } else { "none" }
        ));
    }
    // The reason: the deciding policies' `@reason`s, default deny, or fail closed.
    let expected_reason = if errors {
        FAIL_CLOSED_REASON.to_owned()
    } else if decision.policies.is_empty() {
        DEFAULT_DENY_REASON.to_owned()
    } else {
        decision
            .policies
            .iter()
            .map(|p| p.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if decision.reason != expected_reason {
        problems.push(format!(
            "reason `{}`, expected `{expected_reason}`",
            decision.reason
        ));
    }
    for policy in &decision.policies {
        let id = cedar_policy::PolicyId::new(&policy.id);
        let annotated = bundle.reason(&id).unwrap_or_default();
        if policy.reason.is_empty() || policy.reason != annotated {
            problems.push(format!(
                "policy `{}` reports reason `{}`, its @reason is `{annotated}`",
                policy.id, policy.reason
            ));
        }
    }
    if decision.principal != case.principal.user
        || decision.action != endpoint.action()
        || decision.model != call.model
        || decision.id != "dec_test"
    {
        problems.push(format!(
            "decision names principal `{}`, action `{}`, model `{}`, id `{}`",
            decision.principal, decision.action, decision.model, decision.id
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_policy_case_decides_as_expected() {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let files = load_case_files();

    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    let mut count = 0;
    for (file, cases) in &files {
        for case in &cases.cases {
            count += 1;
            if !names.insert((*file, case.name.as_str())) {
                failures.push(format!("{file}: case name `{}` is used twice", case.name));
            }
            if let Err(problem) = run_case(&bundle, case) {
                failures.push(format!("{file}: `{}`: {problem}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} policy cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_policy_is_exercised_by_a_case() {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let files = load_case_files();

    let expected: BTreeSet<&str> = files
        .iter()
        .flat_map(|(_, file)| &file.cases)
        .filter_map(|case| case.expect.policies.as_deref())
        .flatten()
        .map(String::as_str)
        .collect();
    let policies: BTreeSet<String> = bundle
        .policies()
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    let policy_refs: BTreeSet<&str> = policies.iter().map(String::as_str).collect();

    let unexercised: Vec<&str> = policy_refs.difference(&expected).copied().collect();
    assert!(
        unexercised.is_empty(),
        "policies no case expects as deciding: {unexercised:?}; add a case to \
         tests/policy_cases/ where each decides"
    );
    let unknown: Vec<&str> = expected.difference(&policy_refs).copied().collect();
    assert!(
        unknown.is_empty(),
        "cases expect policies the embedded set does not have: {unknown:?}"
    );
    assert_eq!(policies.len(), bundle.policy_count());
}

/// Decides an embeddings request for `input` by a pro caller in acme (no team permit).
fn embeddings_decision(input: Value) -> (Verdict, Vec<String>) {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let principal = Principal {
        user: "ivan".to_owned(),
        team: "search".to_owned(),
        org: "acme".to_owned(),
        roles: vec!["developer".to_owned()],
        tier: llm_policy_gateway::engine::Tier::Pro,
    };
    let body = serde_json::json!({
        "model": "text-embedding-3-small",
        "input": input,
        "encoding_format": "float",
    });
    let call = LlmCall::parse(Endpoint::Embeddings, &serde_json::to_vec(&body).unwrap())
        .expect("the embeddings request normalises");
    let route = bundle.route(&call).expect("the model routes");
    let decision = bundle.decide(
        "dec_test".to_owned(),
        &principal,
        &call,
        route,
        &RequestFacts::default(),
        &|| 0.0,
    );
    assert!(decision.errors.is_empty(), "{:?}", decision.errors);
    (
        decision.decision,
        decision
            .policy_ids()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    )
}

// text-embedding-3-small has an 8191-token context window and no output: each input is
// held to the window on its own, with no per-message overhead.

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn embedding_text_that_fills_the_context_window_exactly_is_allowed() {
    // 32764 ASCII bytes estimate to 8191 tokens.
    let (verdict, policies) = embeddings_decision(Value::String("a".repeat(32764)));
    assert_eq!(verdict, Verdict::Allow);
    assert_eq!(policies, ["embeddings-for-the-org"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn embedding_text_one_token_beyond_the_context_window_is_denied() {
    // 32765 ASCII bytes round up to 8192 tokens > 8191.
    let (verdict, policies) = embeddings_decision(Value::String("a".repeat(32765)));
    assert_eq!(verdict, Verdict::Deny);
    assert_eq!(policies, ["prompt-fits-context-window"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pretokenised_embedding_input_counts_each_token_id_against_the_window() {
    let ids = |n: u64| Value::Array((0..n).map(|i| Value::from(1000 + i)).collect());
    let (verdict, policies) = embeddings_decision(ids(8191));
    assert_eq!(verdict, Verdict::Allow);
    assert_eq!(policies, ["embeddings-for-the-org"]);

    let (verdict, policies) = embeddings_decision(ids(8192));
    assert_eq!(verdict, Verdict::Deny);
    assert_eq!(policies, ["prompt-fits-context-window"]);
}

/// The window holds each embedding input, not the sum of a batch.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn batch_embeddings_are_checked_against_the_window_per_input() {
    // Three chunks of 3000 tokens: each well inside text-embedding-3-small's 8191-token
    // window (OpenAI limits each input, and a request to 300k tokens in total).
    let chunk = Value::Array((0..3000u64).map(Value::from).collect());
    let (verdict, policies) = embeddings_decision(Value::Array(vec![chunk; 3]));
    assert_eq!(verdict, Verdict::Allow, "{policies:?}");
    assert_eq!(policies, ["embeddings-for-the-org"]);
}

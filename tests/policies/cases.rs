//! Data-driven decision cases against the embedded policy set.
//!
//! Each file under `tests/policy_cases/` lists requests as an SDK would send them, the
//! caller's key record and the expected outcome: a decision with its exact deciding
//! policies, a routing failure, or a normalisation failure. The files are embedded with
//! `include_str!` so the same cases run natively and on wasm32 under node. The file format
//! and the runner live in `crates/engine/src/cases.rs`, shared with `policy test`.

use std::collections::BTreeSet;

use crate::support::{decide_call, principal};
use gateway_engine::cases::{self, CaseFile, CaseResult};
use gateway_engine::decision::Verdict;
use gateway_engine::Endpoint;
use gateway_policy::bundle::PolicyBundle;
use gateway_policy::Tier;
use llm_policy_gateway::embedded;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Every case file, by name. A new file must be added here (natively, a test checks that
/// this lists every file of the directory).
const CASE_FILES: &[(&str, &str)] = &[
    (
        "team_access.json",
        include_str!("../policy_cases/team_access.json"),
    ),
    (
        "tier_limits.json",
        include_str!("../policy_cases/tier_limits.json"),
    ),
    (
        "governance.json",
        include_str!("../policy_cases/governance.json"),
    ),
    (
        "guard_rails.json",
        include_str!("../policy_cases/guard_rails.json"),
    ),
    ("errors.json", include_str!("../policy_cases/errors.json")),
    (
        "mediation.json",
        include_str!("../policy_cases/mediation.json"),
    ),
    ("budgets.json", include_str!("../policy_cases/budgets.json")),
];

/// Parses every case file; `CaseFile::from_json` refuses a file without a description,
/// without cases, or with a case name used twice.
fn load_case_files() -> Vec<(&'static str, CaseFile)> {
    CASE_FILES
        .iter()
        .map(|&(name, text)| {
            let file = CaseFile::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                !file.description.trim().is_empty(),
                "{name}: needs a description"
            );
            assert!(!file.cases.is_empty(), "{name}: lists no cases");
            (name, file)
        })
        .collect()
}

#[test]
fn every_policy_case_decides_as_expected() {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let files = load_case_files();

    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    let mut count = 0;
    for (file, case_file) in &files {
        for case in &case_file.cases {
            count += 1;
            if !names.insert((*file, case.name.as_str())) {
                failures.push(format!("{file}: case name `{}` is used twice", case.name));
            }
            let result = cases::run_case(&bundle, case);
            if !result.passed() {
                failures.push(format!("{file}: `{}`: {}", case.name, result.problem()));
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

#[test]
fn every_policy_is_exercised_by_a_case() {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let files = load_case_files();

    let expected: BTreeSet<&str> =
        cases::expected_policy_ids(files.iter().flat_map(|(_, file)| &file.cases));
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

    // The shared coverage check (used by `policy test`) agrees.
    let coverage = cases::coverage(&bundle, files.iter().flat_map(|(_, file)| &file.cases));
    assert!(coverage.is_complete(), "{coverage:?}");
}

/// The list above names every case file in the directory, so none is silently skipped.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn case_files_lists_every_file_of_the_directory() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy_cases");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASE_FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "CASE_FILES must list every file of {dir:?}"
    );
}

/// Decides an embeddings request for `input` by a pro caller in acme (no team permit).
fn embeddings_decision(input: Value) -> (Verdict, Vec<String>) {
    let bundle = embedded::load().expect("the embedded bundle loads");
    let caller = principal("ivan", "search", "acme", &["developer"], Tier::Pro);
    let body = json!({
        "model": "text-embedding-3-small",
        "input": input,
        "encoding_format": "float",
    });
    let (decision, _) = decide_call(&bundle, &caller, Endpoint::Embeddings, &body);
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

#[test]
fn embedding_text_that_fills_the_context_window_exactly_is_allowed() {
    // 32764 ASCII bytes estimate to 8191 tokens.
    let (verdict, policies) = embeddings_decision(Value::String("a".repeat(32764)));
    assert_eq!(verdict, Verdict::Allow);
    assert_eq!(policies, ["embeddings-for-the-org"]);
}

#[test]
fn embedding_text_one_token_beyond_the_context_window_is_denied() {
    // 32765 ASCII bytes round up to 8192 tokens > 8191.
    let (verdict, policies) = embeddings_decision(Value::String("a".repeat(32765)));
    assert_eq!(verdict, Verdict::Deny);
    assert_eq!(policies, ["prompt-fits-context-window"]);
}

#[test]
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
#[test]
fn batch_embeddings_are_checked_against_the_window_per_input() {
    // Three chunks of 3000 tokens: each well inside text-embedding-3-small's 8191-token
    // window (OpenAI limits each input, and a request to 300k tokens in total).
    let chunk = Value::Array((0..3000u64).map(Value::from).collect());
    let (verdict, policies) = embeddings_decision(Value::Array(vec![chunk; 3]));
    assert_eq!(verdict, Verdict::Allow, "{policies:?}");
    assert_eq!(policies, ["embeddings-for-the-org"]);
}

/// A case from JSON, for the runner's own tests.
fn case(value: Value) -> cases::Case {
    serde_json::from_value(value).expect("a well-formed case")
}

fn alice_asks_for(model: &str, expect: Value) -> cases::Case {
    case(json!({
        "name": "alice",
        "principal": { "user": "alice", "team": "research", "org": "acme", "roles": [], "tier": "pro" },
        "endpoint": "chat_completions",
        "request": { "model": model, "messages": [{ "role": "user", "content": "hi" }], "max_tokens": 100 },
        "expect": expect,
    }))
}

/// Runs alice's request for `model` with the expectation `expect`.
fn run_alice(bundle: &PolicyBundle, model: &str, expect: Value) -> CaseResult {
    cases::run_case(bundle, &alice_asks_for(model, expect))
}

#[test]
fn the_runner_reports_what_happened_and_every_difference() {
    let bundle = embedded::load().expect("the embedded bundle loads");

    let passing = run_alice(
        &bundle,
        "gpt-4o",
        json!({ "decision": "allow", "policies": ["research-model-allowlist"] }),
    );
    assert!(passing.passed(), "{:?}", passing.problems);
    let actual = passing.actual.expect("the case ran");
    assert_eq!(actual.to_string(), "allow by research-model-allowlist");
    let cases::Actual::Decision(decision) = actual else {
        panic!("expected a decision, got {actual:?}");
    };
    assert_eq!(decision.id, cases::CASE_DECISION_ID);

    let wrong = run_alice(
        &bundle,
        "gpt-4o",
        json!({ "decision": "deny", "policies": ["pro-tier-output-cap"] }),
    );
    assert!(!wrong.passed());
    assert_eq!(
        wrong.problems,
        [
            "decision `allow`, expected `deny`",
            "deciding policies [\"research-model-allowlist\"], expected [\"pro-tier-output-cap\"]",
        ]
    );
    assert_eq!(
        wrong.problem(),
        "decision `allow`, expected `deny`; deciding policies [\"research-model-allowlist\"], \
         expected [\"pro-tier-output-cap\"]"
    );

    let routed = run_alice(&bundle, "gpt-4o", json!({ "route_error": "unknown_model" }));
    assert_eq!(
        routed.problems,
        ["the call routed to `gpt-4o`, expected route error `unknown_model`"]
    );

    let unknown = run_alice(
        &bundle,
        "gpt-5",
        json!({ "decision": "deny", "policies": [] }),
    );
    assert_eq!(
        unknown.actual.as_ref().map(ToString::to_string).as_deref(),
        Some("route error unknown_model")
    );
    assert_eq!(
        unknown.problems,
        ["unexpected route error: model `gpt-5` is not in the gateway's catalog"]
    );

    let normalised = run_alice(
        &bundle,
        "gpt-4o",
        json!({ "call_error": "`model` is required" }),
    );
    assert_eq!(
        normalised.problems,
        ["the request normalised, expected a call error containing ``model` is required`"]
    );

    let mut malformed = alice_asks_for(
        "gpt-4o",
        json!({ "decision": "allow", "policies": ["b", "a"] }),
    );
    let result = cases::run_case(&bundle, &malformed);
    assert_eq!(result.actual, None);
    assert_eq!(
        result.problems,
        ["expected `policies` must be sorted and unique"]
    );
    malformed.expect.policies = Some(vec!["research-model-allowlist".to_owned()]);
    malformed.endpoint = "completions".to_owned();
    let result = cases::run_case(&bundle, &malformed);
    assert_eq!(result.actual, None);
    assert_eq!(result.problems, ["unknown endpoint `completions`"]);
}

#[test]
fn a_case_file_needs_a_description_cases_and_unique_names() {
    let one = alice_asks_for(
        "gpt-4o",
        json!({ "decision": "allow", "policies": ["research-model-allowlist"] }),
    );
    let file = |description: &str, count: usize| {
        let case = json!({
            "name": one.name,
            "principal": one.principal,
            "endpoint": one.endpoint,
            "request": one.request,
            "expect": { "decision": "allow", "policies": ["research-model-allowlist"] },
        });
        json!({ "description": description, "cases": vec![case; count] }).to_string()
    };
    assert_eq!(
        CaseFile::from_json(&file("one case", 1))
            .unwrap()
            .cases
            .len(),
        1
    );
    let error = |text: String| CaseFile::from_json(&text).unwrap_err().to_string();
    assert_eq!(error(file(" ", 1)), "needs a description");
    assert_eq!(error(file("none", 0)), "lists no cases");
    assert_eq!(error(file("twice", 2)), "case name `alice` is used twice");
    assert!(error("{\"description\":\"x\"}".to_owned()).starts_with("not a valid case file: "));
}

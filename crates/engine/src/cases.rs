//! Decision cases: the data-driven checks of a policy set.
//!
//! A case file (`tests/policy_cases/*.json`) lists requests as an SDK would send them, the
//! caller's key record and the expected outcome: a decision with its exact deciding
//! policies (and, when given, its obligations, the PII kinds it was told of and what its
//! input redaction replaces), a routing failure, or a normalisation failure. `run_case` runs one case
//! against any `PolicyBundle` and says what happened and what differed; the policy case
//! tests (natively and on wasm32) and the `policy test` command share it. Reading the
//! files is the caller's business: this module never touches a file system.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::call::{Endpoint, LlmCall};
use crate::decision::{Decide, Decision, RequestFacts, RouteError, Verdict};
use crate::detect::KindSet;
use gateway_policy::bundle::PolicyBundle;
use gateway_policy::context::{ScopeBudget, SpendLeft};
use gateway_policy::limits::Scope;
use gateway_policy::obligations::Obligation;
use gateway_policy::principal::Principal;

/// The reason of a deny no policy decided.
pub const DEFAULT_DENY_REASON: &str = "no policy permits this request (denied by default)";
/// The reason of a deny caused by an evaluation error.
pub const FAIL_CLOSED_REASON: &str =
    "a policy failed to evaluate, so the request is denied (fail closed)";
/// The decision id every case decides with (so the decision can be checked to carry it).
pub const CASE_DECISION_ID: &str = "dec_test";

/// One case file: what it covers, and its cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub description: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    #[error("not a valid case file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("needs a description")]
    NoDescription,
    #[error("lists no cases")]
    NoCases,
    #[error("case name `{0}` is used twice")]
    DuplicateName(String),
}

impl CaseFile {
    /// Parses a case file and checks it has a description, cases, and unique case names.
    pub fn from_json(text: &str) -> Result<Self, CaseFileError> {
        let file: CaseFile = serde_json::from_str(text)?;
        if file.description.trim().is_empty() {
            return Err(CaseFileError::NoDescription);
        }
        if file.cases.is_empty() {
            return Err(CaseFileError::NoCases);
        }
        let mut names = BTreeSet::new();
        for case in &file.cases {
            if !names.insert(case.name.as_str()) {
                return Err(CaseFileError::DuplicateName(case.name.clone()));
            }
        }
        Ok(file)
    }
}

/// One request, who sends it, and what must come of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub principal: Principal,
    /// `chat_completions`, `embeddings` or `messages`.
    pub endpoint: String,
    /// The request body, as the SDK sends it.
    pub request: Value,
    /// The caller's country, as Cloudflare would report it.
    #[serde(default)]
    pub country: Option<String>,
    /// The `anthropic-beta` header the caller sends, if any.
    #[serde(default)]
    pub anthropic_beta: Option<String>,
    /// The budget objects' report for each scope with limits, as the call would see it.
    #[serde(default)]
    pub budgets: BTreeMap<Scope, CaseBudget>,
    pub expect: Expect,
}

/// A scope's budget state in a case (the schema's `ScopeBudget`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBudget {
    pub used_percent: u64,
    #[serde(default)]
    pub spend_used_percent: Option<u64>,
    #[serde(default)]
    pub spend_remaining_micro_usd: Option<u64>,
}

impl Case {
    fn facts(&self) -> RequestFacts {
        let budgets = self
            .budgets
            .iter()
            .map(|(&scope, budget)| ScopeBudget {
                scope,
                used_percent: budget.used_percent,
                spend: budget.spend_used_percent.map(|used_percent| SpendLeft {
                    used_percent,
                    remaining_micro_usd: budget.spend_remaining_micro_usd.unwrap_or(0),
                }),
            })
            .collect();
        RequestFacts {
            country: self.country.clone(),
            budgets,
        }
    }
}

/// The expectation as written: exactly one of `decision` (with `policies` and optionally
/// `errors`), `route_error` or `call_error`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub decision: Option<String>,
    /// The exact deciding policy ids, sorted.
    #[serde(default)]
    pub policies: Option<Vec<String>>,
    /// Whether evaluation errors (a fail-closed deny) are expected.
    #[serde(default)]
    pub errors: Option<bool>,
    /// `unknown_model` or `wrong_endpoint`.
    #[serde(default)]
    pub route_error: Option<String>,
    /// Text the normalisation error must contain.
    #[serde(default)]
    pub call_error: Option<String>,
    /// The decision's merged obligations, as JSON (checked only when given).
    #[serde(default)]
    pub obligations: Option<Value>,
    /// The assessment's `pii_kinds`, sorted (checked only when given).
    #[serde(default)]
    pub pii_kinds: Option<Vec<String>>,
    /// How many findings of each kind the decision's `redact_input` obligation replaces
    /// in the request (checked only when given; `{}` when it replaces none).
    #[serde(default)]
    pub redacted_input: Option<BTreeMap<String, u32>>,
}

/// What a case expects, checked for consistency before anything runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected<'a> {
    Decision {
        verdict: Verdict,
        policies: &'a [String],
        errors: bool,
    },
    RouteError(&'a str),
    CallError(&'a str),
}

impl Expect {
    pub fn expected(&self) -> Result<Expected<'_>, String> {
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
                Ok(Expected::Decision {
                    verdict,
                    policies,
                    errors,
                })
            }
            (None, Some(route_error), None) if self.policies.is_none() && self.errors.is_none() => {
                Ok(Expected::RouteError(route_error))
            }
            (None, None, Some(call_error)) if self.policies.is_none() && self.errors.is_none() => {
                Ok(Expected::CallError(call_error))
            }
            _ => Err(
                "`expect` needs exactly one of `decision` (with `policies`), `route_error` or \
                 `call_error`"
                    .to_owned(),
            ),
        }
    }
}

/// The endpoint a case file names.
pub fn endpoint_named(name: &str) -> Result<Endpoint, String> {
    match name {
        "chat_completions" => Ok(Endpoint::ChatCompletions),
        "embeddings" => Ok(Endpoint::Embeddings),
        "messages" => Ok(Endpoint::Messages),
        other => Err(format!("unknown endpoint `{other}`")),
    }
}

/// The name case files use for a routing failure.
pub fn route_error_kind(error: &RouteError) -> &'static str {
    match error {
        RouteError::UnknownModel(_) => "unknown_model",
        RouteError::WrongEndpoint { .. } => "wrong_endpoint",
    }
}

/// What actually came of a case's request.
#[derive(Debug, Clone, PartialEq)]
pub enum Actual {
    /// The body did not normalise: the error's message.
    CallError(String),
    /// The call did not route.
    RouteError {
        kind: &'static str,
        message: String,
    },
    Decision(Box<Decision>),
}

impl fmt::Display for Actual {
    /// One phrase: `allow by research-model-allowlist`, `deny by default`,
    /// `route error unknown_model`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actual::CallError(message) => write!(f, "call error: {message}"),
            Actual::RouteError { kind, .. } => write!(f, "route error {kind}"),
            Actual::Decision(decision) => {
                let verdict = decision.decision.as_str();
                if !decision.errors.is_empty() {
                    let count = decision.errors.len();
                    let plural = if count == 1 { "" } else { "s" };
                    write!(
                        f,
                        "{verdict}, fail closed ({count} evaluation error{plural})"
                    )
                } else if decision.policies.is_empty() {
                    write!(f, "{verdict} by default")
                } else {
                    write!(f, "{verdict} by {}", decision.policy_ids().join(", "))
                }
            }
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// What happened; `None` when the case itself is malformed and did not run.
    pub actual: Option<Actual>,
    /// Every way the outcome differs from the expectation (or why the case is
    /// malformed); empty when the case passes.
    pub problems: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems on one line.
    pub fn problem(&self) -> String {
        self.problems.join("; ")
    }

    fn malformed(problem: String) -> Self {
        Self {
            actual: None,
            problems: vec![problem],
        }
    }
}

/// Runs one case against `bundle`: normalise, route, decide (with a clock that reads 0),
/// and compare with the expectation, including the decision's reason, each deciding
/// policy's `@reason`, and the principal, action, model and id it names.
pub fn run_case(bundle: &PolicyBundle, case: &Case) -> CaseResult {
    let expected = match case.expect.expected() {
        Ok(expected) => expected,
        Err(problem) => return CaseResult::malformed(problem),
    };
    let endpoint = match endpoint_named(&case.endpoint) {
        Ok(endpoint) => endpoint,
        Err(problem) => return CaseResult::malformed(problem),
    };
    let body = match serde_json::to_vec(&case.request) {
        Ok(body) => body,
        Err(error) => return CaseResult::malformed(error.to_string()),
    };

    let parsed = LlmCall::parse(endpoint, &body).and_then(|mut call| {
        call.set_beta_features(case.anthropic_beta.as_deref())?;
        Ok(call)
    });
    let call = match parsed {
        Ok(call) => call,
        Err(error) => {
            let message = error.to_string();
            let problems = match expected {
                Expected::CallError(wanted) if message.contains(wanted) => Vec::new(),
                Expected::CallError(wanted) => vec![format!(
                    "call error `{message}` does not contain `{wanted}`"
                )],
                _ => vec![format!("unexpected call error: {message}")],
            };
            return CaseResult {
                actual: Some(Actual::CallError(message)),
                problems,
            };
        }
    };

    let actual = match bundle.route(&call) {
        Err(error) => Actual::RouteError {
            kind: route_error_kind(&error),
            message: error.to_string(),
        },
        Ok(route) => {
            let facts = case.facts();
            Actual::Decision(Box::new(bundle.decide(
                CASE_DECISION_ID.to_owned(),
                &case.principal,
                &call,
                route,
                &facts,
                &|| 0.0,
            )))
        }
    };
    let problems = compare(bundle, case, endpoint, &call, expected, &actual);
    CaseResult {
        actual: Some(actual),
        problems,
    }
}

fn compare(
    bundle: &PolicyBundle,
    case: &Case,
    endpoint: Endpoint,
    call: &LlmCall,
    expected: Expected<'_>,
    actual: &Actual,
) -> Vec<String> {
    match (expected, actual) {
        (Expected::CallError(wanted), _) => vec![format!(
            "the request normalised, expected a call error containing `{wanted}`"
        )],
        (Expected::RouteError(wanted), Actual::RouteError { kind, message }) => {
            if kind == &wanted {
                Vec::new()
            } else {
                vec![format!(
                    "route error `{kind}` ({message}), expected `{wanted}`"
                )]
            }
        }
        (Expected::RouteError(wanted), Actual::Decision(decision)) => vec![format!(
            "the call routed to `{}`, expected route error `{wanted}`",
            decision.model
        )],
        (Expected::Decision { .. }, Actual::RouteError { message, .. }) => {
            vec![format!("unexpected route error: {message}")]
        }
        (
            Expected::Decision {
                verdict,
                policies,
                errors,
            },
            Actual::Decision(decision),
        ) => compare_decision(
            bundle,
            case,
            endpoint,
            call,
            (verdict, policies, errors),
            decision,
        ),
        // A call error is handled before routing; nothing else can be actual here.
        (_, Actual::CallError(message)) => vec![format!("unexpected call error: {message}")],
    }
}

fn compare_decision(
    bundle: &PolicyBundle,
    case: &Case,
    endpoint: Endpoint,
    call: &LlmCall,
    (verdict, policies, errors): (Verdict, &[String], bool),
    decision: &Decision,
) -> Vec<String> {
    let mut problems = Vec::new();
    if decision.decision != verdict {
        problems.push(format!(
            "decision `{}`, expected `{}`",
            decision.decision.as_str(),
            verdict.as_str()
        ));
    }
    if let Some(expected) = &case.expect.obligations {
        let actual = serde_json::to_value(&decision.obligations).unwrap_or(Value::Null);
        if &actual != expected {
            problems.push(format!("obligations {actual}, expected {expected}"));
        }
    }
    if let Some(expected) = &case.expect.pii_kinds {
        if decision.assessment.pii_kinds != *expected {
            problems.push(format!(
                "pii_kinds {:?}, expected {expected:?}",
                decision.assessment.pii_kinds
            ));
        }
    }
    if let Some(expected) = &case.expect.redacted_input {
        let kinds = decision
            .obligations
            .iter()
            .fold(KindSet::EMPTY, |kinds, o| match *o {
                Obligation::RedactInput { kinds: more } => kinds.union(more),
                _ => kinds,
            });
        let counts = call.clone().redact(kinds);
        let actual: BTreeMap<String, u32> = counts
            .into_iter()
            .map(|(kind, n)| (kind.to_owned(), n))
            .collect();
        if actual != *expected {
            problems.push(format!(
                "redact_input replaces {actual:?}, expected {expected:?}"
            ));
        }
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
        || decision.id != CASE_DECISION_ID
    {
        problems.push(format!(
            "decision names principal `{}`, action `{}`, model `{}`, id `{}`",
            decision.principal, decision.action, decision.model, decision.id
        ));
    }
    problems
}

/// Policy ids the cases expect as deciding.
pub fn expected_policy_ids<'a>(cases: impl IntoIterator<Item = &'a Case>) -> BTreeSet<&'a str> {
    cases
        .into_iter()
        .filter_map(|case| case.expect.policies.as_deref())
        .flatten()
        .map(String::as_str)
        .collect()
}

/// How the cases cover a policy set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Policies of the set no case expects as deciding.
    pub unexercised: Vec<String>,
    /// Policies cases expect as deciding that the set does not have.
    pub unknown: Vec<String>,
}

impl Coverage {
    pub fn is_complete(&self) -> bool {
        self.unexercised.is_empty() && self.unknown.is_empty()
    }
}

/// Every policy of `bundle` must decide in some case, and every policy a case expects
/// must exist.
pub fn coverage<'a>(bundle: &PolicyBundle, cases: impl IntoIterator<Item = &'a Case>) -> Coverage {
    let expected = expected_policy_ids(cases);
    let policies: BTreeSet<String> = bundle
        .policies()
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    Coverage {
        unexercised: policies
            .iter()
            .filter(|id| !expected.contains(id.as_str()))
            .cloned()
            .collect(),
        unknown: expected
            .iter()
            .filter(|id| !policies.contains(**id))
            .map(|id| (*id).to_owned())
            .collect(),
    }
}

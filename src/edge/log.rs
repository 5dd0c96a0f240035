//! One structured JSON line per request: who, what, which policies decided, how long.
//! It never holds the caller's key or the prompt text.

use serde::Serialize;

use gateway_engine::budget::ledger::Expired;
use gateway_engine::budget::Amount;
use gateway_engine::decision::Assessment;
use gateway_engine::detect::KindCounts;
use gateway_engine::guard::GuardReport;
use gateway_engine::{Decision, Endpoint};
use gateway_policy::obligations::Obligation;
use gateway_policy::Principal;

use super::reply::Failure;

#[derive(Debug, Serialize)]
pub struct DecisionLog {
    event: &'static str,
    ts: String,
    /// The Cedar action of an LLM endpoint's call.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    /// A request refused outside the LLM endpoints: the route it asked for, or `unknown`
    /// (a path is the caller's free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'static str>,
    status: u16,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policies: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eval_us: Option<u64>,
    /// Token, cost and detector facts: kinds and scores only, never matched text.
    #[serde(skip_serializing_if = "Option::is_none")]
    assessment: Option<Assessment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    obligations: Option<Vec<Obligation>>,
    /// What `redact_input` replaced before forwarding, per kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_redacted: Option<KindCounts>,
    /// What the output guard did to a whole answer; `"streamed"` when the answer streams
    /// (its report is the `output_guard` event logged when the stream ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    output_guard: Option<serde_json::Value>,
    /// What the call reserved against its budgets (settled later: `budget_settled`).
    #[serde(skip_serializing_if = "Option::is_none")]
    budget_reserved: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    /// The field the refusal names (`Failure::logged_param`).
    #[serde(skip_serializing_if = "Option::is_none")]
    error_param: Option<String>,
}

impl DecisionLog {
    pub fn new(endpoint: Endpoint, ts: String) -> Self {
        Self {
            action: Some(endpoint.action()),
            ..Self::empty(ts)
        }
    }

    /// The line of a request refused outside the LLM endpoints (`route`: see the field).
    pub fn unrouted(route: &'static str, ts: String) -> Self {
        Self {
            route: Some(route),
            ..Self::empty(ts)
        }
    }

    fn empty(ts: String) -> Self {
        Self {
            event: "decision",
            ts,
            action: None,
            route: None,
            status: 0,
            latency_ms: 0.0,
            principal: None,
            team: None,
            model: None,
            stream: None,
            decision_id: None,
            decision: None,
            policies: None,
            policy_version: None,
            eval_us: None,
            assessment: None,
            obligations: None,
            input_redacted: None,
            output_guard: None,
            budget_reserved: None,
            error: None,
            error_param: None,
        }
    }

    pub fn principal(&mut self, principal: &Principal) {
        self.principal = Some(principal.user.clone());
        self.team = Some(principal.team.clone());
    }

    pub fn call(&mut self, model: &str, stream: bool) {
        self.model = Some(model.to_owned());
        self.stream = Some(stream);
    }

    pub fn decision(&mut self, decision: &Decision) {
        self.decision_id = Some(decision.id.clone());
        self.decision = Some(decision.decision.as_str());
        self.policies = Some(decision.policies.iter().map(|p| p.id.clone()).collect());
        self.policy_version = Some(decision.policy_version.clone());
        self.eval_us = Some(decision.eval_us);
        self.assessment = Some(decision.assessment.clone());
        self.obligations = Some(decision.obligations.clone());
    }

    pub fn input_redacted(&mut self, counts: KindCounts) {
        if !counts.is_empty() {
            self.input_redacted = Some(counts);
        }
    }

    pub fn output(&mut self, report: &GuardReport) {
        self.output_guard = serde_json::to_value(report).ok();
    }

    pub fn output_streamed(&mut self) {
        self.output_guard = Some(serde_json::Value::from("streamed"));
    }

    pub fn decided(&self) -> Option<(&'static str, &str, &str)> {
        Some((
            self.decision?,
            self.decision_id.as_deref()?,
            self.policy_version.as_deref()?,
        ))
    }

    pub fn budget_reserved(&mut self, amount: Amount) {
        self.budget_reserved = Some(amount);
    }

    pub fn failure(&mut self, failure: &Failure) {
        self.error = Some(failure.code);
        self.error_param = failure.logged_param.clone();
    }

    pub fn emit(mut self, status: u16, latency_ms: f64) {
        self.status = status;
        self.latency_ms = latency_ms;
        if let Ok(line) = serde_json::to_string(&self) {
            worker::console_log!("{line}");
        }
    }
}

/// The output guard's report on a streamed answer, logged when the stream ends.
pub fn output_guard_event(decision_id: &str, report: &GuardReport) {
    let line = serde_json::json!({
        "event": "output_guard",
        "decision_id": decision_id,
        "redacted": report.redacted,
        "blocked": report.blocked,
    });
    worker::console_log!("{line}");
}

/// A provider that stopped sending mid-answer, cut off after `idle_ms`.
pub fn upstream_stalled(decision_id: &str, idle_ms: u64) {
    let line = serde_json::json!({
        "event": "upstream_stalled",
        "decision_id": decision_id,
        "idle_ms": idle_ms,
    });
    worker::console_log!("{line}");
}

/// A call's budget holds settled: what it reserved and what it was charged.
pub fn budget_settled(decision_id: &str, reserved: Amount, charged: Amount) {
    let line = serde_json::json!({
        "event": "budget_settled",
        "decision_id": decision_id,
        "reserved": reserved,
        "charged": charged,
    });
    worker::console_log!("{line}");
}

/// An isolate lease settled in its object at what its calls used.
pub fn budget_lease_settled(lease: &str, object: &str, charged: Amount) {
    let line = serde_json::json!({
        "event": "budget_lease_settled",
        "lease": lease,
        "object": object,
        "charged": charged,
    });
    worker::console_log!("{line}");
}

/// A hold its budget object charged in full at its expiry, nobody having settled it: a
/// call's worst case, or (`lease`) the unsettled slice of an isolate's lease.
pub fn budget_hold_expired(object: &str, expired: &Expired) {
    let line = serde_json::json!({
        "event": "budget_hold_expired",
        "object": object,
        "hold": expired.hold,
        "lease": expired.lease,
        "charged": expired.amount,
    });
    worker::console_log!("{line}");
}

/// A budget object that did not take a settlement: its hold is charged in full when it
/// expires.
pub fn budget_unsettled(decision_id: &str, object: &str) {
    let line = serde_json::json!({
        "event": "budget_unsettled",
        "decision_id": decision_id,
        "object": object,
    });
    worker::console_log!("{line}");
}

/// The budget store could not answer a reservation; `passed` when the deployment fails
/// open.
pub fn budget_store_failed(decision_id: &str, passed: bool) {
    let line = serde_json::json!({
        "event": "budget_store_failed",
        "decision_id": decision_id,
        "outcome": if passed { "passed unmetered" } else { "refused" },
    });
    worker::console_log!("{line}");
}

/// How a model string outside the catalog is logged: never the string itself (a caller
/// can put anything there), only the first 8 hex digits of its SHA-256.
pub fn model_not_in_catalog(model: &str) -> String {
    digest_of("not-in-catalog", model)
}

/// How caller free text is named in a log: `label:` and the first 8 hex digits of its
/// SHA-256, never the text.
pub fn digest_of(label: &str, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let short = hex::encode(digest.get(..4).unwrap_or_default());
    format!("{label}:{short}")
}

//! The Cedar context of a request: the schema's `RequestFacts`, built from plain values.
//!
//! Cedar can check a request's context against the schema on every request; this module
//! instead checks, once when a bundle loads, that the schema accepts the context the
//! gateway builds (its attribute names and types are fixed by this code). A bundle whose
//! schema disagrees fails to load (and so to build), and requests skip the check.

use cedar_policy::{
    Context, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression, Schema,
};

use crate::limits::Scope;

/// The actions the gateway asks Cedar about (`Endpoint::action`), in schema spelling.
pub const ACTIONS: [&str; 3] = ["chat.completion", "embedding", "message"];

/// The context's shape, for errors (`country` is sent when known).
pub const SHAPE: &str = "{ stream: Bool, max_output_tokens: Long, estimated_input_tokens: Long, \
largest_input_tokens: Long, choices: Long, tools_present: Bool, tool_kinds: Set<String>, \
beta_features: Set<String>, service_tier: String, message_count: Long, \
estimated_cost_micro_usd: Long, injection_score: Long, injection_families: Set<String>, \
pii_kinds: Set<String>, secret_kinds: Set<String>, budgets: { org?: ScopeBudget, \
team?: ScopeBudget, user?: ScopeBudget, key?: ScopeBudget }, country?: String } where ScopeBudget \
is { used_percent: Long, spend_used_percent?: Long, spend_remaining_micro_usd?: Long }";

/// One scope's budgets in their current windows, as its budget object reported them
/// when the call reserved (calls in flight count as used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeBudget {
    pub scope: Scope,
    /// The highest share used of any of the scope's limits, in whole percent.
    pub used_percent: u64,
    /// The tightest spend limit's share used and what it has left, when one applies.
    pub spend: Option<SpendLeft>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendLeft {
    pub used_percent: u64,
    pub remaining_micro_usd: u64,
}

/// One request's facts, as the detectors, the estimator and the edge found them.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    pub stream: bool,
    pub max_output_tokens: u64,
    pub estimated_input_tokens: u64,
    pub largest_input_tokens: u64,
    pub choices: u64,
    pub tools_present: bool,
    pub tool_kinds: &'a [String],
    pub beta_features: &'a [String],
    pub service_tier: &'a str,
    pub message_count: u64,
    pub estimated_cost_micro_usd: u64,
    pub injection_score: u8,
    pub injection_families: &'a [&'static str],
    pub pii_kinds: &'a [&'static str],
    pub secret_kinds: &'a [&'static str],
    /// The scopes with limits that apply to the call (at most one entry a scope).
    pub budgets: &'a [ScopeBudget],
    /// ISO 3166 alpha-2 country of the caller, when the edge knows it.
    pub country: Option<&'a str>,
}

impl RequestContext<'_> {
    /// The Cedar context. Counts are clamped into Cedar's `Long` range.
    pub fn to_cedar(self) -> Result<Context, String> {
        fn strings<S: AsRef<str>>(names: &[S]) -> RestrictedExpression {
            RestrictedExpression::new_set(
                names
                    .iter()
                    .map(|n| RestrictedExpression::new_string(n.as_ref().to_owned())),
            )
        }
        let mut pairs = vec![
            ("stream", RestrictedExpression::new_bool(self.stream)),
            ("max_output_tokens", long(self.max_output_tokens)),
            ("estimated_input_tokens", long(self.estimated_input_tokens)),
            ("largest_input_tokens", long(self.largest_input_tokens)),
            ("choices", long(self.choices)),
            (
                "tools_present",
                RestrictedExpression::new_bool(self.tools_present),
            ),
            ("tool_kinds", strings(self.tool_kinds)),
            ("beta_features", strings(self.beta_features)),
            (
                "service_tier",
                RestrictedExpression::new_string(self.service_tier.to_owned()),
            ),
            ("message_count", long(self.message_count)),
            (
                "estimated_cost_micro_usd",
                long(self.estimated_cost_micro_usd),
            ),
            ("injection_score", long(u64::from(self.injection_score))),
            ("injection_families", strings(self.injection_families)),
            ("pii_kinds", strings(self.pii_kinds)),
            ("secret_kinds", strings(self.secret_kinds)),
            ("budgets", budgets(self.budgets)),
        ];
        if let Some(country) = self.country {
            pairs.push((
                "country",
                RestrictedExpression::new_string(country.to_owned()),
            ));
        }
        Context::from_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
            .map_err(|e| format!("context: {e}"))
    }
}

fn long(n: u64) -> RestrictedExpression {
    RestrictedExpression::new_long(i64::try_from(n).unwrap_or(i64::MAX))
}

fn budgets(scopes: &[ScopeBudget]) -> RestrictedExpression {
    let records = scopes.iter().map(|budget| {
        let mut fields = vec![("used_percent".to_owned(), long(budget.used_percent))];
        if let Some(spend) = budget.spend {
            fields.push(("spend_used_percent".to_owned(), long(spend.used_percent)));
            fields.push((
                "spend_remaining_micro_usd".to_owned(),
                long(spend.remaining_micro_usd),
            ));
        }
        // Field names are distinct, so the record always builds.
        let record = RestrictedExpression::new_record(fields)
            .unwrap_or_else(|_| RestrictedExpression::new_bool(false));
        (budget.scope.id().to_owned(), record)
    });
    RestrictedExpression::new_record(records)
        .unwrap_or_else(|_| RestrictedExpression::new_bool(false))
}

/// Checks that `schema` accepts the context the gateway builds, for each of its actions
/// (with and without the optional `country` and the budgets of every scope, with every
/// set non-empty so element types are checked), and a `principal` and `resource` of the given types.
pub fn check_schema(
    schema: &Schema,
    action_type: &EntityTypeName,
    principal_type: &EntityTypeName,
    resource_type: &EntityTypeName,
) -> Result<(), String> {
    let uid = |type_name: &EntityTypeName, id: &str| {
        EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
    };
    let kinds: &[&'static str] = &["probe"];
    let names = ["probe".to_owned()];
    let every_scope = Scope::ALL.map(|scope| ScopeBudget {
        scope,
        used_percent: 1,
        spend: Some(SpendLeft {
            used_percent: 1,
            remaining_micro_usd: 1,
        }),
    });
    let no_spend = every_scope.map(|budget| ScopeBudget {
        spend: None,
        ..budget
    });
    for (country, budgets) in [
        (None, &[][..]),
        (Some("US"), &every_scope[..]),
        (None, &no_spend[..]),
    ] {
        let probe = RequestContext {
            stream: true,
            max_output_tokens: 1,
            estimated_input_tokens: 1,
            largest_input_tokens: 1,
            choices: 1,
            tools_present: true,
            tool_kinds: &names,
            beta_features: &names,
            service_tier: "auto",
            message_count: 1,
            estimated_cost_micro_usd: 1,
            injection_score: 1,
            injection_families: kinds,
            pii_kinds: kinds,
            secret_kinds: kinds,
            budgets,
            country,
        };
        for action in ACTIONS {
            Request::new(
                uid(principal_type, "probe"),
                uid(action_type, action),
                uid(resource_type, "probe"),
                probe.to_cedar()?,
                Some(schema),
            )
            .map_err(|e| format!("{e}; the schema's context must be {SHAPE}"))?;
        }
    }
    Ok(())
}

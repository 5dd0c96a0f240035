//! Deciding one call: route it to a catalog model, build the Cedar request (principal,
//! action, resource, context) and evaluate it. Deny by default; any evaluation error
//! denies too (fail closed) and is reported in the decision.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Decision as CedarDecision, Entities, Entity, PolicyId, Request,
    RestrictedExpression,
};
use serde::Serialize;

use crate::call::LlmCall;
use gateway_policy::bundle::{CedarTypes, PolicyBundle};
use gateway_policy::catalog::{ModelInfo, Provider};
use gateway_policy::context::{RequestContext, ScopeBudget};
use gateway_policy::obligations::{self, Obligation};
use gateway_policy::principal::Principal;
use gateway_policy::slice::ScopeRequest;

/// A call resolved to the catalog model that will serve it.
#[derive(Debug, Clone, Copy)]
pub struct Route<'b> {
    pub model_id: &'b str,
    pub model: &'b ModelInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("model `{0}` is not in the gateway's catalog")]
    UnknownModel(String),
    #[error("model `{model}` is served by {provider}; call it through {endpoint}")]
    WrongEndpoint {
        model: String,
        provider: &'static str,
        endpoint: &'static str,
    },
}

/// Facts about the request that come from the edge, not from its body.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// ISO 3166 alpha-2 country of the caller (Cloudflare's `request.cf.country`).
    pub country: Option<String>,
    /// The state of each scope's budgets, from the reservation made before deciding.
    pub budgets: Vec<ScopeBudget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// A policy that decided: the permits behind an allow, the forbids behind a deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecidingPolicy {
    pub id: String,
    pub reason: String,
}

/// The outcome of one evaluation, returned to callers on denial and logged always.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: String,
    pub decision: Verdict,
    /// One sentence: the deciding reasons, default deny, or the evaluation failure.
    pub reason: String,
    pub policies: Vec<DecidingPolicy>,
    pub errors: Vec<String>,
    pub policy_version: String,
    pub principal: String,
    pub action: &'static str,
    pub model: String,
    /// What the gateway worked out about the call and gave Cedar as context.
    pub assessment: Assessment,
    /// What the deciding permits require of an allowed call (applied before forwarding).
    pub obligations: Vec<Obligation>,
    /// Evaluation time in microseconds, by the caller's clock.
    pub eval_us: u64,
}

/// The facts about a call the gateway computes before asking Cedar: size, worst-case
/// cost, and what the detectors found (kinds only: never the matched text).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub estimated_input_tokens: u64,
    pub largest_input_tokens: u64,
    /// The caller's cap, or the model's own output limit when the caller set none.
    pub max_output_tokens: u64,
    /// Input estimate × input price + max output × choices × output price, in millionths
    /// of a USD.
    pub estimated_cost_micro_usd: u64,
    pub injection_score: u8,
    pub injection_families: Vec<&'static str>,
    pub pii_kinds: Vec<&'static str>,
    pub secret_kinds: Vec<&'static str>,
}

impl Assessment {
    pub fn of(call: &LlmCall, model: &ModelInfo) -> Self {
        let (estimated_input_tokens, largest_input_tokens) = call.input_token_estimates();
        let model_limit = u64::from(model.max_output_tokens);
        let max_output_tokens = call.max_output_tokens.unwrap_or(model_limit);
        // Prices are USD per million tokens, so tokens × price is micro-USD; every choice
        // may use the whole output limit.
        let prices = &model.usd_per_million_tokens;
        let cost = estimated_input_tokens as f64 * prices.input
            + call.worst_case_output_tokens(model_limit) as f64 * prices.output;
        let detections = call.scan();
        Self {
            estimated_input_tokens,
            largest_input_tokens,
            max_output_tokens,
            // `as` saturates: a huge cost becomes u64::MAX, never wraps.
            estimated_cost_micro_usd: cost.ceil() as u64,
            injection_score: detections.injection_score,
            pii_kinds: detections.pii_kinds(),
            secret_kinds: detections.secret_kinds(),
            injection_families: detections.injection_families,
        }
    }
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.decision == Verdict::Allow
    }

    pub fn policy_ids(&self) -> Vec<&str> {
        self.policies.iter().map(|p| p.id.as_str()).collect()
    }
}

/// A decision id: `dec_` and 128 random bits in hex.
pub fn random_decision_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(format!("dec_{}", hex::encode(bytes)))
}

/// What the engine decides under a policy bundle (`use gateway_engine::Decide`): a loaded
/// [`PolicyBundle`] routes calls and decides them.
pub trait Decide {
    fn policy_bundle(&self) -> &PolicyBundle;

    /// Finds the catalog model a call names, and checks the endpoint can reach it.
    fn route<'b>(&'b self, call: &LlmCall) -> Result<Route<'b>, RouteError> {
        let bundle = self.policy_bundle();
        let (model_id, model) = bundle
            .catalog()
            .models
            .get_key_value(call.model.as_str())
            .ok_or_else(|| RouteError::UnknownModel(call.model.clone()))?;
        if model.provider != call.endpoint.wire_format() {
            return Err(RouteError::WrongEndpoint {
                model: model_id.clone(),
                provider: model.provider.id(),
                endpoint: match model.provider {
                    Provider::Openai => "/v1/chat/completions or /v1/embeddings",
                    Provider::Anthropic => "/v1/messages",
                },
            });
        }
        Ok(Route { model_id, model })
    }

    /// Evaluates the policies for one routed call. Never fails: an error becomes a deny
    /// that lists it. `now_us` is the caller's clock in microseconds.
    fn decide(
        &self,
        decision_id: String,
        principal: &Principal,
        call: &LlmCall,
        route: Route<'_>,
        facts: &RequestFacts,
        now_us: &dyn Fn() -> f64,
    ) -> Decision {
        let bundle = self.policy_bundle();
        let started = now_us();
        let assessment = Assessment::of(call, route.model);
        let outcome = evaluate(bundle, principal, call, route, &assessment, facts);
        let eval_us = (now_us() - started).max(0.0) as u64;

        let (decision, reason, policies, errors) = match outcome {
            Ok(outcome) => outcome.summarise(bundle),
            Err(error) => (
                Verdict::Deny,
                "the request could not be evaluated, so it is denied (fail closed)".to_owned(),
                Vec::new(),
                vec![error],
            ),
        };
        let obligations = match decision {
            Verdict::Allow => obligations_of(bundle, &policies),
            Verdict::Deny => Vec::new(),
        };
        Decision {
            id: decision_id,
            decision,
            reason,
            policies,
            errors,
            policy_version: bundle.version(),
            principal: principal.user.clone(),
            action: call.endpoint.action(),
            model: route.model_id.to_owned(),
            assessment,
            obligations,
            eval_us,
        }
    }

    /// The Cedar entities a call by `principal` to `model_id` is evaluated against: the
    /// caller in its team and org, the model under its provider, and the schema's actions.
    /// Built and checked against the schema once per caller and model, then shared.
    fn entities_for(&self, principal: &Principal, model_id: &str) -> Result<Arc<Entities>, String> {
        let bundle = self.policy_bundle();
        bundle.request_entities(principal, model_id, || {
            let model = bundle
                .model(model_id)
                .ok_or_else(|| format!("model `{model_id}` is not in the catalog"))?;
            let model_entity = bundle
                .model_entity(model_id)
                .ok_or_else(|| format!("model `{model_id}` has no entity"))?;
            let provider_entity = bundle
                .provider_entity(model.provider)
                .ok_or_else(|| format!("provider `{}` has no entity", model.provider.id()))?;
            Entities::from_entities(
                principal_entities(bundle.types(), principal)?
                    .into_iter()
                    .chain([model_entity.clone(), provider_entity.clone()]),
                Some(bundle.schema()),
            )
            .map_err(|e| format!("entities: {e}"))
        })
    }
}

impl Decide for PolicyBundle {
    fn policy_bundle(&self) -> &PolicyBundle {
        self
    }
}

/// The merged obligations of the deciding permits (validated when the bundle loaded).
fn obligations_of(bundle: &PolicyBundle, deciding: &[DecidingPolicy]) -> Vec<Obligation> {
    obligations::merge(
        deciding
            .iter()
            .flat_map(|p| bundle.obligations(&PolicyId::new(&p.id)))
            .copied(),
    )
}

fn evaluate(
    bundle: &PolicyBundle,
    principal: &Principal,
    call: &LlmCall,
    route: Route<'_>,
    assessment: &Assessment,
    facts: &RequestFacts,
) -> Result<Outcome, String> {
    let types = bundle.types();
    let principal_uid = CedarTypes::uid(&types.user, &principal.user);
    let action_uid = CedarTypes::uid(&types.action, call.endpoint.action());
    let resource_uid = CedarTypes::uid(&types.model, route.model_id);
    let entities = bundle.entities_for(principal, route.model_id)?;
    let policies = bundle.policies_for(ScopeRequest {
        principal: &principal_uid,
        action: &action_uid,
        resource: &resource_uid,
        entities: &entities,
    });
    let context = RequestContext {
        stream: call.stream,
        max_output_tokens: assessment.max_output_tokens,
        estimated_input_tokens: assessment.estimated_input_tokens,
        largest_input_tokens: assessment.largest_input_tokens,
        choices: call.choices,
        tools_present: call.tools_present,
        tool_kinds: &call.tool_kinds,
        beta_features: &call.beta_features,
        service_tier: &call.service_tier,
        message_count: call.message_count,
        estimated_cost_micro_usd: assessment.estimated_cost_micro_usd,
        injection_score: assessment.injection_score,
        injection_families: &assessment.injection_families,
        pii_kinds: &assessment.pii_kinds,
        secret_kinds: &assessment.secret_kinds,
        budgets: &facts.budgets,
        country: facts.country.as_deref(),
    }
    .to_cedar()?;
    // No schema here: the bundle checked at load that the schema accepts this shape.
    let request = Request::new(principal_uid, action_uid, resource_uid, context, None)
        .map_err(|e| format!("request: {e}"))?;

    let response = Authorizer::new().is_authorized(&request, &policies, &entities);
    let diagnostics = response.diagnostics();
    Ok(Outcome {
        allowed: response.decision() == CedarDecision::Allow,
        deciding: diagnostics.reason().cloned().collect(),
        errors: diagnostics.errors().map(ToString::to_string).collect(),
    })
}

struct Outcome {
    allowed: bool,
    deciding: Vec<PolicyId>,
    errors: Vec<String>,
}

impl Outcome {
    fn summarise(
        self,
        bundle: &PolicyBundle,
    ) -> (Verdict, String, Vec<DecidingPolicy>, Vec<String>) {
        let mut policies: Vec<DecidingPolicy> = self
            .deciding
            .iter()
            .map(|id| DecidingPolicy {
                id: id.to_string(),
                reason: bundle.reason(id).unwrap_or_default().to_owned(),
            })
            .collect();
        policies.sort_by(|a, b| a.id.cmp(&b.id));

        // A policy that errored is skipped by Cedar; a skipped forbid must not let a
        // request through, so any error denies.
        if !self.errors.is_empty() {
            let reason = "a policy failed to evaluate, so the request is denied (fail closed)";
            return (Verdict::Deny, reason.to_owned(), Vec::new(), self.errors);
        }
        if policies.is_empty() {
            let reason = if self.allowed {
                "allowed"
            } else {
                "no policy permits this request (denied by default)"
            };
            return (
                verdict(self.allowed),
                reason.to_owned(),
                policies,
                self.errors,
            );
        }
        let reason = policies
            .iter()
            .map(|p| p.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        (verdict(self.allowed), reason, policies, self.errors)
    }
}

fn verdict(allowed: bool) -> Verdict {
    if allowed {
        Verdict::Allow
    } else {
        Verdict::Deny
    }
}

/// The user (in its team and org), the team (in its org) and the org.
fn principal_entities(types: &CedarTypes, principal: &Principal) -> Result<Vec<Entity>, String> {
    let team = CedarTypes::uid(&types.team, &principal.team);
    let org = CedarTypes::uid(&types.org, &principal.org);
    let attrs = HashMap::from([
        (
            "roles".to_owned(),
            RestrictedExpression::new_set(
                principal
                    .roles
                    .iter()
                    .map(|r| RestrictedExpression::new_string(r.clone())),
            ),
        ),
        (
            "tier".to_owned(),
            RestrictedExpression::new_string(principal.tier.id().to_owned()),
        ),
    ]);
    let user = Entity::new(
        CedarTypes::uid(&types.user, &principal.user),
        attrs,
        HashSet::from([team.clone(), org.clone()]),
    )
    .map_err(|e| format!("principal: {e}"))?;
    Ok(vec![
        user,
        Entity::new_no_attrs(team, HashSet::from([org.clone()])),
        Entity::new_no_attrs(org, HashSet::new()),
    ])
}

//! The benchmark request and the ways the benchmarks evaluate it, shared by the
//! criterion bench (`benches/decision.rs`) and the wasm bench crate (`bench/wasm-engine`).
//!
//! The request: an OpenAI chat completion for `gpt-4o-mini` (`max_tokens` 512, a system
//! message and one user message of prose with no PII, secrets or injection), from `alice`
//! (team `research`, org `acme`, role `developer`, tier `pro`) calling from the US. Every
//! generated set allows it through `research-model-allowlist`.
//!
//! * [`decide`]: the full pipeline, exactly as the worker runs it after authentication:
//!   JSON bytes → `LlmCall` → route → detectors → Cedar request → authorize → `Decision`.
//! * [`cedar_request_json`]: the Cedar request that pipeline builds (principal, action,
//!   resource, context, entities) in Cedar's JSON formats: what `@cedar-policy/cedar-wasm`
//!   takes, so the peer decides the very same request.
//! * [`Prebuilt`]: that request parsed once into Cedar types: the floor is Cedar's
//!   `is_authorized` alone on it, over the whole set; the sliced floor is the same call
//!   over the request's slice (the policies whose scope it satisfies), which is what the
//!   pipeline hands Cedar.

use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, EntityUid, PolicySet, Request,
};
use gateway_engine::decision::{Assessment, Decision};
use gateway_engine::{Decide, Endpoint, LlmCall, RequestFacts};
use gateway_policy::bundle::{CedarTypes, PolicyBundle};
use gateway_policy::slice::ScopeRequest;
use gateway_policy::{Principal, Tier};
use serde_json::{json, Value};

/// Prompt sizes in bytes (of the user message).
pub const PROMPT_SIZES: [usize; 3] = [1024, 4096, 32 * 1024];

pub const ENDPOINT: Endpoint = Endpoint::ChatCompletions;
pub const MODEL: &str = "gpt-4o-mini";

/// Realistic prose (no PII, no secrets) of exactly `bytes` bytes (ASCII).
pub fn prose(bytes: usize) -> String {
    const SENTENCE: &str = "The quarterly report shows steady growth in the northern region, \
        while support tickets about delayed shipments fell by a fifth after the new \
        warehouse opened. ";
    SENTENCE
        .repeat(bytes / SENTENCE.len() + 1)
        .chars()
        .take(bytes)
        .collect()
}

/// The request body with a user message of `prompt_bytes` bytes.
pub fn chat_body(prompt_bytes: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": MODEL,
        "max_tokens": 512,
        "temperature": 0.2,
        "messages": [
            { "role": "system", "content": "You are a concise analyst." },
            { "role": "user", "content": prose(prompt_bytes) }
        ]
    }))
    .unwrap_or_default()
}

/// The caller, as its key record in KV resolves it.
pub fn principal() -> Principal {
    Principal {
        user: "alice".to_owned(),
        team: "research".to_owned(),
        org: "acme".to_owned(),
        roles: vec!["developer".to_owned()],
        tier: Tier::Pro,
    }
}

pub fn facts() -> RequestFacts {
    RequestFacts {
        country: Some("US".to_owned()),
        budgets: Vec::new(),
    }
}

/// The full pipeline on one request body.
pub fn decide(
    bundle: &PolicyBundle,
    principal: &Principal,
    facts: &RequestFacts,
    body: &[u8],
) -> Result<Decision, String> {
    let call = LlmCall::parse(ENDPOINT, body).map_err(|e| e.to_string())?;
    let route = bundle.route(&call).map_err(|e| e.to_string())?;
    Ok(bundle.decide(String::new(), principal, &call, route, facts, &|| 0.0))
}

/// The first stage alone: parse and normalise the body, route it to its model.
pub fn parse_and_route(bundle: &PolicyBundle, body: &[u8]) -> bool {
    LlmCall::parse(ENDPOINT, body).is_ok_and(|call| bundle.route(&call).is_ok())
}

/// The first two stages: parse, route, then the assessment (token and cost estimates and
/// every detector). What the full decision adds beyond this is the Cedar request, the
/// authorization and the `Decision`.
pub fn parse_route_and_assess(bundle: &PolicyBundle, body: &[u8]) -> Option<u64> {
    let call = LlmCall::parse(ENDPOINT, body).ok()?;
    let route = bundle.route(&call).ok()?;
    Some(Assessment::of(&call, route.model).estimated_cost_micro_usd)
}

fn uid_json(type_name: &str, id: &str) -> Value {
    json!({ "type": type_name, "id": id })
}

/// The Cedar request the pipeline builds for `body`, as
/// `{principal, action, resource, context, entities}` in Cedar's JSON formats.
pub fn cedar_request_json(
    bundle: &PolicyBundle,
    principal: &Principal,
    facts: &RequestFacts,
    body: &[u8],
) -> Result<Value, String> {
    let call = LlmCall::parse(ENDPOINT, body).map_err(|e| e.to_string())?;
    let route = bundle.route(&call).map_err(|e| e.to_string())?;
    let assessment = Assessment::of(&call, route.model);
    let model = bundle
        .model_entity(route.model_id)
        .ok_or("no model entity")?
        .to_json_value()
        .map_err(|e| e.to_string())?;
    let provider = bundle
        .provider_entity(route.model.provider)
        .ok_or("no provider entity")?
        .to_json_value()
        .map_err(|e| e.to_string())?;

    let mut context = json!({
        "stream": call.stream,
        "max_output_tokens": assessment.max_output_tokens,
        "estimated_input_tokens": assessment.estimated_input_tokens,
        "largest_input_tokens": assessment.largest_input_tokens,
        "choices": call.choices,
        "tools_present": call.tools_present,
        "tool_kinds": call.tool_kinds,
        "beta_features": call.beta_features,
        "service_tier": call.service_tier,
        "message_count": call.message_count,
        "estimated_cost_micro_usd": assessment.estimated_cost_micro_usd,
        "injection_score": assessment.injection_score,
        "injection_families": assessment.injection_families,
        "pii_kinds": assessment.pii_kinds,
        "secret_kinds": assessment.secret_kinds,
        "budgets": {},
    });
    if let (Some(country), Some(map)) = (&facts.country, context.as_object_mut()) {
        map.insert("country".to_owned(), json!(country));
    }
    let user = json!({
        "uid": uid_json("Llm::User", &principal.user),
        "attrs": { "roles": principal.roles, "tier": principal.tier.id() },
        "parents": [uid_json("Llm::Team", &principal.team), uid_json("Llm::Org", &principal.org)],
    });
    let team = json!({
        "uid": uid_json("Llm::Team", &principal.team),
        "attrs": {},
        "parents": [uid_json("Llm::Org", &principal.org)],
    });
    let org = json!({ "uid": uid_json("Llm::Org", &principal.org), "attrs": {}, "parents": [] });
    Ok(json!({
        "principal": uid_json("Llm::User", &principal.user),
        "action": uid_json("Llm::Action", call.endpoint.action()),
        "resource": uid_json("Llm::Model", route.model_id),
        "context": context,
        "entities": [user, team, org, model, provider],
    }))
}

/// A Cedar request and its entities, built once.
pub struct Prebuilt {
    pub request: Request,
    pub entities: Entities,
    /// The request's slice of the bundle (`PolicyBundle::policies_for`).
    pub slice: Arc<PolicySet>,
}

impl Prebuilt {
    /// Parses [`cedar_request_json`]'s output, validating it against the bundle's schema
    /// as the pipeline does.
    pub fn from_json(bundle: &PolicyBundle, json: &Value) -> Result<Self, String> {
        let types: &CedarTypes = bundle.types();
        let schema = bundle.schema();
        let uid = |key: &str, type_name| -> Result<EntityUid, String> {
            let id = json
                .get(key)
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("request JSON lacks {key}"))?;
            Ok(CedarTypes::uid(type_name, id))
        };
        let principal = uid("principal", &types.user)?;
        let action = uid("action", &types.action)?;
        let resource = uid("resource", &types.model)?;
        let context = Context::from_json_value(
            json.get("context").cloned().unwrap_or(Value::Null),
            Some((schema, &action)),
        )
        .map_err(|e| e.to_string())?;
        let entities = Entities::from_json_value(
            json.get("entities").cloned().unwrap_or(Value::Null),
            Some(schema),
        )
        .map_err(|e| e.to_string())?;
        let slice = bundle.policies_for(ScopeRequest {
            principal: &principal,
            action: &action,
            resource: &resource,
            entities: &entities,
        });
        let request = Request::new(principal, action, resource, context, Some(schema))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            request,
            entities,
            slice,
        })
    }

    /// Cedar's `is_authorized` alone on the request's slice.
    pub fn authorize_sliced(&self, authorizer: &Authorizer) -> bool {
        authorizer
            .is_authorized(&self.request, &self.slice, &self.entities)
            .decision()
            == CedarDecision::Allow
    }

    /// Cedar's `is_authorized` alone: the floor.
    pub fn authorize(&self, authorizer: &Authorizer, bundle: &PolicyBundle) -> bool {
        authorizer
            .is_authorized(&self.request, bundle.policies(), &self.entities)
            .decision()
            == CedarDecision::Allow
    }

    /// The decision and its deciding policy ids (sorted), to compare with the pipeline's.
    pub fn explain(&self, bundle: &PolicyBundle) -> (bool, Vec<String>) {
        let response =
            Authorizer::new().is_authorized(&self.request, bundle.policies(), &self.entities);
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        ids.sort();
        (response.decision() == CedarDecision::Allow, ids)
    }
}

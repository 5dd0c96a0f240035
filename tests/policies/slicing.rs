//! Policy slicing (crates/policy/src/slice.rs) is exact: for every request, Cedar on the slice
//! gives the same decision, the same deciding policies and the same erroring policies as
//! Cedar on the whole bundle.
//!
//! Checked exhaustively on a hand-written bundle that uses every scope form (`==`, `in`,
//! `is`, `is … in`, action lists, provider groups) and has policies that error, on wasm32
//! too; and on random requests against the 1,000-policy benchmark set (natively).

use crate::support::principal;
use cedar_policy::{Authorizer, Context, Decision, EntityUid, PolicySet, Request, Response};
use gateway_engine::Decide;
use gateway_policy::bundle::{BundleSource, CedarTypes, PolicyBundle, PolicyFile, Validation};
use gateway_policy::slice::ScopeRequest;
use gateway_policy::{Principal, Tier};
use llm_policy_gateway::embedded;
#[cfg(not(target_arch = "wasm32"))]
use proptest::{arbitrary::any, sample::select, sample::Index, strategy::Strategy};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SCOPES: &str = r#"
@id("alice-anything")
@reason("alice may do anything")
permit (principal == Llm::User::"alice", action, resource);

@id("research-chat-gpt-4o")
@reason("research may chat with gpt-4o")
permit (
  principal in Llm::Team::"research",
  action in [Llm::Action::"chat.completion", Llm::Action::"message"],
  resource
) when { resource in [Llm::Model::"gpt-4o", Llm::Model::"claude-opus-4"] };

@id("acme-users-embed")
@reason("acme's users may embed")
permit (principal is Llm::User in Llm::Org::"acme", action == Llm::Action::"embedding", resource);

@id("no-streams-from-anthropic")
@reason("no streams from anthropic models")
forbid (principal is Llm::User, action, resource is Llm::Model in Llm::Provider::"anthropic")
when { context.stream };

@id("globex-not-openai")
@reason("globex may not use openai")
forbid (principal in Llm::Org::"globex", action, resource in Llm::Provider::"openai");

@id("free-not-gpt-4-1")
@reason("free callers may not use gpt-4.1")
forbid (principal, action == Llm::Action::"chat.completion", resource == Llm::Model::"gpt-4.1")
when { principal.tier == "free" };

@id("support-overflows")
@reason("errors (overflow) for support callers with two or more messages")
forbid (principal in Llm::Team::"support", action, resource)
when { context.message_count * 4611686018427387904 > 0 };

@id("everyone-overflows-with-the-role")
@reason("errors (overflow) for callers with the overflow role")
forbid (principal, action, resource)
when { principal.roles.contains("overflow") && context.estimated_input_tokens * 4611686018427387904 > 0 };
"#;

const MODELS: [&str; 8] = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "claude-sonnet-4",
    "claude-opus-4",
    "claude-3-5-haiku",
];
const ACTIONS: [&str; 3] = ["chat.completion", "message", "embedding"];

fn bundle_of(policies: &str) -> PolicyBundle {
    let embedded = embedded::source();
    let source = BundleSource {
        schema: embedded.schema,
        policy_files: vec![PolicyFile {
            name: "scopes.cedar",
            text: policies,
        }],
        catalog: embedded.catalog,
        limits: embedded.limits,
    };
    PolicyBundle::load(&source, Validation::Strict).unwrap()
}

fn context(stream: bool, messages: u64, tokens: u64) -> serde_json::Value {
    json!({
        "stream": stream,
        "max_output_tokens": 1024,
        "estimated_input_tokens": tokens,
        "largest_input_tokens": tokens,
        "choices": 1,
        "tools_present": false,
        "tool_kinds": [],
        "beta_features": [],
        "service_tier": "auto",
        "message_count": messages,
        "estimated_cost_micro_usd": 1000,
        "injection_score": 0,
        "injection_families": [],
        "pii_kinds": [],
        "secret_kinds": [],
        "budgets": {},
        "country": "US",
    })
}

/// What a response says, in a comparable form: the decision, the deciding policy ids and
/// the errors (each naming its policy), both sorted.
fn summary(response: &Response) -> (Decision, Vec<String>, Vec<String>) {
    let diagnostics = response.diagnostics();
    let mut reasons: Vec<String> = diagnostics.reason().map(ToString::to_string).collect();
    let mut errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
    reasons.sort();
    errors.sort();
    (response.decision(), reasons, errors)
}

#[derive(Default)]
struct Tally {
    requests: usize,
    allowed: usize,
    errored: usize,
    sliced_policies: usize,
    all_policies: usize,
}

/// Decides one request on the whole bundle and on its slice, and asserts they agree.
fn check(
    bundle: &PolicyBundle,
    principal: &Principal,
    action: &str,
    model: &str,
    context_json: serde_json::Value,
    tally: &mut Tally,
) {
    let types = bundle.types();
    let principal_uid: EntityUid = CedarTypes::uid(&types.user, &principal.user);
    let action_uid = CedarTypes::uid(&types.action, action);
    let resource_uid = CedarTypes::uid(&types.model, model);
    let entities = bundle.entities_for(principal, model).unwrap();
    let context =
        Context::from_json_value(context_json, Some((bundle.schema(), &action_uid))).unwrap();
    let request = Request::new(
        principal_uid.clone(),
        action_uid.clone(),
        resource_uid.clone(),
        context,
        Some(bundle.schema()),
    )
    .unwrap();
    let slice: std::sync::Arc<PolicySet> = bundle.policies_for(ScopeRequest {
        principal: &principal_uid,
        action: &action_uid,
        resource: &resource_uid,
        entities: &entities,
    });

    let authorizer = Authorizer::new();
    let whole = summary(&authorizer.is_authorized(&request, bundle.policies(), &entities));
    let sliced = summary(&authorizer.is_authorized(&request, &slice, &entities));
    assert_eq!(
        whole, sliced,
        "slice differs for {principal:?} {action} {model}"
    );

    tally.requests += 1;
    tally.allowed += usize::from(whole.0 == Decision::Allow);
    tally.errored += usize::from(!whole.2.is_empty());
    tally.sliced_policies += slice.policies().count();
    tally.all_policies += bundle.policy_count();
}

#[test]
fn every_scope_form_slices_exactly() {
    let bundle = bundle_of(SCOPES);
    let mut tally = Tally::default();
    for user in ["alice", "bob"] {
        for team in ["research", "support", "platform"] {
            for org in ["acme", "globex"] {
                for tier in [Tier::Free, Tier::Pro] {
                    for roles in [&[][..], &["overflow"][..]] {
                        let caller = principal(user, team, org, roles, tier);
                        for action in ACTIONS {
                            for model in MODELS {
                                for (stream, messages, tokens) in
                                    [(false, 1, 0), (true, 1, 5), (false, 3, 5)]
                                {
                                    check(
                                        &bundle,
                                        &caller,
                                        action,
                                        model,
                                        context(stream, messages, tokens),
                                        &mut tally,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The cases cover allows, denies and errors, and slices are smaller than the set.
    assert_eq!(tally.requests, 2 * 3 * 2 * 2 * 2 * 3 * 8 * 3);
    assert!(tally.allowed > 0 && tally.allowed < tally.requests);
    assert!(tally.errored > 0 && tally.errored < tally.requests);
    assert!(tally.sliced_policies < tally.all_policies / 2);
}

#[test]
fn slices_are_shared_between_callers_with_the_same_scope() {
    let bundle = bundle_of(SCOPES);
    let mut tally = Tally::default();
    for user in ["bob", "carol", "dave"] {
        let caller = principal(user, "research", "acme", &[], Tier::Pro);
        check(
            &bundle,
            &caller,
            "chat.completion",
            "gpt-4o",
            context(false, 1, 5),
            &mut tally,
        );
    }
    let slice = |user: &str| {
        let caller = principal(user, "research", "acme", &[], Tier::Pro);
        let types = bundle.types();
        let entities = bundle.entities_for(&caller, "gpt-4o").unwrap();
        bundle.policies_for(ScopeRequest {
            principal: &CedarTypes::uid(&types.user, user),
            action: &CedarTypes::uid(&types.action, "chat.completion"),
            resource: &CedarTypes::uid(&types.model, "gpt-4o"),
            entities: &entities,
        })
    };
    assert!(std::sync::Arc::ptr_eq(&slice("bob"), &slice("carol")));
    // alice has a policy of her own, so her slice is another one.
    assert!(!std::sync::Arc::ptr_eq(&slice("bob"), &slice("alice")));
    let ids = |set: &PolicySet| {
        let mut ids: Vec<String> = set.policies().map(|p| p.id().to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&slice("bob")),
        ["everyone-overflows-with-the-role", "research-chat-gpt-4o"]
    );
}

/// One random request against the benchmark set: the caller (its team and org picked
/// from the set's by index), the request's context, the action and the model.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
struct Draw {
    tier: Tier,
    roles: &'static [&'static str],
    team: Index,
    org: Index,
    facts: serde_json::Value,
    action: &'static str,
    model: &'static str,
}

#[cfg(not(target_arch = "wasm32"))]
impl Draw {
    fn strategy() -> impl Strategy<Value = Self> {
        const ROLE_SETS: [&[&str]; 3] = [&[], &["developer"], &["tool-user", "senior-engineer"]];
        let caller = (
            select(vec![Tier::Free, Tier::Pro, Tier::Enterprise]),
            select(ROLE_SETS.to_vec()),
            any::<Index>(),
            any::<Index>(),
        );
        let facts = (
            (any::<bool>(), 1..=120u64),
            (0..100u64, 0..3_000_000u64, 0..9000u64, any::<bool>()),
            select(vec!["email", "iban", "credit_card"]),
            select(vec!["US", "DE", "FR", "JP"]),
        )
            .prop_map(|((stream, messages), numbers, pii_kind, country)| {
                let (injection_score, cost, max_output_tokens, tools) = numbers;
                let mut facts = context(stream, messages, 50);
                facts["injection_score"] = json!(injection_score);
                facts["estimated_cost_micro_usd"] = json!(cost);
                facts["max_output_tokens"] = json!(max_output_tokens);
                facts["tools_present"] = json!(tools);
                facts["pii_kinds"] = json!([pii_kind]);
                facts["country"] = json!(country);
                facts
            });
        let target = (select(ACTIONS.to_vec()), select(MODELS.to_vec()));
        (caller, facts, target).prop_map(|((tier, roles, team, org), facts, (action, model))| {
            Self {
                tier,
                roles,
                team,
                org,
                facts,
                action,
                model,
            }
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_thousand_policy_benchmark_set_slices_exactly() {
    use cedar_policy::PrincipalConstraint;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    use std::cell::RefCell;

    let set = gateway_workload::generate::generate(&embedded::source(), 1000).unwrap();
    let bundle = set.load().unwrap();
    // Callers drawn from the teams and orgs the set's scopes name, paired at random (a
    // team outside its org is still a request the gateway must decide correctly).
    let (mut teams, mut orgs) = (Vec::new(), Vec::new());
    for policy in bundle.policies().policies() {
        if let PrincipalConstraint::In(uid) = policy.principal_constraint() {
            let id = uid.id().unescaped().to_owned();
            match uid.type_name().basename() {
                "Team" => teams.push(id),
                "Org" => orgs.push(id),
                _ => {}
            }
        }
    }
    teams.sort();
    teams.dedup();
    orgs.sort();
    orgs.dedup();
    assert!(teams.len() > 50 && orgs.len() > 5, "{teams:?} {orgs:?}");

    // 400 requests, the same each run (a fixed seed), a new user each.
    let mut config = Config::with_cases(400);
    config.rng_seed = RngSeed::Fixed(5);
    config.failure_persistence = None;
    let tally = RefCell::new(Tally::default());
    let result = TestRunner::new(config).run(&Draw::strategy(), |draw| {
        let mut tally = tally.borrow_mut();
        let user = format!("user{}", tally.requests);
        let team = draw.team.get(&teams);
        let org = draw.org.get(&orgs);
        let caller = principal(&user, team, org, draw.roles, draw.tier);
        check(
            &bundle,
            &caller,
            draw.action,
            draw.model,
            draw.facts,
            &mut tally,
        );
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let tally = tally.into_inner();
    assert_eq!(tally.requests, 400);
    assert!(tally.allowed > 0 && tally.allowed < tally.requests);
    // Each request evaluates a few dozen policies, not a thousand.
    assert!(
        tally.sliced_policies * 10 < tally.all_policies,
        "{} of {}",
        tally.sliced_policies,
        tally.all_policies
    );
}

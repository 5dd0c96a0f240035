//! What one decision costs natively, from the request's JSON bytes to a Decision:
//! parse and normalise, detectors, Cedar request, authorize — for prompts of 1, 4 and
//! 32 KiB with the embedded policy set. Beside it, the floor: Cedar's `is_authorized`
//! alone on a prebuilt request, and the detectors alone on 1 KiB to 256 KiB.
//!
//! Run: `cargo bench --bench decision` (figures recorded in BENCHMARKS.md).

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::{HashMap, HashSet};
    use std::hint::black_box;

    use cedar_policy::{Authorizer, Context, Entities, Entity, Request, RestrictedExpression};
    use criterion::{BenchmarkId, Criterion, Throughput};
    use llm_policy_gateway::engine::bundle::CedarTypes;
    use llm_policy_gateway::engine::{
        detect, embedded, Endpoint, LlmCall, Principal, RequestFacts, Tier,
    };

    const SIZES: [usize; 3] = [1024, 4096, 32 * 1024];

    /// Realistic prose (no PII, no secrets) of about `bytes` bytes.
    fn prose(bytes: usize) -> String {
        const SENTENCE: &str = "The quarterly report shows steady growth in the northern region, \
            while support tickets about delayed shipments fell by a fifth after the new \
            warehouse opened. ";
        SENTENCE
            .repeat(bytes / SENTENCE.len() + 1)
            .chars()
            .take(bytes)
            .collect()
    }

    fn chat_body(prompt_bytes: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "model": "gpt-4o-mini",
            "max_tokens": 512,
            "temperature": 0.2,
            "messages": [
                { "role": "system", "content": "You are a concise analyst." },
                { "role": "user", "content": prose(prompt_bytes) }
            ]
        }))
        .unwrap_or_default()
    }

    fn alice() -> Principal {
        Principal {
            user: "alice".to_owned(),
            team: "research".to_owned(),
            org: "acme".to_owned(),
            roles: vec!["developer".to_owned()],
            tier: Tier::Pro,
        }
    }

    pub fn full_decision(c: &mut Criterion) {
        let Ok(bundle) = embedded::load() else { return };
        let principal = alice();
        let facts = RequestFacts {
            country: Some("US".to_owned()),
        };
        let mut group = c.benchmark_group("full_decision");
        for size in SIZES {
            let body = chat_body(size);
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
                b.iter(|| {
                    let Ok(call) = LlmCall::parse(Endpoint::ChatCompletions, black_box(body))
                    else {
                        return None;
                    };
                    let route = bundle.route(&call).ok()?;
                    let decision =
                        bundle.decide(String::new(), &principal, &call, route, &facts, &|| 0.0);
                    Some(decision.is_allowed())
                })
            });
        }
        group.finish();
    }

    /// Cedar alone: the same request the gateway would build, prebuilt once.
    pub fn cedar_floor(c: &mut Criterion) {
        let Ok(bundle) = embedded::load() else { return };
        let types = bundle.types();
        let user = CedarTypes::uid(&types.user, "alice");
        let team = CedarTypes::uid(&types.team, "research");
        let org = CedarTypes::uid(&types.org, "acme");
        let Some(model) = bundle.model_entity("gpt-4o-mini").cloned() else {
            return;
        };
        let Some(provider) = bundle
            .model("gpt-4o-mini")
            .and_then(|m| bundle.provider_entity(m.provider))
            .cloned()
        else {
            return;
        };
        let attrs = HashMap::from([
            (
                "roles".to_owned(),
                RestrictedExpression::new_set([RestrictedExpression::new_string(
                    "developer".to_owned(),
                )]),
            ),
            (
                "tier".to_owned(),
                RestrictedExpression::new_string("pro".to_owned()),
            ),
        ]);
        let Ok(user_entity) = Entity::new(
            user.clone(),
            attrs,
            HashSet::from([team.clone(), org.clone()]),
        ) else {
            return;
        };
        let entities = Entities::from_entities(
            [
                user_entity,
                Entity::new_no_attrs(team, HashSet::from([org.clone()])),
                Entity::new_no_attrs(org, HashSet::new()),
                model.clone(),
                provider,
            ],
            Some(bundle.schema()),
        );
        let long = RestrictedExpression::new_long;
        let empty = || RestrictedExpression::new_set([]);
        let context = Context::from_pairs([
            ("stream".to_owned(), RestrictedExpression::new_bool(false)),
            ("max_output_tokens".to_owned(), long(512)),
            ("estimated_input_tokens".to_owned(), long(1100)),
            ("largest_input_tokens".to_owned(), long(1100)),
            (
                "tools_present".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
            ("message_count".to_owned(), long(2)),
            ("estimated_cost_micro_usd".to_owned(), long(472)),
            ("injection_score".to_owned(), long(0)),
            ("injection_families".to_owned(), empty()),
            ("pii_kinds".to_owned(), empty()),
            ("secret_kinds".to_owned(), empty()),
            (
                "country".to_owned(),
                RestrictedExpression::new_string("US".to_owned()),
            ),
        ]);
        let (Ok(entities), Ok(context)) = (entities, context) else {
            return;
        };
        let action = CedarTypes::uid(&types.action, "chat.completion");
        let Ok(request) = Request::new(user, action, model.uid(), context, Some(bundle.schema()))
        else {
            return;
        };
        let authorizer = Authorizer::new();
        c.bench_function("cedar_is_authorized_floor", |b| {
            b.iter(|| authorizer.is_authorized(black_box(&request), bundle.policies(), &entities))
        });
    }

    pub fn detectors(c: &mut Criterion) {
        let mut group = c.benchmark_group("detectors_scan_text");
        for size in [1024, 32 * 1024, 256 * 1024] {
            let text = prose(size);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), &text, |b, text| {
                b.iter(|| detect::scan_text(black_box(text)))
            });
        }
        group.finish();
    }
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_group!(
    benches,
    native::full_decision,
    native::cedar_floor,
    native::detectors
);
#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(benches);

#[cfg(target_arch = "wasm32")]
fn main() {}

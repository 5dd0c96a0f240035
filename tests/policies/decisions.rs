//! The decision record (its JSON shape, id and timing), the embedded bundle's identity,
//! and the errors a bundle load reports for each kind of broken source.

use std::cell::Cell;
use std::collections::{BTreeSet, HashSet};

use gateway_engine::decision::{random_decision_id, Decision, RequestFacts};
use gateway_engine::{Decide, Endpoint, LlmCall};
use gateway_policy::bundle::{BundleError, BundleSource, PolicyBundle, PolicyFile, Validation};
use gateway_policy::catalog::CatalogError;
use gateway_policy::{Principal, Tier};
use llm_policy_gateway::embedded;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn principal(user: &str, team: &str, roles: &[&str], tier: Tier) -> Principal {
    Principal {
        user: user.to_owned(),
        team: team.to_owned(),
        org: "acme".to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        tier,
    }
}

/// Decides one request against the embedded bundle with a clock that reads `ticks`.
fn decide(
    bundle: &PolicyBundle,
    principal: &Principal,
    endpoint: Endpoint,
    body: &Value,
    country: Option<&str>,
    ticks: &[f64],
) -> Decision {
    let call = LlmCall::parse(endpoint, &serde_json::to_vec(body).unwrap()).unwrap();
    let route = bundle.route(&call).unwrap();
    let reads = Cell::new(0usize);
    let clock = || {
        let i = reads.get();
        reads.set(i + 1);
        ticks[i]
    };
    let decision = bundle.decide(
        random_decision_id().unwrap(),
        principal,
        &call,
        route,
        &RequestFacts {
            country: country.map(str::to_owned),
        },
        &clock,
    );
    assert_eq!(
        reads.get(),
        2,
        "the clock is read before and after evaluation"
    );
    decision
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn assert_decision_id(id: &str) {
    let hex = id
        .strip_prefix("dec_")
        .unwrap_or_else(|| panic!("`{id}` lacks the dec_ prefix"));
    assert!(
        is_lower_hex(hex, 32),
        "`{id}` is not dec_ and 32 hex digits"
    );
}

/// Checks the JSON every decision shares and returns it.
fn decision_json(decision: &Decision) -> serde_json::Map<String, Value> {
    let value = serde_json::to_value(decision).unwrap();
    let Value::Object(object) = value else {
        panic!("a decision serialises to an object, got {value}");
    };
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "action",
            "assessment",
            "decision",
            "errors",
            "eval_us",
            "id",
            "model",
            "obligations",
            "policies",
            "policy_version",
            "principal",
            "reason",
        ])
    );
    assert_decision_id(object["id"].as_str().unwrap());
    assert!(matches!(
        object["decision"].as_str(),
        Some("allow" | "deny")
    ));
    assert!(!object["reason"].as_str().unwrap().is_empty());
    for policy in object["policies"].as_array().unwrap() {
        let policy = policy.as_object().unwrap();
        let keys: BTreeSet<&str> = policy.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "reason"]));
        assert!(!policy["id"].as_str().unwrap().is_empty());
        assert!(!policy["reason"].as_str().unwrap().is_empty());
    }
    assert!(object["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));
    let version = object["policy_version"].as_str().unwrap();
    assert_eq!(
        version,
        format!("sha256:{}", &embedded::CONTENT_HASH[..16]),
        "the policy version is the short content hash"
    );
    assert!(object["principal"].is_string());
    assert!(object["action"].is_string());
    assert!(object["model"].is_string());
    assert!(object["eval_us"].is_u64());
    assert!(object["obligations"].is_array());
    if object["decision"] == "deny" {
        assert_eq!(
            object["obligations"],
            json!([]),
            "a deny carries no obligations"
        );
    }
    let assessment = object["assessment"].as_object().unwrap();
    let keys: BTreeSet<&str> = assessment.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "estimated_cost_micro_usd",
            "estimated_input_tokens",
            "injection_families",
            "injection_score",
            "largest_input_tokens",
            "max_output_tokens",
            "pii_kinds",
            "secret_kinds",
        ])
    );
    for counter in [
        "estimated_cost_micro_usd",
        "estimated_input_tokens",
        "injection_score",
        "largest_input_tokens",
        "max_output_tokens",
    ] {
        assert!(assessment[counter].is_u64(), "{counter}");
    }
    object
}

// ---------------------------------------------------------------------------------------
// Decision JSON

#[test]
fn an_allow_serialises_with_its_permits() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("carol", "platform", &["admin"], Tier::Enterprise),
        Endpoint::Embeddings,
        &json!({ "model": "text-embedding-3-small", "input": "hello" }),
        Some("US"),
        &[1_000.0, 1_250.75],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["principal"], "carol");
    assert_eq!(json["action"], "embedding");
    assert_eq!(json["model"], "text-embedding-3-small");
    assert_eq!(
        json["eval_us"], 250,
        "microseconds between the two clock reads"
    );
    assert_eq!(json["errors"], json!([]));
    let reason = |id: &str| bundle.reason(&cedar_policy::PolicyId::new(id)).unwrap();
    assert_eq!(
        json["policies"],
        json!([
            { "id": "embeddings-for-the-org", "reason": reason("embeddings-for-the-org") },
            { "id": "platform-all-models", "reason": reason("platform-all-models") },
        ])
    );
    assert_eq!(
        json["reason"],
        format!(
            "{}; {}",
            reason("embeddings-for-the-org"),
            reason("platform-all-models")
        )
    );
    assert!(decision.is_allowed());
    assert_eq!(
        decision.policy_ids(),
        ["embeddings-for-the-org", "platform-all-models"]
    );
}

#[test]
fn a_deny_serialises_with_its_forbids() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("bob", "support", &["agent"], Tier::Free),
        Endpoint::Messages,
        &json!({
            "model": "claude-3-5-haiku",
            "max_tokens": 4096,
            "messages": [{ "role": "user", "content": "hi" }]
        }),
        Some("KP"),
        &[5.0, 5.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["principal"], "bob");
    assert_eq!(json["action"], "message");
    assert_eq!(json["model"], "claude-3-5-haiku");
    assert_eq!(json["eval_us"], 0);
    let ids: Vec<&str> = json["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "embargoed-regions",
            "free-tier-cost-cap",
            "free-tier-output-cap"
        ]
    );
    assert!(!decision.is_allowed());
}

#[test]
fn a_default_deny_has_no_policies_and_says_so() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("mia", "marketing", &[], Tier::Pro),
        Endpoint::ChatCompletions,
        &json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": "hi" }],
            "max_tokens": 10
        }),
        None,
        &[0.0, 3.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["policies"], json!([]));
    assert_eq!(json["errors"], json!([]));
    assert_eq!(
        json["reason"],
        "no policy permits this request (denied by default)"
    );
    assert_eq!(json["action"], "chat.completion");
    assert_eq!(json["eval_us"], 3);
}

#[test]
fn a_fail_closed_deny_lists_its_errors() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("carol", "platform", &["admin"], Tier::Enterprise),
        Endpoint::ChatCompletions,
        &json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": "hi" }],
            "max_tokens": u64::MAX
        }),
        None,
        &[10.0, 20.0],
    );
    let json = decision_json(&decision);
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["policies"], json!([]));
    assert_eq!(
        json["reason"],
        "a policy failed to evaluate, so the request is denied (fail closed)"
    );
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.contains("prompt-fits-context-window") && error.contains("overflow"),
        "the error names the policy and the overflow: {error}"
    );
}

#[test]
fn a_clock_that_goes_backwards_gives_zero_not_a_wrapped_duration() {
    let bundle = embedded::load().unwrap();
    let decision = decide(
        &bundle,
        &principal("carol", "platform", &["admin"], Tier::Enterprise),
        Endpoint::Embeddings,
        &json!({ "model": "text-embedding-3-small", "input": "hello" }),
        None,
        &[2_000.0, 1_000.0],
    );
    assert_eq!(decision.eval_us, 0);
}

#[test]
fn decision_ids_are_prefixed_random_128_bit_hex() {
    let ids: Vec<String> = (0..1000).map(|_| random_decision_id().unwrap()).collect();
    for id in &ids {
        assert_decision_id(id);
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "decision ids repeat");
}

// ---------------------------------------------------------------------------------------
// The embedded bundle's identity

#[test]
fn the_embedded_bundle_is_named_by_its_content_hash() {
    assert!(
        is_lower_hex(embedded::CONTENT_HASH, 64),
        "{}",
        embedded::CONTENT_HASH
    );
    let bundle = embedded::load().unwrap();
    assert_eq!(bundle.content_hash(), embedded::CONTENT_HASH);
    assert_eq!(
        bundle.version(),
        format!("sha256:{}", &embedded::CONTENT_HASH[..16])
    );

    let strict = PolicyBundle::load(&embedded::source(), Validation::Strict)
        .expect("the embedded set validates strictly at run time too");
    assert_eq!(strict.content_hash(), embedded::CONTENT_HASH);

    // One policy per `@id` annotation in the source files.
    let source = embedded::source();
    let annotated: usize = source
        .policy_files
        .iter()
        .map(|f| f.text.matches("@id(").count())
        .sum();
    assert_eq!(strict.policy_count(), annotated);
    assert_eq!(bundle.policy_count(), annotated);
}

#[test]
fn the_content_hash_ignores_file_order_but_not_content() {
    let source = embedded::source();
    assert!(
        source.policy_files.len() >= 2,
        "the embedded set has several files"
    );
    let hash = |source: &BundleSource<'_>| {
        PolicyBundle::load(source, Validation::Strict)
            .unwrap()
            .content_hash()
            .to_owned()
    };

    let mut reversed = source.clone();
    reversed.policy_files.reverse();
    assert_eq!(hash(&reversed), embedded::CONTENT_HASH);

    let edited_text = format!("{}\n", source.policy_files[0].text);
    let mut edited = source.clone();
    edited.policy_files[0].text = &edited_text;
    assert_ne!(hash(&edited), embedded::CONTENT_HASH);

    let mut renamed = source.clone();
    renamed.policy_files[0].name = "policies/renamed.cedar";
    assert_ne!(hash(&renamed), embedded::CONTENT_HASH);

    let catalog = format!("{} ", source.catalog);
    let mut recatalogued = source.clone();
    recatalogued.catalog = &catalog;
    assert_ne!(hash(&recatalogued), embedded::CONTENT_HASH);
}

// ---------------------------------------------------------------------------------------
// Bundle load errors

const GOOD_POLICY: &str = r#"
@id("platform-all")
@reason("the platform team may use every model")
permit (principal in Llm::Team::"platform", action, resource);
"#;

/// A loaded bundle that prints as a one-line summary when a test expected an error.
struct Loaded(PolicyBundle);

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .0
            .policies()
            .policies()
            .map(|p| format!("{:?}", p.id().to_string()))
            .collect();
        write!(
            f,
            "a bundle with policies [{}] and {} models",
            ids.join(", "),
            self.0.catalog().models.len()
        )
    }
}

fn load_strict(source: &BundleSource<'_>) -> Result<Loaded, BundleError> {
    PolicyBundle::load(source, Validation::Strict).map(Loaded)
}

fn load_policies(files: &[(&str, &str)]) -> Result<Loaded, BundleError> {
    let source = embedded::source();
    let source = BundleSource {
        schema: source.schema,
        policy_files: files
            .iter()
            .map(|&(name, text)| PolicyFile { name, text })
            .collect(),
        catalog: source.catalog,
    };
    load_strict(&source)
}

fn load_catalog(catalog: &str) -> Result<Loaded, BundleError> {
    let source = BundleSource {
        catalog,
        ..embedded::source()
    };
    load_strict(&source)
}

/// Loads one good policy with the embedded catalog and the embedded schema, `from` replaced
/// by `to`.
fn load_with_schema_edit(from: &str, to: &str) -> Result<Loaded, BundleError> {
    let embedded = embedded::source();
    let schema = embedded.schema.replace(from, to);
    assert_ne!(schema, embedded.schema, "the schema declares `{from}`");
    load_strict(&BundleSource {
        schema: &schema,
        policy_files: vec![PolicyFile {
            name: "policies/a.cedar",
            text: GOOD_POLICY,
        }],
        catalog: embedded.catalog,
    })
}

fn catalog_with_model(entry: Value) -> String {
    json!({ "models": { "gpt-4o-mini": entry } }).to_string()
}

fn model_entry() -> Value {
    json!({
        "provider": "openai",
        "upstream_model": "gpt-4o-mini-2024-07-18",
        "kind": "chat",
        "premium": false,
        "context_window": 128000,
        "max_output_tokens": 16384,
        "usd_per_million_tokens": { "input": 0.15, "output": 0.6 }
    })
}

#[test]
fn a_minimal_valid_source_loads() {
    let bundle = load_policies(&[("policies/a.cedar", GOOD_POLICY)])
        .unwrap()
        .0;
    assert_eq!(bundle.policy_count(), 1);
    let bundle = load_catalog(&catalog_with_model(model_entry())).unwrap().0;
    assert_eq!(bundle.catalog().models.len(), 1);
    assert!(bundle.model_entity("gpt-4o-mini").is_some());
    assert!(bundle.model_entity("gpt-4o").is_none());
}

#[test]
fn a_policy_without_an_id_is_refused_with_its_position() {
    let text =
        format!("{GOOD_POLICY}\n@reason(\"no id here\")\nforbid (principal, action, resource);\n");
    let error = load_policies(&[("policies/a.cedar", &text)]).unwrap_err();
    match &error {
        BundleError::MissingAnnotation {
            file,
            annotation,
            position,
        } => {
            assert_eq!(file, "policies/a.cedar");
            assert_eq!(*annotation, "id");
            assert_eq!(*position, 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "policies/a.cedar: a policy lacks the `@id` annotation (policy 2 of the file)"
    );
}

#[test]
fn a_policy_without_a_reason_is_refused() {
    for text in [
        "@id(\"no-reason\")\npermit (principal, action, resource);",
        "@id(\"empty-reason\")\n@reason(\"\")\npermit (principal, action, resource);",
        "@id(\"bare-reason\")\n@reason\npermit (principal, action, resource);",
    ] {
        match load_policies(&[("policies/b.cedar", text)]) {
            Err(BundleError::MissingAnnotation {
                file,
                annotation,
                position,
            }) => {
                assert_eq!(file, "policies/b.cedar");
                assert_eq!(annotation, "reason");
                assert_eq!(position, 1);
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn duplicate_ids_are_refused_across_and_within_files() {
    // Files load in name order, so the later name carries the duplicate whatever order
    // they were given in.
    let error = load_policies(&[
        ("policies/b.cedar", GOOD_POLICY),
        ("policies/a.cedar", GOOD_POLICY),
    ])
    .unwrap_err();
    match &error {
        BundleError::DuplicateId { file, id } => {
            assert_eq!(file, "policies/b.cedar");
            assert_eq!(id, "platform-all");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "policies/b.cedar: policy id `platform-all` is used twice"
    );

    let twice = format!("{GOOD_POLICY}{GOOD_POLICY}");
    match load_policies(&[("policies/a.cedar", &twice)]) {
        Err(BundleError::DuplicateId { file, id }) => {
            assert_eq!(file, "policies/a.cedar");
            assert_eq!(id, "platform-all");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_failing_strict_validation_is_refused_with_its_file() {
    let bad = r#"
@id("by-department")
@reason("the research department may use everything")
permit (principal, action, resource) when { principal.department == "research" };
"#;
    let files = [
        ("policies/a.cedar", GOOD_POLICY),
        ("policies/bad.cedar", bad),
    ];
    match load_policies(&files) {
        Err(BundleError::Invalid(invalid)) => {
            assert!(!invalid.is_empty());
            for policy in &invalid {
                assert_eq!(policy.file, "policies/bad.cedar");
                assert_eq!(policy.error.policy_id().to_string(), "by-department");
            }
            let message = BundleError::Invalid(invalid).to_string();
            assert!(
                message.starts_with("policies fail schema validation: policies/bad.cedar: "),
                "{message}"
            );
            assert!(message.contains("department"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // Without the validator the same source loads: validation is what refuses it.
    let source = embedded::source();
    let unvalidated = BundleSource {
        schema: source.schema,
        policy_files: files
            .iter()
            .map(|&(name, text)| PolicyFile { name, text })
            .collect(),
        catalog: source.catalog,
    };
    assert!(PolicyBundle::load(&unvalidated, Validation::AlreadyValidated).is_ok());
}

#[test]
fn an_unknown_action_fails_strict_validation() {
    let bad = r#"
@id("completions")
@reason("legacy completions")
permit (principal, action == Llm::Action::"completion", resource);
"#;
    match load_policies(&[("policies/legacy.cedar", bad)]) {
        Err(BundleError::Invalid(invalid)) => {
            assert!(!invalid.is_empty());
            assert!(invalid.iter().all(|p| p.file == "policies/legacy.cedar"
                && p.error.policy_id().to_string() == "completions"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn templates_are_refused() {
    let template = r#"
@id("per-user")
@reason("a template linked per user")
permit (principal == ?principal, action, resource);
"#;
    match load_policies(&[
        ("policies/a.cedar", GOOD_POLICY),
        ("policies/t.cedar", template),
    ]) {
        Err(BundleError::Template { file, template }) => {
            assert_eq!(file, "policies/t.cedar");
            assert!(!template.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policies_that_do_not_parse_are_refused_with_their_file() {
    let broken = "@id(\"x\")\n@reason(\"y\")\npermit (principal, action, resource)";
    match load_policies(&[
        ("policies/a.cedar", GOOD_POLICY),
        ("policies/z.cedar", broken),
    ]) {
        Err(BundleError::PolicyParse { file, .. }) => assert_eq!(file, "policies/z.cedar"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_schema_that_does_not_parse_is_refused() {
    let source = BundleSource {
        schema: "namespace Llm { entity User { roles: Set<String> ",
        ..embedded::source()
    };
    assert!(matches!(load_strict(&source), Err(BundleError::Schema(_))));
}

#[test]
fn a_catalog_with_an_unknown_provider_is_refused() {
    let mut entry = model_entry();
    entry["provider"] = json!("google");
    match load_catalog(&catalog_with_model(entry)) {
        Err(BundleError::Catalog(CatalogError::Json(e))) => {
            assert!(e.to_string().contains("unknown variant `google`"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_catalog_is_refused() {
    let error = load_catalog(r#"{ "models": {} }"#).unwrap_err();
    assert!(
        matches!(error, BundleError::Catalog(CatalogError::Empty)),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "model catalog lists no models");
}

#[test]
fn a_negative_price_is_refused() {
    for (side, price) in [("input", -0.15), ("output", -1.0)] {
        let mut entry = model_entry();
        entry["usd_per_million_tokens"][side] = json!(price);
        match load_catalog(&catalog_with_model(entry)) {
            Err(BundleError::Catalog(CatalogError::BadPrice { model })) => {
                assert_eq!(model, "gpt-4o-mini")
            }
            other => panic!("{side}: {other:?}"),
        }
    }
}

#[test]
fn other_catalog_mistakes_are_refused() {
    let mut blank = model_entry();
    blank["upstream_model"] = json!(" ");
    assert!(matches!(
        load_catalog(&catalog_with_model(blank)),
        Err(BundleError::Catalog(CatalogError::EmptyName(m))) if m == "gpt-4o-mini"
    ));

    let blank_id = json!({ "models": { "": model_entry() } }).to_string();
    assert!(matches!(
        load_catalog(&blank_id),
        Err(BundleError::Catalog(CatalogError::EmptyName(m))) if m.is_empty()
    ));

    let mut unknown_field = model_entry();
    unknown_field["contex_window"] = json!(1);
    match load_catalog(&catalog_with_model(unknown_field)) {
        Err(BundleError::Catalog(CatalogError::Json(e))) => {
            assert!(
                e.to_string().contains("unknown field `contex_window`"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }

    let mut kind = model_entry();
    kind["kind"] = json!("completion");
    assert!(matches!(
        load_catalog(&catalog_with_model(kind)),
        Err(BundleError::Catalog(CatalogError::Json(_)))
    ));

    let mut window = model_entry();
    window["context_window"] = json!(-1);
    assert!(matches!(
        load_catalog(&catalog_with_model(window)),
        Err(BundleError::Catalog(CatalogError::Json(_)))
    ));
}

#[test]
fn catalog_models_that_do_not_fit_the_schema_are_refused() {
    // A schema whose models lack `premium`: the catalog's entities no longer fit it.
    match load_with_schema_edit("premium: Bool,", "") {
        Err(BundleError::CatalogEntity { model, message }) => {
            // Each model is checked on its own: the first (by id) is named, with the cause.
            assert_eq!(model, "claude-3-5-haiku");
            assert!(message.contains("premium"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// The schema must accept the context the gateway sends (checked once at load, so
/// requests skip Cedar's per-request context check).
#[test]
fn a_schema_that_does_not_accept_the_request_context_is_refused() {
    let cases = [
        // An attribute the gateway sends with another type.
        ("injection_score: Long,", "injection_score: String,"),
        // A required attribute the gateway never sends.
        ("stream: Bool,", "stream: Bool,\n    tenant: String,"),
        // `country` made required: a request without it would not fit.
        ("country?: String,", "country: String,"),
    ];
    for (from, to) in cases {
        match load_with_schema_edit(from, to) {
            Err(error @ BundleError::RequestContext(_)) => {
                let message = format!("{error}");
                assert!(message.contains("request context"), "{message}");
                assert!(message.contains("is not valid for"), "{message}");
                // It says what the gateway sends, so the fix is clear.
                assert!(message.contains(from.trim_end_matches(',')), "{message}");
            }
            other => panic!("{from} -> {to}: {other:?}"),
        }
    }
}

#[test]
fn the_context_check_covers_every_action_the_gateway_asks_about() {
    use gateway_policy::context::ACTIONS;
    let mut asked: Vec<&str> = [
        Endpoint::ChatCompletions,
        Endpoint::Embeddings,
        Endpoint::Messages,
    ]
    .iter()
    .map(|e| e.action())
    .collect();
    asked.sort_unstable();
    assert_eq!(asked, ACTIONS);
}

/// A blank `@id` names nothing: it is refused like a missing one.
#[test]
fn an_empty_policy_id_is_refused() {
    for text in [
        "@id(\"\")\n@reason(\"r\")\npermit (principal, action, resource);",
        "@id\n@reason(\"r\")\npermit (principal, action, resource);",
    ] {
        match load_policies(&[("policies/a.cedar", text)]) {
            Err(BundleError::MissingAnnotation {
                file,
                annotation,
                position,
            }) => {
                assert_eq!(file, "policies/a.cedar");
                assert_eq!(annotation, "id");
                assert_eq!(position, 1);
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn the_assessment_reports_cost_and_detector_kinds_never_text() {
    let bundle = embedded::load().unwrap();
    let principal = Principal {
        user: "priya".to_owned(),
        team: "platform".to_owned(),
        org: "acme".to_owned(),
        roles: vec![],
        tier: Tier::Enterprise,
    };
    let body = json!({
        "model": "gpt-4o-mini",
        "max_tokens": 1000,
        "messages": [{ "role": "user", "content": "Mail jane.doe@example.com the key AKIAIOSFODNN7EXAMPLE" }]
    });
    let call = LlmCall::parse(Endpoint::ChatCompletions, body.to_string().as_bytes()).unwrap();
    let route = bundle.route(&call).unwrap();
    let decision = bundle.decide(
        "dec_x".to_owned(),
        &principal,
        &call,
        route,
        &RequestFacts::default(),
        &|| 0.0,
    );
    let assessment = &decision.assessment;
    assert_eq!(assessment.max_output_tokens, 1000);
    assert_eq!(assessment.pii_kinds, ["email"]);
    assert_eq!(assessment.secret_kinds, ["aws_access_key"]);
    // gpt-4o-mini: $0.15 in, $0.60 out per million tokens, so micro-USD = tokens × price.
    let expected = (assessment.estimated_input_tokens as f64 * 0.15 + 1000.0 * 0.6).ceil() as u64;
    assert_eq!(assessment.estimated_cost_micro_usd, expected);
    assert_eq!(decision.policy_ids(), ["no-secrets-upstream"]);
    let text = serde_json::to_string(&decision).unwrap();
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE") && !text.contains("jane.doe"));
}

fn support_call(body: Value) -> (Decision, LlmCall) {
    let bundle = embedded::load().unwrap();
    let principal = Principal {
        user: "sam".to_owned(),
        team: "support".to_owned(),
        org: "acme".to_owned(),
        roles: vec![],
        tier: Tier::Free,
    };
    let call = LlmCall::parse(Endpoint::Messages, body.to_string().as_bytes()).unwrap();
    let route = bundle.route(&call).unwrap();
    let decision = bundle.decide(
        "dec_x".to_owned(),
        &principal,
        &call,
        route,
        &RequestFacts::default(),
        &|| 0.0,
    );
    (decision, call)
}

#[test]
fn a_permit_with_an_obligation_caps_the_forwarded_output_tokens() {
    let (decision, mut call) = support_call(json!({
        "model": "claude-3-5-haiku",
        "max_tokens": 900,
        "messages": [{ "role": "user", "content": "hi" }]
    }));
    assert_eq!(decision.policy_ids(), ["support-model-allowlist"]);
    assert_eq!(
        serde_json::to_value(&decision.obligations).unwrap(),
        json!([
            { "kind": "cap_output_tokens", "max": 512 },
            { "kind": "redact_input", "kinds": ["credit_card", "email", "iban", "national_id", "phone"] },
            { "kind": "redact_output", "kinds": ["credit_card", "email", "iban", "ip_address", "national_id", "phone"] },
            { "kind": "block_output", "kinds": ["anthropic_key", "aws_access_key", "github_token", "google_api_key", "high_entropy", "jwt", "openai_key", "private_key", "slack_token"] }
        ])
    );
    assert!(call.cap_output_tokens(512));
    let body: Value = serde_json::from_slice(&call.upstream_body("up").unwrap()).unwrap();
    assert_eq!(body["max_tokens"], 512);
    // A smaller request is left as it is.
    assert!(!call.cap_output_tokens(600));
}

#[test]
fn obligation_annotations_are_validated_when_a_bundle_loads() {
    for (text, message) in [
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_cap_output_tokens(\"zero\")\npermit (principal, action, resource);",
            "needs a positive integer",
        ),
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_redact_everything(\"yes\")\npermit (principal, action, resource);",
            "unknown obligation",
        ),
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_cap_output_tokens(\"5\")\nforbid (principal, action, resource);",
            "only meaningful on a permit",
        ),
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_redact_output(\"email,passport\")\npermit (principal, action, resource);",
            "unknown detector kind `passport`",
        ),
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_block_output(\" , \")\npermit (principal, action, resource);",
            "needs at least one kind",
        ),
        (
            "@id(\"a\")\n@reason(\"r\")\n@obligation_redact_input(\"pii\")\nforbid (principal, action, resource);",
            "only meaningful on a permit",
        ),
    ] {
        let embedded = embedded::source();
        let source = BundleSource {
            schema: embedded.schema,
            policy_files: vec![PolicyFile {
                name: "policies/o.cedar",
                text,
            }],
            catalog: embedded.catalog,
        };
        match PolicyBundle::load(&source, Validation::Strict) {
            Err(BundleError::Obligation { file, id, message: got }) => {
                assert_eq!((file.as_str(), id.as_str()), ("policies/o.cedar", "a"));
                assert!(got.contains(message), "{got}");
            }
            other => panic!("{other:?}"),
        }
    }
}

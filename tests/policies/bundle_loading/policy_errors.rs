//! Broken policy files: missing or blank annotations, duplicate ids, policies failing
//! validation, templates, parse errors and malformed obligations.

use super::{
    catalog_with_model, load_catalog, load_policies, model_entry, source_with_policies, GOOD_POLICY,
};
use gateway_policy::bundle::{BundleError, PolicyBundle, Validation};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The error loading `files` fails with.
fn load_error(files: &[(&str, &str)]) -> BundleError {
    load_policies(files).expect_err("the policies should be refused")
}

/// `error` says the policy at `position` of `file` lacks `annotation`.
fn assert_missing_annotation(error: &BundleError, file: &str, annotation: &str, position: usize) {
    match error {
        BundleError::MissingAnnotation {
            file: f,
            annotation: a,
            position: p,
        } => assert_eq!((f.as_str(), *a, *p), (file, annotation, position)),
        other => panic!("expected a missing @{annotation} in {file}, got {other:?}"),
    }
}

/// Each text, alone in a file, is refused: its one policy lacks `annotation`.
fn assert_each_lacks(annotation: &str, texts: &[&str]) {
    for text in texts {
        let error = load_error(&[("policies/a.cedar", text)]);
        assert_missing_annotation(&error, "policies/a.cedar", annotation, 1);
    }
}

/// `error` says `file` uses the policy id `id` a second time.
fn assert_duplicate_id(error: &BundleError, file: &str, id: &str) {
    match error {
        BundleError::DuplicateId { file: f, id: i } => {
            assert_eq!((f.as_str(), i.as_str()), (file, id))
        }
        other => panic!("expected `{id}` twice in {file}, got {other:?}"),
    }
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
    let error = load_error(&[("policies/a.cedar", &text)]);
    assert_missing_annotation(&error, "policies/a.cedar", "id", 2);
    assert_eq!(
        error.to_string(),
        "policies/a.cedar: a policy lacks the `@id` annotation (policy 2 of the file)"
    );
}

#[test]
fn a_policy_without_a_reason_is_refused() {
    assert_each_lacks(
        "reason",
        &[
            "@id(\"no-reason\")\npermit (principal, action, resource);",
            "@id(\"empty-reason\")\n@reason(\"\")\npermit (principal, action, resource);",
            "@id(\"bare-reason\")\n@reason\npermit (principal, action, resource);",
        ],
    );
}

#[test]
fn duplicate_ids_are_refused_across_and_within_files() {
    // Files load in name order, so the later name carries the duplicate whatever order
    // they were given in.
    let error = load_error(&[
        ("policies/b.cedar", GOOD_POLICY),
        ("policies/a.cedar", GOOD_POLICY),
    ]);
    assert_duplicate_id(&error, "policies/b.cedar", "platform-all");
    assert_eq!(
        error.to_string(),
        "policies/b.cedar: policy id `platform-all` is used twice"
    );

    let twice = format!("{GOOD_POLICY}{GOOD_POLICY}");
    let error = load_error(&[("policies/a.cedar", &twice)]);
    assert_duplicate_id(&error, "policies/a.cedar", "platform-all");
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
    match load_error(&files) {
        BundleError::Invalid(invalid) => {
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
    let unvalidated = source_with_policies(&files);
    assert!(PolicyBundle::load(&unvalidated, Validation::AlreadyValidated).is_ok());
}

#[test]
fn an_unknown_action_fails_strict_validation() {
    let bad = r#"
@id("completions")
@reason("legacy completions")
permit (principal, action == Llm::Action::"completion", resource);
"#;
    match load_error(&[("policies/legacy.cedar", bad)]) {
        BundleError::Invalid(invalid) => {
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
    match load_error(&[
        ("policies/a.cedar", GOOD_POLICY),
        ("policies/t.cedar", template),
    ]) {
        BundleError::Template { file, template } => {
            assert_eq!(file, "policies/t.cedar");
            assert!(!template.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policies_that_do_not_parse_are_refused_with_their_file() {
    let broken = "@id(\"x\")\n@reason(\"y\")\npermit (principal, action, resource)";
    match load_error(&[
        ("policies/a.cedar", GOOD_POLICY),
        ("policies/z.cedar", broken),
    ]) {
        BundleError::PolicyParse { file, .. } => assert_eq!(file, "policies/z.cedar"),
        other => panic!("{other:?}"),
    }
}

/// A blank `@id` names nothing: it is refused like a missing one.
#[test]
fn an_empty_policy_id_is_refused() {
    assert_each_lacks(
        "id",
        &[
            "@id(\"\")\n@reason(\"r\")\npermit (principal, action, resource);",
            "@id\n@reason(\"r\")\npermit (principal, action, resource);",
        ],
    );
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
        match load_error(&[("policies/o.cedar", text)]) {
            BundleError::Obligation {
                file,
                id,
                message: got,
            } => {
                assert_eq!((file.as_str(), id.as_str()), ("policies/o.cedar", "a"));
                assert!(got.contains(message), "{got}");
            }
            other => panic!("{other:?}"),
        }
    }
}

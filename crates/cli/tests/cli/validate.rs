//! `policy validate`: the policies' summary and content hash, and Cedar's diagnostics
//! for what does not validate or parse.

use crate::support::{embedded_counts, embedded_hash, policy, repo_policies, TempDir};
use gateway_policy::bundle::version_of;

#[test]
fn validate_accepts_the_policies_and_reports_the_embedded_version() {
    let dir = TempDir::with_policies("validate-ok");
    let run = policy(dir.path(), &["validate"]);
    run.ok();
    let (policies, models) = embedded_counts();
    let limits = repo_policies().1.limits().iter().count();
    // The same source names its files as build.rs does, so the hash is the embedded one.
    assert_eq!(
        run.stdout,
        format!(
            "`policies` is valid: {policies} policies in 4 files, {models} models, {limits} limits, version {} \
             (content hash {})\n",
            version_of(&embedded_hash()),
            embedded_hash()
        )
    );
    assert_eq!(run.stderr, "");

    // --dir from anywhere gives the same content hash.
    let elsewhere = TempDir::new("validate-elsewhere");
    let absolute = dir.join("policies").display().to_string();
    let run = policy(elsewhere.path(), &["validate", "--dir", &absolute]);
    run.ok();
    assert!(run.stdout.contains(&embedded_hash()), "{}", run.stdout);
}

#[test]
fn validate_shows_cedars_diagnostic_for_a_policy_that_fails_the_schema() {
    let dir = TempDir::with_policies("validate-schema");
    dir.edit("policies/limits.cedar", |t| {
        t.replace("principal.tier == \"pro\"", "principal.tierr == \"pro\"")
    });
    let run = policy(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with(
            "error: `policies` is not valid\n\npolicies/limits.cedar: fails schema validation\n"
        ),
        "{}",
        run.stderr
    );
    for expected in [
        "× for policy `pro-tier-output-cap`, attribute `tierr` on entity type `Llm::User` not found",
        "when { principal.tierr == \"pro\" && context.max_output_tokens * context.choices > 8192 };",
        "help: did you mean `tier`?",
    ] {
        assert!(run.stderr.contains(expected), "{expected}:\n{}", run.stderr);
    }
    // No colour: plain text only.
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}

#[test]
fn validate_shows_cedars_diagnostic_for_a_policy_that_does_not_parse() {
    let dir = TempDir::with_policies("validate-parse");
    dir.edit("policies/access.cedar", |t| {
        t + "permit (principal, action, resource\n"
    });
    let run = policy(dir.path(), &["validate"]);
    run.fails_starting(
        1,
        "error: `policies` is not valid\n\npolicies/access.cedar: policies do not parse\n",
    );
    assert!(
        run.stderr.contains("× unexpected end of input"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_names_the_real_file_of_a_policy_without_an_id() {
    let dir = TempDir::with_policies("validate-annotation");
    dir.edit("policies/access.cedar", |t| {
        t + "\n@reason(\"no id\")\npermit (principal, action, resource);\n"
    });
    let elsewhere = TempDir::new("validate-annotation-cwd");
    let policies = dir.join("policies").display().to_string();
    let run = policy(elsewhere.path(), &["validate", "--dir", &policies]);
    run.fails(
        1,
        &format!(
            "error: `{policies}` is not valid\n\n{policies}/access.cedar: a policy lacks the \
             `@id` annotation (policy 5 of the file)\n"
        ),
    );
}

#[test]
fn validate_reports_a_broken_catalog_and_a_missing_directory() {
    let dir = TempDir::with_policies("validate-catalog");
    dir.write("policies/models.json", "{ \"models\": {} }");
    let run = policy(dir.path(), &["validate"]);
    run.fails(
        1,
        "error: `policies` is not valid\n\npolicies/models.json: model catalog lists no models\n",
    );

    let run = policy(dir.path(), &["validate", "--dir", "nowhere"]);
    run.fails(
        1,
        "error: cannot read `nowhere`: no such file or directory (os error 2)\n",
    );
}

//! `policy diff`: policies added, removed and changed, models and limits changed, the
//! working directory as the new side, and inputs it cannot read.

use crate::support::{
    embedded_counts, policy, repo_policies, signed_bundle, unsigned_bundle, TempDir,
};
use gateway_policy::bundle::version_of;
use serde_json::{json, Value};

#[test]
fn diff_lists_policies_added_removed_and_changed_and_models_changed() {
    let dir = TempDir::with_policies("diff");
    unsigned_bundle(&dir, "old.json", 1);
    let old = dir.bundle("old.json");

    dir.edit("policies/limits.cedar", |t| {
        let cut = t.find("@id(\"embargoed-regions\")").unwrap();
        let kept = t[..cut].to_owned();
        kept.replace("\"suspended\"", "\"banned\"")
            + "@id(\"long-conversations\")\n@reason(\"too many messages\")\n\
               forbid (principal, action, resource) when { context.message_count > 500 };\n"
    });
    let mut catalog: Value = serde_json::from_str(&dir.read("policies/models.json")).unwrap();
    catalog["models"]["gpt-4o"]["context_window"] = json!(64000);
    catalog["models"]["gpt-4o"]["premium"] = json!(false);
    dir.write(
        "policies/models.json",
        &serde_json::to_string_pretty(&catalog).unwrap(),
    );
    dir.edit("policies/budgets.json", |t| {
        t.replace("\"spend_usd\": 5000 }", "\"spend_usd\": 7500 }").replace(
            "\"requests\": 600,",
            "\"requests\": 600, \"tokens\": 900 }, { \"id\": \"key-hourly\", \"scope\": \"key\", \"match\": \"*\", \"window\": \"hour\", \"requests\": 10000,",
        )
    });
    unsigned_bundle(&dir, "new.json", 2);
    let new = dir.bundle("new.json");

    let (policies, models) = embedded_counts();
    let limits = repo_policies().1.limits().iter().count();
    let body = format!(
        "version: 1 -> 2\n\
         policy removed: `embargoed-regions`\n\
         policy added: `long-conversations`\n\
         policy changed: `suspended-callers`\n\
         policies unchanged: {}\n\
         schema: unchanged\n\
         model changed: `gpt-4o` (context_window, premium)\n\
         models unchanged: {}\n\
         limit added: `key-hourly`\n\
         limit changed: `key-rate` (caps)\n\
         limit changed: `team-monthly-spend` (caps)\n\
         limits unchanged: {}\n\
         7 differences\n",
        policies - 2,
        models - 1,
        limits - 2
    );
    let run = policy(dir.path(), &["diff", "old.json", "new.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "old: `old.json`: version 1, created {}, unsigned, {}\n\
             new: `new.json`: version 2, created {}, unsigned, {}\n{body}",
            old.created_at,
            version_of(&old.content_hash),
            new.created_at,
            version_of(&new.content_hash),
        )
    );

    // The working directory as the new side.
    let run = policy(dir.path(), &["diff", "old.json", "--dir", "policies"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout.lines().nth(1).unwrap(),
        format!(
            "new: `policies`: source directory, {}",
            version_of(&new.content_hash)
        )
    );
    assert!(run
        .stdout
        .ends_with(&body.replace("version: 1 -> 2", "version: 1 -> none")));
}

#[test]
fn diff_of_the_same_content_exits_0_and_an_unreadable_input_exits_2() {
    let dir = TempDir::with_policies("diff-same");
    unsigned_bundle(&dir, "a.json", 1);
    signed_bundle(&dir, "b.json", 2);
    let (policies, models) = embedded_counts();
    let run = policy(dir.path(), &["diff", "a.json", "b.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tail: Vec<&str> = run.stdout.lines().skip(2).collect();
    let expected = [
        "version: 1 -> 2".to_owned(),
        format!("policies unchanged: {policies}"),
        "schema: unchanged".to_owned(),
        format!("models unchanged: {models}"),
        format!(
            "limits unchanged: {}",
            repo_policies().1.limits().iter().count()
        ),
        "no differences".to_owned(),
    ];
    assert_eq!(
        tail,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(run
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .contains(", signed by `test-ops`, "));

    // A comment between policies changes the content but no policy, schema or model.
    dir.edit("policies/access.cedar", |t| t + "\n// a trailing comment\n");
    let run = policy(dir.path(), &["diff", "a.json", "--dir", "policies"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.ends_with(
            "other: the sources differ outside policies, schema, models and limits (comments, file names \
         or formatting)\n1 difference\n"
        ),
        "{}",
        run.stdout
    );

    let run = policy(dir.path(), &["diff", "a.json", "missing.json"]);
    run.fails(
        2,
        "error: cannot read `missing.json`: no such file or directory (os error 2)\n",
    );
    assert_eq!(run.stdout, "");
    dir.write("garbage.json", "not json");
    let run = policy(dir.path(), &["diff", "garbage.json", "a.json"]);
    run.fails_starting(2, "error: `garbage.json`: bundle is not valid JSON: ");
}

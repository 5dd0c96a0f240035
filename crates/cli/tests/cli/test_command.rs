//! `policy test`: the repository's cases, failing and uncovering case files, and cases
//! run against a bundle.

use crate::support::{embedded_counts, policy, repo, repo_case_count, unsigned_bundle, TempDir};
use serde_json::json;

#[test]
fn test_runs_every_repository_case_and_passes() {
    let dir = TempDir::new("test-pass");
    let run = policy(
        dir.path(),
        &[
            "test",
            "--dir",
            &repo("policies"),
            "--cases",
            &repo("tests/policy_cases"),
        ],
    );
    run.ok();
    let count = repo_case_count();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), count + 2, "{}", run.stdout);
    assert!(lines[0].starts_with(&format!("testing `{}`, ", repo("policies"))));
    let files = std::fs::read_dir(repo("tests/policy_cases"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("json".as_ref()))
        .count();
    assert!(lines[0].ends_with(&format!(
        ", with {files} case files from `{}`",
        repo("tests/policy_cases")
    )));
    assert!(lines[1..=count].iter().all(|l| l.starts_with("PASS ")));
    for expected in [
        "PASS team_access.json: research reaches a premium OpenAI chat model: allow by research-model-allowlist",
        "PASS team_access.json: embeddings outside the acme org are denied by default: deny by default",
        "PASS errors.json: a model outside the catalog is unknown: route error unknown_model",
        "PASS errors.json: a chat request without a model: call error: `model` is required",
        "PASS tier_limits.json: a free caller breaking four tier rules at once hears of all four: deny by free-tier-cost-cap, free-tier-no-premium-models, free-tier-no-tools, free-tier-output-cap",
    ] {
        assert!(lines.contains(&expected), "{expected}\n{}", run.stdout);
    }
    assert_eq!(lines[count + 1], format!("{count} passed, 0 failed"));
}

#[test]
fn test_reports_what_differed_in_a_failing_case_file_and_exits_1() {
    let dir = TempDir::new("test-fail");
    let alice =
        json!({ "user": "alice", "team": "research", "org": "acme", "roles": [], "tier": "pro" });
    let request = json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": "hi" }], "max_tokens": 100 });
    let cases = json!({
        "description": "one right, one wrong, one malformed",
        "cases": [
            { "name": "right", "principal": alice, "endpoint": "chat_completions", "request": request,
              "expect": { "decision": "allow", "policies": ["research-model-allowlist"] } },
            { "name": "wrong", "principal": alice, "endpoint": "chat_completions", "request": request,
              "expect": { "decision": "deny", "policies": [] } },
            { "name": "malformed", "principal": alice, "endpoint": "chat_completions", "request": request,
              "expect": { "route_error": "unknown_model", "policies": [] } },
        ]
    });
    dir.write("cases/custom.json", &cases.to_string());
    let run = policy(
        dir.path(),
        &["test", "--dir", &repo("policies"), "--cases", "cases"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let (policies, _) = embedded_counts();
    let expected = [
        "PASS custom.json: right: allow by research-model-allowlist",
        "FAIL custom.json: wrong: allow by research-model-allowlist",
        "     decision `allow`, expected `deny`; deciding policies [\"research-model-allowlist\"], \
         expected []",
        "FAIL custom.json: malformed: not run",
        "     `expect` needs exactly one of `decision` (with `policies`), `route_error` or \
         `call_error`",
    ];
    let lines: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(lines[..expected.len()], expected);
    // Two cases cannot exercise every policy: the others are reported as uncovered.
    let uncovered: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("UNCOVERED"))
        .collect();
    assert_eq!(uncovered.len(), policies - 1);
    assert!(lines.contains(&"UNCOVERED policy `embargoed-regions`: no case expects it to decide"));
    assert_eq!(
        *lines.last().unwrap(),
        format!(
            "1 passed, 2 failed, {} policies uncovered or unknown",
            policies - 1
        )
    );
}

#[test]
fn test_fails_when_the_cases_leave_a_policy_uncovered_even_if_all_pass() {
    let dir = TempDir::new("test-coverage");
    dir.write(
        "cases/errors.json",
        &std::fs::read_to_string(repo("tests/policy_cases/errors.json")).unwrap(),
    );
    let run = policy(
        dir.path(),
        &["test", "--dir", &repo("policies"), "--cases", "cases"],
    );
    assert_eq!(run.code, 1);
    assert!(run
        .stdout
        .contains("\nUNCOVERED policy `platform-all-models`: no case expects it to decide\n"));
    assert!(!run.stdout.contains("FAIL "), "{}", run.stdout);
    let last = run.stdout.lines().last().unwrap();
    assert!(last.contains(" passed, 0 failed, "), "{last}");
}

#[test]
fn test_runs_against_a_bundle_and_refuses_a_broken_case_file() {
    let dir = TempDir::with_policies("test-bundle");
    unsigned_bundle(&dir, "b.json", 4);
    let run = policy(
        dir.path(),
        &[
            "test",
            "--bundle",
            "b.json",
            "--cases",
            &repo("tests/policy_cases"),
        ],
    );
    run.ok();
    assert!(
        run.stdout
            .starts_with("testing bundle `b.json` (version 4), "),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .ends_with(&format!("\n{} passed, 0 failed\n", repo_case_count())));

    dir.write(
        "cases/broken.json",
        "{ \"description\": \"x\", \"cases\": [ }",
    );
    let run = policy(dir.path(), &["test", "--cases", "cases"]);
    run.fails_starting(1, "error: `cases/broken.json`: not a valid case file: ");

    let run = policy(
        dir.path(),
        &["test", "--dir", "policies", "--bundle", "b.json"],
    );
    assert_eq!(run.code, 2, "--dir and --bundle conflict: {}", run.stderr);
}

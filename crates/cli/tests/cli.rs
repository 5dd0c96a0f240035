//! The `policy` operator CLI, run as a built binary in temporary directories: every verb,
//! its output and exit code, and its refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use gateway_engine::cases::CaseFile;
use gateway_policy::bundle::{version_of, PolicyBundle, Validation};
use gateway_policy::dir::PolicyDir;
use gateway_policy::signed::{KeyPairFile, SignedBundle, DEFAULT_MAX_BUNDLE_BYTES};
use serde_json::{json, Value};

/// The repository root (this crate is `crates/cli`).
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const FIXTURE_KEY: &str = "tests/fixtures/signing/test-signing-key.json";
const FIXTURE_TRUSTED: &str = "tests/fixtures/signing/trusted_keys.json";

/// A temporary directory, removed when dropped.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new(name: &str) -> Self {
        let prefix = format!("policy-cli-{name}-");
        Self(tempfile::Builder::new().prefix(&prefix).tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn join(&self, rest: &str) -> PathBuf {
        self.0.path().join(rest)
    }

    fn read(&self, rest: &str) -> String {
        std::fs::read_to_string(self.join(rest)).unwrap()
    }

    fn write(&self, rest: &str, text: &str) {
        let path = self.join(rest);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A copy of the repository's `policies/` (schema, policy files, catalog) as `policies/`.
    fn with_policies(name: &str) -> Self {
        let dir = Self::new(name);
        for entry in std::fs::read_dir(Path::new(REPO).join("policies")).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            if file.ends_with(".cedar") || file == "schema.cedarschema" || file == "models.json" {
                dir.write(
                    &format!("policies/{file}"),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
        dir
    }

    fn edit(&self, rest: &str, edit: impl FnOnce(String) -> String) {
        let text = self.read(rest);
        self.write(rest, &edit(text));
    }

    fn bundle(&self, rest: &str) -> SignedBundle {
        SignedBundle::parse(self.read(rest).as_bytes(), DEFAULT_MAX_BUNDLE_BYTES).unwrap()
    }

    /// A fake wrangler that appends its arguments (one a line, then `<end>`) to
    /// `wrangler.log` and exits with `code`.
    fn fake_wrangler(&self, code: u8) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let log = self.join("wrangler.log");
        let script = self.join("fake-wrangler.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n{{ for arg in \"$@\"; do printf '%s\\n' \"$arg\"; done; echo '<end>'; }} \
                 >> '{}'\nexit {code}\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Let any child forked while the script was open for writing reach its exec, so
        // running the script cannot fail with "text file busy".
        std::thread::sleep(std::time::Duration::from_millis(50));
        script.display().to_string()
    }

    /// Each wrangler invocation the fake recorded, as its argument list.
    fn wrangler_calls(&self) -> Vec<Vec<String>> {
        let Ok(log) = std::fs::read_to_string(self.join("wrangler.log")) else {
            return Vec::new();
        };
        let mut calls = Vec::new();
        let mut current = Vec::new();
        for line in log.lines() {
            if line == "<end>" {
                calls.push(std::mem::take(&mut current));
            } else {
                current.push(line.to_owned());
            }
        }
        calls
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn policy(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_policy"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().expect("the CLI exits with a code"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn repo(path: &str) -> String {
    Path::new(REPO).join(path).display().to_string()
}

/// The repository's `policies/`, as build.rs embeds them.
fn repo_policies() -> &'static (PolicyDir, PolicyBundle) {
    static POLICIES: OnceLock<(PolicyDir, PolicyBundle)> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let dir = PolicyDir::read(Path::new(&repo("policies"))).unwrap();
        let bundle = dir.load(Validation::Strict).unwrap();
        (dir, bundle)
    })
}

/// The content hash of the embedded policy set.
fn embedded_hash() -> String {
    repo_policies().0.content_hash()
}

fn embedded_counts() -> (usize, usize) {
    let bundle = &repo_policies().1;
    (bundle.policy_count(), bundle.catalog().models.len())
}

/// The number of cases in the repository's case files.
fn repo_case_count() -> usize {
    std::fs::read_dir(repo("tests/policy_cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            CaseFile::from_json(&std::fs::read_to_string(p).unwrap())
                .unwrap()
                .cases
                .len()
        })
        .sum()
}

/// Builds `name` (version `version`) from `policies/` and signs it with the fixture key.
fn signed_bundle(dir: &TempDir, name: &str, version: u64) {
    let version = version.to_string();
    policy(
        dir.path(),
        &["bundle", "--version", &version, "--out", name],
    )
    .ok();
    policy(dir.path(), &["sign", "--key", &repo(FIXTURE_KEY), name]).ok();
}

// validate

#[test]
fn validate_accepts_the_policies_and_reports_the_embedded_version() {
    let dir = TempDir::with_policies("validate-ok");
    let run = policy(dir.path(), &["validate"]);
    run.ok();
    let (policies, models) = embedded_counts();
    // The same source names its files as build.rs does, so the hash is the embedded one.
    assert_eq!(
        run.stdout,
        format!(
            "`policies` is valid: {policies} policies in 3 files, {models} models, version {} \
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
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "error: `policies` is not valid\n\npolicies/access.cedar: policies do not parse\n"
        ),
        "{}",
        run.stderr
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
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: `{policies}` is not valid\n\n{policies}/access.cedar: a policy lacks the \
             `@id` annotation (policy 5 of the file)\n"
        )
    );
}

#[test]
fn validate_reports_a_broken_catalog_and_a_missing_directory() {
    let dir = TempDir::with_policies("validate-catalog");
    dir.write("policies/models.json", "{ \"models\": {} }");
    let run = policy(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `policies` is not valid\n\npolicies/models.json: model catalog lists no models\n"
    );

    let run = policy(dir.path(), &["validate", "--dir", "nowhere"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: cannot read `nowhere`: no such file or directory (os error 2)\n"
    );
}

// test

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
    policy(dir.path(), &["bundle", "--version", "4", "--out", "b.json"]).ok();
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
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: `cases/broken.json`: not a valid case file: "),
        "{}",
        run.stderr
    );

    let run = policy(
        dir.path(),
        &["test", "--dir", "policies", "--bundle", "b.json"],
    );
    assert_eq!(run.code, 2, "--dir and --bundle conflict: {}", run.stderr);
}

// bundle, keygen, sign, verify

#[test]
fn bundle_keygen_sign_verify_round_trip() {
    let dir = TempDir::with_policies("round-trip");
    let (policies, models) = embedded_counts();

    let run = policy(dir.path(), &["bundle", "--version", "3", "--out", "b.json"]);
    run.ok();
    assert_eq!(
        run.stdout,
        format!(
            "wrote bundle version 3 of `policies`: {policies} policies, {models} models, version \
             {} (content hash {}) to `b.json` (unsigned)\n",
            version_of(&embedded_hash()),
            embedded_hash()
        )
    );
    let bundle = dir.bundle("b.json");
    assert_eq!(bundle.format, 1);
    assert_eq!(bundle.version, 3);
    assert_eq!(bundle.content_hash, embedded_hash());
    assert!(bundle.signature.is_none());
    let names: Vec<&str> = bundle.policies.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "policies/access.cedar",
            "policies/governance.cedar",
            "policies/limits.cedar"
        ]
    );
    // RFC 3339 UTC, to the second: 2026-05-01T09:30:00Z.
    let created = bundle.created_at.as_bytes();
    assert_eq!(created.len(), 20, "{}", bundle.created_at);
    for (i, c) in created.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-'),
            10 => assert_eq!(*c, b'T'),
            13 | 16 => assert_eq!(*c, b':'),
            19 => assert_eq!(*c, b'Z'),
            _ => assert!(c.is_ascii_digit(), "{}", bundle.created_at),
        }
    }
    assert!(bundle.created_at.as_str() >= "2025-01-01T00:00:00Z");

    let run = policy(
        dir.path(),
        &["keygen", "--id", "ops-1", "--out", "ops.json"],
    );
    run.ok();
    let pair: KeyPairFile = serde_json::from_str(&dir.read("ops.json")).unwrap();
    assert_eq!(pair.id, "ops-1");
    assert_eq!(
        run.stdout,
        format!(
            "{{\"id\":\"ops-1\",\"public_key\":\"{}\"}}\n",
            pair.public_key
        )
    );
    assert_eq!(
        run.stderr,
        "wrote key `ops-1` to `ops.json` (mode 0600; keep it secret); add this entry to the \
         trusted keys file's `keys`:\n"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("ops.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The key pair is consistent: the secret derives the public key.
    let rebuilt = KeyPairFile::from_secret("ops-1", hex_array(&pair.secret_key));
    assert_eq!(rebuilt.public_key, pair.public_key);
    dir.write(
        "trusted.json",
        &format!("{{\"keys\":[{}]}}", run.stdout.trim()),
    );

    let run = policy(dir.path(), &["sign", "--key", "ops.json", "b.json"]);
    run.ok();
    assert_eq!(
        run.stdout,
        format!(
            "signed bundle version 3 ({}) with key `ops-1`: wrote `b.json`\n",
            version_of(&embedded_hash())
        )
    );
    let signed = dir.bundle("b.json");
    assert_eq!(signed.signature.as_ref().unwrap().key_id, "ops-1");
    assert_eq!(signed.created_at, bundle.created_at);

    let run = policy(
        dir.path(),
        &["verify", "--trusted-keys", "trusted.json", "b.json"],
    );
    run.ok();
    assert_eq!(
        run.stdout,
        format!(
            "`b.json` verifies: version 3, content hash {}, signed by `ops-1`, created {}; \
             {policies} policies, {models} models\n",
            embedded_hash(),
            bundle.created_at
        )
    );
}

fn hex_array(text: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

#[test]
fn bundle_writes_to_stdout_and_refuses_version_0_and_invalid_policies() {
    let dir = TempDir::with_policies("bundle-stdout");
    let run = policy(dir.path(), &["bundle", "--version", "7"]);
    run.ok();
    let bundle = SignedBundle::parse(run.stdout.as_bytes(), DEFAULT_MAX_BUNDLE_BYTES).unwrap();
    assert_eq!(bundle.version, 7);
    assert_eq!(bundle.content_hash, embedded_hash());
    assert!(run
        .stderr
        .starts_with("wrote bundle version 7 of `policies`: "));
    assert!(run.stderr.ends_with(" (unsigned)\n"));

    let run = policy(dir.path(), &["bundle", "--version", "0", "--out", "b.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: the bundle version must be 1 or more (version 0 is the policy set built into \
         the worker)\n"
    );
    assert!(!dir.join("b.json").exists());

    dir.edit("policies/limits.cedar", |t| {
        t.replace("principal.tier ==", "principal.tierr ==")
    });
    let run = policy(dir.path(), &["bundle", "--version", "1", "--out", "b.json"]);
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .contains("policies/limits.cedar: fails schema validation"));
    assert!(!dir.join("b.json").exists());
}

#[test]
fn sign_to_another_file_and_re_sign_replacing_the_signature() {
    let dir = TempDir::with_policies("sign-out");
    policy(dir.path(), &["bundle", "--version", "2", "--out", "b.json"]).ok();
    let run = policy(
        dir.path(),
        &[
            "sign",
            "--key",
            &repo(FIXTURE_KEY),
            "b.json",
            "--out",
            "signed.json",
        ],
    );
    run.ok();
    assert!(
        dir.bundle("b.json").signature.is_none(),
        "the input is left unsigned"
    );
    assert_eq!(
        dir.bundle("signed.json").signature.unwrap().key_id,
        "test-ops"
    );

    policy(
        dir.path(),
        &["keygen", "--id", "ops-2", "--out", "ops2.json"],
    )
    .ok();
    let run = policy(dir.path(), &["sign", "--key", "ops2.json", "signed.json"]);
    run.ok();
    assert!(
        run.stdout.contains(
            "with key `ops-2`, replacing the signature by `test-ops`: wrote `signed.json`"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(dir.bundle("signed.json").signature.unwrap().key_id, "ops-2");

    // A key file whose halves do not match is refused.
    let mut pair: Value = serde_json::from_str(&dir.read("ops2.json")).unwrap();
    pair["public_key"] = json!("a7a1192c82010e6db9bcfe7a1e42a80ea2c1a3c69446e7468761137ceaf20361");
    dir.write("mismatch.json", &pair.to_string());
    let run = policy(dir.path(), &["sign", "--key", "mismatch.json", "b.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `mismatch.json`: its public key does not match its secret key\n"
    );
    dir.write("notakey.json", "{\"id\":\"x\"}");
    let run = policy(dir.path(), &["sign", "--key", "notakey.json", "b.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: `notakey.json` is not a key file: "),
        "{}",
        run.stderr
    );
}

#[test]
fn verify_refuses_unsigned_unknown_key_tampered_text_and_tampered_version() {
    let dir = TempDir::with_policies("verify-fail");
    let trusted = repo(FIXTURE_TRUSTED);
    let verify = |file: &str| policy(dir.path(), &["verify", "--trusted-keys", &trusted, file]);

    policy(
        dir.path(),
        &["bundle", "--version", "5", "--out", "unsigned.json"],
    )
    .ok();
    let run = verify("unsigned.json");
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: `unsigned.json` does not verify: bundle is not signed\n"
    );

    policy(
        dir.path(),
        &["keygen", "--id", "stranger", "--out", "stranger.json"],
    )
    .ok();
    policy(
        dir.path(),
        &[
            "sign",
            "--key",
            "stranger.json",
            "unsigned.json",
            "--out",
            "stranger-signed.json",
        ],
    )
    .ok();
    let run = verify("stranger-signed.json");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `stranger-signed.json` does not verify: bundle is signed by `stranger`, which is \
         not a trusted key\n"
    );

    signed_bundle(&dir, "good.json", 5);
    verify("good.json").ok();
    let good: Value = serde_json::from_str(&dir.read("good.json")).unwrap();

    let mut text = good.clone();
    // policies[2] is limits.cedar (files are sorted by name).
    let policy_text = text["policies"][2]["text"].as_str().unwrap().to_owned();
    text["policies"][2]["text"] = json!(policy_text.replace("\"suspended\"", "\"banned\""));
    dir.write("text.json", &text.to_string());
    let run = verify("text.json");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `text.json` does not verify: bundle content hash does not match its content\n"
    );

    let mut version = good;
    version["version"] = json!(6);
    dir.write("version.json", &version.to_string());
    let run = verify("version.json");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `version.json` does not verify: bundle signature does not verify\n"
    );

    // Signed by a trusted key, hash intact, but a policy fails the schema.
    let mut broken = dir.bundle("good.json");
    // policies[2] is limits.cedar (files are sorted by name).
    broken.policies[2].text = broken.policies[2]
        .text
        .replace("principal.tier == \"pro\"", "principal.tierr == \"pro\"");
    let mut broken = SignedBundle::from_source(&broken.source(), 5, &broken.created_at);
    let pair: KeyPairFile =
        serde_json::from_str(&std::fs::read_to_string(repo(FIXTURE_KEY)).unwrap()).unwrap();
    broken.sign(&pair.id, &pair.signing_key().unwrap());
    dir.write("invalid.json", &broken.to_json());
    let run = verify("invalid.json");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "error: `invalid.json` does not verify: its policies do not load\n\ninvalid.json \
             (policies/limits.cedar): fails schema validation\n  × for policy \
             `pro-tier-output-cap`, attribute `tierr`"
        ),
        "{}",
        run.stderr
    );
    // `test --bundle` refuses it the same way.
    let run = policy(dir.path(), &["test", "--bundle", "invalid.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "error: `invalid.json` does not load\n\ninvalid.json (policies/limits.cedar): fails \
             schema validation\n"
        ),
        "{}",
        run.stderr
    );

    dir.write(
        "keys.json",
        "{\"keys\": [{\"id\": \"x\", \"public_key\": \"00\"}]}",
    );
    let run = policy(
        dir.path(),
        &["verify", "--trusted-keys", "keys.json", "good.json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `keys.json`: key `x` is not a 32-byte hex Ed25519 public key\n"
    );

    let run = verify("missing.json");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: cannot read `missing.json`: no such file or directory (os error 2)\n"
    );
}

#[test]
fn keygen_refuses_to_overwrite_an_existing_file() {
    let dir = TempDir::new("keygen-exists");
    dir.write("ops.json", "precious");
    let run = policy(
        dir.path(),
        &["keygen", "--id", "ops-1", "--out", "ops.json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: `ops.json` already exists; refusing to overwrite a key file\n"
    );
    assert_eq!(dir.read("ops.json"), "precious");

    let run = policy(
        dir.path(),
        &["keygen", "--id", "has space", "--out", "other.json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: key id `has space` must be non-empty, without spaces or control characters\n"
    );
    assert!(!dir.join("other.json").exists());
}

// diff

#[test]
fn diff_lists_policies_added_removed_and_changed_and_models_changed() {
    let dir = TempDir::with_policies("diff");
    policy(
        dir.path(),
        &["bundle", "--version", "1", "--out", "old.json"],
    )
    .ok();
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
    policy(
        dir.path(),
        &["bundle", "--version", "2", "--out", "new.json"],
    )
    .ok();
    let new = dir.bundle("new.json");

    let (policies, models) = embedded_counts();
    let body = format!(
        "version: 1 -> 2\n\
         policy removed: `embargoed-regions`\n\
         policy added: `long-conversations`\n\
         policy changed: `suspended-callers`\n\
         policies unchanged: {}\n\
         schema: unchanged\n\
         model changed: `gpt-4o` (context_window, premium)\n\
         models unchanged: {}\n\
         4 differences\n",
        policies - 2,
        models - 1
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
    policy(dir.path(), &["bundle", "--version", "1", "--out", "a.json"]).ok();
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
            "other: the sources differ outside policies, schema and models (comments, file names \
         or formatting)\n1 difference\n"
        ),
        "{}",
        run.stdout
    );

    let run = policy(dir.path(), &["diff", "a.json", "missing.json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: cannot read `missing.json`: no such file or directory (os error 2)\n"
    );
    dir.write("garbage.json", "not json");
    let run = policy(dir.path(), &["diff", "garbage.json", "a.json"]);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .starts_with("error: `garbage.json`: bundle is not valid JSON: "));
}

// publish, pin, unpin

#[test]
fn publish_print_shows_the_exact_wrangler_commands() {
    let dir = TempDir::with_policies("publish-print");
    signed_bundle(&dir, "b.json", 3);
    let run = policy(dir.path(), &["publish", "b.json", "--local", "--print"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "wrangler kv key put --binding POLICY_KV policy:bundle:v3 --path b.json --local\n\
         wrangler kv key put --binding POLICY_KV policy:bundle --path b.json --local\n"
    );

    let run = policy(
        dir.path(),
        &[
            "publish",
            "b.json",
            "--remote",
            "--print",
            "--binding",
            "OTHER_KV",
            "--trusted-keys",
            &repo(FIXTURE_TRUSTED),
            "--wrangler",
            "npx wrangler",
        ],
    );
    run.ok();
    assert_eq!(
        run.stdout,
        "'npx wrangler' kv key put --binding OTHER_KV policy:bundle:v3 --path b.json --remote\n\
         'npx wrangler' kv key put --binding OTHER_KV policy:bundle --path b.json --remote\n"
    );
}

#[test]
fn publish_runs_wrangler_for_the_version_then_the_latest() {
    let dir = TempDir::with_policies("publish-run");
    signed_bundle(&dir, "b.json", 3);
    let wrangler = dir.fake_wrangler(0);
    let run = policy(
        dir.path(),
        &[
            "publish",
            "b.json",
            "--local",
            "--wrangler",
            &wrangler,
            "--trusted-keys",
            &repo(FIXTURE_TRUSTED),
        ],
    );
    run.ok();
    let put = |key: &str| -> Vec<String> {
        [
            "kv",
            "key",
            "put",
            "--binding",
            "POLICY_KV",
            key,
            "--path",
            "b.json",
            "--local",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    assert_eq!(
        dir.wrangler_calls(),
        [put("policy:bundle:v3"), put("policy:bundle")]
    );
    assert_eq!(
        run.stdout,
        format!(
            "published bundle version 3 ({}, signed by `test-ops`) to `POLICY_KV` (local) as \
             `policy:bundle:v3` and `policy:bundle`\n",
            version_of(&embedded_hash())
        )
    );
}

#[test]
fn publish_stops_at_the_first_failing_wrangler_command() {
    let dir = TempDir::with_policies("publish-wrangler-fails");
    signed_bundle(&dir, "b.json", 3);
    let wrangler = dir.fake_wrangler(3);
    let run = policy(
        dir.path(),
        &["publish", "b.json", "--remote", "--wrangler", &wrangler],
    );
    assert_eq!(run.code, 1);
    assert_eq!(dir.wrangler_calls().len(), 1, "the latest is not written");
    assert_eq!(dir.wrangler_calls()[0][5], "policy:bundle:v3");
    assert_eq!(
        run.stderr,
        format!(
            "error: `{wrangler} kv key put --binding POLICY_KV policy:bundle:v3 --path b.json \
             --remote` failed (exit status: 3)\n"
        )
    );

    let run = policy(
        dir.path(),
        &[
            "publish",
            "b.json",
            "--remote",
            "--wrangler",
            "./no-such-wrangler",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "error: cannot run `./no-such-wrangler`: no such file or directory (os error 2); "
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn publish_refuses_an_unsigned_or_untrusted_or_tampered_bundle() {
    let dir = TempDir::with_policies("publish-refuse");
    let wrangler = dir.fake_wrangler(0);
    policy(
        dir.path(),
        &["bundle", "--version", "3", "--out", "unsigned.json"],
    )
    .ok();
    let run = policy(
        dir.path(),
        &[
            "publish",
            "unsigned.json",
            "--local",
            "--wrangler",
            &wrangler,
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: `unsigned.json` is not signed; sign it first with `policy sign --key KEYFILE \
         unsigned.json`\n"
    );
    // --print refuses too.
    let run = policy(
        dir.path(),
        &["publish", "unsigned.json", "--local", "--print"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");

    policy(
        dir.path(),
        &["keygen", "--id", "stranger", "--out", "stranger.json"],
    )
    .ok();
    policy(
        dir.path(),
        &[
            "sign",
            "--key",
            "stranger.json",
            "unsigned.json",
            "--out",
            "stranger.json.bundle",
        ],
    )
    .ok();
    let trusted = repo(FIXTURE_TRUSTED);
    let run = policy(
        dir.path(),
        &[
            "publish",
            "stranger.json.bundle",
            "--local",
            "--trusted-keys",
            &trusted,
            "--wrangler",
            &wrangler,
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "error: `stranger.json.bundle` does not verify against `{trusted}`: bundle is signed \
             by `stranger`, which is not a trusted key\n"
        )
    );

    // Without trusted keys the content is still checked against its hash.
    signed_bundle(&dir, "good.json", 3);
    let mut tampered: Value = serde_json::from_str(&dir.read("good.json")).unwrap();
    tampered["catalog"] = json!(tampered["catalog"]
        .as_str()
        .unwrap()
        .replace("128000", "256000"));
    dir.write("tampered.json", &tampered.to_string());
    let run = policy(
        dir.path(),
        &[
            "publish",
            "tampered.json",
            "--local",
            "--wrangler",
            &wrangler,
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: `tampered.json`: bundle content hash does not match its content\n"
    );

    assert!(dir.wrangler_calls().is_empty(), "wrangler never ran");

    // --local or --remote is required, and not both.
    let run = policy(dir.path(), &["publish", "good.json", "--print"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--local"), "{}", run.stderr);
    let run = policy(
        dir.path(),
        &["publish", "good.json", "--local", "--remote", "--print"],
    );
    assert_eq!(run.code, 2);
}

#[test]
fn pin_and_unpin_put_and_delete_the_pin_key() {
    let dir = TempDir::new("pin");
    let run = policy(dir.path(), &["pin", "4", "--remote", "--print"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "wrangler kv key put --binding POLICY_KV policy:pin 4 --remote\n"
    );
    let run = policy(dir.path(), &["unpin", "--local", "--print"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "wrangler kv key delete --binding POLICY_KV policy:pin --local\n"
    );

    let wrangler = dir.fake_wrangler(0);
    let run = policy(
        dir.path(),
        &["pin", "0", "--local", "--wrangler", &wrangler],
    );
    run.ok();
    assert_eq!(run.stdout, "pinned `POLICY_KV` (local) to version 0\n");
    let run = policy(dir.path(), &["unpin", "--remote", "--wrangler", &wrangler]);
    run.ok();
    assert_eq!(run.stdout, "unpinned `POLICY_KV` (remote)\n");
    let calls: Vec<Vec<&str>> = vec![
        vec![
            "kv",
            "key",
            "put",
            "--binding",
            "POLICY_KV",
            "policy:pin",
            "0",
            "--local",
        ],
        vec![
            "kv",
            "key",
            "delete",
            "--binding",
            "POLICY_KV",
            "policy:pin",
            "--remote",
        ],
    ];
    assert_eq!(dir.wrangler_calls(), calls);

    let run = policy(dir.path(), &["pin", "latest", "--local"]);
    assert_eq!(run.code, 2, "a pin is a version number: {}", run.stderr);
    let run = policy(dir.path(), &["unpin", "--print"]);
    assert_eq!(run.code, 2);
}

//! `policy publish`, `pin` and `unpin`: the wrangler commands printed or run, and the
//! bundles publish refuses.

use crate::support::{
    embedded_hash, policy, policy_with_path, repo, sign_with_new_key, signed_bundle,
    unsigned_bundle, TempDir, FIXTURE_TRUSTED,
};
use gateway_policy::bundle::version_of;
use serde_json::{json, Value};

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
fn without_wrangler_on_path_publish_uses_the_projects_own() {
    let dir = TempDir::with_policies("publish-project-wrangler");
    signed_bundle(&dir, "b.json", 3);
    dir.write("node_modules/.bin/wrangler", "#!/bin/sh\n");
    dir.write("deploy/.keep", "");
    let nothing_on_path = dir.join("empty-bin");
    std::fs::create_dir_all(&nothing_on_path).unwrap();
    let run = policy_with_path(
        &dir.join("deploy"),
        &["publish", "../b.json", "--local", "--print"],
        nothing_on_path.to_str(),
    );
    run.ok();
    let own = dir.join("node_modules/.bin/wrangler");
    let first = run.stdout.lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with(&format!("{} kv key put", own.display())),
        "{first}"
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
    run.fails_starting(
        1,
        "error: cannot run `./no-such-wrangler`: no such file or directory (os error 2); ",
    );
}

#[test]
fn publish_refuses_an_unsigned_or_untrusted_or_tampered_bundle() {
    let dir = TempDir::with_policies("publish-refuse");
    let wrangler = dir.fake_wrangler(0);
    unsigned_bundle(&dir, "unsigned.json", 3);
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
    run.fails(
        1,
        "error: `unsigned.json` is not signed; sign it first with `policy sign --key KEYFILE \
         unsigned.json`\n",
    );
    assert_eq!(run.stdout, "");
    // --print refuses too.
    let run = policy(
        dir.path(),
        &["publish", "unsigned.json", "--local", "--print"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");

    sign_with_new_key(&dir, "stranger", "unsigned.json", "stranger.json.bundle");
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
    run.fails(
        1,
        &format!(
            "error: `stranger.json.bundle` does not verify against `{trusted}`: bundle is signed \
             by `stranger`, which is not a trusted key\n"
        ),
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
    run.fails(
        1,
        "error: `tampered.json`: bundle content hash does not match its content\n",
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

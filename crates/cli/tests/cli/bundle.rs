//! `policy bundle`: bundles written to a file or stdout, then keyed, signed and verified;
//! version 0 and invalid policies refused.

use crate::support::{embedded_counts, embedded_hash, hex_array, policy, TempDir};
use gateway_policy::bundle::version_of;
use gateway_policy::signed::{KeyPairFile, SignedBundle, DEFAULT_MAX_BUNDLE_BYTES};

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
            "policies/budgets.cedar",
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
    run.fails(
        1,
        "error: the bundle version must be 1 or more (version 0 is the policy set built into \
         the worker)\n",
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

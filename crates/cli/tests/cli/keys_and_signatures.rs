//! `policy keygen`, `sign` and `verify`: re-signing, mismatched key files, and every
//! bundle `verify` refuses.

use crate::support::{
    policy, repo, sign_with_new_key, signed_bundle, unsigned_bundle, TempDir, FIXTURE_KEY,
    FIXTURE_TRUSTED,
};
use gateway_policy::signed::{KeyPairFile, SignedBundle};
use serde_json::{json, Value};

#[test]
fn sign_to_another_file_and_re_sign_replacing_the_signature() {
    let dir = TempDir::with_policies("sign-out");
    unsigned_bundle(&dir, "b.json", 2);
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
    run.fails(
        1,
        "error: `mismatch.json`: its public key does not match its secret key\n",
    );
    dir.write("notakey.json", "{\"id\":\"x\"}");
    let run = policy(dir.path(), &["sign", "--key", "notakey.json", "b.json"]);
    run.fails_starting(1, "error: `notakey.json` is not a key file: ");
}

#[test]
fn verify_refuses_unsigned_unknown_key_tampered_text_and_tampered_version() {
    let dir = TempDir::with_policies("verify-fail");
    let trusted = repo(FIXTURE_TRUSTED);
    let verify = |file: &str| policy(dir.path(), &["verify", "--trusted-keys", &trusted, file]);

    unsigned_bundle(&dir, "unsigned.json", 5);
    let run = verify("unsigned.json");
    run.fails(
        1,
        "error: `unsigned.json` does not verify: bundle is not signed\n",
    );
    assert_eq!(run.stdout, "");

    sign_with_new_key(&dir, "stranger", "unsigned.json", "stranger-signed.json");
    let run = verify("stranger-signed.json");
    run.fails(
        1,
        "error: `stranger-signed.json` does not verify: bundle is signed by `stranger`, which is \
         not a trusted key\n",
    );

    signed_bundle(&dir, "good.json", 5);
    verify("good.json").ok();
    let good: Value = serde_json::from_str(&dir.read("good.json")).unwrap();

    let mut text = good.clone();
    // policies[3] is limits.cedar (files are sorted by name).
    let policy_text = text["policies"][3]["text"].as_str().unwrap().to_owned();
    text["policies"][3]["text"] = json!(policy_text.replace("\"suspended\"", "\"banned\""));
    dir.write("text.json", &text.to_string());
    let run = verify("text.json");
    run.fails(
        1,
        "error: `text.json` does not verify: bundle content hash does not match its content\n",
    );

    // A raised budget is as tampered as a rewritten policy.
    let mut limits = good.clone();
    let budgets = limits["limits"]
        .as_str()
        .unwrap()
        .replace("5000", "5000000");
    limits["limits"] = json!(budgets);
    dir.write("limits.json", &limits.to_string());
    verify("limits.json").fails(
        1,
        "error: `limits.json` does not verify: bundle content hash does not match its content\n",
    );

    let mut version = good;
    version["version"] = json!(6);
    dir.write("version.json", &version.to_string());
    let run = verify("version.json");
    run.fails(
        1,
        "error: `version.json` does not verify: bundle signature does not verify\n",
    );

    // Signed by a trusted key, hash intact, but a policy fails the schema.
    let mut broken = dir.bundle("good.json");
    // policies[3] is limits.cedar (files are sorted by name).
    broken.policies[3].text = broken.policies[3]
        .text
        .replace("principal.tier == \"pro\"", "principal.tierr == \"pro\"");
    let mut broken = SignedBundle::from_source(&broken.source(), 5, &broken.created_at);
    let pair: KeyPairFile =
        serde_json::from_str(&std::fs::read_to_string(repo(FIXTURE_KEY)).unwrap()).unwrap();
    broken.sign(&pair.id, &pair.signing_key().unwrap());
    dir.write("invalid.json", &broken.to_json());
    let run = verify("invalid.json");
    run.fails_starting(
        1,
        "error: `invalid.json` does not verify: its policies do not load\n\ninvalid.json \
             (policies/limits.cedar): fails schema validation\n  × for policy \
             `pro-tier-output-cap`, attribute `tierr`",
    );
    // `test --bundle` refuses it the same way.
    let run = policy(dir.path(), &["test", "--bundle", "invalid.json"]);
    run.fails_starting(
        1,
        "error: `invalid.json` does not load\n\ninvalid.json (policies/limits.cedar): fails \
             schema validation\n",
    );

    dir.write(
        "keys.json",
        "{\"keys\": [{\"id\": \"x\", \"public_key\": \"00\"}]}",
    );
    let run = policy(
        dir.path(),
        &["verify", "--trusted-keys", "keys.json", "good.json"],
    );
    run.fails(
        1,
        "error: `keys.json`: key `x` is not a 32-byte hex Ed25519 public key\n",
    );

    let run = verify("missing.json");
    run.fails(
        1,
        "error: cannot read `missing.json`: no such file or directory (os error 2)\n",
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
    run.fails(
        1,
        "error: `ops.json` already exists; refusing to overwrite a key file\n",
    );
    assert_eq!(run.stdout, "");
    assert_eq!(dir.read("ops.json"), "precious");

    let run = policy(
        dir.path(),
        &["keygen", "--id", "has space", "--out", "other.json"],
    );
    run.fails(
        1,
        "error: key id `has space` must be non-empty, without spaces or control characters\n",
    );
    assert!(!dir.join("other.json").exists());
}

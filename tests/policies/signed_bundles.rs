//! Signed bundles: the embedded set as a built-in bundle, signing and verification, and
//! every way a bundle from outside is refused.
use gateway_policy::signed::{
    KeyError, KeyPairFile, SignedBundle, Trust, TrustedKeys, VerifyError, FORMAT,
};
use llm_policy_gateway::embedded;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const KEY_FILE: &str = include_str!("../fixtures/signing/test-signing-key.json");
const TRUSTED_FILE: &str = include_str!("../fixtures/signing/trusted_keys.json");

fn key() -> KeyPairFile {
    serde_json::from_str(KEY_FILE).unwrap()
}

fn trusted() -> TrustedKeys {
    TrustedKeys::from_json(TRUSTED_FILE).unwrap()
}

fn signed(version: u64) -> SignedBundle {
    let mut bundle =
        SignedBundle::build(&embedded::source(), version, "2026-11-24T12:00:00Z").unwrap();
    let key = key();
    bundle.sign(&key.id, &key.signing_key().unwrap());
    bundle
}

fn refusal(bundle: &SignedBundle) -> VerifyError {
    match bundle.verify_and_load(Trust::SignedBy(&trusted())) {
        Ok(_) => panic!("the bundle should be refused"),
        Err(error) => error,
    }
}

#[test]
fn the_embedded_set_is_a_version_0_built_in_bundle() {
    let bundle = embedded::bundle();
    assert_eq!(bundle.version, 0);
    assert_eq!(bundle.format, FORMAT);
    assert_eq!(bundle.content_hash, embedded::CONTENT_HASH);
    assert!(bundle.signature.is_none());
    let verified = bundle.verify_and_load(Trust::BuiltIn).unwrap();
    assert_eq!(verified.version, 0);
    assert_eq!(verified.signed_by, None);
    assert_eq!(verified.policy.content_hash(), embedded::CONTENT_HASH);
    // Unsigned, it is refused anywhere but built in.
    assert!(matches!(refusal(&bundle), VerifyError::Unsigned));
}

#[test]
fn a_signed_bundle_round_trips_through_json_and_verifies() {
    let bundle = signed(3);
    let parsed = SignedBundle::parse(bundle.to_json().as_bytes(), 1 << 20).unwrap();
    assert_eq!(parsed, bundle);
    let verified = parsed.verify_and_load(Trust::SignedBy(&trusted())).unwrap();
    assert_eq!(verified.version, 3);
    assert_eq!(verified.created_at, "2026-11-24T12:00:00Z");
    assert_eq!(verified.signed_by.as_deref(), Some("test-ops"));
    assert_eq!(verified.policy.content_hash(), embedded::CONTENT_HASH);
}

#[test]
fn the_key_pair_file_derives_its_public_key() {
    let key = key();
    let rebuilt = KeyPairFile::from_secret(&key.id, {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(&key.secret_key, &mut secret).unwrap();
        secret
    });
    assert_eq!(rebuilt.public_key, key.public_key);
    assert!(trusted().key("test-ops").is_some());
}

#[test]
fn every_signed_field_is_covered_by_the_signature() {
    let mut version = signed(3);
    version.version = 4;
    assert!(matches!(refusal(&version), VerifyError::BadSignature));

    let mut time = signed(3);
    time.created_at = "2030-01-01T00:00:00Z".to_owned();
    assert!(matches!(refusal(&time), VerifyError::BadSignature));

    let mut hash = signed(3);
    hash.content_hash = "0".repeat(64);
    assert!(matches!(refusal(&hash), VerifyError::BadSignature));

    let mut garbled = signed(3);
    garbled.signature.as_mut().unwrap().ed25519 = "zz".to_owned();
    assert!(matches!(refusal(&garbled), VerifyError::BadSignature));
}

#[test]
fn content_changed_after_signing_fails_the_hash_check() {
    let mut bundle = signed(3);
    bundle.policies[0]
        .text
        .push_str("\n// edited after signing\n");
    assert!(matches!(refusal(&bundle), VerifyError::HashMismatch));

    let mut catalog = signed(3);
    catalog.catalog = catalog.catalog.replace("128000", "1");
    assert!(matches!(refusal(&catalog), VerifyError::HashMismatch));
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused() {
    let stranger = KeyPairFile::from_secret("stranger", [7u8; 32]);
    let mut bundle = signed(3);
    bundle.sign(&stranger.id, &stranger.signing_key().unwrap());
    match refusal(&bundle) {
        VerifyError::UnknownKey(id) => assert_eq!(id, "stranger"),
        other => panic!("{other:?}"),
    }
    // The stranger's key under a trusted id: the signature does not verify.
    let mut impostor = signed(3);
    impostor.sign("test-ops", &stranger.signing_key().unwrap());
    assert!(matches!(refusal(&impostor), VerifyError::BadSignature));
}

#[test]
fn a_signed_bundle_that_fails_validation_is_refused_after_the_signature_check() {
    let mut source = embedded::source();
    let bad = "@id(\"bad\")\n@reason(\"r\")\npermit (principal, action, resource) when { principal.shoe_size > 3 };";
    source
        .policy_files
        .push(gateway_policy::bundle::PolicyFile {
            name: "policies/bad.cedar",
            text: bad,
        });
    let mut bundle = SignedBundle::from_source(&source, 5, "2026-11-24T12:00:00Z");
    let key = key();
    bundle.sign(&key.id, &key.signing_key().unwrap());
    let error = refusal(&bundle);
    assert_eq!(error.kind(), "invalid_policies");
    assert!(error.to_string().contains("shoe_size"), "{error}");
}

#[test]
fn parse_refuses_oversize_malformed_and_future_formats() {
    let json = signed(3).to_json();
    match SignedBundle::parse(json.as_bytes(), 100) {
        Err(VerifyError::TooLarge { size, limit }) => {
            assert_eq!((size, limit), (json.len(), 100));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        SignedBundle::parse(&json.as_bytes()[..json.len() / 2], 1 << 20),
        Err(VerifyError::Json(_))
    ));
    assert!(matches!(
        SignedBundle::parse(b"\xff\xfe", 1 << 20),
        Err(VerifyError::Json(_))
    ));
    let future = json.replacen("\"format\": 1", "\"format\": 2", 1);
    assert!(matches!(
        SignedBundle::parse(future.as_bytes(), 1 << 20),
        Err(VerifyError::Format(2))
    ));
    let extra = json.replacen("{", "{\"unexpected\": true,", 1);
    assert!(matches!(
        SignedBundle::parse(extra.as_bytes(), 1 << 20),
        Err(VerifyError::Json(_))
    ));
}

#[test]
fn trusted_keys_files_are_checked() {
    assert!(TrustedKeys::from_json(r#"{"keys":[]}"#).unwrap().is_empty());
    assert!(matches!(
        TrustedKeys::from_json(r#"{"keys":[{"id":"a","public_key":"abcd"}]}"#),
        Err(KeyError::PublicKey(id)) if id == "a"
    ));
    let public = key().public_key;
    let twice = format!(
        r#"{{"keys":[{{"id":"a","public_key":"{public}"}},{{"id":"a","public_key":"{public}"}}]}}"#
    );
    assert!(matches!(
        TrustedKeys::from_json(&twice),
        Err(KeyError::DuplicateId(id)) if id == "a"
    ));
    assert!(matches!(
        TrustedKeys::from_json("[]"),
        Err(KeyError::Json(_))
    ));
}

#[test]
fn the_signing_message_is_canonical() {
    let a = signed(3);
    let b = SignedBundle::parse(a.to_json().as_bytes(), 1 << 20).unwrap();
    assert_eq!(a.signing_message(), b.signing_message());
    let mut c = a.clone();
    c.version = 30;
    assert_ne!(a.signing_message(), c.signing_message());
}

//! Secrets: prefixed keys and tokens, private key blocks, high-entropy tokens, and the
//! near misses each must not claim.

use super::secrets_in;
use crate::support::OPENAI_KEY as OPENAI;
use gateway_engine::detect::{secrets, Kind};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ANTHROPIC: &str = "sk-ant-api03-5Kjp1vRt_1fjORS-6ilI8ihN5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9Z-dmenCk";
const GITHUB: &str = "ghp_hvMdgaKjIg8xNbe3nNyjOq9wMxEhh2FDEEtf";
const GITHUB_PAT: &str =
    "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";
const SLACK: &str = "xoxb-516761222029-7299752882001-HV7iB3m03nbqnsGpWLuqIA1i";
const GOOGLE: &str = "AIzahT61qtc4xatws8phP9nhFyJfm5di4PzJ59F";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const RANDOM_SECRET: &str = "Hz5r1pY4OjE2jBMptUsGr7CmY+uCu3ZR1zTOlUcR";

#[test]
fn prefixed_secrets() {
    for (secret, kind) in [
        (OPENAI, "openai_key"),
        (
            "sk-IhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vU",
            "openai_key",
        ),
        (ANTHROPIC, "anthropic_key"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
        ("ASIARIC7PHKQDLMTT7NS", "aws_access_key"),
        (GITHUB, "github_token"),
        (GITHUB_PAT, "github_token"),
        (SLACK, "slack_token"),
        (GOOGLE, "google_api_key"),
        (JWT, "jwt"),
    ] {
        for text in [
            secret.to_owned(),
            format!("export KEY={secret}"),
            format!("token: \"{secret}\", next"),
            format!("Authorization: Bearer {secret}\n"),
        ] {
            assert_eq!(secrets_in(&text), [(kind, secret)], "{text}");
        }
    }
}

#[test]
fn near_misses_are_not_secrets() {
    for text in [
        "sk-demo-alice",             // the gateway's demo key: too short
        "task-list-for-the-quarter", // sk- inside a word
        "AKIAIOSFODNN7EXAMPL",       // 15 characters
        "AKIAIOSFODNN7EXAMPLEX",     // 17 characters
        "AIzaSyShort",
        "eyJub3QiOiJhIHRva2VuIn0",    // one segment only
        "eyJhbGciOi.bm90IGpzb24.sig", // second segment is not JSON
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
    ] {
        assert_eq!(secrets_in(text), [], "{text}");
    }
}

#[test]
fn near_miss_tokens_still_count_as_high_entropy() {
    // A GitHub token one character short is not a github_token, but still random.
    let short = "ghp_hvMdgaKjIg8xNbe3nNyjOq9wMxEhh2FDEEt";
    assert_eq!(secrets_in(short), [("high_entropy", short)]);
}

#[test]
fn anthropic_key_wins_over_openai_key() {
    let found = secrets::find(ANTHROPIC);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, Kind::AnthropicKey);
    assert_eq!((found[0].start, found[0].end), (0, ANTHROPIC.len()));
}

#[test]
fn private_keys() {
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7fakefakefake\nAbCdEf0123456789\n-----END RSA PRIVATE KEY-----";
    let text = format!("my key:\n{key}\nthanks");
    assert_eq!(secrets_in(&text), [("private_key", key)]);
    let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    assert_eq!(secrets_in(openssh), [("private_key", openssh)]);
    let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----";
    assert_eq!(secrets_in(pgp), [("private_key", pgp)]);
    // Truncated: to the end of the text.
    let truncated = "here: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nand then";
    assert_eq!(secrets_in(truncated), [("private_key", &truncated[6..])]);
}

#[test]
fn high_entropy_tokens() {
    for token in [
        RANDOM_SECRET,
        "JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B2",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // AWS's documented example secret key
    ] {
        let text = format!("client_secret={token}");
        assert_eq!(secrets_in(&text), [("high_entropy", token)], "{text}");
    }
    // Hex is a secret only when named as one.
    let hex = "094ad615fcb97e7bb95bd64033aa2aeb417790654caed452aacf609da2d1d4ef";
    assert_eq!(
        secrets_in(&format!("{{\"secret_key\": \"{hex}\"}}")),
        [("high_entropy", hex)]
    );
    assert_eq!(
        secrets_in(&format!("API key: {hex}")),
        [("high_entropy", hex)]
    );
    assert_eq!(secrets_in(&format!("token\nsha256 {hex}")), []);
    for text in [
        "token 550e8400-e29b-41d4-a716-446655440000", // a UUID, even when named
        "550e8400-e29b-41d4-a716-446655440000",       // a UUID
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8", // a git SHA
        "d41d8cd98f00b204e9800998ecf8427e",           // an MD5
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // a SHA-256
        "getUserAccountByEmailAddressAndStatus2024",  // camelCase
        "src/components/navigation/HeaderMenu2024/index", // a path
        "this_is_a_very_long_snake_case_identifier_v2",
        "SWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM=", // base64 of prose
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef", // a sequence: high entropy, no class changes
    ] {
        assert_eq!(secrets_in(text), [], "{text}");
    }
}

#[test]
fn secret_spans_point_at_original_bytes() {
    let text = format!("Schlüssel für die Prüfung: «{GITHUB}» — danke");
    let found = secrets::find(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].start, text.find(GITHUB).unwrap());
    assert_eq!(&text[found[0].start..found[0].end], GITHUB);
    // A JWT's segments are not also high-entropy tokens.
    let text = format!("{JWT} {RANDOM_SECRET} AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        secrets_in(&text).iter().map(|m| m.0).collect::<Vec<_>>(),
        ["jwt", "high_entropy", "aws_access_key"]
    );
}

/// Public material made by `openssl` and `ssh-keygen` (certificates, public keys) and by
/// hashing random bytes (npm, Go, SRI and Nix integrity hashes): none of it is a secret,
/// and a developer pasting it must not be refused.
const PUBLIC_MATERIAL: &[(&str, &str)] = &[
    (
        "certificate.pem",
        include_str!("public_material/certificate.pem"),
    ),
    (
        "rsa_public_key.pem",
        include_str!("public_material/rsa_public_key.pem"),
    ),
    (
        "ec_public_key.pem",
        include_str!("public_material/ec_public_key.pem"),
    ),
    (
        "authorized_keys",
        include_str!("public_material/authorized_keys"),
    ),
    (
        "package-lock.json",
        include_str!("public_material/package-lock.json"),
    ),
    ("go.sum", include_str!("public_material/go.sum")),
    ("sri.html", include_str!("public_material/sri.html")),
    ("fetchurl.nix", include_str!("public_material/fetchurl.nix")),
];

#[test]
fn public_keys_certificates_and_integrity_hashes_are_not_secrets() {
    for (name, text) in PUBLIC_MATERIAL {
        let found = secrets::find(text);
        assert!(found.is_empty(), "{name}: {:?}", secrets_in(text));
        // As part of a question, too.
        let question = format!("Why does the verifier reject this?\n\n{text}\nThanks!");
        assert!(secrets::find(&question).is_empty(), "{name} in a question");
    }
}

#[test]
fn a_secret_beside_public_material_is_still_found() {
    for (name, text) in PUBLIC_MATERIAL {
        let mixed = format!("{text}\nclient_secret = {RANDOM_SECRET}\nkey: {OPENAI}\n");
        let kinds: Vec<&str> = secrets::find(&mixed)
            .iter()
            .map(|f| f.kind.name())
            .collect();
        assert_eq!(kinds, ["high_entropy", "openai_key"], "{name}");
    }
    // A private key block stays a private key even after a certificate.
    let chain = format!(
        "{}{}",
        include_str!("public_material/certificate.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
    );
    let kinds: Vec<&str> = secrets::find(&chain)
        .iter()
        .map(|f| f.kind.name())
        .collect();
    assert_eq!(kinds, ["private_key"]);
}

#[test]
fn an_integrity_prefix_does_not_hide_a_token_of_the_wrong_length() {
    // `sha512-` then a random 40-character token: not a 64-byte digest.
    let text = format!("integrity: sha512-{RANDOM_SECRET}");
    let kinds: Vec<&str> = secrets::find(&text).iter().map(|f| f.kind.name()).collect();
    assert_eq!(kinds, ["high_entropy"]);
}

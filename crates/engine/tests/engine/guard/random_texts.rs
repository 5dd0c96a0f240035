//! Random texts of Unicode fragments and secrets, through a window and through whole
//! provider streams split anywhere: always the whole-text redaction.

use super::{guard_chunks, pii, pii_redactor, provider_stream, reassemble, secrets, EMAIL};
use crate::support::{through_window, whole_text_redaction, Rng, OPENAI_KEY as KEY};
use gateway_engine::detect::{self, KindSet};
use gateway_policy::catalog::Provider;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Fragments for random texts: ASCII words and punctuation, whitespace of one to three
/// bytes, CJK, emoji (one with a joiner), digits, and pieces of emails, phone, card,
/// IBAN, SSN and IP address numbers, glued to anything.
const POOL: &[&str] = &[
    "the ",
    "meeting ",
    "ran ",
    "long",
    ". ",
    ", ",
    "\n",
    " ",
    "\t",
    "x",
    "(",
    ")",
    ":",
    "-",
    "+",
    ".",
    "\u{a0}",
    "\u{202f}",
    "\u{2009}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\u{1680}",
    "東京",
    "会議",
    "中文",
    "はい",
    "。",
    "😀",
    "👩\u{200d}💻",
    "é",
    "0",
    "1",
    "7",
    "12",
    "42",
    "078",
    "05",
    "415",
    "555",
    "0132",
    "1120",
    "4111",
    "1111",
    "2024-05-01",
    " 0",
    "1 ",
    "+1 415 555 0132",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "078-05-1120",
    "12345678Z",
    "DE89 3704 0044 0532 0130 00",
    "DE",
    "NWBK",
    "192.168.0.1",
    "fe80::1",
    "jane.doe",
    "@",
    "example.com",
    EMAIL,
    "x@y.io",
];

fn random_text(rng: &mut Rng, pool: &[&str], max_fragments: usize) -> String {
    (0..rng.below(max_fragments + 1))
        .map(|_| pool[rng.below(pool.len())])
        .collect()
}

/// Pushes `text` through a window in random pieces, then finishes it.
fn window_release(rng: &mut Rng, text: &str, redact: KindSet) -> String {
    through_window(&rng.char_pieces(text, 24), redact, KindSet::EMPTY)
        .unwrap_or_else(|kind| panic!("{kind:?} blocked, nothing is"))
}

const CASES: usize = if cfg!(target_arch = "wasm32") {
    300
} else {
    3000
};

// Exactly the whole-text redaction: a detector decides from a match and the token around
// it (digit groups joined by spaces are one token; a hex secret also needs the name before
// it), and the window cuts only at a token start, holds a match the cut would split whole,
// and keeps a hex secret's name with it. Only a token longer than MAX_HOLD is cut inside;
// these texts have none.
#[test]
fn random_unicode_through_a_window_gives_the_whole_text_redaction() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for case in 0..CASES {
        let text = random_text(&mut rng, POOL, 120);
        let expected = detect::redact(&text, &detect::find_kinds(&text, pii()));
        assert_eq!(
            window_release(&mut rng, &text, pii()),
            expected,
            "case {case}: {text:?}"
        );
    }
}

#[test]
fn random_secrets_through_a_window_give_the_whole_text_redaction() {
    const SECRETS: &[&str] = &[
        "the ",
        " ",
        "\n",
        "\u{a0}",
        "\u{3000}",
        "東京",
        "😀",
        "x",
        "=",
        "/",
        "+",
        "secret: ",
        "api key is ",
        KEY,
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "094a3c5e8f1b2d7c9e0a4b6c8d1e3f5a7b9c0d2e",
        "Zx9Kq2Lm8Np4Rt6Vw1Yb3Hc5Jd7Fg0Sa",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc123",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n",
        "-----END RSA PRIVATE KEY-----",
        "-----BEGIN CERTIFICATE-----\n",
        EMAIL,
        "4111 1111 1111 1111",
    ];
    let kinds = pii().union(secrets());
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    for case in 0..CASES / 2 {
        let text = random_text(&mut rng, SECRETS, 60);
        let expected = detect::redact(&text, &detect::find_kinds(&text, kinds));
        assert_eq!(
            window_release(&mut rng, &text, kinds),
            expected,
            "case {case}: {text:?}"
        );
    }
}

#[test]
fn random_unicode_streams_split_anywhere_give_the_whole_text_redaction() {
    let mut rng = Rng(0xBF58_476D_1CE4_E5B9);
    for case in 0..CASES / 10 {
        let text = random_text(&mut rng, POOL, 80);
        let expected = whole_text_redaction(&text, pii());
        for provider in [Provider::Openai, Provider::Anthropic] {
            let bytes = provider_stream(provider, &rng.char_pieces(&text, 12));
            let max = 1 + rng.below(64);
            let chunks = rng.byte_chunks(&bytes, max);
            let guard = pii_redactor();
            let (out, _) = guard_chunks(provider, guard, &chunks);
            assert!(String::from_utf8(out.clone()).is_ok(), "case {case}");
            assert_eq!(
                reassemble(provider, &out),
                (expected.clone(), None),
                "case {case} {provider:?}: {text:?}"
            );
        }
    }
}

//! Random texts of Unicode fragments and secrets, through a window and through whole
//! provider streams split anywhere: always the whole-text redaction.

use super::{guard_chunks, pii, pii_redactor, provider_stream, reassemble, secrets, EMAIL};
use crate::support::{
    check, cut_bytes, cut_chars, sizes, through_window, whole_text_redaction, OPENAI_KEY as KEY,
};
use gateway_engine::detect::{self, KindSet};
use gateway_policy::catalog::Provider;
use proptest::collection::vec;
use proptest::sample::select;
use proptest::strategy::Strategy;
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

/// Texts of up to `max_fragments` fragments of `pool`.
fn random_text(
    pool: &'static [&'static str],
    max_fragments: usize,
) -> impl Strategy<Value = String> {
    vec(select(pool), 0..=max_fragments).prop_map(|fragments| fragments.concat())
}

/// Pushes `text` through a window in pieces of `sizes` characters, then finishes it.
fn window_release(text: &str, sizes: &[usize], redact: KindSet) -> String {
    through_window(&cut_chars(text, sizes), redact, KindSet::EMPTY)
        .unwrap_or_else(|kind| panic!("{kind:?} blocked, nothing is"))
}

/// How many random texts go through a window (a tenth of them through whole streams).
const CASES: u32 = if cfg!(target_arch = "wasm32") {
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
    check(
        CASES,
        (random_text(POOL, 120), sizes(24)),
        |(text, sizes)| {
            let expected = detect::redact(&text, &detect::find_kinds(&text, pii()));
            assert_eq!(window_release(&text, &sizes, pii()), expected, "{text:?}");
        },
    );
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
    check(
        CASES / 2,
        (random_text(SECRETS, 60), sizes(24)),
        |(text, sizes)| {
            let expected = detect::redact(&text, &detect::find_kinds(&text, kinds));
            assert_eq!(window_release(&text, &sizes, kinds), expected, "{text:?}");
        },
    );
}

#[test]
fn random_unicode_streams_split_anywhere_give_the_whole_text_redaction() {
    let cases = (random_text(POOL, 80), sizes(12), sizes(64));
    check(CASES / 10, cases, |(text, delta_sizes, byte_sizes)| {
        let expected = whole_text_redaction(&text, pii());
        for provider in [Provider::Openai, Provider::Anthropic] {
            let bytes = provider_stream(provider, &cut_chars(&text, &delta_sizes));
            let chunks = cut_bytes(&bytes, &byte_sizes);
            let (out, _) = guard_chunks(provider, pii_redactor(), &chunks);
            assert!(String::from_utf8(out.clone()).is_ok(), "{provider:?}");
            assert_eq!(
                reassemble(provider, &out),
                (expected.clone(), None),
                "{provider:?}: {text:?}"
            );
        }
    });
}

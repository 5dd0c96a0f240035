//! Text of other scripts and its multi-byte spaces, streamed and split anywhere: answers
//! without findings pass unchanged, the others change only where the findings were.

use super::{
    guard_bytes, guard_chunks, pii, pii_guard, provider_stream, reassemble, secrets,
    stream_through_window, EMAIL,
};
use crate::support::{check, cut_bytes, cut_chars, pieces, sizes, whole_text_redaction};
use gateway_policy::catalog::Provider;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// French puts a no-break space (U+00A0) or a narrow one (U+202F) before `:;!?»`.
const FRENCH: &str = "Bonjour\u{a0}! Votre rendez-vous est confirmé\u{202f}: mardi à 14\u{a0}h, \
    salle B. Merci de votre patience\u{a0}; à bientôt\u{202f}? «\u{a0}Très bien\u{a0}», \
    dit-elle. Le compte rendu suivra\u{a0}: ordre du jour, décisions, suites à donner. ";
/// Japanese and Chinese text use the ideographic space (U+3000), three bytes long.
const JAPANESE: &str =
    "東京の会議は予定どおり始まりました。\u{3000}資料は前日にお送りします。\u{3000}\
    ご不明な点があればお知らせください。\u{3000}";
const CHINESE: &str =
    "今天的会议很顺利。\u{3000}我们下周再讨论预算。\u{3000}谢谢大家的参与。\u{3000}";

#[test]
fn a_window_cuts_after_a_multi_byte_space() {
    // Only ideographic spaces: every cut falls right after one of them.
    let text = JAPANESE.repeat(6);
    for size in 1..=12 {
        assert_eq!(
            stream_through_window(&text, size, pii(), secrets()).unwrap(),
            text,
            "delta size {size}"
        );
    }
}

/// Answers in French, Japanese and Chinese, without findings.
fn plain_answers() -> [String; 3] {
    [FRENCH.repeat(3), JAPANESE.repeat(4), CHINESE.repeat(6)]
}

/// How many random splits each property below is checked with, on every answer.
const CASES: u32 = 12;

#[test]
fn streamed_french_japanese_and_chinese_answers_pass_unchanged() {
    for text in plain_answers() {
        for provider in [Provider::Openai, Provider::Anthropic] {
            for delta_size in [1, 3, 7, 20] {
                let bytes = provider_stream(provider, &pieces(&text, delta_size));
                for byte_size in [1, 2, 3, 5, 13, 4096] {
                    let (out, stream) = guard_bytes(provider, pii_guard(), &bytes, byte_size);
                    let (sent, error) = reassemble(provider, &out);
                    assert!(error.is_none(), "{provider:?}: {error:?}");
                    assert_eq!(
                        sent, text,
                        "{provider:?} delta {delta_size} bytes {byte_size}"
                    );
                    assert_eq!(stream.report(), Default::default());
                }
            }
        }
    }
}

#[test]
fn french_japanese_and_chinese_answers_split_anywhere_pass_unchanged() {
    check(CASES, sizes(9), |byte_sizes| {
        for text in plain_answers() {
            for provider in [Provider::Openai, Provider::Anthropic] {
                for delta_size in [1, 3, 7, 20] {
                    let bytes = provider_stream(provider, &pieces(&text, delta_size));
                    let chunks = cut_bytes(&bytes, &byte_sizes);
                    let (out, _) = guard_chunks(provider, pii_guard(), &chunks);
                    assert_eq!(reassemble(provider, &out), (text.clone(), None));
                }
            }
        }
    });
}

#[test]
fn streamed_unicode_answers_change_only_where_they_had_findings() {
    let texts = [
        format!(
            "{FRENCH}Écrivez à {EMAIL}\u{a0}! Ou appelez le +33 6 12 34 56 78\u{202f}; {FRENCH}"
        ),
        format!("{JAPANESE}{JAPANESE}連絡先は{EMAIL}です。\u{3000}{JAPANESE}"),
        format!("{CHINESE}{CHINESE}请发邮件到\u{3000}{EMAIL}\u{3000}{CHINESE}{CHINESE}"),
    ];
    let expected = texts.clone().map(|text| {
        let expected = whole_text_redaction(&text, pii());
        let mut by_hand = text.replace(EMAIL, "[REDACTED:email]");
        by_hand = by_hand.replace("+33 6 12 34 56 78", "[REDACTED:phone]");
        assert_eq!(expected, by_hand, "the whole-text redaction of {text:?}");
        expected
    });
    check(
        CASES,
        (sizes(22), sizes(15)),
        |(delta_sizes, byte_sizes)| {
            for (text, expected) in texts.iter().zip(&expected) {
                for provider in [Provider::Openai, Provider::Anthropic] {
                    let bytes = provider_stream(provider, &cut_chars(text, &delta_sizes));
                    let chunks = cut_bytes(&bytes, &byte_sizes);
                    let (out, stream) = guard_chunks(provider, pii_guard(), &chunks);
                    assert!(String::from_utf8(out.clone()).is_ok());
                    assert_eq!(reassemble(provider, &out), (expected.clone(), None));
                    assert_eq!(stream.report().redacted.get("email"), Some(&1));
                    assert_eq!(stream.report().blocked, None);
                }
            }
        },
    );
}

//! The window over a streamed text: it releases what no finding can still claim and
//! redacts or blocks exactly as the whole-text check would, for any delta size.

use super::{pii, secrets, stream_through_window, ANSWER};
use crate::support::{pieces, whole_text_redaction, OPENAI_KEY as KEY};
use gateway_engine::detect::{self, Kind, KindSet};
use gateway_engine::guard::window::{Release, Window, MAX_GROUPED};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Streams `text` through a window that redacts `redact` and blocks `block`, in pieces
/// of each of `sizes` characters: each time the whole-text redaction of `redact`, which
/// it returns.
fn streams_as_the_whole_text(
    text: &str,
    sizes: impl IntoIterator<Item = usize>,
    redact: KindSet,
    block: KindSet,
) -> String {
    let expected = whole_text_redaction(text, redact);
    for size in sizes {
        assert_eq!(
            stream_through_window(text, size, redact, block),
            Ok(expected.clone()),
            "delta size {size}: {text:?}"
        );
    }
    expected
}

/// `words` words before `text`, and 60 one-letter words after it.
fn amid_words(words: usize, text: &str) -> String {
    format!("{}{text} {}", "word ".repeat(words), "z ".repeat(60))
}

#[test]
fn a_window_redacts_as_the_whole_text_would_for_every_delta_size() {
    let expected = streams_as_the_whole_text(ANSWER, 1..=40, pii(), KindSet::EMPTY);
    assert!(expected.contains("[REDACTED:email]") && expected.contains("[REDACTED:iban]"));
}

#[test]
fn a_window_releases_text_before_the_end() {
    let mut window = Window::new(pii(), KindSet::EMPTY);
    let mut released = 0;
    for piece in pieces(ANSWER, 4) {
        if let Release::Text(t) = window.push(&piece) {
            released += t.len();
        }
    }
    // All but the held tail went out while the answer was still arriving.
    assert!(
        released > 0 && released + MAX_GROUPED >= ANSWER.len(),
        "released {released} of {}",
        ANSWER.len()
    );
}

/// What a window releases after each of `deltas`.
fn releases(redact: KindSet, deltas: &[&str]) -> Vec<String> {
    let mut window = Window::new(redact, KindSet::EMPTY);
    deltas
        .iter()
        .map(|delta| match window.push(delta) {
            Release::Text(text) => text,
            Release::Blocked(kind) => panic!("{kind:?} blocked, nothing is"),
        })
        .collect()
}

#[test]
fn a_window_releases_each_word_once_the_next_begins() {
    let kinds = pii().union(secrets());
    assert_eq!(
        releases(kinds, &["The", " answer", " is", " yes", ".", " Then"]),
        ["", "The ", "answer ", "is ", "", "yes. "]
    );
    // Non-Latin scripts without spaces are one token until one comes.
    assert_eq!(
        releases(kinds, &["東京", "は", " 晴れ", "。"]),
        ["", "", "東京は ", ""]
    );
}

#[test]
fn a_window_holds_only_the_groups_a_number_could_still_join() {
    let kinds = pii().union(secrets());
    // Digit groups may be one phone or card number: held until a word ends the run.
    assert_eq!(
        releases(
            kinds,
            &["Call", " +1", " 415", " 555", " 0132", " today", " please"]
        ),
        ["", "Call ", "", "", "", "[REDACTED:phone] ", "today "]
    );
    // Short upper-case groups may be part of an IBAN; a lower-case word is not.
    assert_eq!(
        releases(
            kinds,
            &["Pay", " GB82", " WEST", " 1234", " 5698", " 7654", " 32", " now", "."]
        ),
        ["", "Pay ", "", "", "", "", "", "[REDACTED:iban] ", ""]
    );
    assert_eq!(
        releases(kinds, &["We", " sold", " 12", " more", " units"]),
        ["", "We ", "sold ", "12 ", "more "]
    );
}

#[test]
fn a_window_holds_a_key_split_across_deltas_and_blocks_it() {
    let text = format!(
        "{} Here is the key you asked for: {KEY} and that is all.",
        "Some words. ".repeat(20)
    );
    for size in [1, 3, 7, 16, 64] {
        let mut window = Window::new(KindSet::EMPTY, secrets());
        let mut sent = String::new();
        let mut blocked = None;
        for piece in pieces(&text, size) {
            match window.push(&piece) {
                Release::Text(t) => sent.push_str(&t),
                Release::Blocked(kind) => {
                    blocked = Some(kind);
                    break;
                }
            }
        }
        // The key is blocked once the text after it settles it, here at the end.
        if blocked.is_none() {
            match window.finish() {
                Release::Text(t) => sent.push_str(&t),
                Release::Blocked(kind) => blocked = Some(kind),
            }
        }
        assert_eq!(blocked, Some(Kind::OpenaiKey), "delta size {size}");
        assert!(
            !sent.contains("sk-"),
            "no part of the key went out (delta size {size}): {sent}"
        );
    }
}

#[test]
fn a_window_holds_a_private_key_block_until_it_ends() {
    let block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n\
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----";
    let text = format!("The key file reads:\n{block}\nKeep it safe, and rotate it soon please.");
    let expected = streams_as_the_whole_text(&text, [1, 5, 13, 50], secrets(), KindSet::EMPTY);
    assert!(expected.contains("[REDACTED:private_key]"), "{expected}");
}

#[test]
fn a_window_over_a_long_clean_answer_does_linear_work() {
    let text = "The weather was fine and the meeting ran long. ".repeat(2000);
    let before = detect::work_counter();
    let out = stream_through_window(&text, 3, pii().union(secrets()), KindSet::EMPTY).unwrap();
    let work = detect::work_counter() - before;
    assert_eq!(out, text);
    // Debug builds count work; each byte is scanned a few times, never once per delta.
    if cfg!(debug_assertions) {
        assert!(
            work < 40 * text.len() as u64,
            "work {work} for {} bytes",
            text.len()
        );
    }
}

#[test]
fn a_window_reads_through_invisible_characters_between_digit_groups() {
    // The detectors read `+1 415 555 555 0132` through the zero-width no-break spaces, so
    // the window must not send `+1 ` on its own while they arrive.
    let text = format!(
        "打\u{3000}+1 {}415 555 555 0132\u{3000}谢谢。",
        "\u{FEFF}".repeat(80)
    );
    let expected = streams_as_the_whole_text(&text, 1..=12, pii(), KindSet::EMPTY);
    assert!(expected.contains("[REDACTED:phone]"), "{expected}");
}

/// `text` has a hex secret whose name the window must hold for it: streamed in pieces of
/// 1 to 12 characters, it is redacted as in the whole text.
fn streams_a_hex_secret_whole(text: &str) {
    let kinds = pii().union(secrets());
    let expected = streams_as_the_whole_text(text, 1..=12, kinds, KindSet::EMPTY);
    assert!(expected.contains("[REDACTED:high_entropy]"), "{expected}");
}

#[test]
fn a_window_keeps_the_name_of_a_hex_secret_broken_by_invisible_characters() {
    // The detectors read the hex string whole through the zero-width no-break spaces,
    // and it is a secret only after its name: the window must hold the name for it.
    let text = format!(
        "Here is the configuration you asked for. The api key is 094a3c5e8f1b2d7c9e0a4b6c8d{}1e3f5a7b9c0d2e and that is all.",
        "\u{FEFF}".repeat(4)
    );
    streams_a_hex_secret_whole(&text);
}

#[test]
fn a_window_measures_a_hex_secret_name_in_what_the_detectors_read() {
    // Invisible characters between the name and the hex string vanish for the detectors,
    // so the name is nearer than its bytes say: the window holds it all the same.
    let text = format!(
        "The api key is 094a3c{}%5e8f1b2d7c9e0a4b7c8d1e3f5a7b9c0d2e and the card is on file.",
        "\u{FEFF}".repeat(7)
    );
    streams_a_hex_secret_whole(&text);
}

#[test]
fn a_window_keeps_a_hex_secrets_name_with_it() {
    let hex = "094a3c5e8f1b2d7c9e0a4b6c8d1e3f5a7b9c0d2e";
    // The hex string starts with 100 digits: until its letters arrive it is no secret.
    let late = format!("{}abcdef", "1".repeat(100));
    for secret in [hex, late.as_str()] {
        for filler in 0..60 {
            let text = format!(
                "{}the api key is {secret} and nothing else.",
                "word ".repeat(filler)
            );
            let expected = streams_as_the_whole_text(&text, [1, 7, 40], secrets(), KindSet::EMPTY);
            assert!(expected.contains("[REDACTED:high_entropy]"), "{expected}");
        }
    }
}

#[test]
fn a_window_reads_a_number_in_spaced_groups_whole() {
    // No SSN in the whole text (the groups make one longer number), nor when streamed.
    for filler in 0..40 {
        let text = amid_words(filler, "ref 2024 078-05-1120 ok.");
        assert_eq!(
            streams_as_the_whole_text(&text, [1, 5, 30], pii(), KindSet::EMPTY),
            text
        );
    }
}

#[test]
fn a_window_blocks_only_on_findings_the_rest_cannot_change() {
    // While its last group arrives, `044 0532 0999` is a phone; the whole number is not.
    for filler in 0..30 {
        let text = amid_words(filler, "ref 044 0532 099999999999 ok.");
        assert_eq!(whole_text_redaction(&text, pii()), text);
        streams_as_the_whole_text(&text, 1..=12, KindSet::EMPTY, pii());
    }
}

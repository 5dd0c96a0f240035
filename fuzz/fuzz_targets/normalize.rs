//! `detect::normalize` on arbitrary text, checked against what its module documentation
//! promises (crates/engine/src/detect/normalize.rs):
//!
//! * invisible characters are dropped: no zero-width, bidi control, soft hyphen, variation
//!   selector or Unicode tag character survives, and removing them from the input first
//!   changes nothing. (Combining marks U+0300–U+036F are dropped from the input, but the
//!   lowercasing step can produce one: `İ` lowercases to `i` + U+0307. So they are not
//!   checked in the output.)
//! * whitespace is collapsed: the only whitespace left is a single ' ' or '\n' between two
//!   other characters, never at either end;
//! * the output is lowercase ASCII wherever it is ASCII.
//!
//! Idempotence is not promised (see `İ` above), so it is not checked.

#![no_main]

use gateway_engine::detect::normalize::{is_invisible, normalize};
use libfuzzer_sys::fuzz_target;

/// The characters the output can never hold: every `is_invisible` character except the
/// combining diacritical marks (which lowercasing may create), and the Unicode tags that
/// shadow ASCII (U+E0020–U+E007E, revealed as the ASCII they shadow).
fn never_in_output(c: char) -> bool {
    is_invisible(c) && !('\u{0300}'..='\u{036F}').contains(&c)
        || ('\u{E0020}'..='\u{E007E}').contains(&c)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = normalize(&text);

    for c in out.chars() {
        assert!(
            !never_in_output(c),
            "{c:?} survived normalize({text:?}) = {out:?}"
        );
        assert!(
            !c.is_ascii_uppercase(),
            "{c:?} in normalize({text:?}) = {out:?}"
        );
        if c.is_whitespace() {
            assert!(
                c == ' ' || c == '\n',
                "{c:?} in normalize({text:?}) = {out:?}"
            );
        }
    }
    assert!(
        !out.starts_with(char::is_whitespace) && !out.ends_with(char::is_whitespace),
        "normalize({text:?}) = {out:?} has leading or trailing whitespace"
    );
    let mut previous_space = false;
    for c in out.chars() {
        let space = c.is_whitespace();
        assert!(
            !(space && previous_space),
            "normalize({text:?}) = {out:?} has a whitespace run"
        );
        previous_space = space;
    }

    // Invisible characters are dropped wherever they are.
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    assert_eq!(
        normalize(&visible),
        out,
        "invisible characters changed the output of normalize({text:?})"
    );
    // Deterministic.
    assert_eq!(normalize(&text), out);
});

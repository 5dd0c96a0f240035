//! `normalize`: invisible characters removed, confusables and case folded, whitespace
//! collapsed, before the injection detector reads a text.

use gateway_engine::detect::normalize;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn normalize_removes_invisible_characters() {
    assert_eq!(normalize("ig\u{200B}no\u{00AD}re"), "ignore");
    assert_eq!(
        normalize("i\u{200D}g\u{2060}n\u{FEFF}o\u{202E}r\u{2066}e\u{061C}"),
        "ignore"
    );
    // A combining dot above does not split the word either.
    assert_eq!(normalize("i\u{0307}gnore"), "ignore");
}

#[test]
fn normalize_folds_confusables_and_case() {
    assert_eq!(
        normalize("ＩＧＮＯＲＥ ｐｒｅｖｉｏｕｓ"),
        "ignore previous"
    );
    assert_eq!(normalize("𝐢𝐠𝐧𝐨𝐫𝐞"), "ignore");
    assert_eq!(
        normalize("𝑰𝒈𝒏𝒐𝒓𝒆 𝕡𝕣𝕖𝕧𝕚𝕠𝕦𝕤 𝚒𝚗𝚜𝚝𝚛𝚞𝚌𝚝𝚒𝚘𝚗𝚜"),
        "ignore previous instructions"
    );
    assert_eq!(normalize("𝟏𝟐𝟑 𝟶𝟿"), "123 09");
    // Italic small h lives in the letterlike block, not in the mathematical one.
    assert_eq!(normalize("𝑡ℎ𝑒"), "the");
    // Cyrillic і, о, е and Greek ο, ε, ι, ν, τ, ρ.
    assert_eq!(normalize("іgnоrе"), "ignore");
    assert_eq!(normalize("ιgnοrε"), "ignore");
    assert_eq!(normalize("ΙGΝΟRΕ"), "ignore");
    assert_eq!(normalize("ѕуѕтем"), "system");
    // Enclosed letters, regional indicators, small capitals, Latin-1 accents.
    assert_eq!(normalize("ⓘⓖⓝⓞⓡⓔ"), "ignore");
    assert_eq!(normalize("🇮🇬🇳🇴🇷🇪"), "ignore");
    assert_eq!(normalize("ɪɢɴᴏʀᴇ"), "ignore");
    assert_eq!(normalize("ÏGNÖRÉ"), "ignore");
    // Invisible Unicode tags reveal the ASCII they smuggle.
    let smuggled: String = "hi"
        .chars()
        .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
        .collect();
    assert_eq!(normalize(&smuggled), "hi");
    // Typographic apostrophes and dashes.
    assert_eq!(normalize("don’t — x"), "don't - x");
}

#[test]
fn normalize_collapses_whitespace_keeping_line_breaks() {
    assert_eq!(normalize("  a \t b\u{3000}c  "), "a b c");
    assert_eq!(normalize("a \n\n  b\r\nc"), "a\nb\nc");
    assert_eq!(normalize(""), "");
    // Scripts without look-alikes pass through, lowercased.
    assert_eq!(normalize("Привет 日本語 Straße"), "пpиbet 日本語 straße");
}

//! `injection::scan` on arbitrary text, checked against the scoring rules of its module
//! documentation (crates/engine/src/detect/injection.rs): a matched family contributes its weight
//! plus 10 per further distinct signal (at most +20), the sum capped at 100.
//!
//! * the score is at most 100, and 0 exactly when nothing matched (no family, no signal);
//! * the score lies between the matched families' weights summed (capped at 100) and that
//!   sum plus the largest bonus each family can add (capped at 100);
//! * families come sorted by name without duplicates;
//! * `scan_text` reports the same score and families; merging a result into itself
//!   changes nothing; the scan is deterministic.

#![no_main]

use gateway_engine::detect::injection::{self, EXTRA_SIGNAL_BONUS, MAX_EXTRA_SIGNALS};
use gateway_engine::detect::scan_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let found = injection::scan(&text);
    let score = found.score();
    let families = found.families();
    let names = found.family_names();

    assert!(score <= 100, "score {score} for {text:?}");
    assert_eq!(
        score == 0,
        families.is_empty(),
        "{text:?}: score {score}, {names:?}"
    );
    assert_eq!(found.is_empty(), families.is_empty(), "{text:?}");
    assert_eq!(
        found.signal_names().is_empty(),
        families.is_empty(),
        "{text:?}"
    );
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "families not sorted: {names:?}"
    );
    assert_eq!(
        names,
        families.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "family_names disagrees with families"
    );

    // The pattern families' score; the learned model's contribution is checked by the
    // `injection_model` target, and the score is the larger of the two.
    assert_eq!(score, found.pattern_score().max(found.learned_score()));
    let patterns: Vec<_> = families
        .iter()
        .filter(|f| **f != injection::Family::Learned)
        .collect();
    let weights: u32 = patterns.iter().map(|f| u32::from(f.weight())).sum();
    let bonus = u32::try_from(patterns.len()).unwrap_or(u32::MAX)
        * MAX_EXTRA_SIGNALS
        * u32::from(EXTRA_SIGNAL_BONUS);
    let score = u32::from(found.pattern_score());
    assert!(
        score >= weights.min(100) && score <= (weights + bonus).min(100),
        "{text:?}: score {score} outside [{}, {}] for {names:?} ({:?})",
        weights.min(100),
        (weights + bonus).min(100),
        found.signal_names()
    );

    let detections = scan_text(&text);
    assert_eq!(
        detections.injection_score,
        found.score(),
        "scan_text disagrees"
    );
    assert_eq!(detections.injection_families, names, "scan_text disagrees");
    let mut merged = found;
    merged.merge(&found);
    assert_eq!(merged, found, "merge is not idempotent");
    assert_eq!(injection::scan(&text), found, "not deterministic");
});

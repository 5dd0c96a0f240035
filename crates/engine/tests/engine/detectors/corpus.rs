//! The labelled corpus in `tests/corpus/`: injection recall and false positives, and the
//! PII and secret kinds of each text, held to bounds just under the measured figures.

use super::CORPUS;
use gateway_engine::detect::scan_text;
use serde_json::Value;
use std::collections::BTreeMap;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The injection score from which a corpus text counts as flagged.
const FLAG_AT: u8 = 45;

#[derive(Default)]
struct Tally {
    expected: usize,
    found: usize,
    extra: usize,
}

#[test]
fn corpus_recall_and_false_positives() {
    let (mut attacks, mut caught, mut benign, mut flagged) = (0usize, 0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    let mut pii = Tally::default();
    let mut secret = Tally::default();
    let mut kind_errors = Vec::new();
    let mut lines = 0usize;
    // Per corpus set: attacks, caught, benign, flagged.
    let mut sets: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for (n, line) in CORPUS.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let text = entry["text"].as_str().unwrap();
        let labels = &entry["labels"];
        let found = scan_text(text);
        let set = sets
            .entry(entry["set"].as_str().unwrap_or("dev").to_owned())
            .or_default();
        let hit = found.injection_score >= FLAG_AT;
        if labels["injection"].as_bool().unwrap() {
            attacks += 1;
            set[0] += 1;
            set[1] += usize::from(hit);
            if hit {
                caught += 1;
            } else {
                misses.push(format!("{} ({}): {text}", n + 1, found.injection_score));
            }
        } else {
            benign += 1;
            set[2] += 1;
            set[3] += usize::from(hit);
            if hit {
                flagged += 1;
                false_alarms.push(format!(
                    "{} ({:?}): {text}",
                    n + 1,
                    found.injection_families
                ));
            }
        }
        for (field, kinds, tally) in [
            ("pii", found.pii_kinds(), &mut pii),
            ("secrets", found.secret_kinds(), &mut secret),
        ] {
            let want: Vec<&str> = labels[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            tally.expected += want.len();
            tally.found += want.iter().filter(|k| kinds.contains(k)).count();
            tally.extra += kinds.iter().filter(|k| !want.contains(k)).count();
            if want.iter().any(|k| !kinds.contains(k)) || kinds.iter().any(|k| !want.contains(k)) {
                kind_errors.push(format!("{}: {field} want {want:?} got {kinds:?}", n + 1));
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!("corpus: {lines} texts");
    println!(
        "injection (score >= {FLAG_AT}): recall {caught}/{attacks} = {:.1}%, false positives {flagged}/{benign} = {:.1}%",
        pct(caught, attacks),
        pct(flagged, benign)
    );
    println!(
        "pii kinds: recall {}/{} = {:.1}%, unexpected kinds {}",
        pii.found,
        pii.expected,
        pct(pii.found, pii.expected),
        pii.extra
    );
    println!(
        "secret kinds: recall {}/{} = {:.1}%, unexpected kinds {}",
        secret.found,
        secret.expected,
        pct(secret.found, secret.expected),
        secret.extra
    );
    for (name, [a, c, b, f]) in &sets {
        println!("  set {name}: recall {c}/{a}, false positives {f}/{b}");
    }
    for m in &misses {
        println!("missed injection: {m}");
    }
    for m in &false_alarms {
        println!("false alarm: {m}");
    }
    for m in &kind_errors {
        println!("kind mismatch: {m}");
    }
    assert!(lines >= 150, "corpus has {lines} texts");
    assert!(attacks >= 40 && benign >= 60);
    // Bounds just under the measured figures (recall 78/84, false positives 0/196, PII
    // 52/52, secrets 32/32): a change that loses ground fails here.
    assert!(pct(caught, attacks) >= 92.0, "injection recall");
    assert!(flagged <= 1, "injection false positives");
    assert!(pct(pii.found, pii.expected) >= 97.0, "pii recall");
    assert!(pii.extra <= 1, "unexpected pii kinds");
    assert!(pct(secret.found, secret.expected) >= 97.0, "secret recall");
    assert!(secret.extra <= 1, "unexpected secret kinds");
}

//! The content detectors (`engine::detect`): normalisation, injection scoring, PII and
//! secrets with spans into the original text, redaction, whole-call aggregation, the
//! labelled corpus in `tests/corpus/`, and robustness on hostile input (no panics, work
//! growing linearly with the input).

mod corpus;
mod fast_paths;
mod injection;
mod kind_eval;
mod normalisation;
mod pii;
mod pii_eval;
mod redaction;
mod robustness;
mod secrets;
mod secrets_eval;

use crate::support::matched;
use gateway_engine::detect;

/// The labelled corpus: one JSON object a line, with its text and expected labels.
const CORPUS: &str = include_str!("../../../../../tests/corpus/detectors.jsonl");

/// (kind, matched text) of every PII finding of the byte scanner.
fn pii_in(text: &str) -> Vec<(&'static str, &str)> {
    matched(text, &detect::pii::find(text))
}

/// (kind, matched text) of every secret finding of the byte scanner.
fn secrets_in(text: &str) -> Vec<(&'static str, &str)> {
    matched(text, &detect::secrets::find(text))
}

fn families(text: &str) -> Vec<&'static str> {
    detect::injection::scan(text).family_names()
}

fn score(text: &str) -> u8 {
    detect::injection::scan(text).score()
}

fn assert_family(text: &str, family: &str) {
    let found = detect::injection::scan(text);
    assert!(
        found.family_names().contains(&family),
        "{text:?} should match {family}, matched {:?} ({:?})",
        found.family_names(),
        found.signal_names()
    );
}

fn assert_clean(text: &str) {
    let found = detect::injection::scan(text);
    assert!(
        found.is_empty(),
        "{text:?} should not match, matched {:?}",
        found.signal_names()
    );
}

//! The injection detector's learned model (crates/engine/src/detect/injection_model.rs)
//! on arbitrary text, and on arbitrary model files:
//!
//! * feature extraction emits buckets below `BUCKETS`, at most a bounded number per text
//!   (the model reads at most `HEAD_BYTES + TAIL_BYTES` bytes), deterministically;
//! * the logit is finite and the contribution is 0 or 45–90, monotone in the logit;
//! * `scan` reports `learned` exactly when the contribution is non-zero;
//! * any byte string given to `Model::parse` is rejected or scores without panicking.

#![no_main]

use gateway_engine::detect::injection::model::{
    for_each_feature, model, Model, BUCKETS, HEADER_LEN, HEAD_BYTES, TAIL_BYTES,
};
use gateway_engine::detect::injection::{self, Family};
use gateway_engine::detect::normalize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let normalized = normalize(&text);

    let mut buckets = Vec::new();
    for_each_feature(&normalized, |b| buckets.push(b));
    assert!(buckets.iter().all(|&b| b < BUCKETS));
    // At most a few features per byte read (a word, a bigram, a 4-gram per character, a
    // header; a punctuation run and its line-start twin), plus the tail's boundary.
    assert!(
        buckets.len() <= 4 * (HEAD_BYTES + TAIL_BYTES) + 8,
        "{} features",
        buckets.len()
    );
    let mut again = Vec::new();
    for_each_feature(&normalized, |b| again.push(b));
    assert_eq!(buckets, again, "features not deterministic");

    let m = model().expect("the embedded model parses");
    let z = m.logit(&normalized);
    assert!(z.is_finite(), "logit {z}");
    let c = m.contribution(z);
    assert!(c == 0 || (45..=90).contains(&c), "contribution {c}");
    assert!(m.contribution(z + 1.0) >= c, "not monotone");

    let found = injection::scan(&text);
    assert!(found.learned_score() == 0 || found.learned_score() == c);
    assert_eq!(
        found.families().contains(&Family::Learned),
        found.learned_score() > 0
    );
    assert_eq!(
        found.score(),
        found.pattern_score().max(found.learned_score())
    );

    // The input as a model file: a header grafted onto the data, weights padded.
    let mut file = data.to_vec();
    file.resize(HEADER_LEN + BUCKETS, 0);
    if let Ok(other) = Model::parse(&file) {
        let c = other.score(&normalized);
        assert!(c == 0 || (45..=90).contains(&c));
    }
    let _ = Model::parse(data);
});

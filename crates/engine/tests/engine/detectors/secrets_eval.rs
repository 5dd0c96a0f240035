//! Credentials and public material from sources the secret detector was not developed
//! against (`tests/corpus/secrets_eval.jsonl`, built by
//! `scripts/corpus/build_secrets_eval.py` from certifi, cryptography-vectors, paramiko,
//! PyJWT, python-jose and jwcrypto, this repository's lockfiles and history, and seeded
//! generators that follow the providers' published key formats): recall and false
//! positives per kind.
//!
//! Run `cargo test -p gateway-engine --test engine secrets_eval -- --nocapture` for the
//! table (`SECRETS_EVAL_ALL=1` lists every miss and false alarm).
//!
//! How held out it is: the detector was written against the providers' formats and a
//! handful of hand-made samples (`secrets.rs` here and the detector's unit tests). The
//! first run on this file (1,862 rows, 1,066 of public material) found every
//! `openai_key`, `anthropic_key`, `aws_access_key`, `google_api_key`, `jwt`,
//! `private_key` and `high_entropy` positive, but 65/80 `github_token` (none of the 15
//! App installation tokens `ghs_<app id>_<JWT>`), 52/84 `slack_token` (no `xapp-` app
//! token nor `xoxe-` refresh token), and `high_entropy` false positives on 117/1,782 rows
//! not labelled with it = 6.57 % (55/1,066 = 5.16 % of the public material flagged, all
//! wheel RECORD lines: the unpadded `sha256=` digest or the file's path; the other 62
//! were the missed GitHub and Slack tokens, and the `private_key_id` hex of the
//! service-account JSON rows). No other kind had a false positive. Those faults were fixed
//! in general terms (see `secrets.rs`), so the figures are development figures too
//! since: 100 % recall for every kind and no false positive.

use super::kind_eval::{heldout_rows, pct, shown, Evaluation};
use gateway_engine::detect::{scan_text, Kind};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const EVAL: &str = include_str!("../../../../../tests/corpus/secrets_eval.jsonl");

/// Shortens a row for the report: long PEM blocks are cut in the middle.
fn short(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 240 {
        return text.replace('\n', "⏎");
    }
    let head: String = chars[..150].iter().collect();
    let tail: String = chars[chars.len() - 60..].iter().collect();
    format!("{head} … {tail}").replace('\n', "⏎")
}

#[test]
fn credentials_and_public_material_from_third_party_sources() {
    let rows = heldout_rows(EVAL);
    let mut evaluation = Evaluation::new(Kind::ALL.into_iter().filter(|k| k.is_secret()));
    let (mut negatives, mut flagged) = (0usize, Vec::new());
    for row in &rows {
        let got = scan_text(&row.text).secret_kinds();
        let describe = || format!("[{}] {}", row.source, short(&row.text));
        if row.want.is_empty() {
            negatives += 1;
            if !got.is_empty() {
                flagged.push(format!(
                    "{}: {:?} {}",
                    row.line,
                    super::secrets_in(&row.text),
                    describe()
                ));
            }
        }
        evaluation.add(row, &got, describe);
    }
    println!(
        "secrets_eval: {} held-out rows, {negatives} of public material",
        rows.len()
    );
    let shown = shown("SECRETS_EVAL_ALL", 10);
    let mut failures = evaluation.report(60, shown);
    println!(
        "public material flagged as any secret: {}/{negatives} = {:.2}%",
        flagged.len(),
        pct(flagged.len(), negatives)
    );
    for m in flagged.iter().take(shown) {
        println!("flagged public material: {m}");
    }
    if negatives < 600 {
        failures.push(format!("only {negatives} rows of public material"));
    }
    if pct(flagged.len(), negatives) > 1.0 {
        failures.push(format!(
            "public material flagged: {}/{negatives}",
            flagged.len()
        ));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

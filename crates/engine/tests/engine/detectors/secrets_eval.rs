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

use gateway_engine::detect::scan_text;
use serde_json::Value;
use std::collections::BTreeMap;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const EVAL: &str = include_str!("../../../../../tests/corpus/secrets_eval.jsonl");

/// Every secret kind the detector reports.
const KINDS: [&str; 9] = [
    "openai_key",
    "anthropic_key",
    "aws_access_key",
    "github_token",
    "slack_token",
    "google_api_key",
    "jwt",
    "private_key",
    "high_entropy",
];

#[derive(Default)]
struct Tally {
    positives: usize,
    found: usize,
    others: usize,
    false_positives: usize,
    misses: Vec<String>,
    false_alarms: Vec<String>,
}

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
    let mut tallies: BTreeMap<&str, Tally> = KINDS.iter().map(|k| (*k, Tally::default())).collect();
    let (mut rows, mut negatives, mut flagged) = (0usize, 0usize, Vec::new());
    for (n, line) in EVAL.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        if row["split"] != "heldout" {
            continue;
        }
        rows += 1;
        let text = row["text"].as_str().unwrap();
        let source = row["source"].as_str().unwrap_or_default();
        let want: Vec<&str> = row["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let got = scan_text(text).secret_kinds();
        if want.is_empty() {
            negatives += 1;
            if !got.is_empty() {
                flagged.push(format!(
                    "{}: {:?} [{source}] {}",
                    n + 1,
                    super::secrets_in(text),
                    short(text)
                ));
            }
        }
        for (kind, tally) in tallies.iter_mut() {
            let found = got.contains(kind);
            if want.contains(kind) {
                tally.positives += 1;
                tally.found += usize::from(found);
                if !found {
                    tally
                        .misses
                        .push(format!("{}: {got:?} [{source}] {}", n + 1, short(text)));
                }
            } else {
                tally.others += 1;
                if found {
                    tally.false_positives += 1;
                    tally.false_alarms.push(format!(
                        "{}: want {want:?} [{source}] {}",
                        n + 1,
                        short(text)
                    ));
                }
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!("secrets_eval: {rows} held-out rows, {negatives} of public material");
    println!("| kind | recall | false positives |");
    println!("| --- | --- | --- |");
    for (kind, t) in &tallies {
        println!(
            "| `{kind}` | {}/{} = {:.1}% | {}/{} = {:.2}% |",
            t.found,
            t.positives,
            pct(t.found, t.positives),
            t.false_positives,
            t.others,
            pct(t.false_positives, t.others)
        );
    }
    println!(
        "| public material flagged as any secret | | {}/{negatives} = {:.2}% |",
        flagged.len(),
        pct(flagged.len(), negatives)
    );
    let shown = if std::env::var_os("SECRETS_EVAL_ALL").is_some() {
        usize::MAX
    } else {
        10
    };
    let mut failures = Vec::new();
    for (kind, t) in &tallies {
        for m in t.misses.iter().take(shown) {
            println!("missed {kind}: {m}");
        }
        for m in t.false_alarms.iter().take(shown) {
            println!("false {kind}: {m}");
        }
        if t.positives < 60 {
            failures.push(format!("{kind}: only {} positives", t.positives));
        }
        if pct(t.found, t.positives) < 95.0 {
            failures.push(format!("{kind}: recall {}/{}", t.found, t.positives));
        }
        if pct(t.false_positives, t.others) > 1.0 {
            failures.push(format!(
                "{kind}: false positives {}/{}",
                t.false_positives, t.others
            ));
        }
    }
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

//! Per-kind recall and false positives over an evaluation set of `tests/corpus/`
//! (`{"text", "kinds", "source", "split"}` a line): what `pii_eval` and `secrets_eval`
//! share.

use gateway_engine::detect::Kind;
use serde_json::Value;
use std::collections::BTreeMap;

/// One held-out row.
pub struct Row {
    pub line: usize,
    pub text: String,
    pub source: String,
    pub want: Vec<String>,
}

/// The held-out rows of a JSON-lines evaluation set.
pub fn heldout_rows(eval: &str) -> Vec<Row> {
    eval.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let row: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            (n, row)
        })
        .filter(|(_, row)| row["split"] == "heldout")
        .map(|(n, row)| Row {
            line: n + 1,
            text: row["text"].as_str().unwrap().to_owned(),
            source: row["source"].as_str().unwrap_or_default().to_owned(),
            want: row["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    positives: usize,
    found: usize,
    others: usize,
    false_positives: usize,
    misses: Vec<String>,
    false_alarms: Vec<String>,
}

/// The tallies of each kind over the rows added.
pub struct Evaluation {
    tallies: BTreeMap<&'static str, Tally>,
}

pub fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

impl Evaluation {
    pub fn new(kinds: impl IntoIterator<Item = Kind>) -> Self {
        Evaluation {
            tallies: kinds
                .into_iter()
                .map(|k| (k.name(), Tally::default()))
                .collect(),
        }
    }

    /// Counts one row: `got` are the kinds the detector reported, `describe` says what a
    /// miss or false alarm was for the listing.
    pub fn add(&mut self, row: &Row, got: &[&str], describe: impl Fn() -> String) {
        for (kind, tally) in self.tallies.iter_mut() {
            let found = got.contains(kind);
            if row.want.iter().any(|w| w == kind) {
                tally.positives += 1;
                tally.found += usize::from(found);
                if !found {
                    tally
                        .misses
                        .push(format!("{}: {got:?} {}", row.line, describe()));
                }
            } else {
                tally.others += 1;
                if found {
                    tally.false_positives += 1;
                    tally.false_alarms.push(format!(
                        "{}: want {:?} {}",
                        row.line,
                        row.want,
                        describe()
                    ));
                }
            }
        }
    }

    /// Prints the per-kind table and up to `shown` misses and false alarms of each kind,
    /// and returns what fails the bar: fewer than `min_positives` positives, recall
    /// under 95 %, false positives over 1 %.
    pub fn report(&self, min_positives: usize, shown: usize) -> Vec<String> {
        println!("| kind | recall | false positives |");
        println!("| --- | --- | --- |");
        for (kind, t) in &self.tallies {
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
        let mut failures = Vec::new();
        for (kind, t) in &self.tallies {
            for m in t.misses.iter().take(shown) {
                println!("missed {kind}: {m}");
            }
            for m in t.false_alarms.iter().take(shown) {
                println!("false {kind}: {m}");
            }
            if t.positives < min_positives {
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
        failures
    }
}

/// How many misses and false alarms of each kind to list: all when `var` is set.
pub fn shown(var: &str, default: usize) -> usize {
    if std::env::var_os(var).is_some() {
        usize::MAX
    } else {
        default
    }
}

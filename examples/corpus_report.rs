//! Measures the content detectors against the labelled corpus and the token estimator
//! against OpenAI's tokenizers, and prints the figures as Markdown.
//!
//! ```text
//! cargo run --release --example corpus_report            # print the report
//! cargo run --release --example corpus_report -- --write # write DETECTORS.md
//! ```
//!
//! * Detectors: every text of `tests/corpus/detectors.jsonl` goes through
//!   `gateway_engine::detect::scan_text`. Injection is counted at the thresholds the
//!   governance policies use (`policies/governance.cedar`: 60 for untrusted callers, 90 for
//!   everyone) and at the documented "suspicious" threshold 45 (the one
//!   `crates/engine/tests/engine/detectors.rs` checks). PII and secrets are counted per
//!   kind, at the text level: a text labelled with a kind is a positive for that kind, and
//!   the detector hits when it reports that kind anywhere in the text (the policies see
//!   kinds, not spans).
//! * Tokens: every text of `tests/corpus/tokens.jsonl` goes through
//!   `gateway_engine::tokens::estimate` (what `LlmCall::estimated_input_tokens` adds up per
//!   text) and through tiktoken's `o200k_base` (GPT-4o, GPT-4.1, o-series) and `cl100k_base`
//!   (GPT-4, GPT-3.5) without special tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// tiktoken-rs is a native-only dev-dependency; on wasm32 (`wasm-pack test` builds the
// examples too) this example is empty.
#[cfg(not(target_arch = "wasm32"))]
mod report {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    use std::time::{SystemTime, UNIX_EPOCH};

    use gateway_engine::detect::{scan_text, Detections};
    use gateway_engine::tokens;
    use gateway_engine::{Endpoint, LlmCall};
    use serde_json::{json, Value};
    use tiktoken_rs::CoreBPE;

    const COMMAND: &str = "cargo run --release --example corpus_report -- --write";
    const DETECTOR_CORPUS: &str = "tests/corpus/detectors.jsonl";
    const TOKEN_CORPUS: &str = "tests/corpus/tokens.jsonl";
    const THIRD_PARTY_CORPUS: &str = "tests/corpus/third_party/injection.jsonl";
    const PII_EVAL: &str = "tests/corpus/pii_eval.jsonl";
    const SECRETS_EVAL: &str = "tests/corpus/secrets_eval.jsonl";
    /// The analysis of the figures, appended verbatim.
    const NOTES: &str = "tests/corpus/NOTES.md";

    /// Injection thresholds: the documented "suspicious" level, then the two forbids of
    /// `policies/governance.cedar`.
    const THRESHOLDS: [(u8, &str); 3] = [
        (
            45,
            "documented \"suspicious\" level (`crates/engine/tests/engine/detectors.rs`)",
        ),
        (
            60,
            "`injection-blocked-for-untrusted-callers` (support team, free tier)",
        ),
        (90, "`injection-blocked-for-everyone`"),
    ];

    const PII_KINDS: [&str; 6] = [
        "email",
        "phone",
        "credit_card",
        "iban",
        "national_id",
        "ip_address",
    ];

    const SECRET_KINDS: [&str; 9] = [
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

    pub fn main() {
        let write = std::env::args().skip(1).any(|a| a == "--write");
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |path: &str| {
            std::fs::read_to_string(format!("{root}/{path}"))
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        };
        let detector_corpus = parse_detector_corpus(&read(DETECTOR_CORPUS));
        let token_corpus = parse_token_corpus(&read(TOKEN_CORPUS));

        let third_party = parse_third_party(&read(THIRD_PARTY_CORPUS));
        let pii_eval = parse_kind_eval(&read(PII_EVAL), PII_EVAL, Detections::pii_kinds);
        let secrets_eval =
            parse_kind_eval(&read(SECRETS_EVAL), SECRETS_EVAL, Detections::secret_kinds);

        let mut out = String::new();
        header(&mut out, &detector_corpus, &token_corpus);
        targets(&mut out, &third_party, &pii_eval, &secrets_eval);
        held_out_injection(&mut out, &third_party);
        held_out_kinds(&mut out, PII_HEADING, &pii_eval);
        held_out_kinds(&mut out, SECRETS_HEADING, &secrets_eval);
        detectors(&mut out, &detector_corpus);
        token_estimator(&mut out, &token_corpus);
        let _ = writeln!(out, "---\n\n{}", read(NOTES).trim_end());

        if write {
            let path = format!("{root}/DETECTORS.md");
            std::fs::write(&path, &out).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
            eprintln!("wrote {path}");
        } else {
            print!("{out}");
        }
    }

    // ---------------------------------------------------------------------------------------
    // Corpora

    struct Labelled {
        line: usize,
        text: String,
        injection: bool,
        pii: Vec<String>,
        secrets: Vec<String>,
        set: String,
        found: Detections,
    }

    fn parse_detector_corpus(source: &str) -> Vec<Labelled> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect()
        };
        jsonl(source, DETECTOR_CORPUS)
            .map(|(line, entry)| {
                let text = entry["text"].as_str().unwrap().to_owned();
                let labels = &entry["labels"];
                Labelled {
                    line,
                    injection: labels["injection"].as_bool().unwrap(),
                    pii: strings(&labels["pii"]),
                    secrets: strings(&labels["secrets"]),
                    set: entry["set"].as_str().unwrap_or("dev").to_owned(),
                    found: scan_text(&text),
                    text,
                }
            })
            .collect()
    }

    /// A row of the third-party injection corpus (`tests/corpus/third_party/`).
    struct ThirdParty {
        injection: bool,
        source: String,
        family: String,
        lang: String,
        split: String,
        score: u8,
    }

    fn parse_third_party(source: &str) -> Vec<ThirdParty> {
        let field = |entry: &Value, name: &str| entry[name].as_str().unwrap().to_owned();
        jsonl(source, THIRD_PARTY_CORPUS)
            .map(|(_, entry)| ThirdParty {
                injection: entry["injection"].as_bool().unwrap(),
                source: field(&entry, "source"),
                family: field(&entry, "family"),
                lang: field(&entry, "lang"),
                split: field(&entry, "split"),
                score: scan_text(entry["text"].as_str().unwrap()).injection_score,
            })
            .collect()
    }

    /// A row of a per-kind evaluation set (PII or secrets): the kinds its source put in
    /// the text, and the kinds the detector reported.
    struct KindRow {
        kinds: Vec<String>,
        source: String,
        split: String,
        found: Vec<&'static str>,
    }

    fn parse_kind_eval(
        source: &str,
        path: &str,
        found: fn(&Detections) -> Vec<&'static str>,
    ) -> Vec<KindRow> {
        jsonl(source, path)
            .map(|(_, entry)| KindRow {
                kinds: entry["kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect(),
                source: entry["source"].as_str().unwrap().to_owned(),
                split: entry["split"].as_str().unwrap_or("heldout").to_owned(),
                found: found(&scan_text(entry["text"].as_str().unwrap())),
            })
            .collect()
    }

    struct TokenText {
        category: String,
        text: String,
    }

    fn parse_token_corpus(source: &str) -> Vec<TokenText> {
        jsonl(source, TOKEN_CORPUS)
            .map(|(_, entry)| TokenText {
                category: entry["category"].as_str().unwrap().to_owned(),
                text: entry["text"].as_str().unwrap().to_owned(),
            })
            .collect()
    }

    /// The non-blank lines of a JSON-lines corpus, parsed, with their 1-based numbers.
    fn jsonl<'a>(source: &'a str, name: &'a str) -> impl Iterator<Item = (usize, Value)> + 'a {
        source
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(move |(n, line)| {
                let entry =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
                (n + 1, entry)
            })
    }

    // ---------------------------------------------------------------------------------------
    // Header

    fn header(out: &mut String, labelled: &[Labelled], token_texts: &[TokenText]) {
        let attacks = labelled.iter().filter(|l| l.injection).count();
        let token_bytes: usize = token_texts.iter().map(|t| t.text.len()).sum();
        let _ = writeln!(out, "# Detector and token-estimator figures\n");
        let _ = writeln!(
            out,
            "Generated by `{COMMAND}` (`examples/corpus_report.rs`) on {}; rerun it after \
         changing a detector, the estimator or a corpus, and commit the result.\n",
            today()
        );
        let _ = writeln!(
            out,
            "* `{DETECTOR_CORPUS}`: {} labelled texts ({attacks} injection attempts, {} benign; \
         {} PII labels, {} secret labels). Its `README.md` describes the labels and the \
         `dev` / `blind` / `heldout` sets.",
            labelled.len(),
            labelled.len() - attacks,
            labelled.iter().map(|l| l.pii.len()).sum::<usize>(),
            labelled.iter().map(|l| l.secrets.len()).sum::<usize>(),
        );
        let _ = writeln!(
            out,
            "* `{TOKEN_CORPUS}`: {} texts, {token_bytes} bytes, in {} categories.\n",
            token_texts.len(),
            categories(token_texts).len()
        );
        let _ = writeln!(
            out,
            "The detector corpus is small and written by one person: its figures are a \
         regression floor, not an estimate of performance on real traffic. Most texts \
         (`dev`) were written together with the detectors; the `heldout` set is the most \
         honest row.\n"
        );
    }

    /// Today's UTC date, `YYYY-MM-DD`, from the system clock (days-to-civil conversion).
    fn today() -> String {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let z = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}")
    }

    // ---------------------------------------------------------------------------------------
    // Targets

    /// The issue's targets on held-out sources, each with the figure that decides it.
    fn targets(out: &mut String, injection: &[ThirdParty], pii: &[KindRow], secrets: &[KindRow]) {
        let _ = writeln!(out, "## Targets on held-out sources\n");
        let _ = writeln!(out, "| target | measured | met |\n| --- | --- | --- |");
        let heldout: Vec<&ThirdParty> = injection.iter().filter(|r| r.split == "heldout").collect();
        // The policy thresholds whose held-out false-positive rate is at most 1 %: the best
        // recall among them.
        let best = THRESHOLDS
            .iter()
            .map(|&(at, _)| {
                let mut counts = Counts::default();
                for row in &heldout {
                    counts.add(row.injection, row.score >= at);
                }
                (at, counts)
            })
            .filter(|(_, c)| c.false_alarms * 100 <= c.negatives)
            .max_by_key(|(_, c)| c.caught);
        let _ = match best {
            Some((at, c)) => writeln!(
                out,
                "| injection recall ≥ 80 % at a false-positive rate ≤ 1 % | {} at score ≥ {at} ({} false positives) | {} |",
                cell(c.caught, c.positives),
                cell(c.false_alarms, c.negatives),
                yes_no(c.caught * 100 >= 80 * c.positives)
            ),
            None => writeln!(out, "| injection recall ≥ 80 % at a false-positive rate ≤ 1 % | no threshold keeps false positives ≤ 1 % | no |"),
        };
        for (what, rows) in [("PII", pii), ("secret", secrets)] {
            let per_kind = per_kind(rows);
            let worst_recall = per_kind
                .iter()
                .min_by(|a, b| (a.1.caught * b.1.positives).cmp(&(b.1.caught * a.1.positives)));
            let worst_fp = per_kind.iter().max_by(|a, b| {
                (a.1.false_alarms * b.1.negatives).cmp(&(b.1.false_alarms * a.1.negatives))
            });
            if let (Some((rk, r)), Some((fk, f))) = (worst_recall, worst_fp) {
                let met = per_kind.iter().all(|(_, c)| {
                    c.caught * 100 >= 95 * c.positives && c.false_alarms * 100 <= c.negatives
                });
                let _ = writeln!(
                    out,
                    "| per-kind {what} recall ≥ 95 % with ≤ 1 % false positives ({} kinds) | lowest recall `{rk}` {}; most false positives `{fk}` {} | {} |",
                    per_kind.len(),
                    cell(r.caught, r.positives),
                    cell(f.false_alarms, f.negatives),
                    yes_no(met)
                );
            }
        }
        let _ = writeln!(
            out,
            "\nThe detectors' speed (≤ 15 µs on a 4 KiB prompt, natively) is measured by \
             `cargo bench --bench decision -- detectors_scan_text` and reported in \
             `BENCHMARKS.md`; the analysis at the end of this file says what limits each missed \
             target.\n"
        );
    }

    fn yes_no(met: bool) -> &'static str {
        if met {
            "yes"
        } else {
            "**no**"
        }
    }

    // ---------------------------------------------------------------------------------------
    // Held-out sources

    /// Injection figures per group of rows (a source, a family, a language), at each
    /// threshold: recall over the group's attacks, false alarms over its benign texts.
    fn injection_rows<'a>(
        out: &mut String,
        heading: &str,
        rows: &[&'a ThirdParty],
        key: impl Fn(&'a ThirdParty) -> &'a str,
    ) {
        let mut groups: BTreeMap<&str, Vec<&ThirdParty>> = BTreeMap::new();
        for row in rows {
            groups.entry(key(row)).or_default().push(row);
        }
        let _ = write!(out, "| {heading} | attacks | benign |");
        for (at, _) in THRESHOLDS {
            let _ = write!(out, " recall ≥ {at} | false alarms ≥ {at} |");
        }
        let _ = write!(out, "\n| --- | ---: | ---: |");
        for _ in THRESHOLDS {
            let _ = write!(out, " ---: | ---: |");
        }
        let _ = writeln!(out);
        for (name, group) in &groups {
            let attacks = group.iter().filter(|r| r.injection).count();
            let _ = write!(out, "| {name} | {attacks} | {} |", group.len() - attacks);
            for (at, _) in THRESHOLDS {
                let mut counts = Counts::default();
                for row in group {
                    counts.add(row.injection, row.score >= at);
                }
                let _ = write!(
                    out,
                    " {} | {} |",
                    cell(counts.caught, counts.positives),
                    cell(counts.false_alarms, counts.negatives)
                );
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out);
    }

    /// `a/b (p%)`, or `–` when there is nothing to count.
    fn cell(a: usize, b: usize) -> String {
        if b == 0 {
            "–".to_owned()
        } else {
            format!("{a}/{b} ({})", pct(a, b))
        }
    }

    fn held_out_injection(out: &mut String, rows: &[ThirdParty]) {
        let split =
            |name: &str| -> Vec<&ThirdParty> { rows.iter().filter(|r| r.split == name).collect() };
        let (tune, heldout) = (split("tune"), split("heldout"));
        let _ = writeln!(
            out,
            "## Prompt injection on third-party data, held out by source\n"
        );
        let _ = writeln!(
            out,
            "`{THIRD_PARTY_CORPUS}`: {} texts taken verbatim from public packages (sources, \
             licences and labelling in `tests/corpus/third_party/SOURCES.md`). Whole sources are \
             assigned to `tune` (the detectors may be developed against them) or `heldout` \
             (never looked at while developing; measured here only). The held-out rows are the \
             figures to quote. The learned model was trained on the tune rows, so their \
             figures are in-sample: they show how much of the detector is fitting, not how it \
             generalises.\n",
            rows.len()
        );
        for (title, part) in [("held-out sources", &heldout), ("tune sources", &tune)] {
            let _ = writeln!(out, "### All {title}\n");
            injection_rows(out, "split", part, |r| r.split.as_str());
        }
        let _ = writeln!(out, "### Held out, by source\n");
        injection_rows(out, "source", &heldout, |r| r.source.as_str());
        let _ = writeln!(out, "### Held out, by family (attacks) and kind (benign)\n");
        injection_rows(out, "family", &heldout, |r| r.family.as_str());
        let _ = writeln!(out, "### Held out, by language\n");
        injection_rows(out, "language", &heldout, |r| r.lang.as_str());
        let _ = writeln!(out, "### Tune sources, by source\n");
        injection_rows(out, "source", &tune, |r| r.source.as_str());
    }

    const PII_HEADING: &str = "## PII on generated data, held out by generator\n\n\
        `tests/corpus/pii_eval.jsonl`, from `scripts/corpus/build_pii_eval.py` (pinned \
        generators the detectors were not written against, each value in a short sentence; \
        negatives are same-length digit runs with a wrong check, order numbers, dates and \
        amounts). Per kind: recall over the texts holding that kind, false alarms over every \
        other text. The set is no longer blind: after its first measurement (national ids \
        1,284 of 1,440 found, the misses in `in_aadhaar`, `uk_nino`, `se_personnummer` and \
        `fr_nir`; phones 426 of 720 with the detector as it was before the per-country \
        formats) the detectors were corrected where it showed general faults, so these \
        figures are an upper bound for data of other origin.";

    const SECRETS_HEADING: &str = "## Secrets and public material, held out by source\n\n\
        `tests/corpus/secrets_eval.jsonl`, from `scripts/corpus/build_secrets_eval.py`: \
        private keys, certificates, public keys and SSH keys from `cryptography-vectors`, \
        `paramiko` and `certifi`, JWTs from PyJWT, python-jose and jwcrypto, lockfile, wheel \
        and pip integrity hashes, git SHAs and UUIDs, in short developer snippets; provider \
        keys no reachable package ships are generated to the providers' published formats \
        (each row names its source and licence). Per kind as for PII; every negative is public \
        material. Not blind either: its first measurement (GitHub App installation tokens \
        and Slack `xapp-`/`xoxe-` tokens missed, 55 of 1,066 public-material texts flagged \
        `high_entropy`, all wheel RECORD digests and paths) led to the fixes now in \
        `secrets.rs`.";

    /// Each kind of an evaluation set's held-out rows, with its confusion counts.
    fn per_kind(rows: &[KindRow]) -> Vec<(&str, Counts)> {
        let heldout: Vec<&KindRow> = rows.iter().filter(|r| r.split == "heldout").collect();
        let mut kinds: Vec<&str> = heldout
            .iter()
            .flat_map(|r| r.kinds.iter().map(String::as_str))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
            .into_iter()
            .map(|kind| {
                let mut counts = Counts::default();
                for row in &heldout {
                    counts.add(
                        row.kinds.iter().any(|k| k == kind),
                        row.found.contains(&kind),
                    );
                }
                (kind, counts)
            })
            .collect()
    }

    /// Per-kind recall and false alarms over an evaluation set's held-out rows.
    fn held_out_kinds(out: &mut String, heading: &str, rows: &[KindRow]) {
        let _ = writeln!(out, "{heading}\n");
        let heldout: Vec<&KindRow> = rows.iter().filter(|r| r.split == "heldout").collect();
        let _ = writeln!(out, "{TABLE_HEAD}");
        for (kind, counts) in per_kind(rows) {
            let _ = writeln!(out, "{}", counts.row(&format!("`{kind}`")));
        }
        let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &heldout {
            let package = row.source.split(':').next().unwrap_or_default();
            *sources.entry(package).or_default() += 1;
        }
        let _ = writeln!(
            out,
            "\n{} texts; by source: {}.\n",
            heldout.len(),
            sources
                .iter()
                .map(|(source, n)| format!("`{source}` {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // ---------------------------------------------------------------------------------------
    // Detectors

    fn pct(a: usize, b: usize) -> String {
        if b == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.1}%", 100.0 * a as f64 / b as f64)
        }
    }

    /// Confusion counts at the text level.
    #[derive(Default, Clone, Copy)]
    struct Counts {
        positives: usize,
        caught: usize,
        negatives: usize,
        false_alarms: usize,
    }

    impl Counts {
        fn add(&mut self, labelled: bool, detected: bool) {
            if labelled {
                self.positives += 1;
                self.caught += usize::from(detected);
            } else {
                self.negatives += 1;
                self.false_alarms += usize::from(detected);
            }
        }

        fn row(&self, name: &str) -> String {
            format!(
                "| {name} | {} | {}/{} | {} | {}/{} |",
                pct(self.caught, self.positives),
                self.caught,
                self.positives,
                pct(self.false_alarms, self.negatives),
                self.false_alarms,
                self.negatives
            )
        }
    }

    const TABLE_HEAD: &str =
        "| detector | recall | caught | false-positive rate | false alarms |\n\
                          | --- | ---: | ---: | ---: | ---: |";

    fn detectors(out: &mut String, labelled: &[Labelled]) {
        let _ = writeln!(out, "## Detectors\n");
        let _ = writeln!(
            out,
            "Recall is caught / labelled positive; the false-positive rate is flagged / \
         labelled negative, over the texts of the corpus (a text counts once per \
         detector).\n"
        );

        // Injection.
        let _ = writeln!(out, "### Prompt injection (`injection_score`)\n");
        let _ = writeln!(out, "{TABLE_HEAD}");
        for (at, _) in THRESHOLDS {
            let mut counts = Counts::default();
            for l in labelled {
                counts.add(l.injection, l.found.injection_score >= at);
            }
            let _ = writeln!(out, "{}", counts.row(&format!("score ≥ {at}")));
        }
        let _ = writeln!(out);
        for (at, meaning) in THRESHOLDS {
            let _ = writeln!(out, "* ≥ {at}: {meaning}");
        }
        let _ = writeln!(out, "\nBy corpus set:\n");
        let sets: BTreeMap<&str, ()> = labelled.iter().map(|l| (l.set.as_str(), ())).collect();
        let _ = write!(out, "| set | texts |");
        for (at, _) in THRESHOLDS {
            let _ = write!(out, " recall ≥ {at} | false alarms ≥ {at} |");
        }
        let _ = write!(out, "\n| --- | ---: |");
        for _ in THRESHOLDS {
            let _ = write!(out, " ---: | ---: |");
        }
        let _ = writeln!(out);
        for set in sets.keys() {
            let in_set: Vec<&Labelled> = labelled.iter().filter(|l| l.set == *set).collect();
            let _ = write!(out, "| {set} | {} |", in_set.len());
            for (at, _) in THRESHOLDS {
                let mut counts = Counts::default();
                for l in &in_set {
                    counts.add(l.injection, l.found.injection_score >= at);
                }
                let _ = write!(
                    out,
                    " {}/{} | {}/{} |",
                    counts.caught, counts.positives, counts.false_alarms, counts.negatives
                );
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out);

        // PII and secrets, per kind.
        for (title, kinds, labels, found, any) in [
            (
                "### PII (`pii_kinds`)",
                &PII_KINDS[..],
                (|l: &Labelled| &l.pii) as fn(&Labelled) -> &Vec<String>,
                (|d: &Detections| d.pii_kinds()) as fn(&Detections) -> Vec<&'static str>,
                "any PII",
            ),
            (
                "### Secrets (`secret_kinds`)",
                &SECRET_KINDS[..],
                |l: &Labelled| &l.secrets,
                |d: &Detections| d.secret_kinds(),
                "any secret (what `no-secrets-upstream` forbids)",
            ),
        ] {
            let _ = writeln!(out, "{title}\n");
            let _ = writeln!(out, "{TABLE_HEAD}");
            let mut any_counts = Counts::default();
            let mut per_kind: BTreeMap<&str, Counts> = BTreeMap::new();
            for l in labelled {
                let want = labels(l);
                let got = found(&l.found);
                for kind in kinds {
                    per_kind
                        .entry(kind)
                        .or_default()
                        .add(want.iter().any(|w| w == kind), got.contains(kind));
                }
                any_counts.add(!want.is_empty(), !got.is_empty());
            }
            for kind in kinds {
                let _ = writeln!(out, "{}", per_kind[kind].row(&format!("`{kind}`")));
            }
            let _ = writeln!(out, "{}\n", any_counts.row(any));
        }

        // What went wrong, so a reader can judge the misses.
        let mut errors = Vec::new();
        for l in labelled {
            let score = l.found.injection_score;
            if l.injection && score < 60 {
                errors.push(format!(
                    "| {} | injection missed at 60 (score {score}) | {} |",
                    l.line,
                    excerpt(&l.text)
                ));
            } else if !l.injection && score >= 45 {
                errors.push(format!(
                    "| {} | false injection alarm (score {score}, {}) | {} |",
                    l.line,
                    l.found.injection_families.join(", "),
                    excerpt(&l.text)
                ));
            }
            for (field, want, got) in [
                ("pii", &l.pii, l.found.pii_kinds()),
                ("secrets", &l.secrets, l.found.secret_kinds()),
            ] {
                let missed: Vec<&str> = want
                    .iter()
                    .map(String::as_str)
                    .filter(|k| !got.contains(k))
                    .collect();
                let extra: Vec<&str> = got
                    .iter()
                    .copied()
                    .filter(|k| !want.iter().any(|w| w == k))
                    .collect();
                if !missed.is_empty() {
                    errors.push(format!(
                        "| {} | {field} missed: {} | {} |",
                        l.line,
                        missed.join(", "),
                        excerpt(&l.text)
                    ));
                }
                if !extra.is_empty() {
                    errors.push(format!(
                        "| {} | {field} not labelled: {} | {} |",
                        l.line,
                        extra.join(", "),
                        excerpt(&l.text)
                    ));
                }
            }
        }
        let _ = writeln!(out, "### Misses and false alarms\n");
        if errors.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            let _ = writeln!(
                out,
                "Injections below 60, benign texts at 45 or more, and every kind missed or \
             reported without a label (line numbers in `{DETECTOR_CORPUS}`):\n"
            );
            let _ = writeln!(out, "| line | what | text |\n| ---: | --- | --- |");
            for e in errors {
                let _ = writeln!(out, "{e}");
            }
            let _ = writeln!(out);
        }
    }

    /// The first 70 characters of `text` on one line, safe in a Markdown table cell.
    fn excerpt(text: &str) -> String {
        let flat: String = text
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let mut short: String = flat.chars().take(70).collect();
        if flat.chars().count() > 70 {
            short.push('…');
        }
        format!(
            "`{}`",
            short.replace('|', "\\|").replace('`', "'").trim_end()
        )
    }

    // ---------------------------------------------------------------------------------------
    // Token estimator

    /// One text: the estimate and the reference counts.
    struct Measured<'a> {
        category: &'a str,
        bytes: usize,
        estimate: u64,
        o200k: u64,
        cl100k: u64,
    }

    /// Signed relative error of `estimate` against `reference`, in percent.
    fn error(estimate: u64, reference: u64) -> f64 {
        if reference == 0 {
            return 0.0;
        }
        100.0 * (estimate as f64 - reference as f64) / reference as f64
    }

    /// The `q` quantile (0–1) of sorted `values`, nearest rank.
    fn quantile(sorted: &[f64], q: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = (q * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    fn categories(texts: &[TokenText]) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for t in texts {
            if !names.contains(&t.category.as_str()) {
                names.push(&t.category);
            }
        }
        names
    }

    fn token_estimator(out: &mut String, texts: &[TokenText]) {
        let o200k = tiktoken_rs::o200k_base().expect("o200k_base");
        let cl100k = tiktoken_rs::cl100k_base().expect("cl100k_base");
        let count = |bpe: &CoreBPE, text: &str| bpe.encode_ordinary(text).len() as u64;
        let measured: Vec<Measured> = texts
            .iter()
            .map(|t| Measured {
                category: &t.category,
                bytes: t.text.len(),
                estimate: tokens::estimate(&t.text),
                o200k: count(&o200k, &t.text),
                cl100k: count(&cl100k, &t.text),
            })
            .collect();

        let _ = writeln!(out, "## Token estimator\n");
        let _ = writeln!(
        out,
        "`gateway_engine::tokens::estimate` (one pass over the bytes: words, mixed-case runs such as \
         base64, groups of up to three digits, punctuation and whitespace runs, and \
         characters outside ASCII by script, each at a measured cost, rounded up) is what `LlmCall::estimated_input_tokens` adds up over \
         every text of a call (plus {} tokens per message), and so what the cost caps of \
         `policies/governance.cedar` see. Reference: tiktoken (`tiktoken-rs`) `o200k_base` \
         (GPT-4o family) and `cl100k_base` (GPT-4, GPT-3.5), special tokens not parsed. \
         Error = (estimate − reference) / reference per text: positive means the \
         estimate is high, the safe direction for a cost cap. Anthropic's tokenizer is not \
         public and is not measured here.\n",
        tokens::PER_MESSAGE_OVERHEAD
    );

        let _ = writeln!(
            out,
            "| reference | mean abs. error | median abs. error | p90 abs. error | worst high | \
         worst low | mean signed error (bias) | over-estimated | total estimate / total \
         reference |"
        );
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"
        );
        let mut verdicts = Vec::new();
        for (name, reference) in [
            (
                "o200k_base",
                (|m: &Measured| m.o200k) as fn(&Measured) -> u64,
            ),
            ("cl100k_base", |m: &Measured| m.cl100k),
        ] {
            let signed: Vec<f64> = measured
                .iter()
                .map(|m| error(m.estimate, reference(m)))
                .collect();
            let mut abs: Vec<f64> = signed.iter().map(|e| e.abs()).collect();
            abs.sort_by(f64::total_cmp);
            let n = signed.len().max(1) as f64;
            let mape = abs.iter().sum::<f64>() / n;
            let bias = signed.iter().sum::<f64>() / n;
            let over = signed.iter().filter(|e| **e > 0.0).count();
            let under = signed.iter().filter(|e| **e < 0.0).count();
            let worst = |pick: fn(f64, f64) -> bool| {
                let mut at = 0;
                for (i, e) in signed.iter().enumerate() {
                    if pick(*e, signed[at]) {
                        at = i;
                    }
                }
                let m = &measured[at];
                format!(
                    "{:+.1}% ({}, {} vs {} tokens)",
                    signed[at],
                    m.category,
                    m.estimate,
                    reference(m)
                )
            };
            let total_est: u64 = measured.iter().map(|m| m.estimate).sum();
            let total_ref: u64 = measured.iter().map(reference).sum();
            let ratio = total_est as f64 / total_ref.max(1) as f64;
            let _ = writeln!(
                out,
                "| `{name}` | {mape:.1}% | {:.1}% | {:.1}% | {} | {} | {bias:+.1}% | {over}/{} | \
             {ratio:.2} |",
                quantile(&abs, 0.5),
                quantile(&abs, 0.9),
                worst(|e, best| e > best),
                worst(|e, best| e < best),
                signed.len(),
            );
            let low: Vec<&str> = categories(texts)
                .into_iter()
                .filter(|c| {
                    let (est, reference): (u64, u64) = measured
                        .iter()
                        .filter(|m| m.category == *c)
                        .fold((0, 0), |(e, r), m| (e + m.estimate, r + reference(m)));
                    est < reference
                })
                .collect();
            let most_low = signed.iter().copied().fold(0.0, f64::min);
            verdicts.push((name, over, under, bias, ratio, low, most_low));
        }
        let _ = writeln!(out);
        for (name, over, under, bias, ratio, low, most_low) in verdicts {
            let direction = if bias >= 0.0 { "high" } else { "low" };
            let weighted = if ratio >= 1.0 { "high" } else { "low" };
            let _ = writeln!(
                out,
                "* Against `{name}`: per text the estimate is **{direction}** on average \
             ({bias:+.1}%; high for {over} texts, low for {under}); weighted by tokens it is \
             **{weighted}** (the corpus total is {ratio:.2}× the reference). It \
             under-estimates {}.{}",
                if low.is_empty() {
                    "no category".to_owned()
                } else {
                    format!("these categories: {}", low.join(", "))
                },
                if most_low < 0.0 {
                    format!(
                        " At worst ({most_low:+.1}%) a text holds {:.2}× the tokens the estimate \
                     (and so a cost cap) counted.",
                        100.0 / (100.0 + most_low)
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(out);

        let _ = writeln!(
            out,
            "Per category (signed error; min … max over the texts):\n"
        );
        let _ = writeln!(
            out,
            "| category | texts | bytes | estimate | o200k_base | error vs o200k | min … max | \
         cl100k_base | error vs cl100k | min … max |"
        );
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for category in categories(texts) {
            let rows: Vec<&Measured> = measured.iter().filter(|m| m.category == category).collect();
            let bytes: usize = rows.iter().map(|m| m.bytes).sum();
            let est: u64 = rows.iter().map(|m| m.estimate).sum();
            let mut line = format!("| {category} | {} | {bytes} | {est} |", rows.len());
            for reference in [
                (|m: &Measured| m.o200k) as fn(&Measured) -> u64,
                |m: &Measured| m.cl100k,
            ] {
                let total: u64 = rows.iter().map(|m| reference(m)).sum();
                let errors: Vec<f64> = rows
                    .iter()
                    .map(|m| error(m.estimate, reference(m)))
                    .collect();
                let min = errors.iter().copied().fold(f64::INFINITY, f64::min);
                let max = errors.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let _ = write!(
                    line,
                    " {total} | {:+.1}% | {min:+.0}% … {max:+.0}% |",
                    error(est, total)
                );
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);

        // The whole request, as the engine counts it: one user message in a chat completion.
        let mut request_errors = Vec::new();
        for t in texts {
            let body =
                json!({"model": "gpt-4o", "messages": [{"role": "user", "content": t.text}]});
            let call = LlmCall::parse(Endpoint::ChatCompletions, body.to_string().as_bytes())
                .expect("a one-message chat request parses");
            // OpenAI's documented count: 3 tokens per message, the role, the content, and 3
            // tokens priming the reply.
            let reference = 3 + count(&o200k, "user") + count(&o200k, &t.text) + 3;
            request_errors.push(error(call.estimated_input_tokens(), reference));
        }
        let n = request_errors.len().max(1) as f64;
        let low = request_errors.iter().filter(|e| **e < 0.0).count();
        let _ = writeln!(
            out,
            "Whole request (`LlmCall::estimated_input_tokens` of a chat completion with the \
         text as its one user message, against OpenAI's documented count with `o200k_base`: \
         3 per message + role + content + 3 priming the reply): mean signed error {:+.1}%, \
         mean absolute error {:.1}%, {low} of {} requests under-estimated.",
            request_errors.iter().sum::<f64>() / n,
            request_errors.iter().map(|e| e.abs()).sum::<f64>() / n,
            request_errors.len()
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    report::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}

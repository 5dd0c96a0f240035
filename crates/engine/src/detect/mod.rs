//! Content detectors: prompt-injection scoring, PII and secrets, over every text a caller
//! sends (`LlmCall::visit_text` in the `call` module: system prompts, messages, tool calls and results, tool
//! definitions, embedding inputs).
//!
//! Pure functions: no I/O, no `worker`, no global state (beyond a work counter in debug
//! builds), the same results natively and on wasm32. Every detector runs in time linear
//! in its input (no backtracking, no regex engine) and never panics.
//!
//! * [`injection`]: a 0–100 score and the matched pattern families
//!   (`instruction_override`, `role_impersonation`, `prompt_leak`, `encoding_trick`),
//!   computed on [`normalize`]d text.
//! * [`pii`]: `email`, `phone`, `credit_card`, `iban`, `ip_address`, and national
//!   identifiers, one kind per scheme (`us_ssn`, `uk_nino`, `fr_nir`,
//!   `it_codice_fiscale`, `nl_bsn`, `br_cpf`, `pl_pesel`, `se_personnummer`,
//!   `in_aadhaar`, `es_dni`, `de_tax_id`, `ca_sin`), all of them grouped as
//!   `national_id` (see [`kind`]).
//! * [`secrets`]: `openai_key`, `anthropic_key`, `aws_access_key`, `github_token`,
//!   `slack_token`, `google_api_key`, `jwt`, `private_key`, `high_entropy`.
//!
//! PII and secrets are matched on a confusable-folded view of the text when it has
//! anything to fold (fullwidth forms, digits of other scripts, Unicode spaces and
//! dashes, zero-width and bidi characters; see `fold`), since a model reads those as the
//! ASCII they look like: [`find_pii`], [`find_secrets`]. [`pii::find`] and
//! [`secrets::find`] scan the bytes as they are.
//!
//! PII and secret [`Finding`]s carry byte spans into the **original** text (always on
//! character boundaries) and the index of that text in `visit_text` order, so a caller can
//! [`redact`] each text. For a whole call, [`Aggregate`] (fed by `LlmCall::scan`) aggregates: the injection score
//! is computed from the union of the patterns matched in every text (an attack split over
//! several messages scores as if it were one text, though a single phrase split across
//! two texts is not matched), and the kinds found are the union over the texts.
//!
//! Cost: no large table (two 256-byte class tables), and of libraries only `memchr` and
//! `aho-corasick`, which the worker carries anyway. Most of a text is read once or not
//! at all:
//!
//! * [`normalize`] copies runs of ASCII (checked eight bytes at a time) and lowercases
//!   them in place; only other characters go through the confusable fold.
//! * The phrase matcher compiles its ~400-word vocabulary once (`OnceLock`) into a hash
//!   table of words packed into a `u128`, and, per word, the list of pattern steps it
//!   can take: the tokenizer reads the normalised text once, looks each word up with
//!   one hash, and visits only the steps of the words it knows. The few dozen literal
//!   markers are checked where they can start (`<`, `[`, `#`, `:`, a line start), in the
//!   same pass, each list with one anchored `aho-corasick` automaton.
//! * Encoded text, prefixed credentials and `high_entropy` tokens need a long run of
//!   base64 characters: such runs are found by looking at every n-th byte only (a run of
//!   n or more covers one of them) and measuring the run around those in the alphabet.
//! * Every PII kind needs a digit or an `@`: one pass lists them (eight bytes at a time)
//!   and the scanners jump from one to the next. A JWT is found from its `eyJ` (`memmem`).
//!
//! On English prose that is about 14 times faster than sending every character through
//! each detector (`detectors_scan_text` in `benches/decision.rs`: some 330 MiB/s
//! natively), with the same results; the property tests in
//! `crates/engine/tests/engine/detectors.rs` hold the skipping to the
//! character-by-character paths.
//!
//! Debug builds count units of work (bytes, words and pattern steps examined) so tests
//! can check linear scaling without timing anything: see [`work_counter`].

mod bytes;
mod fold;
pub mod injection;
pub use gateway_policy::kind;
pub mod normalize;
#[rustfmt::skip]
mod patterns;
pub mod pii;
pub mod secrets;

use std::cmp::Reverse;

use serde::Serialize;

pub(crate) use fold::{folded_span_start, is_invisible};
pub use injection::{Family, Injection};
pub use kind::{Kind, KindSet};
pub use normalize::normalize;

/// One PII or secret occurrence: `text[start..end]` of text number `text` (0 for
/// [`scan_text`]; the order texts were added to an [`Aggregate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub text: usize,
    pub start: usize,
    pub end: usize,
}

impl Finding {
    pub(crate) fn new(kind: Kind, start: usize, end: usize) -> Self {
        Finding {
            kind,
            text: 0,
            start,
            end,
        }
    }
}

/// Everything the detectors found in one text or one call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detections {
    /// 0–100; see [`injection`] for the weights.
    pub injection_score: u8,
    /// The families matched, sorted by name.
    pub injection_families: Vec<&'static str>,
    /// Sorted by (text, start); non-overlapping within a text.
    pub pii: Vec<Finding>,
    /// Sorted by (text, start); non-overlapping within a text.
    pub secrets: Vec<Finding>,
}

impl Detections {
    fn from_parts(injection: &Injection, pii: Vec<Finding>, secrets: Vec<Finding>) -> Self {
        Detections {
            injection_score: injection.score(),
            injection_families: injection.family_names(),
            pii,
            secrets,
        }
    }

    /// The PII kinds found, sorted and deduplicated (a Cedar `Set<String>`); with
    /// `national_id` beside the kind of any national identifier found, so a policy may
    /// name the group or the scheme.
    pub fn pii_kinds(&self) -> Vec<&'static str> {
        let mut names = kinds(&self.pii);
        if self.pii.iter().any(|f| f.kind.is_national_id()) {
            names.push(Kind::NationalId.name());
            names.sort_unstable();
            names.dedup();
        }
        names
    }

    /// The secret kinds found, sorted and deduplicated.
    pub fn secret_kinds(&self) -> Vec<&'static str> {
        kinds(&self.secrets)
    }

    pub fn has_pii(&self) -> bool {
        !self.pii.is_empty()
    }

    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Nothing found at all.
    pub fn is_clean(&self) -> bool {
        self.injection_score == 0 && self.pii.is_empty() && self.secrets.is_empty()
    }

    /// The PII and secret findings of text number `index`, sorted by start.
    pub fn findings_in(&self, index: usize) -> Vec<Finding> {
        let mut found: Vec<Finding> = self
            .pii
            .iter()
            .chain(&self.secrets)
            .filter(|f| f.text == index)
            .copied()
            .collect();
        found.sort_by_key(|f| (f.start, Reverse(f.end)));
        found
    }
}

fn kinds(findings: &[Finding]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = findings.iter().map(|f| f.kind.name()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Every PII finding in `text`, seen through confusables ([`pii::find`] on the folded
/// view, spans in `text`): sorted by start and non-overlapping.
pub fn find_pii(text: &str) -> Vec<Finding> {
    find_folded(text, fold::fold(text).as_ref(), pii::find)
}

/// Every secret in `text`, seen through confusables ([`secrets::find`] on the folded
/// view, spans in `text`): sorted by start and non-overlapping.
pub fn find_secrets(text: &str) -> Vec<Finding> {
    find_folded(text, fold::fold(text).as_ref(), secrets::find)
}

/// `find` over `folded` (the view of `text`) when there is one, spans mapped to `text`.
fn find_folded(
    text: &str,
    folded: Option<&fold::Folded>,
    find: fn(&str) -> Vec<Finding>,
) -> Vec<Finding> {
    match folded {
        Some(view) => view.map_back(text, find(view.text())),
        None => find(text),
    }
}

/// Runs every detector over one text.
pub fn scan_text(text: &str) -> Detections {
    let folded = fold::fold(text);
    Detections::from_parts(
        &injection::scan(text),
        find_folded(text, folded.as_ref(), pii::find),
        find_folded(text, folded.as_ref(), secrets::find),
    )
}

/// Runs every detector over a sequence of texts (a whole call's) and aggregates them
/// (see the module docs). Findings carry the index of their text in the order added.
#[derive(Debug, Default)]
pub struct Aggregate {
    injection: Injection,
    pii: Vec<Finding>,
    secrets: Vec<Finding>,
    texts: usize,
}

impl Aggregate {
    /// Adds the next text: scored for injection when it is `prose`, and searched for the
    /// PII and secrets of `kinds`.
    pub fn add(&mut self, text: &str, prose: bool, kinds: KindSet) {
        if prose {
            self.injection.merge(&injection::scan(text));
        }
        let index = self.texts;
        let at = |mut f: Finding| {
            f.text = index;
            f
        };
        let folded = fold::fold(text);
        if kinds.has_pii() {
            let found = find_folded(text, folded.as_ref(), pii::find);
            let found = found.into_iter().filter(|f| kinds.contains(f.kind));
            self.pii.extend(found.map(at));
        }
        if kinds.has_secrets() {
            let found = find_folded(text, folded.as_ref(), secrets::find);
            let found = found.into_iter().filter(|f| kinds.contains(f.kind));
            self.secrets.extend(found.map(at));
        }
        self.texts = self.texts.saturating_add(1);
    }

    pub fn finish(self) -> Detections {
        Detections::from_parts(&self.injection, self.pii, self.secrets)
    }
}

/// How many findings of each kind (by name) were acted on.
pub type KindCounts = std::collections::BTreeMap<&'static str, u32>;

/// The findings of `kinds` in `text` (only the detectors those kinds need run), sorted by
/// start and non-overlapping.
pub fn find_kinds(text: &str, kinds: KindSet) -> Vec<Finding> {
    let mut found = Vec::new();
    let folded = (kinds.has_pii() || kinds.has_secrets())
        .then(|| fold::fold(text))
        .flatten();
    if kinds.has_pii() {
        found.extend(
            find_folded(text, folded.as_ref(), pii::find)
                .into_iter()
                .filter(|f| kinds.contains(f.kind)),
        );
    }
    if kinds.has_secrets() {
        found.extend(
            find_folded(text, folded.as_ref(), secrets::find)
                .into_iter()
                .filter(|f| kinds.contains(f.kind)),
        );
    }
    found.sort_by_key(|f| (f.start, Reverse(f.end)));
    found
}

/// `text` with every finding of `kinds` redacted, and those findings; `None` when there
/// is nothing to redact (so the caller keeps the text as it is).
pub fn redact_kinds(text: &str, kinds: KindSet) -> Option<(String, Vec<Finding>)> {
    let found = find_kinds(text, kinds);
    (!found.is_empty()).then(|| (redact(text, &found), found))
}

/// Replaces every finding's span in `text` with `[REDACTED:<kind>]`. Pass the findings
/// of this text only (their `text` index is not checked). Overlapping spans merge into
/// one placeholder named after the earliest; spans are clamped to the text and widened
/// to character boundaries, so any `Finding` is safe to pass.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<(usize, usize, Kind)> = findings
        .iter()
        .filter_map(|f| {
            let start = text.floor_char_boundary(f.start);
            let end = text.ceil_char_boundary(f.end);
            (start < end).then_some((start, end, f.kind))
        })
        .collect();
    spans.sort_by_key(|&(start, end, kind)| (start, Reverse(end), kind.priority()));
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0usize;
    let mut spans = spans.into_iter().peekable();
    while let Some((start, mut end, kind)) = spans.next() {
        while let Some(&(next_start, next_end, _)) = spans.peek() {
            if next_start >= end {
                break;
            }
            end = end.max(next_end);
            spans.next();
        }
        out.push_str(text.get(cursor..start).unwrap_or_default());
        out.push_str("[REDACTED:");
        out.push_str(kind.name());
        out.push(']');
        cursor = end;
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    out
}

/// Sorts `found` by start (longest first, then kind priority) and keeps a set of
/// non-overlapping findings, preferring the earliest start.
pub(crate) fn resolve_overlaps(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by_key(|f| (f.start, Reverse(f.end), f.kind.priority()));
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        tick(1);
        match kept.last_mut() {
            Some(last) if f.start < last.end => {
                // Overlap: a higher-priority kind covering at least as much replaces it.
                if f.kind.priority() < last.kind.priority() && f.end >= last.end {
                    *last = f;
                }
            }
            _ => kept.push(f),
        }
    }
    kept
}

/// Decodes standard or URL-safe base64 (mixed alphabets accepted), stopping at the first
/// byte outside the alphabet or `=`; trailing partial bits are dropped.
pub(crate) fn decode_base64(input: impl IntoIterator<Item = u8>) -> Vec<u8> {
    let input = input.into_iter();
    let mut out = Vec::with_capacity(input.size_hint().0 / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for b in input {
        tick(1);
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => break,
        };
        acc = ((acc << 6) | u32::from(v)) & 0x00FF_FFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xFF).unwrap_or(0));
        }
    }
    out
}

/// What decoded bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Not mostly printable UTF-8: binary, random bytes.
    Binary,
    /// Printable, but not prose (JSON, identifiers, numbers).
    Printable,
    /// Printable with words: at least half letters and at least one space.
    Prose,
}

/// Classifies decoded bytes: UTF-8 where control characters and invalid bytes are at most
/// 5% of the characters is printable (a few bytes of garbage at the end of a blob glued
/// to the next word do not spoil it); printable with letters for at least half of its
/// non-space characters and at least one space is prose.
pub(crate) fn classify_decoded(bytes: &[u8]) -> Decoded {
    let (mut chars, mut bad, mut spaces, mut letters) = (0usize, 0usize, 0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            tick(1);
            chars += 1;
            if c == ' ' {
                spaces += 1;
            } else if c.is_alphabetic() {
                letters += 1;
            } else if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                bad += 1;
            }
        }
        let invalid = chunk.invalid().len();
        tick(invalid);
        chars += invalid;
        bad += invalid;
        // There are at most as many characters as bytes: binary for sure already.
        if bad.saturating_mul(20) > bytes.len() {
            return Decoded::Binary;
        }
    }
    if chars == 0 || bad.saturating_mul(20) > chars {
        return Decoded::Binary;
    }
    let non_space = chars - spaces;
    if spaces > 0 && letters.saturating_mul(2) >= non_space {
        Decoded::Prose
    } else {
        Decoded::Printable
    }
}

#[cfg(debug_assertions)]
thread_local! {
    static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts units of work (bytes, characters, words, pattern steps examined) in debug
/// builds, so tests can check that the detectors scale linearly without timing them.
#[inline]
pub(crate) fn tick(units: usize) {
    #[cfg(debug_assertions)]
    WORK.with(|w| w.set(w.get().wrapping_add(units as u64)));
    #[cfg(not(debug_assertions))]
    let _ = units;
}

/// Work units counted on this thread so far (always 0 in release builds).
#[doc(hidden)]
pub fn work_counter() -> u64 {
    #[cfg(debug_assertions)]
    {
        WORK.with(std::cell::Cell::get)
    }
    #[cfg(not(debug_assertions))]
    {
        0
    }
}

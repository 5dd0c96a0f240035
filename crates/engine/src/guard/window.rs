//! One stream of answer text (a choice's content, a tool call's arguments, a content
//! block) scanned as it arrives, holding back only what might still turn into a finding.
//!
//! Text is released once it is safely behind the scan: everything but the last
//! [`WINDOW`] bytes, moved back to the start of the whitespace-free token it would cut
//! (secrets and emails are single tokens, so one split across chunks is held whole, up to
//! [`MAX_HOLD`] bytes; digit groups joined by spaces count as one token, a number being
//! read whole), back to the start of an unterminated private-key block, and back before
//! the name a hex secret needs ([`HEX_NAME_SPAN`]). Matches that contain spaces
//! (formatted phone numbers, IBANs, card numbers) are shorter than the window. A finding
//! of a blocked kind stops the answer once it is behind the cut, where nothing that
//! follows can change it. The scan only runs once [`STEP`] new bytes are past the
//! window, so each byte is scanned about `(WINDOW + STEP) / STEP` times, whatever the
//! size of the deltas (and a held token a logarithmic number of times).

use crate::detect::secrets::HEX_NAME_SPAN;
use crate::detect::{self, folded_span_start, is_invisible, Finding, Kind, KindCounts, KindSet};

/// Bytes always held back behind the newest text.
pub const WINDOW: usize = 96;
/// New bytes past the window that trigger a scan.
pub const STEP: usize = 48;
/// The longest token (or open private-key block) held back whole.
pub const MAX_HOLD: usize = 16 * 1024;

const KEY_BLOCK_START: &str = "-----BEGIN ";

/// What a scan let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// Text to send now (possibly empty; redacted where it had findings).
    Text(String),
    /// A finding of a blocked kind: the answer must stop here.
    Blocked(Kind),
}

#[derive(Debug, Default)]
pub struct Window {
    pending: String,
    /// Scan again once `pending` is this long: STEP bytes past the window normally, half
    /// as much again while a long token is held, so held text is rescanned a bounded
    /// number of times (the total work stays linear).
    next_scan: usize,
    redact: KindSet,
    block: KindSet,
    pub redacted: KindCounts,
}

impl Window {
    pub fn new(redact: KindSet, block: KindSet) -> Self {
        Window {
            pending: String::new(),
            next_scan: WINDOW + STEP,
            redact,
            block,
            redacted: KindCounts::new(),
        }
    }

    /// Takes in a delta and returns what may be sent now.
    pub fn push(&mut self, delta: &str) -> Release {
        self.pending.push_str(delta);
        if self.pending.len() < self.next_scan {
            return Release::Text(String::new());
        }
        self.release(false)
    }

    /// The stream (or this text's part of it) ended: release everything held.
    pub fn finish(&mut self) -> Release {
        self.release(true)
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn release(&mut self, last: bool) -> Release {
        let kinds = self.redact.union(self.block);
        let found = detect::find_kinds(&self.pending, kinds);
        let mut cut = if last {
            self.pending.len()
        } else {
            self.safe_cut(kinds, &found)
        };
        let mut done: Vec<Finding> = found.iter().filter(|f| f.end <= cut).copied().collect();
        // A finding the cut would split is held whole, up to MAX_HOLD bytes; past that
        // (a runaway key block) its part before the cut is redacted and sent.
        if let Some(f) = found.iter().find(|f| f.start < cut && cut < f.end) {
            if cut - f.start <= MAX_HOLD {
                cut = f.start;
                done.retain(|d| d.end <= cut);
            } else {
                done.push(Finding { end: cut, ..*f });
            }
        }
        // A finding of a blocked kind ends the answer once it is before the cut: what
        // follows may still change it (`0532 0130 00` is a phone until more digits come).
        if let Some(f) = found
            .iter()
            .find(|f| self.block.contains(f.kind) && f.start < cut)
        {
            return Release::Blocked(f.kind);
        }
        let head = self.pending.get(..cut).unwrap_or_default();
        let text = if done.is_empty() {
            head.to_owned()
        } else {
            for f in &done {
                *self.redacted.entry(f.kind.name()).or_insert(0) += 1;
            }
            detect::redact(head, &done)
        };
        self.pending.drain(..cut);
        let held = self.pending.len();
        self.next_scan = (WINDOW + STEP).max(held + STEP.max(held / 2));
        Release::Text(text)
    }

    /// Where the text may be cut now, before any scan of the findings.
    fn safe_cut(&self, kinds: KindSet, found: &[Finding]) -> usize {
        let text = self.pending.as_str();
        let key_block = self.open_key_block(kinds, found);
        // The last cut at or before `limit`: at the start of a token, and before an open
        // private-key block.
        let cut_before = |limit: usize| {
            let mut cut = text.floor_char_boundary(limit);
            // Do not split a whitespace-free token, unless it is too long to be one secret.
            let token_start = token_start(text, cut);
            if cut - token_start <= MAX_HOLD {
                cut = token_start;
            }
            key_block.map_or(cut, |open| cut.min(open))
        };
        let mut limit = text.len().saturating_sub(WINDOW);
        if !kinds.contains(Kind::HighEntropy) {
            return cut_before(limit);
        }
        // A hex string is a secret only after a name (`api key is`) in the bytes before
        // it: the unfinished last token, which may yet become one, keeps them, …
        let last = token_start(text, text.len());
        if text.len() - last <= MAX_HOLD {
            limit = limit.min(folded_span_start(text, last, HEX_NAME_SPAN));
        }
        let mut cut = cut_before(limit);
        // … and so does a hex secret found but not sent now. Findings do not overlap:
        // from the last one back, until one is sent whole.
        for f in found.iter().rev() {
            if f.end <= cut {
                break;
            }
            let hex = text.get(f.start..f.end).is_some_and(|t| {
                t.chars()
                    .filter(|c| !is_invisible(*c))
                    .all(|c| c.is_ascii_hexdigit())
            });
            let name_from = folded_span_start(text, f.start, HEX_NAME_SPAN);
            if f.kind == Kind::HighEntropy && hex && name_from < cut {
                if text.len() - name_from > MAX_HOLD {
                    break;
                }
                cut = cut_before(name_from);
            }
        }
        cut
    }

    /// The start of a private-key block that is not complete yet (held from there until
    /// the detector sees the whole block), if any.
    fn open_key_block(&self, kinds: KindSet, found: &[Finding]) -> Option<usize> {
        if !kinds.contains(Kind::PrivateKey) {
            return None;
        }
        let text = self.pending.as_str();
        let open = text.rfind(KEY_BLOCK_START)?;
        // A complete header that names no private key (a certificate) is not one.
        let label = text.get(open + KEY_BLOCK_START.len()..).unwrap_or_default();
        let other_block = label
            .find("-----")
            .and_then(|end| label.get(..end))
            .is_some_and(|label| !label.contains("PRIVATE"));
        let recognised = other_block
            || found
                .iter()
                .any(|f| f.kind == Kind::PrivateKey && f.start <= open && open < f.end);
        (!recognised && text.len() - open <= MAX_HOLD).then_some(open)
    }
}

/// The start of the token that `text[..at]` ends in: after the last whitespace character
/// before `at` (the whole character: U+00A0 and U+3000 take several bytes). A space
/// between two digit groups (`4111 1111`, `(415) 555`) does not end a token: the
/// detectors read the groups as one number, and its tail scanned alone could match where
/// the whole did not (`2024 078-05-1120` holds no SSN).
fn token_start(text: &str, at: usize) -> usize {
    // A space of any width between two digit groups (`4111 1111`, `078-05-1120 +1 415`)
    // joins them: the PII detectors read through it (see `detect::fold`).
    let joins_digits = |at: usize, c: char| {
        let visible = |c: &char| !is_invisible(*c);
        let before = text
            .get(..at)
            .and_then(|head| head.chars().rev().find(visible));
        let after = text
            .get(at + c.len_utf8()..)
            .and_then(|tail| tail.chars().find(visible));
        !matches!(c, '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
            && before.is_some_and(|b| b.is_numeric() || b == ')')
            // Nothing visible after it yet: what comes may be the next group.
            && after.is_none_or(|a| a.is_numeric() || a == '(' || a == '+')
    };
    text.get(..at)
        .and_then(|head| {
            head.char_indices()
                .rfind(|&(at, c)| c.is_whitespace() && !joins_digits(at, c))
        })
        .map_or(0, |(at, c)| at + c.len_utf8())
}

//! One stream of answer text (a choice's content, a tool call's arguments, a content
//! block) scanned as it arrives, holding back only what might still turn into a finding.
//!
//! Text is released once it is safely behind the scan: everything but the last
//! [`WINDOW`] bytes, moved back to the start of the whitespace-free token it would cut
//! (secrets and emails are single tokens, so one split across chunks is held whole, up to
//! [`MAX_HOLD`] bytes), and back to the start of an unterminated private-key block. Matches
//! that contain spaces (formatted phone numbers, IBANs, card numbers) are shorter than the
//! window. The scan only runs once [`STEP`] new bytes are past the window, so each byte is
//! scanned about `(WINDOW + STEP) / STEP` times, whatever the size of the deltas (and a
//! held token a logarithmic number of times).

use crate::engine::detect::{self, Finding, Kind, KindCounts, KindSet};

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
        if let Some(f) = found.iter().find(|f| self.block.contains(f.kind)) {
            return Release::Blocked(f.kind);
        }
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
        let mut cut = text.floor_char_boundary(text.len().saturating_sub(WINDOW));
        // Do not split a whitespace-free token, unless it is too long to be one secret.
        // The token starts after the whole whitespace character, which may be several
        // bytes long (U+00A0, U+3000). A space between two digit groups (`4111 1111`,
        // `(415) 555`) does not end one: the detectors read the groups as one number,
        // and its tail scanned alone could match where the whole did not
        // (`2024 078-05-1120` holds no SSN).
        let bytes = text.as_bytes();
        let joins_digits = |at: usize| {
            at.checked_sub(1)
                .and_then(|before| bytes.get(before))
                .is_some_and(|&b| b.is_ascii_digit() || b == b')')
                && bytes
                    .get(at + 1)
                    .is_some_and(|&b| b.is_ascii_digit() || b == b'(')
        };
        let token_start = text
            .get(..cut)
            .and_then(|head| {
                head.char_indices()
                    .rfind(|&(at, c)| c.is_whitespace() && !(c == ' ' && joins_digits(at)))
            })
            .map_or(0, |(at, c)| at + c.len_utf8());
        if cut - token_start <= MAX_HOLD {
            cut = token_start;
        }
        // A private-key block is only recognisable once its end line is complete: hold
        // from its start until the detector sees the whole block.
        if kinds.contains(Kind::PrivateKey) {
            if let Some(open) = text.rfind(KEY_BLOCK_START) {
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
                if !recognised && text.len() - open <= MAX_HOLD {
                    cut = cut.min(open);
                }
            }
        }
        cut
    }
}

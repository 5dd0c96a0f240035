//! One stream of answer text (a choice's content, a tool call's arguments, a content
//! block) scanned as it arrives, holding back only what might still turn into a finding.
//!
//! After each delta the window works out the text's *open tail*, the part that more text
//! could still make part of a finding, and releases everything before it at once:
//!
//! * the unfinished token: the text after the last whitespace, since secrets, emails and
//!   ids are single tokens (held whole up to [`MAX_HOLD`] bytes);
//! * before it, code-like groups joined to it by spaces, since formatted numbers span
//!   several (`4111 1111 1111 1111`, `+1 (415) 555-0132`, `GB82 WEST 1234 5698 7654 32`,
//!   `AB 12 34 56 C`): a group holding a digit, or a short upper-case one, up to
//!   [`MAX_GROUPED`] bytes from the end;
//! * a PEM block whose END line has not arrived, held from its `-----BEGIN ` (a private
//!   key is redacted whole, a certificate passes whole).
//!
//! A finding the cut would split is held whole. Released text stays visible to the
//! detectors for [`LOOKBEHIND`] bytes, so a match that depends on what precedes it (the
//! name a hex secret needs, [`HEX_NAME_SPAN`]) is found as in the whole text. A finding of
//! a blocked kind stops the answer once it is behind the cut, where nothing that follows
//! can change it. A scan runs when a delta lets text out; while a long token is held,
//! only after it has grown by half, so the total work stays linear in the text.

use crate::detect::secrets::HEX_NAME_SPAN;
use crate::detect::{self, folded_span_start, is_invisible, Finding, Kind, KindCounts, KindSet};

/// The longest token (or open PEM block) held back whole.
pub const MAX_HOLD: usize = 16 * 1024;
/// The longest finding that spans whitespace (a formatted card, phone, IBAN or id), in
/// the bytes the detectors read.
pub const MAX_GROUPED: usize = 64;
/// Released text the detectors still see before the held text, in the bytes they read.
pub const LOOKBEHIND: usize = HEX_NAME_SPAN;
/// A cap on the look-behind in raw bytes, against text padded with invisible characters.
const MAX_LOOKBEHIND_BYTES: usize = 1024;
/// Held text up to this size is checked on every delta; beyond it, once it grows by half.
const SMALL_HOLD: usize = 256;
/// Of a token longer than [`MAX_HOLD`], what stays held.
const RUNAWAY_TAIL: usize = 96;

const PEM_BEGIN: &str = "-----BEGIN ";
const PEM_END: &str = "-----END ";

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
    /// Released text kept for the look-behind, then the held text.
    buf: String,
    /// Where the held text starts in `buf`.
    held_from: usize,
    /// Check again once `buf` is this long.
    next_check: usize,
    redact: KindSet,
    block: KindSet,
    pub redacted: KindCounts,
}

impl Window {
    pub fn new(redact: KindSet, block: KindSet) -> Self {
        Window {
            redact,
            block,
            ..Window::default()
        }
    }

    /// Takes in a delta and returns what may be sent now.
    pub fn push(&mut self, delta: &str) -> Release {
        self.buf.push_str(delta);
        if self.buf.len() < self.next_check {
            return Release::Text(String::new());
        }
        // Without a scan, the cut can only be earlier than this (a key block, a finding).
        if open_tail_start(&self.buf, self.held_from) == self.held_from {
            let held = self.held().len();
            // Nothing can go out yet: check on the next delta, or once a long held token
            // has grown by half.
            self.next_check = self.buf.len() + 1 + usize::from(held >= SMALL_HOLD) * held / 2;
            return Release::Text(String::new());
        }
        self.release(false)
    }

    /// The stream (or this text's part of it) ended: release everything held.
    pub fn finish(&mut self) -> Release {
        self.release(true)
    }

    pub fn is_empty(&self) -> bool {
        self.held().is_empty()
    }

    fn held(&self) -> &str {
        self.buf.get(self.held_from..).unwrap_or_default()
    }

    fn release(&mut self, last: bool) -> Release {
        let kinds = self.redact.union(self.block);
        let from = self.held_from;
        // Findings wholly in the look-behind went out with it. One reaching into it from
        // the held text cannot arise (the cut never splits a finding); were it to, its
        // held part is still treated as one.
        let found: Vec<Finding> = detect::find_kinds(&self.buf, kinds)
            .into_iter()
            .filter(|f| f.end > from)
            .map(|f| Finding {
                start: f.start.max(from),
                ..f
            })
            .collect();
        let mut cut = if last {
            self.buf.len()
        } else {
            let pem_block = open_pem_block(&self.buf, from).unwrap_or(usize::MAX);
            open_tail_start(&self.buf, from).min(pem_block)
        };
        // A finding the cut would split is held whole, up to MAX_HOLD bytes, and so is
        // one that overlaps it (kinds may overlap: an email's domain running into a
        // secret); past that (a runaway PEM block) the part before the cut is redacted.
        // The detectors judge a token whole, so the cut moves back to the start of the
        // token it would split, unless that token runs away.
        let mut split = None;
        loop {
            if !last {
                cut = token_start(&self.buf, from, cut);
            }
            let Some(f) = found.iter().find(|f| f.start < cut && cut < f.end) else {
                break;
            };
            if cut - f.start > MAX_HOLD {
                split = Some(Finding { end: cut, ..*f });
                break;
            }
            cut = f.start;
        }
        let done: Vec<Finding> = found
            .iter()
            .filter(|f| f.end <= cut)
            .copied()
            .chain(split)
            .collect();
        // A finding of a blocked kind ends the answer once it is before the cut: what
        // follows may still change it (`0532 0130 00` is a phone until more digits come).
        if let Some(f) = found
            .iter()
            .find(|f| self.block.contains(f.kind) && f.start < cut)
        {
            return Release::Blocked(f.kind);
        }
        let head = self.buf.get(from..cut).unwrap_or_default();
        let text = if done.is_empty() {
            head.to_owned()
        } else {
            for f in &done {
                *self.redacted.entry(f.kind.name()).or_insert(0) += 1;
            }
            let local: Vec<Finding> = done
                .iter()
                .map(|f| Finding {
                    start: f.start - from,
                    end: f.end - from,
                    ..*f
                })
                .collect();
            detect::redact(head, &local)
        };
        // Keep the look-behind before the new held text, and drop what is older.
        let keep_from = folded_span_start(&self.buf, cut, LOOKBEHIND).max(
            self.buf
                .ceil_char_boundary(cut.saturating_sub(MAX_LOOKBEHIND_BYTES)),
        );
        self.buf.drain(..keep_from);
        self.held_from = cut - keep_from;
        let held = self.buf.len() - self.held_from;
        self.next_check = self.buf.len() + 1 + usize::from(held >= SMALL_HOLD) * held / 2;
        Release::Text(text)
    }
}

/// Where the open tail of `text` starts: the part more text could still make part of a
/// finding (at `from` or after; the text before `from` has gone out).
fn open_tail_start(text: &str, from: usize) -> usize {
    let end = text.len();
    let Some(token) = group_start(text, end, from) else {
        // No whitespace in the held text: one token, held whole unless it runs away.
        if end - from > MAX_HOLD {
            return text.floor_char_boundary(end - RUNAWAY_TAIL).max(from);
        }
        return from;
    };
    // Code-like groups joined to the unfinished token, as far back as a formatted number
    // can reach.
    let reach = folded_span_start(text, end, MAX_GROUPED).max(from);
    let mut start = token;
    let mut current = text.get(token..).unwrap_or_default();
    while start > reach && joins(current) {
        let gap = text.get(reach..start).unwrap_or_default();
        let Some((gap_at, _)) = gap
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_whitespace())
            .last()
        else {
            break;
        };
        let gap_start = reach + gap_at;
        let joined_by_spaces = gap
            .get(gap_at..)
            .is_some_and(|spaces| !spaces.chars().any(is_line_break));
        // A group that starts before `reach` (or before the held text) is held from there:
        // a match may start inside a group (`東京4111 1111 …`), but not further back.
        let previous = group_start(text, gap_start, reach).unwrap_or(reach);
        let group = text.get(previous..gap_start).unwrap_or_default();
        if !joined_by_spaces || !joins(group) {
            break;
        }
        start = previous;
        current = group;
    }
    start
}

/// The start of the whitespace-free group that `text[..at]` ends in: just after the last
/// whitespace character at or after `from`, or `None` when there is none there.
fn group_start(text: &str, at: usize, from: usize) -> Option<usize> {
    text.get(from..at)?
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map(|(i, c)| from + i + c.len_utf8())
}

/// The start of the token that `at` would split (`at` itself at a token's start), or
/// `at` when that token is longer than [`MAX_HOLD`]; never before `from`.
fn token_start(text: &str, from: usize, at: usize) -> usize {
    let start = group_start(text, at, from).unwrap_or(from);
    if at - start > MAX_HOLD {
        at
    } else {
        start
    }
}

/// Whether a group can be part of a formatted number, phone, IBAN or id with the groups
/// around it: it holds a digit, or is at most four upper-case letters and signs
/// (`WEST`, `C`, `(`), or has nothing visible yet.
fn joins(group: &str) -> bool {
    let mut count = 0;
    let mut short_caps = true;
    for c in group.chars().filter(|c| !is_invisible(*c)) {
        if c.is_numeric() {
            return true;
        }
        count += 1;
        short_caps &= c.is_uppercase() || matches!(c, '(' | ')' | '+' | '-' | '.' | '/');
    }
    short_caps && count <= 4
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The start of a PEM block in the held text whose END line has not arrived (held from
/// there, so the detectors see the whole block: a private key to redact whole, or public
/// material that is no secret), if any.
fn open_pem_block(text: &str, from: usize) -> Option<usize> {
    let open = from + text.get(from..)?.rfind(PEM_BEGIN)?;
    let rest = text.get(open + PEM_BEGIN.len()..).unwrap_or_default();
    let label_len = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' '))
        .unwrap_or(rest.len());
    let after_label = rest.get(label_len..).unwrap_or_default();
    // A label not (yet) followed by `-----` may still become one; a label followed by
    // anything else is no PEM header.
    let header = after_label.starts_with("-----") || "-----".starts_with(after_label);
    let ended = rest
        .find(PEM_END)
        .and_then(|at| rest.get(at + PEM_END.len()..))
        .is_some_and(|line| line.contains("-----"));
    (header && !ended && text.len() - open <= MAX_HOLD).then_some(open)
}

//! Helpers shared by the engine's tests: wire bodies and the prose a call carries,
//! findings as (kind, text) pairs, the detectors' work counter, text streamed through an
//! output window, and a deterministic generator of random values.

use gateway_engine::detect::{self, Finding, Kind, KindSet};
use gateway_engine::guard::window::{Release, Window};
use gateway_engine::{CallError, Endpoint, LlmCall};
use serde_json::Value;

/// An OpenAI project key: the secret the detector, guard and mediation tests plant.
pub const OPENAI_KEY: &str = "sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj";

/// A 1×1 PNG, as SDKs inline images.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

// ---------------------------------------------------------------------------------------
// Calls

pub fn parse(endpoint: Endpoint, body: &Value) -> Result<LlmCall, CallError> {
    LlmCall::parse(endpoint, &serde_json::to_vec(body).unwrap())
}

pub fn parse_ok(endpoint: Endpoint, body: &Value) -> LlmCall {
    parse(endpoint, body).unwrap_or_else(|e| panic!("{body} should normalise: {e}"))
}

/// The prose the caller sent, in walk order (ids, enums, media and the model name left
/// out).
pub fn prose(call: &LlmCall) -> Vec<String> {
    let mut seen = Vec::new();
    call.visit_slots(&mut |slot, text| {
        if slot.is_prose() {
            seen.push(text.to_owned())
        }
    });
    seen
}

// ---------------------------------------------------------------------------------------
// Findings

/// (kind, matched original text) of every finding.
pub fn matched<'t>(text: &'t str, findings: &[Finding]) -> Vec<(&'static str, &'t str)> {
    findings
        .iter()
        .map(|f| (f.kind.name(), &text[f.start..f.end]))
        .collect()
}

/// The kind of every finding, in order.
pub fn kinds(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.kind.name()).collect()
}

/// Every printable ASCII character of `text` in its fullwidth form.
pub fn fullwidth(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap(),
            _ => c,
        })
        .collect()
}

/// Work units the detectors spent on `text` (0 in release builds, where the counter is
/// compiled out).
pub fn work(text: &str) -> u64 {
    let before = detect::work_counter();
    std::hint::black_box(detect::scan_text(text));
    detect::work_counter() - before
}

// ---------------------------------------------------------------------------------------
// Output windows

/// `text` cut into pieces of `size` characters (the last one shorter).
pub fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Pushes `pieces` through a window that redacts `redact` and blocks `block`, then
/// finishes it: the text it released, or the kind it blocked.
pub fn through_window<P: AsRef<str>>(
    pieces: &[P],
    redact: KindSet,
    block: KindSet,
) -> Result<String, Kind> {
    let mut window = Window::new(redact, block);
    let mut out = String::new();
    for piece in pieces {
        match window.push(piece.as_ref()) {
            Release::Text(t) => out.push_str(&t),
            Release::Blocked(kind) => return Err(kind),
        }
    }
    match window.finish() {
        Release::Text(t) => out.push_str(&t),
        Release::Blocked(kind) => return Err(kind),
    }
    assert!(window.is_empty(), "a finished window holds nothing");
    Ok(out)
}

/// The whole-text redaction of `kinds` in `text` (the text itself when nothing is found).
pub fn whole_text_redaction(text: &str, kinds: KindSet) -> String {
    detect::redact_kinds(text, kinds).map_or_else(|| text.to_owned(), |(redacted, _)| redacted)
}

// ---------------------------------------------------------------------------------------
// Random

/// A deterministic pseudo-random generator (xorshift), so the tests need no crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

//! Helpers shared by the engine's tests: wire bodies and the prose a call carries,
//! findings as (kind, text) pairs, the detectors' work counter, text streamed through an
//! output window, and property tests (proptest) that run the same natively and on wasm32.

use gateway_engine::detect::{self, Finding, Kind, KindSet};
use gateway_engine::guard::window::{Release, Window};
use gateway_engine::{CallError, Endpoint, LlmCall};
use proptest::collection::vec;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
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

/// `text` cut into pieces of `sizes[0]`, `sizes[1]`, … characters, starting over at the
/// first size when they run out.
pub fn cut_chars(text: &str, sizes: &[usize]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= chars.len() {
            break;
        }
        let end = (at + size).min(chars.len());
        out.push(chars[at..end].iter().collect());
        at = end;
    }
    out
}

/// `bytes` cut into chunks of `sizes[0]`, `sizes[1]`, … bytes (through multi-byte
/// characters), starting over at the first size when they run out.
pub fn cut_bytes<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        out.push(chunk);
        rest = tail;
    }
    out
}

/// One to 64 sizes, each from 1 to a maximum drawn from `1..=max` (so that some cases
/// cut everything small), for `cut_chars` and `cut_bytes`.
pub fn sizes(max: usize) -> impl Strategy<Value = Vec<usize>> {
    (1..=max).prop_flat_map(|max| vec(1..=max, 1..=64))
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
// Property tests

/// Runs `test` on `cases` values drawn from `strategy`, and on failure panics with the
/// smallest failing value proptest shrank it to.
///
/// The seed is fixed, so every run (native and wasm32) checks the same values; set
/// `PROPTEST_RNG_SEED` to draw others, `PROPTEST_CASES` for more or fewer cases. No
/// failure file is written.
pub fn check<S>(cases: u32, strategy: S, test: impl Fn(S::Value))
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x5DEE_CE66_D1CE_4E5B);
    }
    config.failure_persistence = None;
    config.max_shrink_iters = 2048;
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, |value| {
        test(value);
        Ok(())
    }) {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            panic!("{reason}\nminimal failing input: {value:#?}")
        }
        Err(error) => panic!("{error}"),
    }
}

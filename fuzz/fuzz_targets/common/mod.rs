//! Invariants shared by the `pii` and `secrets` targets.

use gateway_engine::detect::{redact, Finding};

/// Checks the documented shape of one detector's findings on `text`: every span is
/// non-empty, inside the text and on character boundaries; the findings are sorted by
/// start and do not overlap; they belong to text 0; and `is_secret` tells PII from
/// secrets. Then checks that `redact` replaces exactly those spans.
pub fn check_findings(text: &str, findings: &[Finding], secrets: bool) {
    let mut previous_end = 0usize;
    for f in findings {
        assert_eq!(f.text, 0, "{f:?}: a single-text scan reports text 0");
        assert_eq!(
            f.kind.is_secret(),
            secrets,
            "{f:?}: wrong detector for the kind"
        );
        assert!(f.start < f.end, "{f:?}: empty or reversed span");
        assert!(
            f.end <= text.len(),
            "{f:?}: span past the end ({})",
            text.len()
        );
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}: span not on character boundaries"
        );
        assert!(
            f.start >= previous_end,
            "{f:?}: not sorted, or overlaps the previous finding (ending at {previous_end})"
        );
        previous_end = f.end;
    }
    check_redact(text, findings);
}

/// With sorted, non-overlapping, in-bounds findings, `redact` must give the text with each
/// span replaced by `[REDACTED:<kind>]` and nothing else changed, whatever the order the
/// findings are passed in.
pub fn check_redact(text: &str, findings: &[Finding]) {
    let mut expected = String::with_capacity(text.len());
    let mut cursor = 0usize;
    for f in findings {
        expected.push_str(&text[cursor..f.start]);
        expected.push_str("[REDACTED:");
        expected.push_str(f.kind.name());
        expected.push(']');
        cursor = f.end;
    }
    expected.push_str(&text[cursor..]);
    assert_eq!(
        redact(text, findings),
        expected,
        "redact({text:?}, {findings:?})"
    );
    let mut reversed = findings.to_vec();
    reversed.reverse();
    assert_eq!(
        redact(text, &reversed),
        expected,
        "redact depends on the order"
    );
}

/// `redact` promises that any `Finding` is safe to pass (spans are clamped and widened to
/// character boundaries): feed it spans made from fuzz bytes, out of bounds, reversed or
/// inside a character included.
pub fn redact_arbitrary_spans(text: &str, seed: &[u8], kind_from: &[Finding]) {
    let Some(template) = kind_from.first().copied().or_else(default_finding) else {
        return;
    };
    let spans: Vec<Finding> = seed
        .chunks_exact(4)
        .take(8)
        .map(|c| {
            let start = usize::from(u16::from_le_bytes([c[0], c[1]]));
            let end = usize::from(u16::from_le_bytes([c[2], c[3]]));
            Finding {
                start,
                end,
                ..template
            }
        })
        .collect();
    let out = redact(text, &spans);
    // The spans as `redact` documents it treats them: clamped, widened to boundaries.
    let widened: Vec<(usize, usize)> = spans
        .iter()
        .map(|f| (floor_boundary(text, f.start), ceil_boundary(text, f.end)))
        .filter(|(start, end)| start < end)
        .collect();
    match (
        widened.iter().map(|w| w.0).min(),
        widened.iter().map(|w| w.1).max(),
    ) {
        (Some(first), Some(last)) => {
            assert!(
                out.starts_with(&text[..first]),
                "text before the spans changed"
            );
            assert!(out.ends_with(&text[last..]), "text after the spans changed");
            assert!(out.contains("[REDACTED:"), "no placeholder");
        }
        _ => assert_eq!(out, text, "redact with only empty spans changed the text"),
    }
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Some finding to use as a template when the detector found nothing.
fn default_finding() -> Option<Finding> {
    gateway_engine::detect::pii::find("mail me at someone@example.com")
        .first()
        .copied()
}

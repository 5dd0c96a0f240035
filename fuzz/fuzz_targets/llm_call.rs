//! `LlmCall::parse` on arbitrary bytes, for every endpoint. Whatever parses must survive
//! everything the gateway does with a call, consistently:
//!
//! * `visit_text`, `LlmCall::scan`: findings point into the visited texts (index in range,
//!   span in bounds, on character boundaries), sorted by (text, start) and
//!   non-overlapping within a text; the call's injection score is at least each prose
//!   text's and its families are the union of theirs; `redact` of each text succeeds;
//! * `estimated_input_tokens` is at least the texts' estimates plus the per-message
//!   overhead, and `largest_input_tokens` is at most the total;
//! * `cap_output_tokens` leaves a cap no larger than asked (embeddings excepted);
//! * `redact(kinds)` (kinds picked from the input) rewrites exactly the texts
//!   `visit_text` sees, in the same order, each as `redact_kinds` would with the kinds
//!   its slot allows (no `high_entropy` in identifiers), and counts
//!   what `find_kinds` finds (so `visit_text_mut` walks like `visit_text`);
//! * `upstream_body` encodes, and the encoded body parses again as the same endpoint with
//!   the upstream model and the same texts, counts, flags, caps and token estimate.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

use gateway_engine::detect::{find_kinds, injection, redact, redact_kinds, Finding, Kind, KindSet};
use gateway_engine::tokens;
use gateway_engine::wire::Slot;
use gateway_engine::{Endpoint, LlmCall};

const UPSTREAM_MODEL: &str = "upstream-model-2025";

fn texts(call: &LlmCall) -> Vec<String> {
    let mut seen = Vec::new();
    call.visit_text(&mut |text| seen.push(text.to_owned()));
    seen
}

/// The scanned strings with what they are, in `visit_text` order.
fn slots(call: &LlmCall) -> Vec<(Slot, String)> {
    let mut seen = Vec::new();
    call.visit_slots(&mut |slot, text| {
        if slot.is_scanned() {
            seen.push((slot, text.to_owned()));
        }
    });
    seen
}

fn check_findings(texts: &[String], findings: &[Finding]) {
    let mut previous: Option<&Finding> = None;
    for f in findings {
        let text = texts
            .get(f.text)
            .unwrap_or_else(|| panic!("{f:?}: text index out of range ({})", texts.len()));
        assert!(f.start < f.end && f.end <= text.len(), "{f:?}: bad span");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}: span not on character boundaries"
        );
        if let Some(p) = previous {
            assert!(
                (p.text, p.start) <= (f.text, f.start),
                "{p:?} then {f:?}: not sorted"
            );
            assert!(p.text != f.text || p.end <= f.start, "{p:?} overlaps {f:?}");
        }
        previous = Some(f);
    }
}

fuzz_target!(|data: &[u8]| {
    let cap = data.iter().map(|&b| u64::from(b)).sum::<u64>() % 4096;
    // Some kinds to redact: every kind when the input's bytes say so, else a subset.
    let mask = data
        .iter()
        .fold(0u32, |h, &b| h.rotate_left(5) ^ u32::from(b));
    let kinds = KindSet::of(
        Kind::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & 0x8000 != 0 || (mask >> i) & 1 == 1)
            .map(|(_, k)| k),
    );
    for endpoint in [
        Endpoint::ChatCompletions,
        Endpoint::Embeddings,
        Endpoint::Messages,
    ] {
        let Ok(mut call) = LlmCall::parse(endpoint, data) else {
            continue;
        };
        assert_eq!(call.endpoint, endpoint);
        assert!(!call.model.trim().is_empty(), "empty model accepted");

        // Texts and detections.
        let seen = texts(&call);
        let detections = call.scan();
        check_findings(&seen, &detections.pii);
        check_findings(&seen, &detections.secrets);
        assert!(detections.injection_score <= 100);
        let mut families: Vec<&str> = Vec::new();
        let scanned = slots(&call);
        for (_, text) in scanned.iter().filter(|(slot, _)| slot.is_prose()) {
            let one = injection::scan(text);
            assert!(
                detections.injection_score >= one.score(),
                "the call scores {} but one of its texts {}",
                detections.injection_score,
                one.score()
            );
            families.extend(one.family_names());
        }
        families.sort_unstable();
        families.dedup();
        assert_eq!(
            detections.injection_families, families,
            "families are not the union"
        );
        for (i, text) in seen.iter().enumerate() {
            let _ = redact(text, &detections.findings_in(i));
        }

        // Token estimates.
        let estimated = call.estimated_input_tokens();
        let floor = seen
            .iter()
            .fold(0u64, |sum, text| sum.saturating_add(tokens::estimate(text)))
            .saturating_add(
                call.message_count
                    .saturating_mul(tokens::PER_MESSAGE_OVERHEAD),
            );
        assert!(
            estimated >= floor,
            "estimate {estimated} below texts + overhead {floor}"
        );
        let (_, largest) = call.input_token_estimates();
        assert!(
            largest <= estimated,
            "largest input {largest} > total {estimated}"
        );

        // Output cap.
        let asked = call.max_output_tokens;
        let changed = call.cap_output_tokens(cap);
        match endpoint {
            Endpoint::Embeddings => {
                assert!(!changed);
                assert_eq!(call.max_output_tokens, asked);
            }
            _ => {
                assert!(
                    call.max_output_tokens.is_some_and(|m| m <= cap),
                    "cap not applied"
                );
                assert_eq!(changed, asked != call.max_output_tokens);
            }
        }

        // Redaction walks the same texts in the same order.
        let mut redacted = call.clone();
        let counts = redacted.redact(kinds);
        let mut want_counts: BTreeMap<&'static str, u32> = BTreeMap::new();
        let want_texts: Vec<String> = scanned
            .iter()
            .map(|(slot, text)| {
                let kinds = slot.detectable(kinds);
                for f in find_kinds(text, kinds) {
                    assert!(
                        kinds.contains(f.kind),
                        "{f:?} not among {:?}",
                        kinds.names()
                    );
                    *want_counts.entry(f.kind.name()).or_insert(0) += 1;
                }
                redact_kinds(text, kinds).map_or_else(|| text.clone(), |(r, _)| r)
            })
            .collect();
        assert_eq!(texts(&redacted), want_texts, "redact rewrote other texts");
        assert_eq!(counts, want_counts, "redact counted other findings");

        // The forwarded body.
        let body = call
            .upstream_body(UPSTREAM_MODEL)
            .unwrap_or_else(|e| panic!("upstream_body failed: {e}"));
        let again = LlmCall::parse(endpoint, &body)
            .unwrap_or_else(|e| panic!("the forwarded body no longer parses: {e}"));
        assert_eq!(again.model, UPSTREAM_MODEL);
        assert_eq!(again.stream, call.stream);
        assert_eq!(again.max_output_tokens, call.max_output_tokens);
        assert_eq!(again.tools_present, call.tools_present);
        assert_eq!(again.message_count, call.message_count);
        assert_eq!(texts(&again), seen, "the forwarded body's texts differ");
        assert_eq!(again.estimated_input_tokens(), estimated);
    }
});

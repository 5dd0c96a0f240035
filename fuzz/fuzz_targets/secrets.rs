//! `secrets::find` on arbitrary text: spans in bounds, on character boundaries, sorted and
//! non-overlapping; `scan_text` agrees; `redact` replaces exactly the spans and survives
//! arbitrary spans.

#![no_main]

mod common;

use gateway_engine::detect::{scan_text, secrets};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let findings = secrets::find(&text);
    common::check_findings(&text, &findings, true);
    assert_eq!(secrets::find(&text), findings, "not deterministic");
    assert_eq!(
        scan_text(&text).secrets,
        findings,
        "scan_text disagrees with secrets::find"
    );
    common::redact_arbitrary_spans(&text, data, &findings);
});

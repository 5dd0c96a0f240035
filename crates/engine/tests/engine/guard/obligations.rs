//! A decision's obligations merged into the output guard.

use gateway_engine::detect::KindSet;
use gateway_engine::guard::OutputGuard;
use gateway_policy::obligations::{self, Obligation};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn merged_obligations_unite_kinds_and_blocking_beats_redacting() {
    let kinds = |list: &str| KindSet::parse(list).unwrap();
    let merged = obligations::merge([
        Obligation::CapOutputTokens { max: 900 },
        Obligation::RedactOutput {
            kinds: kinds("email,phone"),
        },
        Obligation::BlockOutput {
            kinds: kinds("email"),
        },
        Obligation::RedactInput {
            kinds: kinds("iban"),
        },
        Obligation::RedactInput {
            kinds: kinds("phone"),
        },
        Obligation::CapOutputTokens { max: 300 },
    ]);
    assert_eq!(
        serde_json::to_value(&merged).unwrap(),
        json!([
            { "kind": "cap_output_tokens", "max": 300 },
            { "kind": "redact_input", "kinds": ["iban", "phone"] },
            { "kind": "redact_output", "kinds": ["phone"] },
            { "kind": "block_output", "kinds": ["email"] }
        ])
    );
    let guard = OutputGuard::from_obligations(&merged);
    assert!(guard.is_active());
    assert_eq!(
        (guard.redact, guard.block),
        (kinds("phone"), kinds("email"))
    );
    assert!(!OutputGuard::from_obligations(&merged[..2]).is_active());
}

//! Broken model catalogs: unknown providers, no models, negative prices, blank names,
//! unknown fields, and models that do not fit the schema.

use super::{catalog_with_model, load_catalog, load_with_schema_edit, model_entry};
use gateway_policy::bundle::BundleError;
use gateway_policy::catalog::CatalogError;
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The error a catalog of one model, `model_entry()` changed by `edit`, is refused with.
fn entry_error(edit: impl FnOnce(&mut Value)) -> BundleError {
    let mut entry = model_entry();
    edit(&mut entry);
    load_catalog(&catalog_with_model(entry)).expect_err("the catalog should be refused")
}

/// The message of a catalog the JSON reader refused.
fn json_error(error: BundleError) -> String {
    match error {
        BundleError::Catalog(CatalogError::Json(e)) => e.to_string(),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn a_catalog_with_an_unknown_provider_is_refused() {
    let message = json_error(entry_error(|e| e["provider"] = json!("google")));
    assert!(message.contains("unknown variant `google`"), "{message}");
}

#[test]
fn an_empty_catalog_is_refused() {
    let error = load_catalog(r#"{ "models": {} }"#).unwrap_err();
    assert!(
        matches!(error, BundleError::Catalog(CatalogError::Empty)),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "model catalog lists no models");
}

#[test]
fn a_negative_price_is_refused() {
    for (side, price) in [("input", -0.15), ("output", -1.0)] {
        match entry_error(|e| e["usd_per_million_tokens"][side] = json!(price)) {
            BundleError::Catalog(CatalogError::BadPrice { model }) => {
                assert_eq!(model, "gpt-4o-mini")
            }
            other => panic!("{side}: {other:?}"),
        }
    }
}

#[test]
fn other_catalog_mistakes_are_refused() {
    assert!(matches!(
        entry_error(|e| e["upstream_model"] = json!(" ")),
        BundleError::Catalog(CatalogError::EmptyName(m)) if m == "gpt-4o-mini"
    ));

    let blank_id = json!({ "models": { "": model_entry() } }).to_string();
    assert!(matches!(
        load_catalog(&blank_id),
        Err(BundleError::Catalog(CatalogError::EmptyName(m))) if m.is_empty()
    ));

    let message = json_error(entry_error(|e| e["contex_window"] = json!(1)));
    assert!(
        message.contains("unknown field `contex_window`"),
        "{message}"
    );
    json_error(entry_error(|e| e["kind"] = json!("completion")));
    json_error(entry_error(|e| e["context_window"] = json!(-1)));
}

#[test]
fn catalog_models_that_do_not_fit_the_schema_are_refused() {
    // A schema whose models lack `premium`: the catalog's entities no longer fit it.
    match load_with_schema_edit("premium: Bool,", "") {
        Err(BundleError::CatalogEntity { model, message }) => {
            // Each model is checked on its own: the first (by id) is named, with the cause.
            assert_eq!(model, "claude-3-5-haiku");
            assert!(message.contains("premium"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

//! The embedded bundle is named by its content hash, which ignores file order but not
//! content.

use crate::support::is_lower_hex;
use gateway_policy::bundle::{BundleSource, PolicyBundle, Validation};
use llm_policy_gateway::embedded;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn the_embedded_bundle_is_named_by_its_content_hash() {
    assert!(
        is_lower_hex(embedded::CONTENT_HASH, 64),
        "{}",
        embedded::CONTENT_HASH
    );
    let bundle = embedded::load().unwrap();
    assert_eq!(bundle.content_hash(), embedded::CONTENT_HASH);
    assert_eq!(
        bundle.version(),
        format!("sha256:{}", &embedded::CONTENT_HASH[..16])
    );

    let strict = PolicyBundle::load(&embedded::source(), Validation::Strict)
        .expect("the embedded set validates strictly at run time too");
    assert_eq!(strict.content_hash(), embedded::CONTENT_HASH);

    // One policy per `@id` annotation in the source files.
    let source = embedded::source();
    let annotated: usize = source
        .policy_files
        .iter()
        .map(|f| f.text.matches("@id(").count())
        .sum();
    assert_eq!(strict.policy_count(), annotated);
    assert_eq!(bundle.policy_count(), annotated);
}

#[test]
fn the_content_hash_ignores_file_order_but_not_content() {
    let source = embedded::source();
    assert!(
        source.policy_files.len() >= 2,
        "the embedded set has several files"
    );
    let hash = |source: &BundleSource<'_>| {
        PolicyBundle::load(source, Validation::Strict)
            .unwrap()
            .content_hash()
            .to_owned()
    };

    let mut reversed = source.clone();
    reversed.policy_files.reverse();
    assert_eq!(hash(&reversed), embedded::CONTENT_HASH);

    let edited_text = format!("{}\n", source.policy_files[0].text);
    let mut edited = source.clone();
    edited.policy_files[0].text = &edited_text;
    assert_ne!(hash(&edited), embedded::CONTENT_HASH);

    let mut renamed = source.clone();
    renamed.policy_files[0].name = "policies/renamed.cedar";
    assert_ne!(hash(&renamed), embedded::CONTENT_HASH);

    let catalog = format!("{} ", source.catalog);
    let mut recatalogued = source.clone();
    recatalogued.catalog = &catalog;
    assert_ne!(hash(&recatalogued), embedded::CONTENT_HASH);
}

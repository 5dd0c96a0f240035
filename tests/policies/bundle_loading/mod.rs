//! Loading a bundle: the embedded bundle's identity, and the error a load reports for
//! each kind of broken source (policies, catalog, schema).

mod catalog_errors;
mod identity;
mod limits_errors;
mod policy_errors;
mod schema_errors;

use gateway_policy::bundle::{BundleError, BundleSource, PolicyBundle, PolicyFile, Validation};
use llm_policy_gateway::embedded;
use serde_json::{json, Value};

const GOOD_POLICY: &str = r#"
@id("platform-all")
@reason("the platform team may use every model")
permit (principal in Llm::Team::"platform", action, resource);
"#;

/// A loaded bundle that prints as a one-line summary when a test expected an error.
struct Loaded(PolicyBundle);

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .0
            .policies()
            .policies()
            .map(|p| format!("{:?}", p.id().to_string()))
            .collect();
        write!(
            f,
            "a bundle with policies [{}] and {} models",
            ids.join(", "),
            self.0.catalog().models.len()
        )
    }
}

fn load_strict(source: &BundleSource<'_>) -> Result<Loaded, BundleError> {
    PolicyBundle::load(source, Validation::Strict).map(Loaded)
}

/// The embedded schema and catalog with `files` as the policies.
fn source_with_policies<'a>(files: &[(&'a str, &'a str)]) -> BundleSource<'a> {
    let source = embedded::source();
    BundleSource {
        schema: source.schema,
        policy_files: files
            .iter()
            .map(|&(name, text)| PolicyFile { name, text })
            .collect(),
        catalog: source.catalog,
        limits: source.limits,
    }
}

fn load_policies(files: &[(&str, &str)]) -> Result<Loaded, BundleError> {
    load_strict(&source_with_policies(files))
}

fn load_catalog(catalog: &str) -> Result<Loaded, BundleError> {
    let source = BundleSource {
        catalog,
        ..embedded::source()
    };
    load_strict(&source)
}

/// Loads one good policy with the embedded catalog and the embedded schema, `from` replaced
/// by `to`.
fn load_with_schema_edit(from: &str, to: &str) -> Result<Loaded, BundleError> {
    let embedded = embedded::source();
    let schema = embedded.schema.replace(from, to);
    assert_ne!(schema, embedded.schema, "the schema declares `{from}`");
    load_strict(&BundleSource {
        schema: &schema,
        ..source_with_policies(&[("policies/a.cedar", GOOD_POLICY)])
    })
}

fn catalog_with_model(entry: Value) -> String {
    json!({ "models": { "gpt-4o-mini": entry } }).to_string()
}

fn model_entry() -> Value {
    json!({
        "provider": "openai",
        "upstream_model": "gpt-4o-mini-2024-07-18",
        "kind": "chat",
        "premium": false,
        "context_window": 128000,
        "max_output_tokens": 16384,
        "usd_per_million_tokens": { "input": 0.15, "output": 0.6 }
    })
}

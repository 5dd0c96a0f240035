//! The policy set `build.rs` validated and embedded in the binary.

use super::bundle::{BundleError, BundleSource, PolicyBundle, PolicyFile, Validation};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));
}

/// Hex SHA-256 of the embedded source, computed by `build.rs`.
pub const CONTENT_HASH: &str = generated::CONTENT_HASH;

pub fn source() -> BundleSource<'static> {
    BundleSource {
        schema: generated::SCHEMA,
        policy_files: generated::POLICY_FILES
            .iter()
            .map(|&(name, text)| PolicyFile { name, text })
            .collect(),
        catalog: generated::CATALOG,
    }
}

/// Parses the embedded set. `build.rs` already validated it against the schema, so the
/// validator does not run again; callers keep the result for the isolate's lifetime.
pub fn load() -> Result<PolicyBundle, BundleError> {
    PolicyBundle::load(&source(), Validation::AlreadyValidated)
}

//! What `build.rs` validated and compiled in: the policy set, as a version-0 bundle that
//! loads through the same code as a bundle from KV, and the keys trusted to sign bundles.

use gateway_policy::bundle::{BundleError, BundleSource, PolicyBundle, Validation};
use gateway_policy::signed::{KeyError, SignedBundle, TrustedKeys};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_policies.rs"));
}

/// Hex SHA-256 of the embedded source, computed by `build.rs`.
pub const CONTENT_HASH: &str = generated::CONTENT_HASH;
/// The embedded set's bundle version: any published bundle (version 1 or more) is newer.
pub const VERSION: u64 = 0;
/// The embedded bundle's `created_at`: it has no publish time of its own.
pub const CREATED_AT: &str = "embedded";
/// The trusted keys file this build embedded (for the status endpoint).
pub const TRUSTED_KEYS_FILE: &str = generated::TRUSTED_KEYS_FILE;

pub fn source() -> BundleSource<'static> {
    BundleSource::new(
        generated::SCHEMA,
        generated::CATALOG,
        generated::POLICY_FILES.iter().copied(),
    )
    .with_limits(generated::LIMITS)
}

/// The embedded set as a (built-in, unsigned) bundle.
pub fn bundle() -> SignedBundle {
    SignedBundle::from_source(&source(), VERSION, CREATED_AT)
}

/// Parses the embedded set. `build.rs` already validated it against the schema, so the
/// validator does not run again.
pub fn load() -> Result<PolicyBundle, BundleError> {
    PolicyBundle::load(&source(), Validation::AlreadyValidated)
}

/// The public keys that may sign run-time bundles.
pub fn trusted_keys() -> Result<TrustedKeys, KeyError> {
    TrustedKeys::from_json(generated::TRUSTED_KEYS)
}

//! Policies from a bundle file, and how its errors are shown (Cedar's diagnostics,
//! rendered by miette as the build renders them). A source directory is
//! `gateway_policy::dir::PolicyDir`.

use std::path::Path;

use gateway_policy::bundle::{content_hash, BundleError, PolicyBundle, Validation};
use gateway_policy::signed::{SignedBundle, DEFAULT_MAX_BUNDLE_BYTES};

use crate::files::read_bytes;

/// Reads and parses a bundle file (size cap, JSON, format), without checking anything
/// else.
pub fn read_bundle(path: &Path) -> Result<SignedBundle, String> {
    let bytes = read_bytes(path)?;
    SignedBundle::parse(&bytes, DEFAULT_MAX_BUNDLE_BYTES)
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Checks a bundle's content hash and loads its policies (validating them unless told
/// otherwise), without looking at its signature. The error is the whole message.
pub fn load_bundle(
    path: &Path,
    bundle: &SignedBundle,
    validation: Validation,
) -> Result<PolicyBundle, String> {
    let source = bundle.source();
    if content_hash(&source) != bundle.content_hash {
        return Err(format!(
            "`{}`: bundle content hash does not match its content",
            path.display()
        ));
    }
    PolicyBundle::load(&source, validation).map_err(|e| {
        format!(
            "`{}` does not load\n\n{}",
            path.display(),
            report_in_bundle(path, &e)
        )
    })
}

/// A bundle's load error, naming the bundle and the part of it at fault.
pub fn report_in_bundle(path: &Path, error: &BundleError) -> String {
    let bundle = path.display().to_string();
    gateway_policy::diagnostics::report(
        error,
        &format!("{bundle} (schema)"),
        &format!("{bundle} (catalog)"),
        &format!("{bundle} (limits)"),
        &|name: &str| format!("{bundle} ({name})"),
    )
}

//! The policy layer of the gateway: what a policy bundle is and how it is checked.
//!
//! The Cedar schema and policies, the model catalog, budgets and rate limits, the detector kinds policies can
//! name, obligations, principals, the request context, policy slicing, and signed,
//! versioned bundles. `build.rs` (embedding the policy set), the worker and the `policy`
//! CLI all load bundles through this crate, so the build refuses exactly what the runtime
//! would refuse. It depends on neither the worker runtime nor the detectors.

pub mod bundle;
pub mod catalog;
pub mod context;
#[cfg(feature = "report")]
pub mod diagnostics;
pub mod dir;
pub mod kind;
pub mod limits;
pub mod memo;
pub mod obligations;
pub mod principal;
pub mod signed;
pub mod slice;

pub use bundle::{BundleError, PolicyBundle};
pub use principal::{Principal, Tier};

//! The portable engine: everything that decides. It imports nothing from `worker`, so it
//! runs natively (tests, benches, fuzzers) and in any wasm host.

pub mod bundle;
pub mod call;
pub mod cases;
pub mod catalog;
pub mod context;
pub mod decision;
pub mod detect;
pub mod embedded;
pub mod guard;
pub mod keys;
pub mod memo;
pub mod obligations;
pub mod principal;
pub mod signed;
pub mod slice;
pub mod tokens;
pub mod wire;

pub use bundle::{BundleError, PolicyBundle};
pub use call::{CallError, Endpoint, LlmCall};
pub use decision::{Decision, RequestFacts, Route, RouteError, Verdict};
pub use principal::{Principal, Tier};

//! The embedded policy set and the decisions it makes, natively (`cargo test`) and on
//! wasm32 under node (`wasm-pack test --node`): one test crate, one module a subject.

// Tests may unwrap, panic and index: the no-panic wall is for library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bundle_loading;
mod cases;
mod decisions;
mod signed_bundles;
mod slicing;
mod support;

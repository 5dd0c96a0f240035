//! The engine's behaviour through its public API, natively (`cargo test`) and on wasm32
//! under node (`wasm-pack test --node crates/engine`): one test crate, one module a
//! subject.

// Tests may unwrap, panic and index: the no-panic wall is for library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod budget;
mod call;
mod confusables;
mod detectors;
mod guard;
mod mediation;
mod support;

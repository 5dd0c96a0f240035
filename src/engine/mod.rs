//! The portable engine: everything that decides. It imports nothing from `worker`, so it
//! runs natively (tests, benches, fuzzers) and in any wasm host.

pub mod bundle;
pub mod catalog;
pub mod embedded;

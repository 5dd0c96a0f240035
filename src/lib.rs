//! An edge policy gateway for LLM traffic.
//!
//! `engine` decides (normalisation, Cedar evaluation, policy bundles) and runs anywhere;
//! `edge` is the Cloudflare Worker that turns HTTP, KV, secrets and fetch into engine
//! calls, compiled only for wasm32.

pub mod engine;

#[cfg(target_arch = "wasm32")]
mod edge;

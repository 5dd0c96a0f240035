//! An edge policy gateway for LLM traffic: the Cloudflare Worker.
//!
//! The deciding happens in the portable crates (`gateway-policy`: bundles, schema,
//! obligations, signing; `gateway-engine`: normalisation, detectors, Cedar decisions, the
//! output guard). This crate holds what is the worker's own: the policy set `build.rs`
//! validated and compiled in (`embedded`), and `edge`, which turns HTTP, KV, secrets and
//! fetch into engine calls, compiled only for wasm32.

pub mod embedded;

#[cfg(target_arch = "wasm32")]
mod edge;

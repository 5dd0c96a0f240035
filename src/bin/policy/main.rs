//! `policy`: the operator's command line for the gateway's Cedar policies.
//!
//! It validates and tests the policy source, builds, signs and verifies versioned policy
//! bundles, compares them, and publishes, pins and unpins them in the `POLICY_KV`
//! namespace through wrangler. It runs natively only; the wasm32 build (which compiles
//! every bin target when the engine's tests run under wasm-pack) gets an empty `main`.

#[cfg(not(target_arch = "wasm32"))]
mod args;
#[cfg(not(target_arch = "wasm32"))]
#[path = "../../diagnostics.rs"]
mod diagnostics;
#[cfg(not(target_arch = "wasm32"))]
use llm_policy_gateway::engine::bundle::BundleError;
#[cfg(not(target_arch = "wasm32"))]
mod commands;
#[cfg(not(target_arch = "wasm32"))]
mod diff;
#[cfg(not(target_arch = "wasm32"))]
mod files;
#[cfg(not(target_arch = "wasm32"))]
mod kv;
#[cfg(not(target_arch = "wasm32"))]
mod source;
#[cfg(not(target_arch = "wasm32"))]
mod time;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser as _;

    let cli = args::Cli::parse();
    commands::run(cli.command)
}

#[cfg(target_arch = "wasm32")]
fn main() {}

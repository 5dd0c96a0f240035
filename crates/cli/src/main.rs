//! `policy`: the operator's command line for the gateway's Cedar policies.
//!
//! It validates and tests the policy source, builds, signs and verifies versioned policy
//! bundles, compares them, and publishes, pins and unpins them in the `POLICY_KV`
//! namespace through wrangler.

mod args;
mod commands;
mod diff;
mod files;
mod kv;
mod source;
mod time;

fn main() -> std::process::ExitCode {
    use clap::Parser as _;

    let cli = args::Cli::parse();
    commands::run(cli.command)
}

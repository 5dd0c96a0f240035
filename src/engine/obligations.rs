//! Obligations: what a permit requires of an allowed call, written as policy annotations.
//!
//! `@obligation_cap_output_tokens("512")` on a permit caps the output tokens the call may
//! ask for: the forwarded request's `max_tokens` (or `max_completion_tokens`) is lowered
//! to it, or set when the caller left it out. When several deciding permits carry caps,
//! the smallest wins. Any other `@obligation_*` annotation, a cap on a forbid, or a cap
//! that is not a positive integer fails the bundle (and so the build).
//!
//! Shared with `build.rs` (included by path): it depends only on cedar-policy and serde.

use cedar_policy::{Effect, Policy};
use serde::Serialize;

pub const PREFIX: &str = "obligation_";
pub const CAP_OUTPUT_TOKENS: &str = "obligation_cap_output_tokens";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obligation {
    CapOutputTokens { max: u64 },
}

/// The obligations a policy's annotations declare, or why they are invalid.
pub fn of_policy(policy: &Policy) -> Result<Vec<Obligation>, String> {
    let mut found = Vec::new();
    for (key, value) in policy.annotations() {
        if !key.starts_with(PREFIX) {
            continue;
        }
        if policy.effect() != Effect::Permit {
            return Err(format!("`@{key}` is only meaningful on a permit"));
        }
        match key {
            CAP_OUTPUT_TOKENS => match value.trim().parse::<u64>() {
                Ok(max) if max > 0 => found.push(Obligation::CapOutputTokens { max }),
                _ => return Err(format!("`@{key}(\"{value}\")` needs a positive integer")),
            },
            _ => return Err(format!("unknown obligation `@{key}`")),
        }
    }
    Ok(found)
}

/// Merges the obligations of every deciding permit: the smallest cap wins.
pub fn merge(all: impl IntoIterator<Item = Obligation>) -> Vec<Obligation> {
    let cap = all
        .into_iter()
        .map(|Obligation::CapOutputTokens { max }| max)
        .min();
    cap.map(|max| Obligation::CapOutputTokens { max })
        .into_iter()
        .collect()
}

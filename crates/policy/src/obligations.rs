//! Obligations: what a permit requires of an allowed call, written as policy annotations.
//!
//! | annotation on a permit | what the gateway does |
//! | --- | --- |
//! | `@obligation_cap_output_tokens("512")` | lowers (or sets) the forwarded `max_tokens` / `max_completion_tokens` |
//! | `@obligation_redact_input("email,phone")` | replaces those findings in every text the caller sent with `[REDACTED:<kind>]` before forwarding |
//! | `@obligation_redact_output("pii")` | redacts those findings in the provider's answer, streamed or not |
//! | `@obligation_block_output("secrets")` | replaces an answer carrying one of them with an error (a streamed answer ends with an error event) |
//!
//! Kind lists are comma-separated detector kinds (`email`, `credit_card`, `openai_key`,
//! …), or `pii` / `secrets` for a whole group. When several deciding permits carry
//! obligations they merge: the smallest cap wins, kind sets unite, and a kind both
//! redacted and blocked in the answer is blocked. Any other `@obligation_*` annotation,
//! an obligation on a forbid, a cap that is not a positive integer, or an unknown or empty
//! kind list fails the bundle (and so the build).

use cedar_policy::{Effect, Policy};
use serde::Serialize;

use crate::kind::KindSet;

pub const PREFIX: &str = "obligation_";
pub const CAP_OUTPUT_TOKENS: &str = "obligation_cap_output_tokens";
pub const REDACT_INPUT: &str = "obligation_redact_input";
pub const REDACT_OUTPUT: &str = "obligation_redact_output";
pub const BLOCK_OUTPUT: &str = "obligation_block_output";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obligation {
    CapOutputTokens { max: u64 },
    RedactInput { kinds: KindSet },
    RedactOutput { kinds: KindSet },
    BlockOutput { kinds: KindSet },
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
        let kinds = || match KindSet::parse(value) {
            Ok(kinds) if !kinds.is_empty() => Ok(kinds),
            Ok(_) => Err(format!("`@{key}(\"{value}\")` needs at least one kind")),
            Err(why) => Err(format!("`@{key}(\"{value}\")`: {why}")),
        };
        found.push(match key {
            CAP_OUTPUT_TOKENS => match value.trim().parse::<u64>() {
                Ok(max) if max > 0 => Obligation::CapOutputTokens { max },
                _ => return Err(format!("`@{key}(\"{value}\")` needs a positive integer")),
            },
            REDACT_INPUT => Obligation::RedactInput { kinds: kinds()? },
            REDACT_OUTPUT => Obligation::RedactOutput { kinds: kinds()? },
            BLOCK_OUTPUT => Obligation::BlockOutput { kinds: kinds()? },
            _ => return Err(format!("unknown obligation `@{key}`")),
        });
    }
    Ok(found)
}

/// The merged obligations of every deciding permit, at most one of each kind, in a
/// fixed order.
pub fn merge(all: impl IntoIterator<Item = Obligation>) -> Vec<Obligation> {
    let mut cap: Option<u64> = None;
    let (mut redact_input, mut redact_output, mut block_output) =
        (KindSet::EMPTY, KindSet::EMPTY, KindSet::EMPTY);
    for obligation in all {
        match obligation {
            Obligation::CapOutputTokens { max } => cap = Some(cap.map_or(max, |c| c.min(max))),
            Obligation::RedactInput { kinds } => redact_input = redact_input.union(kinds),
            Obligation::RedactOutput { kinds } => redact_output = redact_output.union(kinds),
            Obligation::BlockOutput { kinds } => block_output = block_output.union(kinds),
        }
    }
    // Blocking an answer is stricter than redacting it.
    let redact_output = redact_output.difference(block_output);
    let mut merged: Vec<Obligation> = cap
        .map(|max| Obligation::CapOutputTokens { max })
        .into_iter()
        .collect();
    let sets = [
        (
            redact_input,
            Obligation::RedactInput {
                kinds: redact_input,
            },
        ),
        (
            redact_output,
            Obligation::RedactOutput {
                kinds: redact_output,
            },
        ),
        (
            block_output,
            Obligation::BlockOutput {
                kinds: block_output,
            },
        ),
    ];
    merged.extend(
        sets.into_iter()
            .filter(|(kinds, _)| !kinds.is_empty())
            .map(|(_, obligation)| obligation),
    );
    merged
}

/// What the answer must be checked for: (kinds to redact, kinds to block).
pub fn output_guard(obligations: &[Obligation]) -> (KindSet, KindSet) {
    obligations.iter().fold(
        (KindSet::EMPTY, KindSet::EMPTY),
        |(redact, block), o| match *o {
            Obligation::RedactOutput { kinds } => (redact.union(kinds), block),
            Obligation::BlockOutput { kinds } => (redact, block.union(kinds)),
            _ => (redact, block),
        },
    )
}

//! Metering calls against budgets and rate limits: what a call may cost at most (reserved
//! before it is forwarded), what it did cost (settled from the provider's usage), the
//! ledger a budget object keeps, and UTC windows.

pub mod lease;
pub mod ledger;
pub mod meter;
pub mod window;

use serde_json::Value;

use gateway_policy::catalog::{ModelInfo, Prices, Provider};
use gateway_policy::limits::MAX_COUNT;

use crate::call::{Endpoint, LlmCall};
use crate::tokens;
use crate::wire::Slot;

pub use ledger::{Amount, Dimension, LimitLine, LimitState, Operation, Outcome, Refusal};
pub use meter::StreamMeter;

/// Tokens a call used, as the provider reported or the gateway counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    /// What the usage counts against a limit: one request, its tokens, and its cost at
    /// the model's prices (rounded up to the micro-dollar).
    pub fn amount(self, prices: &Prices) -> Amount {
        Amount {
            requests: 1,
            tokens: self
                .input_tokens
                .saturating_add(self.output_tokens)
                .min(MAX_COUNT),
            micro_usd: cost_micro_usd(prices, self.input_tokens, self.output_tokens),
        }
    }
}

/// Prices are USD per million tokens, so tokens × price is micro-USD.
pub fn cost_micro_usd(prices: &Prices, input_tokens: u64, output_tokens: u64) -> u64 {
    let cost = input_tokens as f64 * prices.input + output_tokens as f64 * prices.output;
    // `as` saturates (and maps NaN to 0; catalog prices are finite and non-negative).
    (cost.ceil() as u64).min(MAX_COUNT)
}

/// The most a call can use: an upper bound on its input tokens and every choice's whole
/// output limit.
pub fn worst_case(call: &LlmCall, model: &ModelInfo) -> Usage {
    Usage {
        input_tokens: input_token_bound(call, model),
        output_tokens: call.worst_case_output_tokens(u64::from(model.max_output_tokens)),
    }
}

/// An upper bound on the input tokens the provider can bill, not an estimate: a token is
/// at least one byte of text in every byte-level tokenizer, so text counts a token per
/// byte; media count the most a provider charges for them; chat prompts cannot exceed the
/// model's context window (the provider refuses them).
pub fn input_token_bound(call: &LlmCall, model: &ModelInfo) -> u64 {
    let mut total = call.pretokenized_inputs();
    call.visit_slots(&mut |slot, text| {
        let bound = match slot {
            Slot::Prose | Slot::Identifier | Slot::Opaque => text.len() as u64,
            Slot::Binary(_) | Slot::Reference(_) => tokens::of_slot(slot, text),
        };
        total = total.saturating_add(bound);
    });
    let total = total.saturating_add(
        call.message_count
            .saturating_mul(tokens::PER_MESSAGE_OVERHEAD),
    );
    match call.endpoint {
        Endpoint::Embeddings => total,
        Endpoint::ChatCompletions | Endpoint::Messages => {
            total.min(u64::from(model.context_window))
        }
    }
}

/// The usage a whole (not streamed) answer reports, if it reports any.
pub fn usage_of_answer(provider: Provider, body: &[u8]) -> Option<Usage> {
    let answer: Value = serde_json::from_slice(body).ok()?;
    let usage = answer.get("usage")?;
    match provider {
        Provider::Openai => Some(Usage {
            input_tokens: count(usage, "prompt_tokens")?,
            output_tokens: count(usage, "completion_tokens").unwrap_or(0),
        }),
        Provider::Anthropic => Some(Usage {
            input_tokens: anthropic_input_tokens(usage)?,
            output_tokens: count(usage, "output_tokens")?,
        }),
    }
}

fn count(usage: &Value, field: &str) -> Option<u64> {
    usage.get(field)?.as_u64()
}

/// Anthropic counts cached prompt reads and writes apart from `input_tokens`; all are
/// input the call sent.
fn anthropic_input_tokens(usage: &Value) -> Option<u64> {
    let fresh = count(usage, "input_tokens")?;
    let cache_write = count(usage, "cache_creation_input_tokens").unwrap_or(0);
    let cache_read = count(usage, "cache_read_input_tokens").unwrap_or(0);
    Some(fresh.saturating_add(cache_write).saturating_add(cache_read))
}

//! Normalisation of SDK wire bodies into `LlmCall`: OpenAI chat completions and
//! embeddings, Anthropic messages, the texts a guard would scan, token estimates, the
//! body forwarded upstream, and refusals of malformed input.

mod anthropic;
mod embeddings;
mod endpoints;
mod hostile_bodies;
mod openai_chat;
mod upstream;

use crate::support::parse;
use gateway_engine::tokens;
use gateway_engine::wire::Slot;
use gateway_engine::{CallError, Endpoint, LlmCall};
use serde_json::Value;

fn parse_err(endpoint: Endpoint, body: &Value) -> CallError {
    match parse(endpoint, body) {
        Ok(call) => panic!("{body} should be refused, normalised to {call:?}"),
        Err(e) => e,
    }
}

/// `body` with the fields of `extra` added (or replaced).
fn with_fields(mut body: Value, extra: Value) -> Value {
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// Tokens of the ids and enums the caller sent (roles, block types, formats): they are
/// counted like text.
fn ids(call: &LlmCall) -> u64 {
    let mut total = 0;
    call.visit_slots(&mut |slot, text| {
        if slot == Slot::Identifier {
            total += tokens::estimate(text)
        }
    });
    total
}

fn invalid(field: &'static str, expected: &'static str) -> CallError {
    CallError::Invalid { field, expected }
}

const MESSAGES_EXPECTED: &str = "a non-empty array of messages, each with a string `role`";
const INPUT_EXPECTED: &str = "a string, an array of strings, or token arrays";
const COUNT_EXPECTED: &str = "a non-negative integer";

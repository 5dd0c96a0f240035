//! A whole (non-streamed) JSON answer checked at once.

use serde_json::Value;

use super::{GuardReport, OutputGuard};
use crate::engine::catalog::Provider;
use crate::engine::detect;

/// What to send the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Nothing to change: relay the provider's bytes as they are.
    Unchanged,
    /// The answer with findings redacted (and log probabilities dropped).
    Rewritten(Vec<u8>),
    /// The answer carries a blocked kind: answer with an error instead.
    Blocked,
}

/// Checks a successful answer of `provider`'s chat format (OpenAI chat completion or
/// Anthropic message). Bytes that are not a JSON object are relayed unchanged: there is
/// no model text in them to find.
pub fn check(guard: &OutputGuard, provider: Provider, bytes: &[u8]) -> (Checked, GuardReport) {
    let mut report = GuardReport::default();
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(bytes) else {
        return (Checked::Unchanged, report);
    };
    let kinds = guard.redact.union(guard.block);
    let mut changed = false;
    let mut dropped = false;
    let mut visit = |text: &mut String| {
        if report.blocked.is_some() {
            return;
        }
        let found = detect::find_kinds(text, kinds);
        if let Some(f) = found.iter().find(|f| guard.block.contains(f.kind)) {
            report.blocked = Some(f.kind);
            return;
        }
        if !found.is_empty() {
            for f in &found {
                *report.redacted.entry(f.kind.name()).or_insert(0) += 1;
            }
            *text = detect::redact(text, &found);
            changed = true;
        }
    };
    match provider {
        Provider::Openai => {
            for choice in items_mut(answer.get_mut("choices")) {
                if let Some(message) = choice.get_mut("message") {
                    visit_openai_message(message, &mut visit);
                }
                dropped |= drop_logprobs(choice);
            }
        }
        Provider::Anthropic => {
            for block in items_mut(answer.get_mut("content")) {
                visit_anthropic_block(block, &mut visit);
            }
        }
    }
    if report.blocked.is_some() {
        return (Checked::Blocked, report);
    }
    if !(changed || dropped) {
        return (Checked::Unchanged, report);
    }
    match serde_json::to_vec(&answer) {
        Ok(bytes) => (Checked::Rewritten(bytes), report),
        // Unreachable for a map that just parsed; refusing is the safe answer anyway.
        Err(_) => (Checked::Blocked, report),
    }
}

pub(crate) fn items_mut(value: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    value.and_then(Value::as_array_mut).into_iter().flatten()
}

/// An OpenAI message (or delta): content, refusal, tool-call arguments.
pub(crate) fn visit_openai_message(message: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    for field in ["content", "refusal"] {
        if let Some(Value::String(text)) = message.get_mut(field) {
            visit(text);
        }
    }
    for call in items_mut(message.get_mut("tool_calls")) {
        if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
            visit(args);
        }
    }
    if let Some(Value::String(args)) = message.pointer_mut("/function_call/arguments") {
        visit(args);
    }
}

/// An Anthropic content block: text, thinking, or a tool call's input.
fn visit_anthropic_block(block: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    for field in ["text", "thinking"] {
        if let Some(Value::String(text)) = block.get_mut(field) {
            visit(text);
        }
    }
    if let Some(input) = block.get_mut("input") {
        visit_strings(input, visit);
    }
}

fn visit_strings(value: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter_mut().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.values_mut().for_each(|v| visit_strings(v, visit)),
        _ => {}
    }
}

/// Log probabilities spell out the tokens of the answer: with a guard they are dropped.
pub(crate) fn drop_logprobs(choice: &mut Value) -> bool {
    match choice.get_mut("logprobs") {
        Some(value) if !value.is_null() => {
            *value = Value::Null;
            true
        }
        _ => false,
    }
}

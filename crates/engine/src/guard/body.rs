//! A whole (non-streamed) JSON answer checked at once.

use serde_json::{Map, Value};

use super::{GuardReport, OutputGuard};
use crate::detect::{self, Kind};
use crate::wire::{self, Slot};
use gateway_policy::catalog::Provider;

/// What to send the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Nothing to change: relay the provider's bytes as they are.
    Unchanged,
    /// The answer with findings redacted (and log probabilities dropped).
    Rewritten(Vec<u8>),
    /// The answer carries a blocked kind: answer with an error instead.
    Blocked,
    /// The guard cannot read the answer (not a JSON object, or media it cannot check):
    /// answer with an error instead.
    Unreadable,
}

/// Why checking strings stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Blocked(Kind),
    Unreadable,
}

/// Checks a successful whole answer (OpenAI chat completion or embeddings, Anthropic
/// message): every string in it, wherever it sits (see [`wire`]).
pub fn check(guard: &OutputGuard, _provider: Provider, bytes: &[u8]) -> (Checked, GuardReport) {
    let mut report = GuardReport::default();
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(bytes) else {
        return (Checked::Unreadable, report);
    };
    let mut dropped = false;
    for choice in items_mut(answer.get_mut("choices")) {
        dropped |= drop_logprobs(choice);
    }
    let changed = match check_fields(guard, &mut answer, &mut report) {
        Ok(changed) => changed,
        Err(Stop::Blocked(kind)) => {
            report.blocked = Some(kind);
            return (Checked::Blocked, report);
        }
        Err(Stop::Unreadable) => return (Checked::Unreadable, report),
    };
    if !(changed || dropped) {
        return (Checked::Unchanged, report);
    }
    match serde_json::to_vec(&answer) {
        Ok(bytes) => (Checked::Rewritten(bytes), report),
        // Unreachable for a map that just parsed; refusing is the safe answer anyway.
        Err(_) => (Checked::Unreadable, report),
    }
}

/// Checks every string of a JSON object at once: redacts findings of the guard's
/// redacted kinds (counted in `report`), stops at a blocked kind or at media the guard
/// cannot read. Returns whether a string changed.
pub(crate) fn check_fields(
    guard: &OutputGuard,
    fields: &mut Map<String, Value>,
    report: &mut GuardReport,
) -> Result<bool, Stop> {
    let kinds = guard.redact.union(guard.block);
    let mut changed = false;
    let mut stop = None;
    wire::walk_fields_mut(fields, &[], &mut |slot, text| {
        if stop.is_some() || text.is_empty() {
            return;
        }
        if matches!(slot, Slot::Binary(_)) {
            stop = Some(Stop::Unreadable);
            return;
        }
        let found = detect::find_kinds(text, slot.detectable(kinds));
        if let Some(f) = found.iter().find(|f| guard.block.contains(f.kind)) {
            stop = Some(Stop::Blocked(f.kind));
            return;
        }
        if !found.is_empty() {
            for f in &found {
                *report.redacted.entry(f.kind.name()).or_insert(0) += 1;
            }
            *text = detect::redact(text, &found);
            changed = true;
        }
    });
    match stop {
        Some(stop) => Err(stop),
        None => Ok(changed),
    }
}

pub(crate) fn items_mut(value: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    value.and_then(Value::as_array_mut).into_iter().flatten()
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

//! A streamed (SSE) answer checked as it passes: OpenAI chat-completion chunks or
//! Anthropic message events in, the same events out, with each text delta replaced by
//! what its [`Window`] releases. Events without model text pass byte for byte. A text
//! stream's held tail is released when it ends (OpenAI: its choice's `finish_reason`;
//! Anthropic: `content_block_stop`), or at the end of the answer. A blocked kind ends the
//! answer with the provider's error event, and nothing after it is sent.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::body::{check_fields, drop_logprobs, items_mut, Stop};
use super::sse::{Event, Framer};
use super::window::{Release, Window};
use super::{
    blocked_message, error_event, GuardReport, OutputGuard, BLOCKED_CODE, UNREADABLE_CODE,
};
use gateway_policy::catalog::Provider;

/// The largest single event accepted (a provider's events are a few KiB at most).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// One stream of model text inside the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    /// OpenAI: a choice's content, refusal, or one tool call's arguments.
    Choice { index: u64, part: Part },
    /// Anthropic: one content block's text, thinking, or tool input JSON.
    Block { index: u64, field: BlockField },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Content,
    Refusal,
    Tool(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BlockField {
    Text,
    Thinking,
    PartialJson,
}

impl BlockField {
    fn of_delta(delta_type: &str) -> Option<(BlockField, &'static str)> {
        match delta_type {
            "text_delta" => Some((BlockField::Text, "text")),
            "thinking_delta" => Some((BlockField::Thinking, "thinking")),
            "input_json_delta" => Some((BlockField::PartialJson, "partial_json")),
            _ => None,
        }
    }

    fn delta(self, text: String) -> Value {
        match self {
            BlockField::Text => json!({ "type": "text_delta", "text": text }),
            BlockField::Thinking => json!({ "type": "thinking_delta", "thinking": text }),
            BlockField::PartialJson => json!({ "type": "input_json_delta", "partial_json": text }),
        }
    }
}

#[derive(Debug)]
pub struct StreamGuard {
    provider: Provider,
    guard: OutputGuard,
    framer: Framer,
    windows: BTreeMap<Channel, Window>,
    /// OpenAI: the last chunk's fields but its choices, to write chunks of our own.
    template: Option<Map<String, Value>>,
    report: GuardReport,
    ended: bool,
}

impl StreamGuard {
    pub fn new(provider: Provider, guard: OutputGuard) -> Self {
        StreamGuard {
            provider,
            guard,
            framer: Framer::new(MAX_EVENT_BYTES),
            windows: BTreeMap::new(),
            template: None,
            report: GuardReport::default(),
            ended: false,
        }
    }

    /// Takes in a chunk of the provider's bytes and returns the bytes to send on.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.ended {
            return Vec::new();
        }
        let events = match self.framer.push(chunk) {
            Ok(events) => events,
            Err(too_large) => return self.fail(UNREADABLE_CODE, &too_large.to_string()),
        };
        let mut out = Vec::with_capacity(chunk.len() + 64);
        for event in events {
            out.extend(self.on_event(event));
            if self.ended {
                break;
            }
        }
        out
    }

    /// The provider's stream ended: the bytes still to send.
    pub fn finish(&mut self) -> Vec<u8> {
        if self.ended {
            return Vec::new();
        }
        let mut out = match self.framer.finish() {
            Some(event) => self.on_event(event),
            None => Vec::new(),
        };
        if !self.ended {
            match self.flush(|_| true) {
                Ok(rest) => out.extend(rest),
                Err(Stop::Blocked(kind)) => {
                    self.report.blocked = Some(kind);
                    out.extend(self.fail(BLOCKED_CODE, &blocked_message(kind)));
                }
                Err(Stop::Unreadable) => {
                    out.extend(self.fail(
                        UNREADABLE_CODE,
                        "the provider's answer could not be checked",
                    ));
                }
            }
        }
        self.ended = true;
        out
    }

    /// Whether the answer was cut short by a blocked kind (or an unreadable event).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// What was redacted and blocked so far.
    pub fn report(&self) -> GuardReport {
        let mut report = self.report.clone();
        for window in self.windows.values() {
            for (kind, count) in &window.redacted {
                *report.redacted.entry(kind).or_insert(0) += count;
            }
        }
        report
    }

    fn on_event(&mut self, event: Event) -> Vec<u8> {
        // An event without data (a comment, a keep-alive) carries no text.
        if event.data.is_empty() {
            return event.raw;
        }
        let outcome = match self.provider {
            Provider::Openai => self.on_openai(&event),
            Provider::Anthropic => self.on_anthropic(&event),
        };
        match outcome {
            Ok(Some(bytes)) => bytes,
            Ok(None) => event.raw,
            Err(Stop::Blocked(kind)) => {
                self.report.blocked = Some(kind);
                self.fail(BLOCKED_CODE, &blocked_message(kind))
            }
            Err(Stop::Unreadable) => self.fail(
                UNREADABLE_CODE,
                "the provider's answer could not be checked",
            ),
        }
    }

    /// Checks every string of an event but its text deltas (which go through windows).
    fn check_rest(&mut self, fields: &mut Map<String, Value>) -> Result<bool, Stop> {
        check_fields(&self.guard, fields, &mut self.report)
    }

    /// OpenAI chunks. `Ok(None)`: pass the event as it came.
    fn on_openai(&mut self, event: &Event) -> Result<Option<Vec<u8>>, Stop> {
        if event.data.trim() == "[DONE]" {
            let mut out = self.flush(|_| true)?;
            out.extend_from_slice(&event.raw);
            return Ok(Some(out));
        }
        let Ok(Value::Object(mut chunk)) = serde_json::from_str::<Value>(&event.data) else {
            return Err(Stop::Unreadable);
        };
        if self.template.is_none() && !chunk.contains_key("error") {
            let mut template = chunk.clone();
            template.remove("choices");
            template.remove("usage");
            self.template = Some(template);
        }
        // Text deltas are taken out, every other string is checked whole, then the deltas
        // go back through their windows.
        let deltas = take_openai_deltas(&mut chunk);
        let mut changed = self.check_rest(&mut chunk)?;
        put_openai_deltas(&mut chunk, deltas);
        for (position, choice) in items_mut(chunk.get_mut("choices")).enumerate() {
            let index = choice
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64);
            changed |= drop_logprobs(choice);
            if let Some(delta) = choice.get_mut("delta") {
                changed |= self.openai_delta(index, delta)?;
            }
            let finished = choice.get("finish_reason").is_some_and(|r| !r.is_null());
            if finished {
                let rests = self
                    .take_rests(|c| matches!(c, Channel::Choice { index: i, .. } if *i == index))?;
                for (channel, rest) in rests {
                    if let (Channel::Choice { part, .. }, Some(delta)) =
                        (channel, choice.get_mut("delta"))
                    {
                        append_openai(delta, part, &rest);
                        changed = true;
                    }
                }
            }
        }
        Ok(
            changed
                .then(|| Event::encode(event.name.as_deref(), &Value::Object(chunk).to_string())),
        )
    }

    fn openai_delta(&mut self, index: u64, delta: &mut Value) -> Result<bool, Stop> {
        let mut changed = false;
        for (field, part) in [("content", Part::Content), ("refusal", Part::Refusal)] {
            if let Some(Value::String(text)) = delta.get_mut(field) {
                changed |= self.pass(Channel::Choice { index, part }, text)?;
            }
        }
        for (position, call) in items_mut(delta.get_mut("tool_calls")).enumerate() {
            let tool = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64);
            if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                changed |= self.pass(
                    Channel::Choice {
                        index,
                        part: Part::Tool(tool),
                    },
                    args,
                )?;
            }
        }
        Ok(changed)
    }

    /// Anthropic events. `Ok(None)`: pass the event as it came.
    fn on_anthropic(&mut self, event: &Event) -> Result<Option<Vec<u8>>, Stop> {
        let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(&event.data) else {
            return Err(Stop::Unreadable);
        };
        let index = message.get("index").and_then(Value::as_u64).unwrap_or(0);
        let encode = |message: Map<String, Value>| {
            Event::encode(event.name.as_deref(), &Value::Object(message).to_string())
        };
        match message.get("type").and_then(Value::as_str) {
            Some("content_block_delta") => {
                let channel = message
                    .get("delta")
                    .and_then(|d| d.get("type"))
                    .and_then(Value::as_str)
                    .and_then(BlockField::of_delta);
                let Some((field, key)) = channel else {
                    // Any other delta (citations, signatures, new kinds) is checked whole.
                    let changed = self.check_rest(&mut message)?;
                    return Ok(changed.then(|| encode(message)));
                };
                let mut text = match message.get_mut("delta").and_then(|d| d.get_mut(key)) {
                    Some(Value::String(text)) => std::mem::take(text),
                    _ => String::new(),
                };
                let mut changed = self.check_rest(&mut message)?;
                changed |= self.pass(Channel::Block { index, field }, &mut text)?;
                if let Some(slot) = message.get_mut("delta").and_then(|d| d.get_mut(key)) {
                    *slot = Value::String(text);
                }
                Ok(changed.then(|| encode(message)))
            }
            Some("content_block_stop") => {
                let mut out =
                    self.flush(|c| matches!(c, Channel::Block { index: i, .. } if *i == index))?;
                if out.is_empty() {
                    return Ok(None);
                }
                out.extend_from_slice(&event.raw);
                Ok(Some(out))
            }
            Some("message_stop") => {
                let mut out = self.flush(|_| true)?;
                if out.is_empty() {
                    return Ok(None);
                }
                out.extend_from_slice(&event.raw);
                Ok(Some(out))
            }
            // Every other event (message_start, content_block_start with server-tool
            // results, message_delta, errors, kinds not known yet) is checked whole.
            _ => {
                let changed = self.check_rest(&mut message)?;
                Ok(changed.then(|| encode(message)))
            }
        }
    }

    /// Runs `text` through its channel's window, replacing it with what may be sent now.
    fn pass(&mut self, channel: Channel, text: &mut String) -> Result<bool, Stop> {
        let guard = self.guard;
        let window = self
            .windows
            .entry(channel)
            .or_insert_with(|| Window::new(guard.redact, guard.block));
        match window.push(text) {
            Release::Text(released) if released == *text => Ok(false),
            Release::Text(released) => {
                *text = released;
                Ok(true)
            }
            Release::Blocked(kind) => Err(Stop::Blocked(kind)),
        }
    }

    /// Ends the windows `which` selects: their held text, released, per channel.
    fn take_rests(
        &mut self,
        which: impl Fn(&Channel) -> bool,
    ) -> Result<Vec<(Channel, String)>, Stop> {
        let channels: Vec<Channel> = self.windows.keys().filter(|c| which(c)).copied().collect();
        let mut rests = Vec::new();
        for channel in channels {
            let Some(mut window) = self.windows.remove(&channel) else {
                continue;
            };
            let release = window.finish();
            for (kind, count) in &window.redacted {
                *self.report.redacted.entry(kind).or_insert(0) += count;
            }
            match release {
                Release::Text(rest) if rest.is_empty() => {}
                Release::Text(rest) => rests.push((channel, rest)),
                Release::Blocked(kind) => return Err(Stop::Blocked(kind)),
            }
        }
        Ok(rests)
    }

    /// Ends the windows `which` selects and writes events of our own carrying their
    /// held text.
    fn flush(&mut self, which: impl Fn(&Channel) -> bool) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::new();
        for (channel, rest) in self.take_rests(which)? {
            let (name, data) = match channel {
                Channel::Choice { index, part } => {
                    let mut chunk = self.template.clone().unwrap_or_else(|| {
                        let mut chunk = Map::new();
                        chunk.insert("object".to_owned(), json!("chat.completion.chunk"));
                        chunk
                    });
                    let mut delta = json!({});
                    append_openai(&mut delta, part, &rest);
                    chunk.insert(
                        "choices".to_owned(),
                        json!([{ "index": index, "delta": delta, "finish_reason": null }]),
                    );
                    (None, Value::Object(chunk))
                }
                Channel::Block { index, field } => (
                    Some("content_block_delta"),
                    json!({ "type": "content_block_delta", "index": index, "delta": field.delta(rest) }),
                ),
            };
            out.extend(Event::encode(name, &data.to_string()));
        }
        Ok(out)
    }

    /// Ends the answer with an error event in the provider's format.
    fn fail(&mut self, code: &str, message: &str) -> Vec<u8> {
        self.ended = true;
        error_event(self.provider, "permission_error", code, message)
    }
}

/// Appends `text` to a delta's field for `part`, creating it when absent.
fn append_openai(delta: &mut Value, part: Part, text: &str) {
    let Some(delta) = delta.as_object_mut() else {
        return;
    };
    let field = match part {
        Part::Content => "content",
        Part::Refusal => "refusal",
        Part::Tool(tool) => {
            let calls = delta
                .entry("tool_calls")
                .or_insert_with(|| Value::Array(Vec::new()));
            let Some(calls) = calls.as_array_mut() else {
                return;
            };
            let at = calls
                .iter()
                .position(|c| c.get("index").and_then(Value::as_u64) == Some(tool));
            match at.and_then(|at| calls.get_mut(at)) {
                Some(call) => match call.pointer_mut("/function/arguments") {
                    Some(Value::String(args)) => args.push_str(text),
                    _ => {
                        if let Some(call) = call.as_object_mut() {
                            let function = call.entry("function").or_insert_with(|| json!({}));
                            if let Some(function) = function.as_object_mut() {
                                function.insert("arguments".to_owned(), json!(text));
                            }
                        }
                    }
                },
                None => calls.push(call_with_args(tool, text)),
            }
            return;
        }
    };
    match delta.get_mut(field) {
        Some(Value::String(existing)) => existing.push_str(text),
        _ => {
            delta.insert(field.to_owned(), Value::String(text.to_owned()));
        }
    }
}

fn call_with_args(index: u64, args: &str) -> Value {
    json!({ "index": index, "function": { "arguments": args } })
}

/// Where a text delta sat in an OpenAI chunk: the choice's position, and which part.
type OpenaiDelta = (usize, Part, String);

/// Takes every text delta out of an OpenAI chunk (leaving empty strings), so the rest of
/// the chunk can be checked whole.
fn take_openai_deltas(chunk: &mut Map<String, Value>) -> Vec<OpenaiDelta> {
    let mut taken = Vec::new();
    for (position, choice) in items_mut(chunk.get_mut("choices")).enumerate() {
        let Some(delta) = choice.get_mut("delta") else {
            continue;
        };
        for (field, part) in [("content", Part::Content), ("refusal", Part::Refusal)] {
            if let Some(Value::String(text)) = delta.get_mut(field) {
                taken.push((position, part, std::mem::take(text)));
            }
        }
        for (at, call) in items_mut(delta.get_mut("tool_calls")).enumerate() {
            if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                taken.push((position, Part::Tool(at as u64), std::mem::take(args)));
            }
        }
    }
    taken
}

/// Puts back what [`take_openai_deltas`] took (`Part::Tool` holds the call's position).
fn put_openai_deltas(chunk: &mut Map<String, Value>, deltas: Vec<OpenaiDelta>) {
    let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for (position, part, text) in deltas {
        let Some(delta) = choices.get_mut(position).and_then(|c| c.get_mut("delta")) else {
            continue;
        };
        let slot = match part {
            Part::Content => delta.get_mut("content"),
            Part::Refusal => delta.get_mut("refusal"),
            Part::Tool(at) => delta
                .get_mut("tool_calls")
                .and_then(|calls| calls.get_mut(usize::try_from(at).unwrap_or(usize::MAX)))
                .and_then(|call| call.pointer_mut("/function/arguments")),
        };
        if let Some(slot) = slot {
            *slot = Value::String(text);
        }
    }
}

//! Reading a streamed answer's usage on its way to the caller.
//!
//! OpenAI ends a chat stream with a usage chunk when asked (`stream_options.
//! include_usage`); the gateway always asks, and takes the chunk out again when the caller
//! did not. Anthropic reports input tokens in `message_start` and the cumulative output in
//! each `message_delta` (the last one counts). When a stream ends without its final usage
//! (cut off, or the caller went away), the meter charges at least what it relayed: the
//! output text it saw, through the token estimator, which leans high.

use serde_json::Value;

use gateway_policy::catalog::Provider;

use crate::guard::sse::{Event, Framer};
use crate::tokens;

use super::{anthropic_input_tokens, count, Usage};

/// Events larger than this are passed on unread (the usage then falls back to counting).
const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct StreamMeter {
    provider: Provider,
    framer: Framer,
    /// Whether to take OpenAI's usage chunk out of the stream.
    strip_usage: bool,
    input_reported: Option<u64>,
    output_reported: Option<u64>,
    /// Whether the provider sent its final usage.
    complete: bool,
    output_counted: u64,
    /// Framing failed: bytes pass through unread from here on.
    unread: bool,
}

impl StreamMeter {
    /// `caller_asked_usage` is what `LlmCall::ask_for_stream_usage` returned.
    pub fn new(provider: Provider, caller_asked_usage: bool) -> Self {
        StreamMeter {
            provider,
            framer: Framer::new(usize::MAX),
            strip_usage: provider == Provider::Openai && !caller_asked_usage,
            input_reported: None,
            output_reported: None,
            complete: false,
            output_counted: 0,
            unread: false,
        }
    }

    /// Takes in a chunk of the provider's stream and returns the bytes to pass on: the
    /// events it completed, less a usage chunk the caller did not ask for.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.unread {
            return chunk.to_vec();
        }
        // The framer's own cap is off (it would drop the events completed with the chunk
        // that passed it); the meter stops reading instead.
        let events = self.framer.push(chunk).unwrap_or_default();
        let mut out = Vec::with_capacity(chunk.len());
        for event in events {
            if self.read(&event) {
                out.extend_from_slice(&event.raw);
            }
        }
        if self.framer.buffered() > MAX_EVENT_BYTES {
            self.unread = true;
            out.extend(self.finish());
        }
        out
    }

    /// The bytes of an unfinished last event, when the stream ends.
    pub fn finish(&mut self) -> Vec<u8> {
        self.framer
            .finish()
            .map(|event| event.raw)
            .unwrap_or_default()
    }

    /// What the call used: the provider's figures when it sent its final usage;
    /// otherwise the larger of what it reported and what was relayed, with the input at
    /// `input_bound` (the reserved upper bound) unless the provider reported it.
    pub fn usage(&self, input_bound: u64) -> Usage {
        let input_tokens = self.input_reported.unwrap_or(input_bound);
        let reported = self.output_reported.unwrap_or(0);
        let output_tokens = if self.complete && !self.unread {
            reported
        } else {
            reported.max(self.output_counted)
        };
        Usage {
            input_tokens,
            output_tokens,
        }
    }

    /// Whether the provider sent its final usage.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Reads one event; returns whether to pass it on.
    fn read(&mut self, event: &Event) -> bool {
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
            // `[DONE]`, comments, keep-alives.
            return true;
        };
        match self.provider {
            Provider::Openai => self.read_openai(&data),
            Provider::Anthropic => {
                self.read_anthropic(&data);
                true
            }
        }
    }

    fn read_openai(&mut self, data: &Value) -> bool {
        if let Some(choices) = data.get("choices").and_then(Value::as_array) {
            for choice in choices {
                let Some(delta) = choice.get("delta") else {
                    continue;
                };
                self.count_text(delta.get("content"));
                self.count_text(delta.get("refusal"));
                self.count_text(delta.get("reasoning_content"));
                if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                    for call in calls {
                        self.count_text(call.pointer("/function/name"));
                        self.count_text(call.pointer("/function/arguments"));
                    }
                }
            }
        }
        let Some(usage) = data.get("usage").filter(|u| u.is_object()) else {
            return true;
        };
        if let Some(input) = count(usage, "prompt_tokens") {
            self.input_reported = Some(input);
        }
        if let Some(output) = count(usage, "completion_tokens") {
            self.output_reported = Some(output);
            self.complete = true;
        }
        let only_usage = data
            .get("choices")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        !(self.strip_usage && only_usage)
    }

    fn read_anthropic(&mut self, data: &Value) {
        match data.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(usage) = data.pointer("/message/usage") {
                    self.input_reported = anthropic_input_tokens(usage).or(self.input_reported);
                    self.output_reported = count(usage, "output_tokens").or(self.output_reported);
                }
            }
            Some("content_block_delta") => {
                if let Some(delta) = data.get("delta") {
                    self.count_text(delta.get("text"));
                    self.count_text(delta.get("partial_json"));
                    self.count_text(delta.get("thinking"));
                }
            }
            Some("message_delta") => {
                if let Some(usage) = data.get("usage") {
                    // Cumulative: the last one counts, never a sum.
                    if let Some(output) = count(usage, "output_tokens") {
                        self.output_reported = Some(output);
                        self.complete = true;
                    }
                    if let Some(input) = anthropic_input_tokens(usage) {
                        self.input_reported = Some(input);
                    }
                }
            }
            _ => {}
        }
    }

    fn count_text(&mut self, text: Option<&Value>) {
        if let Some(text) = text.and_then(Value::as_str) {
            self.output_counted = self.output_counted.saturating_add(tokens::estimate(text));
        }
    }
}

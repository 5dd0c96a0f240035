//! Normalisation: an OpenAI chat-completions, OpenAI embeddings or Anthropic messages
//! request becomes one typed `LlmCall`.
//!
//! The call keeps the caller's whole JSON object, so fields the engine does not know
//! (temperature, response_format, metadata, …) are forwarded untouched.

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::Provider;
use super::detect::{self, KindCounts, KindSet};
use super::tokens;

/// The API endpoints the gateway serves; each maps to one Cedar action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    ChatCompletions,
    Embeddings,
    Messages,
}

impl Endpoint {
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "/v1/chat/completions" => Some(Endpoint::ChatCompletions),
            "/v1/embeddings" => Some(Endpoint::Embeddings),
            "/v1/messages" => Some(Endpoint::Messages),
            _ => None,
        }
    }

    /// The Cedar action id (`Llm::Action::"…"`).
    pub fn action(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completion",
            Endpoint::Embeddings => "embedding",
            Endpoint::Messages => "message",
        }
    }

    /// Whose wire format the endpoint speaks (and so whose models it can reach).
    pub fn wire_format(self) -> Provider {
        match self {
            Endpoint::ChatCompletions | Endpoint::Embeddings => Provider::Openai,
            Endpoint::Messages => Provider::Anthropic,
        }
    }

    /// The path appended to the provider's configured base URL.
    pub fn upstream_path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::Messages => "/messages",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("request body is not valid JSON: {0}")]
    Json(String),
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("`{0}` is required")]
    Missing(&'static str),
    #[error("`{field}` must be {expected}")]
    Invalid {
        field: &'static str,
        expected: &'static str,
    },
    #[error("could not encode the upstream request: {0}")]
    Encode(String),
}

impl CallError {
    /// The request field at fault, for the provider error's `param`.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            CallError::Missing(field) | CallError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// One LLM call, whatever API shape it arrived in.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmCall {
    pub endpoint: Endpoint,
    /// The model id as the caller sent it (a catalog id).
    pub model: String,
    pub stream: bool,
    /// The output cap the caller asked for, if any.
    pub max_output_tokens: Option<u64>,
    pub tools_present: bool,
    /// Messages (chat) or inputs (embeddings).
    pub message_count: u64,
    /// Input tokens the caller sent already tokenised (embeddings with token arrays).
    pretokenized: u64,
    body: Map<String, Value>,
}

impl LlmCall {
    pub fn parse(endpoint: Endpoint, bytes: &[u8]) -> Result<Self, CallError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| CallError::Json(e.to_string()))?;
        let Value::Object(body) = value else {
            return Err(CallError::NotAnObject);
        };
        let model = match body.get("model") {
            None | Some(Value::Null) => return Err(CallError::Missing("model")),
            Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
            Some(_) => return Err(invalid("model", "a non-empty string")),
        };
        let mut call = LlmCall {
            endpoint,
            model,
            stream: false,
            max_output_tokens: None,
            tools_present: false,
            message_count: 0,
            pretokenized: 0,
            body,
        };
        match endpoint {
            Endpoint::ChatCompletions => call.read_openai_chat()?,
            Endpoint::Embeddings => call.read_openai_embeddings()?,
            Endpoint::Messages => call.read_anthropic_messages()?,
        }
        Ok(call)
    }

    fn read_openai_chat(&mut self) -> Result<(), CallError> {
        self.message_count = messages(&self.body, "messages")?;
        self.stream = optional_bool(&self.body, "stream")?;
        // `max_completion_tokens` supersedes the deprecated `max_tokens`.
        self.max_output_tokens = match optional_count(&self.body, "max_completion_tokens")? {
            Some(n) => Some(n),
            None => optional_count(&self.body, "max_tokens")?,
        };
        self.tools_present =
            non_empty_array(&self.body, "tools")? || non_empty_array(&self.body, "functions")?;
        Ok(())
    }

    fn read_openai_embeddings(&mut self) -> Result<(), CallError> {
        const EXPECTED: &str = "a string, an array of strings, or token arrays";
        let (count, pretokenized) = match self.body.get("input") {
            None | Some(Value::Null) => return Err(CallError::Missing("input")),
            Some(Value::String(_)) => (1, 0),
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut tokens = 0u64;
                for item in items {
                    match item {
                        Value::String(_) => {}
                        Value::Number(_) => tokens += 1,
                        Value::Array(ids) if ids.iter().all(Value::is_number) => {
                            tokens += ids.len() as u64
                        }
                        _ => return Err(invalid("input", EXPECTED)),
                    }
                }
                // A flat array of token ids is one input, not many.
                let flat_ids = items.iter().all(Value::is_number);
                (if flat_ids { 1 } else { items.len() as u64 }, tokens)
            }
            Some(_) => return Err(invalid("input", EXPECTED)),
        };
        self.message_count = count;
        self.pretokenized = pretokenized;
        Ok(())
    }

    fn read_anthropic_messages(&mut self) -> Result<(), CallError> {
        self.message_count = messages(&self.body, "messages")?;
        self.stream = optional_bool(&self.body, "stream")?;
        // Anthropic's API requires `max_tokens`; refuse here rather than upstream.
        self.max_output_tokens = Some(
            optional_count(&self.body, "max_tokens")?.ok_or(CallError::Missing("max_tokens"))?,
        );
        match self.body.get("system") {
            None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Array(_)) => {}
            Some(_) => return Err(invalid("system", "a string or an array of content blocks")),
        }
        self.tools_present = non_empty_array(&self.body, "tools")?;
        Ok(())
    }

    /// Calls `visit` with every piece of text the caller sent: system prompts, every
    /// message (tool results and tool-call arguments included), tool definitions,
    /// embedding inputs. Images and other binary sources are skipped.
    pub fn visit_text(&self, visit: &mut dyn FnMut(&str)) {
        match self.endpoint {
            Endpoint::ChatCompletions | Endpoint::Messages => {
                if let Some(system) = self.body.get("system") {
                    visit_content(system, visit);
                }
                for message in array(&self.body, "messages") {
                    if let Some(content) = message.get("content") {
                        visit_content(content, visit);
                    }
                    for call in message
                        .get("tool_calls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(args) = call.pointer("/function/arguments") {
                            visit_strings(args, visit);
                        }
                    }
                    // The legacy single function call of OpenAI's older API.
                    if let Some(args) = message.pointer("/function_call/arguments") {
                        visit_strings(args, visit);
                    }
                }
                // Tool definitions are prompt text too: names, descriptions, schemas.
                for tool in array(&self.body, "tools").chain(array(&self.body, "functions")) {
                    visit_strings(tool, visit);
                }
            }
            Endpoint::Embeddings => match self.body.get("input") {
                Some(Value::String(s)) => visit(s),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(visit),
                _ => {}
            },
        }
    }

    /// The same walk as [`LlmCall::visit_text`], in the same order, with each text
    /// mutable (for redaction). Keep the two in step: a test checks they visit alike.
    pub fn visit_text_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self.endpoint {
            Endpoint::ChatCompletions | Endpoint::Messages => {
                if let Some(system) = self.body.get_mut("system") {
                    visit_content_mut(system, visit);
                }
                for message in array_mut(&mut self.body, "messages") {
                    if let Some(content) = message.get_mut("content") {
                        visit_content_mut(content, visit);
                    }
                    for call in message
                        .get_mut("tool_calls")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(args) = call.pointer_mut("/function/arguments") {
                            visit_strings_mut(args, visit);
                        }
                    }
                    if let Some(args) = message.pointer_mut("/function_call/arguments") {
                        visit_strings_mut(args, visit);
                    }
                }
                for field in ["tools", "functions"] {
                    for tool in array_mut(&mut self.body, field) {
                        visit_strings_mut(tool, visit);
                    }
                }
            }
            Endpoint::Embeddings => match self.body.get_mut("input") {
                Some(Value::String(s)) => visit(s),
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Value::String(s) = item {
                            visit(s);
                        }
                    }
                }
                _ => {}
            },
        }
    }

    /// Replaces every finding of `kinds` in every text the caller sent with a typed
    /// placeholder (`[REDACTED:email]`), and counts what it replaced.
    pub fn redact(&mut self, kinds: KindSet) -> KindCounts {
        let mut counts = KindCounts::new();
        if kinds.is_empty() {
            return counts;
        }
        self.visit_text_mut(&mut |text| {
            if let Some((redacted, found)) = detect::redact_kinds(text, kinds) {
                *text = redacted;
                for finding in found {
                    *counts.entry(finding.kind.name()).or_insert(0) += 1;
                }
            }
        });
        counts
    }

    /// Estimated input tokens: text through the estimator plus pre-tokenised inputs.
    pub fn estimated_input_tokens(&self) -> u64 {
        let mut total = self.pretokenized;
        self.visit_text(&mut |text| total = total.saturating_add(tokens::estimate(text)));
        total.saturating_add(
            self.message_count
                .saturating_mul(tokens::PER_MESSAGE_OVERHEAD),
        )
    }

    /// Estimated tokens of (all inputs, the largest single input): an embeddings request
    /// limits each input on its own, while a chat prompt is one input, so its text is
    /// estimated once for both.
    pub fn input_token_estimates(&self) -> (u64, u64) {
        let total = self.estimated_input_tokens();
        let per_input = |item: &Value| match item {
            Value::String(text) => tokens::estimate(text),
            Value::Array(ids) => ids.len() as u64,
            _ => 1,
        };
        let largest = match (self.endpoint, self.body.get("input")) {
            (Endpoint::Embeddings, Some(Value::Array(items)))
                if !items.iter().all(Value::is_number) =>
            {
                items.iter().map(per_input).max().unwrap_or(0)
            }
            (Endpoint::Embeddings, Some(input)) => per_input(input),
            _ => total,
        };
        (total, largest)
    }

    /// Lowers (or sets) the output-token limit the call asks for. Returns whether the
    /// body changed. Embeddings have no output to cap.
    pub fn cap_output_tokens(&mut self, max: u64) -> bool {
        let field = match self.endpoint {
            Endpoint::Embeddings => return false,
            Endpoint::Messages => "max_tokens",
            // Keep the caller's field: `max_completion_tokens` supersedes `max_tokens`.
            Endpoint::ChatCompletions if self.body.contains_key("max_completion_tokens") => {
                "max_completion_tokens"
            }
            Endpoint::ChatCompletions => "max_tokens",
        };
        if self.max_output_tokens.is_some_and(|asked| asked <= max) {
            return false;
        }
        self.body.insert(field.to_owned(), Value::from(max));
        self.max_output_tokens = Some(max);
        true
    }

    /// The caller's JSON, unknown fields included.
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }

    /// The body to forward: the caller's JSON with the model replaced by its upstream name.
    pub fn upstream_body(&mut self, upstream_model: &str) -> Result<Vec<u8>, CallError> {
        self.body
            .insert("model".to_owned(), Value::String(upstream_model.to_owned()));
        serde_json::to_vec(&self.body).map_err(|e| CallError::Encode(e.to_string()))
    }
}

fn invalid(field: &'static str, expected: &'static str) -> CallError {
    CallError::Invalid { field, expected }
}

fn array<'a>(body: &'a Map<String, Value>, field: &str) -> impl Iterator<Item = &'a Value> {
    body.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn array_mut<'a>(
    body: &'a mut Map<String, Value>,
    field: &str,
) -> impl Iterator<Item = &'a mut Value> {
    body.get_mut(field)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// A required, non-empty array of message objects with a string `role`.
fn messages(body: &Map<String, Value>, field: &'static str) -> Result<u64, CallError> {
    const EXPECTED: &str = "a non-empty array of messages, each with a string `role`";
    match body.get(field) {
        None | Some(Value::Null) => Err(CallError::Missing(field)),
        Some(Value::Array(items)) if !items.is_empty() => {
            let well_formed = items
                .iter()
                .all(|m| m.get("role").is_some_and(Value::is_string));
            if well_formed {
                Ok(items.len() as u64)
            } else {
                Err(invalid(field, EXPECTED))
            }
        }
        Some(_) => Err(invalid(field, EXPECTED)),
    }
}

fn optional_bool(body: &Map<String, Value>, field: &'static str) -> Result<bool, CallError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(field, "a boolean")),
    }
}

fn optional_count(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<u64>, CallError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or(invalid(field, "a non-negative integer")),
    }
}

fn non_empty_array(body: &Map<String, Value>, field: &'static str) -> Result<bool, CallError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Array(items)) => Ok(!items.is_empty()),
        Some(_) => Err(invalid(field, "an array")),
    }
}

/// Message content: a string, or an array of content blocks (OpenAI parts or Anthropic
/// blocks). Tool results nest content of their own.
fn visit_content(content: &Value, visit: &mut dyn FnMut(&str)) {
    match content {
        Value::String(s) => visit(s),
        Value::Array(blocks) => {
            for block in blocks {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") | None => {
                        if let Some(text) = block.get("text").and_then(Value::as_str) {
                            visit(text);
                        }
                    }
                    Some("tool_result") => {
                        if let Some(inner) = block.get("content") {
                            visit_content(inner, visit);
                        }
                    }
                    Some("tool_use") => {
                        if let Some(input) = block.get("input") {
                            visit_strings(input, visit);
                        }
                    }
                    // Images, audio, files: not text, not counted here.
                    Some(_) => {}
                }
            }
        }
        _ => {}
    }
}

/// Every string inside a JSON value (tool arguments). serde_json caps nesting at 128, so
/// this recursion is bounded.
fn visit_strings(value: &Value, visit: &mut dyn FnMut(&str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, visit)),
        _ => {}
    }
}

/// [`visit_content`], mutably.
fn visit_content_mut(content: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    match content {
        Value::String(s) => visit(s),
        Value::Array(blocks) => {
            for block in blocks {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") | None => {
                        if let Some(Value::String(text)) = block.get_mut("text") {
                            visit(text);
                        }
                    }
                    Some("tool_result") => {
                        if let Some(inner) = block.get_mut("content") {
                            visit_content_mut(inner, visit);
                        }
                    }
                    Some("tool_use") => {
                        if let Some(input) = block.get_mut("input") {
                            visit_strings_mut(input, visit);
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        _ => {}
    }
}

/// [`visit_strings`], mutably.
fn visit_strings_mut(value: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter_mut().for_each(|v| visit_strings_mut(v, visit)),
        Value::Object(map) => map.values_mut().for_each(|v| visit_strings_mut(v, visit)),
        _ => {}
    }
}

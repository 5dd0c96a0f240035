//! Normalisation: an OpenAI chat-completions, OpenAI embeddings or Anthropic messages
//! request becomes one typed `LlmCall`.
//!
//! Every top-level field must be one the endpoint's table lists (an unknown one could
//! change what is generated or billed unseen, so it is refused); fields that change cost
//! or capability (token limits, choices, thinking budgets, tools, server tools, MCP
//! servers, beta features) are read into the call for policy. Every string of the body,
//! known field or not, is reached through [`wire`] by detection, redaction and the token
//! estimate. The call keeps the caller's JSON and forwards it as sent, but for the model
//! name and what obligations rewrite.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::detect::{self, Kind, KindCounts, KindSet};
use crate::tokens;
use crate::wire::{self, Media, Slot};
use gateway_policy::catalog::Provider;
use gateway_policy::obligations::Obligation;

/// The API endpoints the gateway serves; each maps to one Cedar action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    ChatCompletions,
    Embeddings,
    Messages,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [
        Endpoint::ChatCompletions,
        Endpoint::Embeddings,
        Endpoint::Messages,
    ];

    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|endpoint| endpoint.path() == path)
    }

    /// The gateway's path for the endpoint.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/v1/chat/completions",
            Endpoint::Embeddings => "/v1/embeddings",
            Endpoint::Messages => "/v1/messages",
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
    /// A top-level field the gateway does not know: it could change what is generated or
    /// billed without policy seeing it, so it is not forwarded.
    #[error("`{0}` is not a parameter the gateway understands, so it cannot be forwarded")]
    Unsupported(String),
    /// A known field whose use the gateway cannot check or price.
    #[error("{message}")]
    Refused {
        field: &'static str,
        message: &'static str,
    },
    #[error("could not encode the upstream request: {0}")]
    Encode(String),
}

impl CallError {
    /// The request field at fault, for the provider error's `param`.
    pub fn param(&self) -> Option<&str> {
        match self {
            CallError::Unsupported(field) => Some(field),
            _ => self.known_param(),
        }
    }

    /// The field at fault when it is one the gateway knows by name (not a caller's
    /// unknown field, which is free text).
    pub fn known_param(&self) -> Option<&'static str> {
        match self {
            CallError::Missing(field)
            | CallError::Invalid { field, .. }
            | CallError::Refused { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The machine-readable error code (OpenAI's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Unsupported(_) | CallError::Refused { .. } => "unsupported_parameter",
            _ => "invalid_request",
        }
    }
}

/// The top-level fields each endpoint accepts (sorted). Anything else is refused: a new
/// provider parameter is supported by adding it here once what it does is understood.
const OPENAI_CHAT_FIELDS: &[&str] = &[
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "messages",
    "metadata",
    "modalities",
    "model",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];
const OPENAI_EMBEDDINGS_FIELDS: &[&str] =
    &["dimensions", "encoding_format", "input", "model", "user"];
const ANTHROPIC_MESSAGES_FIELDS: &[&str] = &[
    "container",
    "context_management",
    "max_tokens",
    "mcp_servers",
    "messages",
    "metadata",
    "model",
    "service_tier",
    "stop_sequences",
    "stream",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
];

/// The most choices (OpenAI `n`) one call may ask for.
pub const MAX_CHOICES: u64 = 128;

/// One LLM call, whatever API shape it arrived in.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmCall {
    pub endpoint: Endpoint,
    /// The model id as the caller sent it (a catalog id).
    pub model: String,
    pub stream: bool,
    /// The most output tokens one choice may produce, as the caller asked: the larger of
    /// the limits sent (`max_tokens`, `max_completion_tokens`, a thinking budget).
    pub max_output_tokens: Option<u64>,
    /// How many answers the provider generates (OpenAI `n`); output cost scales with it.
    pub choices: u64,
    /// The kinds of tools the call enables, sorted: `function` for the caller's own,
    /// `mcp` for remote MCP servers, and each server tool by name (`web_search`,
    /// `code_execution`, …).
    pub tool_kinds: Vec<String>,
    pub tools_present: bool,
    /// Provider beta features the caller asked for (Anthropic's `anthropic-beta`), sorted.
    pub beta_features: Vec<String>,
    /// The service tier asked for (`auto` when unset).
    pub service_tier: String,
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
        let known = match endpoint {
            Endpoint::ChatCompletions => OPENAI_CHAT_FIELDS,
            Endpoint::Embeddings => OPENAI_EMBEDDINGS_FIELDS,
            Endpoint::Messages => ANTHROPIC_MESSAGES_FIELDS,
        };
        if let Some(unknown) = body
            .keys()
            .find(|k| known.binary_search(&k.as_str()).is_err())
        {
            return Err(CallError::Unsupported(shortened(unknown)));
        }
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
            choices: 1,
            tool_kinds: Vec::new(),
            tools_present: false,
            beta_features: Vec::new(),
            service_tier: "auto".to_owned(),
            message_count: 0,
            pretokenized: 0,
            body,
        };
        match endpoint {
            Endpoint::ChatCompletions => call.read_openai_chat()?,
            Endpoint::Embeddings => call.read_openai_embeddings()?,
            Endpoint::Messages => call.read_anthropic_messages()?,
        }
        if let Some(tier) = optional_token(&call.body, "service_tier")? {
            call.service_tier = tier;
        }
        call.tool_kinds.sort_unstable();
        call.tool_kinds.dedup();
        call.tools_present = !call.tool_kinds.is_empty();
        call.refuse_text_as_media()?;
        Ok(call)
    }

    fn read_openai_chat(&mut self) -> Result<(), CallError> {
        self.message_count = messages(&self.body, "messages")?;
        self.stream = optional_bool(&self.body, "stream")?;
        let completion = optional_count(&self.body, "max_completion_tokens")?;
        let legacy = optional_count(&self.body, "max_tokens")?;
        self.max_output_tokens = match (completion, legacy) {
            (Some(a), Some(b)) if a != b => {
                return Err(CallError::Refused {
                    field: "max_tokens",
                    message: "send one of `max_tokens` and `max_completion_tokens`, or the same \
                              value in both",
                })
            }
            (a, b) => a.or(b),
        };
        self.choices = match optional_count(&self.body, "n")? {
            None => 1,
            Some(n) if (1..=MAX_CHOICES).contains(&n) => n,
            Some(_) => return Err(invalid("n", "an integer from 1 to 128")),
        };
        for tool in objects(&self.body, "tools")? {
            let kind = match tool.get("type") {
                None | Some(Value::Null) => "function".to_owned(),
                Some(Value::String(t)) if wire_token(t) => tool_kind(t),
                Some(_) => return Err(invalid("tools", "tool objects with a string `type`")),
            };
            self.tool_kinds.push(kind);
        }
        if !objects(&self.body, "functions")?.is_empty() {
            self.tool_kinds.push("function".to_owned());
        }
        if present(&self.body, "web_search_options") {
            self.tool_kinds.push("web_search".to_owned());
        }
        // Audio answers cannot be read by the output guard nor priced from the catalog.
        let audio_out = match self.body.get("modalities") {
            None | Some(Value::Null) => false,
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().any(|m| m.as_str() != Some("text"))
            }
            Some(_) => return Err(invalid("modalities", "an array of strings")),
        };
        if audio_out || present(&self.body, "audio") {
            return Err(CallError::Refused {
                field: if audio_out { "modalities" } else { "audio" },
                message: "audio output is not supported by the gateway: policy can neither \
                          price nor check it",
            });
        }
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
        let max_tokens =
            optional_count(&self.body, "max_tokens")?.ok_or(CallError::Missing("max_tokens"))?;
        match self.body.get("system") {
            None | Some(Value::Null) | Some(Value::String(_)) | Some(Value::Array(_)) => {}
            Some(_) => return Err(invalid("system", "a string or an array of content blocks")),
        }
        // Thinking tokens are output tokens; with interleaved thinking the budget may
        // exceed `max_tokens`, so the larger of the two bounds the output.
        let budget = match self.body.get("thinking") {
            None | Some(Value::Null) => None,
            Some(Value::Object(thinking)) => match thinking.get("budget_tokens") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or(invalid(
                    "thinking",
                    "an object whose `budget_tokens` is a non-negative integer",
                ))?),
            },
            Some(_) => return Err(invalid("thinking", "an object")),
        };
        self.max_output_tokens = Some(budget.map_or(max_tokens, |b| b.max(max_tokens)));
        for tool in objects(&self.body, "tools")? {
            let kind = match tool.get("type") {
                None | Some(Value::Null) => "function".to_owned(),
                Some(Value::String(t)) if t == "custom" => "function".to_owned(),
                Some(Value::String(t)) if wire_token(t) => tool_kind(t),
                Some(_) => return Err(invalid("tools", "tool objects with a string `type`")),
            };
            self.tool_kinds.push(kind);
        }
        if !objects(&self.body, "mcp_servers")?.is_empty() {
            self.tool_kinds.push("mcp".to_owned());
        }
        Ok(())
    }

    /// Base64 media that declares a text type is text no detector would read.
    fn refuse_text_as_media(&self) -> Result<(), CallError> {
        let mut textual = false;
        self.visit_slots(&mut |slot, _| textual |= slot == Slot::Binary(Media::Text));
        if textual {
            return Err(CallError::Refused {
                field: "messages",
                message: "text sent as base64 media is refused: send it as text so policy can \
                          read it",
            });
        }
        Ok(())
    }

    /// Takes the provider beta features the caller asked for in a header
    /// (`anthropic-beta: a,b`): they become part of what policy decides on.
    pub fn set_beta_features(&mut self, header: Option<&str>) -> Result<(), CallError> {
        let mut features = Vec::new();
        for name in header.unwrap_or_default().split(',') {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            if name.len() > 64 || !wire_token(name) {
                return Err(invalid(
                    "anthropic-beta",
                    "a comma-separated list of beta feature names",
                ));
            }
            features.push(name.to_ascii_lowercase());
        }
        features.sort_unstable();
        features.dedup();
        self.beta_features = features;
        Ok(())
    }

    /// Calls `visit` with every string the caller sent and what it is (see [`wire`]),
    /// but the model: routing admits only catalog ids, and it is replaced upstream.
    pub fn visit_slots<'a>(&'a self, visit: &mut dyn FnMut(Slot, &'a str)) {
        wire::walk_fields(&self.body, &["model"], visit);
    }

    /// Calls `visit` with every text the detectors read, in [`LlmCall::visit_slots`]
    /// order: every string the caller sent but media payloads and provider-signed blobs.
    pub fn visit_text(&self, visit: &mut dyn FnMut(&str)) {
        self.visit_slots(&mut |slot, text| {
            if slot.is_scanned() {
                visit(text)
            }
        });
    }

    /// Runs every detector over every text the caller sent, in [`LlmCall::visit_text`]
    /// order (findings carry that index). Identifiers (ids, enums) are not read for
    /// injection, nor for the high-entropy strings they are made of.
    pub fn scan(&self) -> detect::Detections {
        let mut scan = detect::Aggregate::default();
        let every_kind = KindSet::of(Kind::ALL);
        self.visit_slots(&mut |slot, text| {
            if slot.is_scanned() {
                scan.add(text, slot.is_prose(), slot.detectable(every_kind));
            }
        });
        scan.finish()
    }

    /// [`LlmCall::visit_text`], with each text mutable (for redaction), in the same order.
    pub fn visit_text_mut(&mut self, visit: &mut dyn FnMut(Slot, &mut String)) {
        wire::walk_fields_mut(&mut self.body, &["model"], &mut |slot, text| {
            if slot.is_scanned() {
                visit(slot, text)
            }
        });
    }

    /// Applies what the deciding permits require of the request itself (output caps, input
    /// redaction), and counts the findings it redacted. The answer's obligations are the
    /// output guard's.
    pub fn apply_obligations(&mut self, obligations: &[Obligation]) -> KindCounts {
        let mut redacted = KindCounts::new();
        for obligation in obligations {
            match *obligation {
                Obligation::CapOutputTokens { max } => {
                    self.cap_output_tokens(max);
                }
                Obligation::RedactInput { kinds } => {
                    for (kind, count) in self.redact(kinds) {
                        let total = redacted.entry(kind).or_insert(0);
                        *total = total.saturating_add(count);
                    }
                }
                Obligation::RedactOutput { .. } | Obligation::BlockOutput { .. } => {}
            }
        }
        redacted
    }

    /// Replaces every finding of `kinds` in every text the caller sent with a typed
    /// placeholder (`[REDACTED:email]`), and counts what it replaced.
    pub fn redact(&mut self, kinds: KindSet) -> KindCounts {
        let mut counts = KindCounts::new();
        if kinds.is_empty() {
            return counts;
        }
        self.visit_text_mut(&mut |slot, text| {
            if let Some((redacted, found)) = detect::redact_kinds(text, slot.detectable(kinds)) {
                *text = redacted;
                for finding in found {
                    *counts.entry(finding.kind.name()).or_insert(0) += 1;
                }
            }
        });
        counts
    }

    /// Estimated input tokens: every string through the estimator (media by size),
    /// pre-tokenised inputs, and the per-message overhead.
    pub fn estimated_input_tokens(&self) -> u64 {
        let mut total = self.pretokenized;
        self.visit_slots(&mut |slot, text| {
            total = total.saturating_add(tokens::of_slot(slot, text));
        });
        total.saturating_add(
            self.message_count
                .saturating_mul(tokens::PER_MESSAGE_OVERHEAD),
        )
    }

    /// Token ids sent as embedding inputs: each is exactly one token.
    pub fn pretokenized_inputs(&self) -> u64 {
        self.pretokenized
    }

    /// Asks OpenAI to end a streamed chat answer with its usage (`stream_options.
    /// include_usage`), so the call can be settled at what it used. Returns whether the
    /// caller asked for it too (if not, the gateway takes that chunk out again). Other
    /// calls are left alone and report `true`: there is nothing to take out.
    pub fn ask_for_stream_usage(&mut self) -> bool {
        if self.endpoint != Endpoint::ChatCompletions || !self.stream {
            return true;
        }
        let options = self
            .body
            .entry("stream_options")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(options) = options else {
            // Not an object: the provider refuses the call, and nothing streams.
            return true;
        };
        let asked = options.get("include_usage") == Some(&Value::Bool(true));
        options.insert("include_usage".to_owned(), Value::Bool(true));
        asked
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

    /// The most output tokens the whole call may produce: the per-choice limit (or the
    /// model's own, `model_limit`) times the number of choices.
    pub fn worst_case_output_tokens(&self, model_limit: u64) -> u64 {
        self.max_output_tokens
            .unwrap_or(model_limit)
            .saturating_mul(self.choices)
    }

    /// Lowers (or sets) the output-token limit the call asks for, in every field that
    /// sets one. Returns whether the body changed. Embeddings have no output to cap.
    pub fn cap_output_tokens(&mut self, max: u64) -> bool {
        if self.endpoint == Endpoint::Embeddings
            || self.max_output_tokens.is_some_and(|asked| asked <= max)
        {
            return false;
        }
        match self.endpoint {
            Endpoint::Embeddings => return false,
            Endpoint::Messages => {
                let asked = optional_count(&self.body, "max_tokens").ok().flatten();
                let new_max = asked.map_or(max, |asked| asked.min(max));
                self.body
                    .insert("max_tokens".to_owned(), Value::from(new_max));
                let mut limit = new_max;
                let budget = self
                    .body
                    .get_mut("thinking")
                    .and_then(|thinking| thinking.get_mut("budget_tokens"));
                if let Some(budget) = budget {
                    if let Some(old) = budget.as_u64() {
                        // A budget below `max_tokens` must stay below it (Anthropic's rule
                        // without interleaved thinking).
                        let mut new = old.min(max);
                        if asked.is_some_and(|asked| old < asked) && new >= new_max {
                            new = new_max.saturating_sub(1);
                        }
                        *budget = Value::from(new);
                        limit = limit.max(new);
                    }
                }
                self.max_output_tokens = Some(limit);
                return true;
            }
            Endpoint::ChatCompletions => {
                let mut set = false;
                for field in ["max_completion_tokens", "max_tokens"] {
                    if present(&self.body, field) {
                        self.body.insert(field.to_owned(), Value::from(max));
                        set = true;
                    }
                }
                if !set {
                    self.body.insert("max_tokens".to_owned(), Value::from(max));
                }
            }
        }
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

/// A caller's field name, cut to 64 characters for an error message.
fn shortened(name: &str) -> String {
    name.chars().take(64).collect()
}

/// A name the APIs use for types and features: ASCII letters, digits, `_ - .`.
fn wire_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// A tool's kind from its `type`: versioned server tools (`web_search_20250305`) by name.
fn tool_kind(type_name: &str) -> String {
    let name = match type_name.rsplit_once('_') {
        Some((name, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => type_name,
    };
    name.to_ascii_lowercase()
}

fn present(body: &Map<String, Value>, field: &str) -> bool {
    body.get(field).is_some_and(|v| !v.is_null())
}

/// An optional array of objects.
fn objects<'a>(
    body: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Vec<&'a Map<String, Value>>, CallError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object()
                    .ok_or(invalid(field, "an array of objects"))
            })
            .collect(),
        Some(_) => Err(invalid(field, "an array of objects")),
    }
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

fn optional_token(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, CallError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if wire_token(s) => Ok(Some(s.to_ascii_lowercase())),
        Some(_) => Err(invalid(field, "a name such as `auto`")),
    }
}

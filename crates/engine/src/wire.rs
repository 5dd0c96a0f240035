//! Where text lives in the providers' JSON: one description for requests and answers of
//! both APIs, used by detection, redaction, the token estimate and the output guard alike.
//!
//! The walk visits every string of a JSON value, in a fixed order (object keys sorted),
//! and says what each one is. The rule is complete mediation: a string is [`Slot::Prose`]
//! unless a rule below says otherwise, so a field or block type the gateway has never
//! seen is scanned like message text. Only these are not prose:
//!
//! * [`Slot::Identifier`]: the value of a key the APIs use for ids and enums (`id`,
//!   `type`, `role`, `model`, …) when it is one short token. It can hold neither an
//!   instruction nor much text, but it can hold a credential, so it is scanned for PII
//!   and secrets, except the high-entropy kind that every id would match. A longer value,
//!   or one with spaces, is prose.
//! * [`Slot::Opaque`]: provider-signed blobs (`signature`, `encrypted_content`, redacted
//!   thinking `data`). The provider refuses a forged one, so no caller text reaches a
//!   model through them; they are counted by size, not scanned. Base64 embedding vectors
//!   in answers are opaque too.
//! * [`Slot::Binary`]: media payloads (base64 `data`, `file_data`, `data:` URLs). A model
//!   sees an image, a sound or a document: counted by size, not scanned; an answer that
//!   carries one cannot be checked by the output guard.
//! * [`Slot::Reference`]: the URL or file id of media the provider fetches itself. It is
//!   scanned as prose (a URL can carry text) and counted as a fixed amount of media.

use serde_json::{Map, Value};

use crate::detect::{Kind, KindSet};

/// What a string of provider JSON is, for the detectors and the estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Prose,
    Identifier,
    Opaque,
    Binary(Media),
    Reference(Media),
}

/// What kind of media a binary payload or a reference carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Image,
    /// Documents (PDF), audio, files: anything but an image or text.
    Document,
    /// Base64 that declares a text type (`text/plain`, JSON, XML): text no detector would
    /// read, so requests carrying it are refused.
    Text,
}

impl Slot {
    /// Whether the detectors read this string (and redaction may rewrite it).
    pub fn is_scanned(self) -> bool {
        matches!(self, Slot::Prose | Slot::Identifier | Slot::Reference(_))
    }

    /// Whether the prompt-injection detector reads it (an identifier is one word).
    pub fn is_prose(self) -> bool {
        matches!(self, Slot::Prose | Slot::Reference(_))
    }

    /// Which of `kinds` to look for in this string: ids are random by design, so never
    /// `high_entropy` in an identifier.
    pub fn detectable(self, kinds: KindSet) -> KindSet {
        match self {
            Slot::Identifier => kinds.difference(KindSet::of([Kind::HighEntropy])),
            _ if self.is_scanned() => kinds,
            _ => KindSet::EMPTY,
        }
    }
}

/// Keys whose values the APIs define as ids, names of enums or formats.
fn is_identifier_key(key: &str) -> bool {
    matches!(
        key,
        "id" | "type"
            | "role"
            | "model"
            | "object"
            | "tool_call_id"
            | "tool_use_id"
            | "media_type"
            | "detail"
            | "format"
            | "encoding_format"
            | "finish_reason"
            | "stop_reason"
            | "system_fingerprint"
            | "service_tier"
            | "reasoning_effort"
            | "verbosity"
            | "file_id"
            | "container"
            | "voice"
            | "ttl"
    )
}

/// One short token of the characters ids and enums use.
fn is_token(text: &str) -> bool {
    text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
}

/// The facts about an object that decide what its strings are (copied out of the object
/// so a mutable walk can use them while it rewrites the object's strings).
#[derive(Debug, Clone, Copy, Default)]
struct Parent {
    /// The key the object sits under.
    under: Under,
    /// Its `type`.
    kind: ObjectType,
    /// What its `media_type` declares.
    media: Option<Media>,
    /// Inside an image block (whose `source` says where the image is).
    in_image: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Under {
    ImageUrl,
    Audio,
    File,
    /// A content block's `source` (where its media is).
    Source,
    #[default]
    Other,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ObjectType {
    Base64,
    RedactedThinking,
    Url,
    File,
    Image,
    #[default]
    Other,
}

impl Parent {
    fn of(key: &str, map: &Map<String, Value>, outer: Parent) -> Self {
        let under = match key {
            "image_url" => Under::ImageUrl,
            "input_audio" | "audio" => Under::Audio,
            "file" => Under::File,
            "source" => Under::Source,
            _ => Under::Other,
        };
        let kind = match map.get("type").and_then(Value::as_str) {
            Some("base64") => ObjectType::Base64,
            Some("redacted_thinking") => ObjectType::RedactedThinking,
            Some("url") => ObjectType::Url,
            Some("file") => ObjectType::File,
            Some("image" | "image_url" | "input_image") => ObjectType::Image,
            _ => ObjectType::Other,
        };
        let media = map
            .get("media_type")
            .and_then(Value::as_str)
            .map(media_of_type);
        Parent {
            under,
            kind,
            media,
            in_image: outer.in_image || outer.kind == ObjectType::Image,
        }
    }

    fn media(self) -> Media {
        match self.media {
            Some(media) => media,
            None if self.under == Under::ImageUrl
                || self.kind == ObjectType::Image
                || self.in_image =>
            {
                Media::Image
            }
            None => Media::Document,
        }
    }
}

/// What the string `text` under `key` of an object described by `parent` is.
fn classify(key: &str, text: &str, parent: Parent) -> Slot {
    if let Some(media) = data_url_media(text) {
        return Slot::Binary(media);
    }
    match key {
        // Embedding vectors in base64 are numbers, not text.
        "signature" | "encrypted_content" | "embedding" => return Slot::Opaque,
        "data" if parent.kind == ObjectType::RedactedThinking => return Slot::Opaque,
        "data" if parent.kind == ObjectType::Base64 => return Slot::Binary(parent.media()),
        "data" if parent.under == Under::Audio => return Slot::Binary(Media::Document),
        "file_data" => return Slot::Binary(Media::Document),
        "url" if parent.under == Under::ImageUrl => return Slot::Reference(Media::Image),
        "url" if parent.under == Under::Source && parent.kind == ObjectType::Url => {
            return Slot::Reference(parent.media())
        }
        "file_id" if parent.under == Under::Source || parent.under == Under::File => {
            return Slot::Reference(parent.media())
        }
        _ => {}
    }
    if is_identifier_key(key) && is_token(text) {
        Slot::Identifier
    } else {
        Slot::Prose
    }
}

/// The media of a base64 `data:` URL (`data:image/png;base64,…`), if `text` is one.
fn data_url_media(text: &str) -> Option<Media> {
    let rest = text.strip_prefix("data:")?;
    let header = rest.get(..rest.len().min(256)).unwrap_or(rest);
    let header = header.split(',').next()?;
    let media_type = header.strip_suffix(";base64")?;
    Some(media_of_type(
        media_type.split(';').next().unwrap_or_default(),
    ))
}

fn media_of_type(media_type: &str) -> Media {
    let media_type = media_type.trim().to_ascii_lowercase();
    if media_type.starts_with("image/") {
        Media::Image
    } else if media_type.starts_with("text/")
        || ["json", "xml", "yaml", "javascript", "csv"]
            .iter()
            .any(|suffix| media_type.ends_with(suffix))
    {
        Media::Text
    } else {
        Media::Document
    }
}

/// Calls `visit` with every string in `value`, in a fixed order, and what it is.
/// serde_json caps nesting at 128, so the recursion is bounded.
pub fn walk<'a>(value: &'a Value, visit: &mut dyn FnMut(Slot, &'a str)) {
    walk_inner(value, "", Parent::default(), visit);
}

fn walk_inner<'a>(
    value: &'a Value,
    key: &str,
    parent: Parent,
    visit: &mut dyn FnMut(Slot, &'a str),
) {
    match value {
        Value::String(text) => visit(classify(key, text, parent), text),
        // Array items share their array's key and parent object.
        Value::Array(items) => items
            .iter()
            .for_each(|item| walk_inner(item, key, parent, visit)),
        Value::Object(map) => {
            let this = Parent::of(key, map, parent);
            for (k, v) in map {
                walk_inner(v, k, this, visit);
            }
        }
        _ => {}
    }
}

/// [`walk`], with each string mutable (for redaction), in the same order.
pub fn walk_mut(value: &mut Value, visit: &mut dyn FnMut(Slot, &mut String)) {
    walk_mut_inner(value, "", Parent::default(), visit);
}

fn walk_mut_inner(
    value: &mut Value,
    key: &str,
    parent: Parent,
    visit: &mut dyn FnMut(Slot, &mut String),
) {
    match value {
        Value::String(text) => {
            let slot = classify(key, text, parent);
            visit(slot, text);
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| walk_mut_inner(item, key, parent, visit)),
        Value::Object(map) => {
            let this = Parent::of(key, map, parent);
            for (k, v) in map.iter_mut() {
                walk_mut_inner(v, k, this, visit);
            }
        }
        _ => {}
    }
}

/// [`walk`] over the fields of a JSON object (a request or answer body), but those named
/// in `skip`.
pub fn walk_fields<'a>(
    fields: &'a Map<String, Value>,
    skip: &[&str],
    visit: &mut dyn FnMut(Slot, &'a str),
) {
    let this = Parent::of("", fields, Parent::default());
    for (k, v) in fields {
        if !skip.contains(&k.as_str()) {
            walk_inner(v, k, this, visit);
        }
    }
}

/// [`walk_mut`] over the fields of a JSON object, but those named in `skip`.
pub fn walk_fields_mut(
    fields: &mut Map<String, Value>,
    skip: &[&str],
    visit: &mut dyn FnMut(Slot, &mut String),
) {
    let this = Parent::of("", fields, Parent::default());
    for (k, v) in fields.iter_mut() {
        if !skip.contains(&k.as_str()) {
            walk_mut_inner(v, k, this, visit);
        }
    }
}

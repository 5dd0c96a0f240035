//! The model catalog: which models the gateway serves, from which provider, at what price.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A provider whose wire format the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Openai,
    Anthropic,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Openai, Provider::Anthropic];

    /// The id used for the provider's Cedar entity and in configuration.
    pub fn id(self) -> &'static str {
        match self {
            Provider::Openai => "openai",
            Provider::Anthropic => "anthropic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Chat,
    Embedding,
}

impl ModelKind {
    pub fn id(self) -> &'static str {
        match self {
            ModelKind::Chat => "chat",
            ModelKind::Embedding => "embedding",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
}

/// One catalog entry, keyed by the model id callers send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    pub provider: Provider,
    /// The model name sent upstream (callers may use a stable alias).
    pub upstream_model: String,
    pub kind: ModelKind,
    pub premium: bool,
    pub context_window: u32,
    pub max_output_tokens: u32,
    pub usd_per_million_tokens: Prices,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub models: BTreeMap<String, ModelInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("model catalog is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("model catalog lists no models")]
    Empty,
    #[error("model `{0}` has an empty id or upstream model name")]
    EmptyName(String),
    #[error("model `{model}` has a negative or non-finite price")]
    BadPrice { model: String },
}

impl Catalog {
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog = serde_json::from_str(text)?;
        if catalog.models.is_empty() {
            return Err(CatalogError::Empty);
        }
        for (id, model) in &catalog.models {
            if id.trim().is_empty() || model.upstream_model.trim().is_empty() {
                return Err(CatalogError::EmptyName(id.clone()));
            }
            let prices = &model.usd_per_million_tokens;
            let valid = |p: f64| p.is_finite() && p >= 0.0;
            if !valid(prices.input) || !valid(prices.output) {
                return Err(CatalogError::BadPrice { model: id.clone() });
            }
        }
        Ok(catalog)
    }

    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.get(id)
    }
}

//! The gateway's engine compiled to wasm32 for the node benchmark:
//! a stateful decider that loads a policy bundle once (strict validation, the engine's
//! normal loader) and then decides request bodies, exactly as the worker does after
//! authentication. `bench/wasm_decide.mjs` drives it and compares it with
//! `@cedar-policy/cedar-wasm` on the same policies and request.
//!
//! The policy sets and the benchmark request come from the same files the native bench
//! uses (`bench/policy_sets/*.rs`, included by path).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cedar_policy::Authorizer;
use gateway_engine::RequestFacts;
use gateway_policy::{PolicyBundle, Principal};
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

use gateway_workload::generate::{self, GeneratedSet};
use gateway_workload::workload::{self, Prebuilt};

/// A generated set of `n` policies as JSON:
/// `{"schema", "catalog", "files": [{"name", "text"}], "policies": {"<@id>": "<text>"}}`.
#[wasm_bindgen]
pub fn generate_policy_set(n: usize) -> Result<String, JsError> {
    let set = generate::generate(&llm_policy_gateway::embedded::source(), n)
        .map_err(|e| JsError::new(&e))?;
    let policies: Map<String, Value> = set
        .policies
        .iter()
        .map(|(id, text)| (id.clone(), Value::String(text.clone())))
        .collect();
    let files: Vec<Value> = set
        .files
        .iter()
        .map(|(name, text)| json!({ "name": name, "text": text }))
        .collect();
    Ok(json!({
        "schema": set.schema,
        "catalog": set.catalog,
        "files": files,
        "policies": policies,
    })
    .to_string())
}

/// The size of the module's linear memory in bytes (it only grows).
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// The benchmark request body with a prompt of `prompt_bytes` bytes.
#[wasm_bindgen]
pub fn chat_body(prompt_bytes: usize) -> Vec<u8> {
    workload::chat_body(prompt_bytes)
}

/// `bytes` of the benchmark prose, for timing the detectors alone.
#[wasm_bindgen]
pub struct Prose {
    text: String,
}

#[wasm_bindgen]
impl Prose {
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: usize) -> Prose {
        Prose {
            text: workload::prose(bytes),
        }
    }

    /// Every detector over the text (`detect::scan_text`); the number of findings.
    pub fn scan(&self) -> usize {
        let found = gateway_engine::detect::scan_text(&self.text);
        found.pii.len() + found.secrets.len() + usize::from(found.injection_score)
    }
}

fn set_from_json(text: &str) -> Result<GeneratedSet, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let string = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("policy set JSON lacks `{key}`"))
    };
    let files = value
        .get("files")
        .and_then(Value::as_array)
        .ok_or("policy set JSON lacks `files`")?
        .iter()
        .map(|f| {
            let name = f.get("name").and_then(Value::as_str);
            let text = f.get("text").and_then(Value::as_str);
            name.zip(text)
                .map(|(n, t)| (n.to_owned(), t.to_owned()))
                .ok_or_else(|| "a file lacks `name` or `text`".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GeneratedSet {
        schema: string("schema")?,
        catalog: string("catalog")?,
        files,
        policies: Vec::new(),
    })
}

/// A loaded bundle deciding for the benchmark caller.
#[wasm_bindgen]
pub struct Decider {
    bundle: PolicyBundle,
    principal: Principal,
    facts: RequestFacts,
    authorizer: Authorizer,
    floor: Option<Prebuilt>,
}

#[wasm_bindgen]
impl Decider {
    /// Loads a set in `generate_policy_set`'s JSON form, with strict validation.
    #[wasm_bindgen(constructor)]
    pub fn new(set_json: &str) -> Result<Decider, JsError> {
        let set = set_from_json(set_json).map_err(|e| JsError::new(&e))?;
        let bundle = set.load().map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Self {
            bundle,
            principal: workload::principal(),
            facts: workload::facts(),
            authorizer: Authorizer::new(),
            floor: None,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn policy_count(&self) -> usize {
        self.bundle.policy_count()
    }

    /// The full pipeline on a request body: 1 allow, 0 deny, 2 the body was refused
    /// before Cedar (bad JSON, unknown model).
    pub fn decide(&self, body: &[u8]) -> u32 {
        match workload::decide(&self.bundle, &self.principal, &self.facts, body) {
            Ok(d) => u32::from(d.is_allowed()),
            Err(_) => 2,
        }
    }

    /// The full pipeline, as `{"decision", "policies": [ids, sorted], "errors"}`.
    pub fn decide_json(&self, body: &[u8]) -> Result<String, JsError> {
        let d = workload::decide(&self.bundle, &self.principal, &self.facts, body)
            .map_err(|e| JsError::new(&e))?;
        let mut ids = d.policy_ids();
        ids.sort_unstable();
        Ok(json!({ "decision": d.decision, "policies": ids, "errors": d.errors }).to_string())
    }

    /// The Cedar request the pipeline builds for `body`, in Cedar's JSON formats
    /// (`{principal, action, resource, context, entities}`), for cedar-wasm.
    pub fn cedar_request(&self, body: &[u8]) -> Result<String, JsError> {
        workload::cedar_request_json(&self.bundle, &self.principal, &self.facts, body)
            .map(|v| v.to_string())
            .map_err(|e| JsError::new(&e))
    }

    /// Builds the Cedar request for `body` once, for `authorize_floor`.
    pub fn prepare_floor(&mut self, body: &[u8]) -> Result<(), JsError> {
        let json = workload::cedar_request_json(&self.bundle, &self.principal, &self.facts, body)
            .map_err(|e| JsError::new(&e))?;
        self.floor = Some(Prebuilt::from_json(&self.bundle, &json).map_err(|e| JsError::new(&e))?);
        Ok(())
    }

    /// Cedar's `is_authorized` alone on the prepared request (the floor, inside wasm).
    pub fn authorize_floor(&self) -> bool {
        self.floor
            .as_ref()
            .is_some_and(|f| f.authorize(&self.authorizer, &self.bundle))
    }

    /// The floor's decision and deciding ids, as `{"decision", "policies"}`.
    pub fn explain_floor(&self) -> String {
        let (allowed, ids) = self
            .floor
            .as_ref()
            .map(|f| f.explain(&self.bundle))
            .unwrap_or_default();
        json!({ "decision": if allowed { "allow" } else { "deny" }, "policies": ids }).to_string()
    }
}

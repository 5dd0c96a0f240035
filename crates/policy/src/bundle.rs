//! A policy bundle: the Cedar schema, the policies, the model catalog and the limits, parsed and
//! validated as one unit, with a content hash that names its version.
//!
//! Stages follow Cedar's: parse (schema, each policy file, the catalog), then validate
//! (policies against the schema in strict mode, catalog entities against the schema).
//! Each stage has its own error variant.
//!
//! A loaded bundle also keeps what per-request decisions can share: its policies indexed
//! by scope (`slice.rs`), and the Cedar entities of each caller and model in use.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    CedarSchemaError, Entities, Entity, EntityAttrEvaluationError, EntityId, EntityTypeName,
    EntityUid, ParseErrors, Policy, PolicyId, PolicySet, PolicySetError, RestrictedExpression,
    Schema, ValidationError, ValidationMode, Validator,
};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, CatalogError, ModelInfo, Provider};
use crate::context;
use crate::limits::{LimitSet, LimitsError, LIMITS_FILE};
use crate::memo::Memo;
use crate::obligations::{self, Obligation};
use crate::principal::Principal;
use crate::slice::{PolicyIndex, ScopeRequest};

/// The entity types the schema (policies/schema.cedarschema) declares, parsed once.
#[derive(Debug, Clone)]
pub struct CedarTypes {
    pub user: EntityTypeName,
    pub team: EntityTypeName,
    pub org: EntityTypeName,
    pub model: EntityTypeName,
    pub provider: EntityTypeName,
    pub action: EntityTypeName,
}

impl CedarTypes {
    fn parse() -> Result<Self, BundleError> {
        let name = |n: &str| {
            EntityTypeName::from_str(n)
                .map_err(|e| BundleError::TypeName(n.to_owned(), e.to_string()))
        };
        Ok(Self {
            user: name("Llm::User")?,
            team: name("Llm::Team")?,
            org: name("Llm::Org")?,
            model: name("Llm::Model")?,
            provider: name("Llm::Provider")?,
            action: name("Llm::Action")?,
        })
    }

    pub fn uid(type_name: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
    }
}

/// Annotations every policy must carry.
pub const ID_ANNOTATION: &str = "id";
pub const REASON_ANNOTATION: &str = "reason";

/// One policy file of a bundle's source, named for error messages.
#[derive(Debug, Clone, Copy)]
pub struct PolicyFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// The text a bundle is made from.
#[derive(Debug, Clone)]
pub struct BundleSource<'a> {
    pub schema: &'a str,
    pub policy_files: Vec<PolicyFile<'a>>,
    pub catalog: &'a str,
    /// `budgets.json`; empty when the set declares no limits.
    pub limits: &'a str,
}

impl<'a> BundleSource<'a> {
    /// A source from its schema, its catalog and its policy files as (name, text).
    pub fn new(
        schema: &'a str,
        catalog: &'a str,
        policy_files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let policy_files = policy_files
            .into_iter()
            .map(|(name, text)| PolicyFile { name, text })
            .collect();
        BundleSource {
            schema,
            policy_files,
            catalog,
            limits: "",
        }
    }

    /// The same source with `budgets.json`'s text.
    pub fn with_limits(self, limits: &'a str) -> Self {
        BundleSource { limits, ..self }
    }
}

/// Whether `load` runs the validator. The embedded set was validated by `build.rs`,
/// so loading it again at isolate start-up skips that cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    Strict,
    AlreadyValidated,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("schema does not parse: {0}")]
    Schema(#[source] Box<CedarSchemaError>),
    #[error("{file}: policies do not parse: {errors}")]
    PolicyParse {
        file: String,
        #[source]
        errors: Box<ParseErrors>,
    },
    #[error("{file}: templates are not supported, found `{template}`")]
    Template { file: String, template: String },
    #[error(
        "{file}: a policy lacks the `@{annotation}` annotation (policy {position} of the file)"
    )]
    MissingAnnotation {
        file: String,
        annotation: &'static str,
        position: usize,
    },
    #[error("{file}: policy `{id}`: {message}")]
    Obligation {
        file: String,
        id: String,
        message: String,
    },
    #[error("{file}: policy id `{id}` is used twice")]
    DuplicateId { file: String, id: String },
    #[error("policies fail schema validation: {}", render_invalid(.0))]
    Invalid(Vec<InvalidPolicy>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("{LIMITS_FILE}: {0}")]
    Limits(#[from] LimitsError),
    #[error("entity type name `{0}` does not parse: {1}")]
    TypeName(String, String),
    #[error("the schema does not accept the request context the gateway sends: {0}")]
    RequestContext(String),
    #[error("model `{model}` does not fit the schema: {message}")]
    CatalogEntity { model: String, message: String },
}

/// One schema validation failure, with the file the policy came from.
#[derive(Debug)]
pub struct InvalidPolicy {
    pub file: String,
    pub error: ValidationError,
}

fn render_invalid(errors: &[InvalidPolicy]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.file, e.error))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A parsed, validated policy bundle: everything a decision needs that does not come
/// from the request.
#[derive(Debug)]
pub struct PolicyBundle {
    schema: Schema,
    policies: PolicyIndex,
    /// Each policy's `@reason` and obligations, read once (Cedar's annotation lookup
    /// parses the key on every call).
    notes: HashMap<PolicyId, PolicyNotes>,
    catalog: Catalog,
    limits: LimitSet,
    types: CedarTypes,
    /// Cedar entities for each catalog model (with its provider as parent), keyed by
    /// model id, built once so a request only clones the one it names.
    model_entities: HashMap<String, Entity>,
    provider_entities: HashMap<Provider, Entity>,
    /// The Cedar entities of a request (caller, team, org, model, provider, actions),
    /// checked against the schema once per caller and model rather than per request.
    request_entities: Memo<(Principal, String), Arc<Entities>>,
    content_hash: String,
    policy_count: usize,
}

/// What a decision reports and applies for one policy, from its annotations.
#[derive(Debug, Clone)]
struct PolicyNotes {
    reason: String,
    obligations: Vec<Obligation>,
}

/// Callers × models whose request entities are kept.
const REQUEST_ENTITIES_KEPT: usize = 1024;

impl PolicyBundle {
    pub fn load(source: &BundleSource<'_>, validation: Validation) -> Result<Self, BundleError> {
        let (schema, _warnings) = Schema::from_cedarschema_str(source.schema)
            .map_err(|e| BundleError::Schema(Box::new(e)))?;

        let mut files = source.policy_files.clone();
        files.sort_by(|a, b| a.name.cmp(b.name));
        let (policies, origin, notes) = parse_policy_files(&files)?;

        if validation == Validation::Strict {
            let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
            if !result.validation_passed() {
                let invalid = result
                    .validation_errors()
                    .map(|error| InvalidPolicy {
                        file: origin
                            .get(error.policy_id())
                            .cloned()
                            .unwrap_or_else(|| "<unknown file>".to_owned()),
                        error: error.clone(),
                    })
                    .collect();
                return Err(BundleError::Invalid(invalid));
            }
        }

        let catalog = Catalog::from_json(source.catalog)?;
        let limits = LimitSet::from_json(source.limits)?;
        let types = CedarTypes::parse()?;
        context::check_schema(&schema, &types.action, &types.user, &types.model)
            .map_err(BundleError::RequestContext)?;
        let (model_entities, provider_entities) = catalog_entities(&catalog, &schema, &types)?;
        let policy_count = policies.policies().count();

        Ok(Self {
            content_hash: content_hash(source),
            schema,
            policies: PolicyIndex::new(policies),
            notes,
            catalog,
            limits,
            types,
            model_entities,
            provider_entities,
            request_entities: Memo::new(REQUEST_ENTITIES_KEPT),
            policy_count,
        })
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every policy of the bundle.
    pub fn policies(&self) -> &PolicySet {
        self.policies.all()
    }

    /// The policies whose scope a request satisfies (see `slice.rs`): deciding on them
    /// gives the same answer as deciding on all of them.
    pub fn policies_for(&self, request: ScopeRequest<'_>) -> Arc<PolicySet> {
        self.policies.slice(request)
    }

    /// The request entities for a caller and model, made by `make` on the first call.
    pub fn request_entities(
        &self,
        principal: &Principal,
        model_id: &str,
        make: impl FnOnce() -> Result<Entities, String>,
    ) -> Result<Arc<Entities>, String> {
        let key = (principal.clone(), model_id.to_owned());
        self.request_entities
            .get_or_try_insert(&key, || make().map(Arc::new))
    }

    pub fn types(&self) -> &CedarTypes {
        &self.types
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The budgets and rate limits the set declares.
    pub fn limits(&self) -> &LimitSet {
        &self.limits
    }

    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.catalog.model(id)
    }

    pub fn model_entity(&self, id: &str) -> Option<&Entity> {
        self.model_entities.get(id)
    }

    pub fn provider_entity(&self, provider: Provider) -> Option<&Entity> {
        self.provider_entities.get(&provider)
    }

    /// The policy's `@reason`, for decisions and denials.
    pub fn reason(&self, id: &PolicyId) -> Option<&str> {
        self.notes.get(id).map(|notes| notes.reason.as_str())
    }

    /// The obligations the policy's annotations declare (none for a forbid).
    pub fn obligations(&self, id: &PolicyId) -> &[Obligation] {
        self.notes
            .get(id)
            .map_or(&[][..], |notes| notes.obligations.as_slice())
    }

    /// Hex SHA-256 over the schema, every policy file (by name), the catalog and the limits.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The short form of the content hash that names this policy version.
    pub fn version(&self) -> String {
        version_of(&self.content_hash)
    }

    pub fn policy_count(&self) -> usize {
        self.policy_count
    }
}

/// `sha256:` and the first 16 hex digits (64 bits) of a content hash.
pub fn version_of(content_hash: &str) -> String {
    format!("sha256:{}", content_hash.get(..16).unwrap_or(content_hash))
}

/// Parses every file, renames each policy to its `@id`, and remembers its file.
/// The parsed policies, the file each came from, and their notes.
type ParsedFiles = (
    PolicySet,
    HashMap<PolicyId, String>,
    HashMap<PolicyId, PolicyNotes>,
);

fn parse_policy_files(files: &[PolicyFile<'_>]) -> Result<ParsedFiles, BundleError> {
    let mut all = PolicySet::new();
    let mut origin = HashMap::new();
    let mut notes = HashMap::new();
    for file in files {
        let parsed = PolicySet::from_str(file.text).map_err(|errors| BundleError::PolicyParse {
            file: file.name.to_owned(),
            errors: Box::new(errors),
        })?;
        if let Some(template) = parsed.templates().next() {
            let name = template
                .annotation(ID_ANNOTATION)
                .map_or_else(|| template.id().to_string(), str::to_owned);
            return Err(BundleError::Template {
                file: file.name.to_owned(),
                template: name,
            });
        }
        // Cedar names policies policy0, policy1, … in source order; keep that order.
        let mut in_file: Vec<&Policy> = parsed.policies().collect();
        in_file.sort_by_key(|p| policy_position(p.id()));
        for (index, policy) in in_file.into_iter().enumerate() {
            let missing = |annotation| BundleError::MissingAnnotation {
                file: file.name.to_owned(),
                annotation,
                position: index + 1,
            };
            // A blank annotation names or explains nothing: treat it as missing.
            let annotation = |key| policy.annotation(key).filter(|v| !v.trim().is_empty());
            let id = annotation(ID_ANNOTATION).ok_or(missing(ID_ANNOTATION))?;
            let reason = annotation(REASON_ANNOTATION).ok_or(missing(REASON_ANNOTATION))?;
            let obligations =
                obligations::of_policy(policy).map_err(|message| BundleError::Obligation {
                    file: file.name.to_owned(),
                    id: id.to_owned(),
                    message,
                })?;
            let id = PolicyId::new(id);
            let duplicate = || BundleError::DuplicateId {
                file: file.name.to_owned(),
                id: id.to_string(),
            };
            if origin.contains_key(&id) {
                return Err(duplicate());
            }
            all.add(policy.new_id(id.clone()))
                .map_err(|_: PolicySetError| duplicate())?;
            origin.insert(id.clone(), file.name.to_owned());
            notes.insert(
                id,
                PolicyNotes {
                    reason: reason.to_owned(),
                    obligations,
                },
            );
        }
    }
    Ok((all, origin, notes))
}

fn policy_position(id: &PolicyId) -> usize {
    id.to_string()
        .strip_prefix("policy")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

type CatalogEntities = (HashMap<String, Entity>, HashMap<Provider, Entity>);

/// Builds the model and provider entities and checks them against the schema once.
fn catalog_entities(
    catalog: &Catalog,
    schema: &Schema,
    types: &CedarTypes,
) -> Result<CatalogEntities, BundleError> {
    let provider_uid = |p: Provider| CedarTypes::uid(&types.provider, p.id());
    let providers: HashMap<Provider, Entity> = Provider::ALL
        .iter()
        .map(|&p| (p, Entity::with_uid(provider_uid(p))))
        .collect();

    let mut models = HashMap::new();
    for (id, info) in &catalog.models {
        let entity_error = |message: String| BundleError::CatalogEntity {
            model: id.clone(),
            message,
        };
        let attrs = HashMap::from([
            (
                "kind".to_owned(),
                RestrictedExpression::new_string(info.kind.id().to_owned()),
            ),
            (
                "premium".to_owned(),
                RestrictedExpression::new_bool(info.premium),
            ),
            (
                "context_window".to_owned(),
                RestrictedExpression::new_long(i64::from(info.context_window)),
            ),
            (
                "max_output_tokens".to_owned(),
                RestrictedExpression::new_long(i64::from(info.max_output_tokens)),
            ),
        ]);
        let parents = HashSet::from([provider_uid(info.provider)]);
        let entity = Entity::new(CedarTypes::uid(&types.model, id), attrs, parents)
            .map_err(|e: EntityAttrEvaluationError| entity_error(e.to_string()))?;
        // Check each model on its own, so an error names the model and Cedar's cause.
        let provider = providers.get(&info.provider).cloned();
        let pair = [entity.clone()].into_iter().chain(provider);
        cedar_policy::Entities::from_entities(pair, Some(schema))
            .map_err(|e| entity_error(diagnostic_chain(&e)))?;
        models.insert(id.clone(), entity);
    }
    Ok((models, providers))
}

/// An error and its causes on one line: Cedar puts the useful part in the source chain.
fn diagnostic_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Hex SHA-256 over length-prefixed parts (so no two different sources share a hash):
/// the schema, every policy file by name in name order, the catalog, and the limits when
/// there are any (so a set without limits keeps the hash it had before they existed).
pub fn content_hash(source: &BundleSource<'_>) -> String {
    let mut files = source.policy_files.clone();
    files.sort_by(|a, b| a.name.cmp(b.name));
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(b"schema");
    part(source.schema.as_bytes());
    for file in &files {
        part(b"policy-file");
        part(file.name.as_bytes());
        part(file.text.as_bytes());
    }
    part(b"catalog");
    part(source.catalog.as_bytes());
    if !source.limits.is_empty() {
        part(b"limits");
        part(source.limits.as_bytes());
    }
    hex::encode(hasher.finalize())
}

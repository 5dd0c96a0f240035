//! Realistic synthetic policy sets of a given size, for the benchmarks.
//!
//! Used by the criterion bench (`benches/decision.rs`), the wasm bench crate
//! (`bench/wasm-engine`) and the slicing test, so all of them see exactly the same
//! policies. The embedded set a set starts from is the caller's to give
//! (`llm_policy_gateway::embedded::source()`).
//!
//! What a set of `n` policies holds, all valid in strict mode against the project's real
//! schema (`policies/schema.cedarschema`), using the real catalog (`policies/models.json`),
//! every policy with `@id` and `@reason`:
//!
//! * `n < 17`: the first `n` of [`CORE_IDS`], a hand-picked core of the embedded set (the
//!   permits the benchmark request needs first, then the guard rails).
//! * `n >= 17`: the whole embedded set (its three files, verbatim), then generated orgs, each
//!   in its own file `orgs/<org>.cedar`: per org an embeddings permit, a data-residency
//!   forbid on the caller's country, a provider restriction (`resource in Llm::Provider`)
//!   and a premium-models-need-a-role forbid; per team (about eight per org) a chat-model
//!   allowlist permit (some with an output-token cap obligation) and three to five forbids
//!   drawn from: tier output caps, cost budgets, PII kinds, prompt-injection thresholds,
//!   streaming from some models, tools without a role, conversation length, free-tier
//!   prompt size. The first generated org is `acme` itself (the benchmark caller's org), so
//!   its org policies and a few `research` team limits are in scope of the benchmark
//!   request and have their conditions evaluated (none of them fires on it).
//!
//! Generation is deterministic (a fixed-seed SplitMix64), so native and wasm runs, and
//! every rerun, see the same text. The set is cut at exactly `n` policies.

use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::PolicySet;
use gateway_policy::bundle::{BundleError, BundleSource, PolicyBundle, PolicyFile, Validation};
use gateway_policy::catalog::{Catalog, ModelKind, Provider};

/// The set sizes the benchmarks use.
pub const SIZES: [usize; 3] = [10, 100, 1000];

/// The embedded policies a set smaller than the embedded one keeps, in this order.
pub const CORE_IDS: [&str; 17] = [
    "research-model-allowlist",
    "platform-all-models",
    "embeddings-for-the-org",
    "suspended-callers",
    "endpoint-matches-model-kind",
    "prompt-fits-context-window",
    "no-secrets-upstream",
    "injection-blocked-for-everyone",
    "pro-tier-cost-cap",
    "embargoed-regions",
    "support-model-allowlist",
    "injection-blocked-for-untrusted-callers",
    "free-tier-cost-cap",
    "free-tier-no-premium-models",
    "free-tier-output-cap",
    "pro-tier-output-cap",
    "free-tier-no-tools",
];

/// A generated set: the bundle source (schema, catalog, policy files) and the same
/// policies one by one, keyed by `@id` (the form `@cedar-policy/cedar-wasm` takes).
#[derive(Debug, Clone)]
pub struct GeneratedSet {
    pub schema: String,
    pub catalog: String,
    /// (file name, text), as a bundle carries them.
    pub files: Vec<(String, String)>,
    /// (`@id`, text of that one policy), in file order.
    pub policies: Vec<(String, String)>,
}

impl GeneratedSet {
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Bytes of policy text.
    pub fn policy_bytes(&self) -> usize {
        self.files.iter().map(|(_, text)| text.len()).sum()
    }

    pub fn bundle_source(&self) -> BundleSource<'_> {
        BundleSource {
            schema: &self.schema,
            policy_files: self
                .files
                .iter()
                .map(|(name, text)| PolicyFile { name, text })
                .collect(),
            catalog: &self.catalog,
            limits: "",
        }
    }

    /// Loads the set through the engine's normal bundle loader, validating strictly, as
    /// a published bundle would be.
    pub fn load(&self) -> Result<PolicyBundle, BundleError> {
        PolicyBundle::load(&self.bundle_source(), Validation::Strict)
    }
}

/// The embedded set's policies, one by one: (file name, `@id`, text).
fn embedded_policies(source: &BundleSource<'_>) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    for file in &source.policy_files {
        let set = PolicySet::from_str(file.text).map_err(|e| format!("{}: {e}", file.name))?;
        let mut policies: Vec<_> = set.policies().collect();
        // Cedar names them policy0, policy1, … in source order.
        policies.sort_by_key(|p| {
            p.id()
                .to_string()
                .trim_start_matches("policy")
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
        for policy in policies {
            let id = policy
                .annotation("id")
                .ok_or_else(|| format!("{}: a policy has no @id", file.name))?;
            out.push((file.name.to_owned(), id.to_owned(), policy.to_string()));
        }
    }
    Ok(out)
}

/// A set of exactly `n` policies grown from `source`, the embedded set (see the module
/// documentation).
pub fn generate(source: &BundleSource<'_>, n: usize) -> Result<GeneratedSet, String> {
    let catalog = Catalog::from_json(source.catalog).map_err(|e| e.to_string())?;
    let embedded = embedded_policies(source)?;
    let mut set = GeneratedSet {
        schema: source.schema.to_owned(),
        catalog: source.catalog.to_owned(),
        files: Vec::new(),
        policies: Vec::new(),
    };

    if n < embedded.len() {
        let mut text = String::from("// The core of the embedded set (bench/policy_sets).\n");
        for id in CORE_IDS.iter().take(n) {
            let (_, id, policy) = embedded
                .iter()
                .find(|(_, pid, _)| pid == id)
                .ok_or_else(|| format!("the embedded set has no policy `{id}`"))?;
            text.push('\n');
            text.push_str(policy);
            text.push('\n');
            set.policies.push((id.clone(), policy.clone()));
        }
        set.files.push(("core.cedar".to_owned(), text));
        return finish(set, n);
    }

    for file in &source.policy_files {
        set.files.push((file.name.to_owned(), file.text.to_owned()));
    }
    for (_, id, text) in &embedded {
        set.policies.push((id.clone(), text.clone()));
    }

    let mut generator = Generator::new(&catalog);
    let mut org_index = 0;
    while set.policies.len() < n {
        let org = generator.org(org_index);
        let mut text = format!("// Generated policies of the `{}` org.\n", org.name);
        for (id, policy) in org.policies {
            if set.policies.len() >= n {
                break;
            }
            text.push('\n');
            text.push_str(&policy);
            text.push('\n');
            set.policies.push((id, policy));
        }
        set.files.push((format!("orgs/{}.cedar", org.name), text));
        org_index += 1;
    }
    finish(set, n)
}

fn finish(set: GeneratedSet, n: usize) -> Result<GeneratedSet, String> {
    if set.len() == n {
        Ok(set)
    } else {
        Err(format!("generated {} policies, wanted {n}", set.len()))
    }
}

/// SplitMix64: small, fast, deterministic everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let index = self.below(items.len());
        items.get(index)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ORG_NAMES: [&str; 24] = [
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "massive",
    "vandelay",
    "prestige",
    "gringotts",
    "oscorp",
    "dunder",
    "pied-piper",
    "monarch",
    "nakatomi",
    "weyland",
    "blue-sun",
    "virtucon",
    "contoso",
];

const TEAM_NAMES: [&str; 20] = [
    "payments",
    "search",
    "growth",
    "mobile",
    "data-science",
    "legal",
    "marketing",
    "sales-eng",
    "security",
    "infra",
    "billing",
    "docs",
    "ml-platform",
    "support-tier2",
    "analytics",
    "hr-tools",
    "fraud",
    "localization",
    "onboarding",
    "compliance",
];

/// Data-residency allowlists (ISO 3166 alpha-2) an org may restrict its callers to.
const REGIONS: [&[&str]; 4] = [
    &["US", "CA"],
    &["DE", "FR", "NL", "IE", "ES", "IT"],
    &["GB", "IE"],
    &["US", "CA", "GB", "DE", "FR", "JP", "AU"],
];

const PII_GROUPS: [&[&str]; 4] = [
    &["credit_card", "iban"],
    &["national_id"],
    &["credit_card", "iban", "national_id"],
    &["email", "phone", "national_id"],
];

struct Org {
    name: String,
    policies: Vec<(String, String)>,
}

struct Generator {
    rng: Rng,
    chat_models: Vec<String>,
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Generator {
    fn new(catalog: &Catalog) -> Self {
        let chat_models = catalog
            .models
            .iter()
            .filter(|(_, m)| m.kind == ModelKind::Chat)
            .map(|(id, _)| id.clone())
            .collect();
        Self {
            rng: Rng(0x5EED_0FBE_4C00_0005),
            chat_models,
        }
    }

    /// Org number `index`: `acme` first (the benchmark caller's), then named orgs.
    fn org(&mut self, index: usize) -> Org {
        let name = if index == 0 {
            "acme".to_owned()
        } else {
            let base = ORG_NAMES
                .get((index - 1) % ORG_NAMES.len())
                .copied()
                .unwrap_or("org");
            let round = (index - 1) / ORG_NAMES.len();
            if round == 0 {
                base.to_owned()
            } else {
                format!("{base}-{round}")
            }
        };
        let mut policies = Vec::new();
        self.org_policies(&name, index == 0, &mut policies);
        let teams = 6 + self.rng.below(5);
        let offset = self.rng.below(TEAM_NAMES.len());
        for t in 0..teams {
            let team = TEAM_NAMES
                .get((offset + t) % TEAM_NAMES.len())
                .copied()
                .unwrap_or("team");
            // Team ids are global in the schema, so qualify them with the org.
            let team_id = format!("{name}-{team}");
            self.team_policies(&name, &team_id, &mut policies);
        }
        Org { name, policies }
    }

    fn org_policies(&mut self, org: &str, is_acme: bool, out: &mut Vec<(String, String)>) {
        let scope = format!("Llm::Org::\"{org}\"");
        if !is_acme {
            // acme already has `embeddings-for-the-org` in the embedded set.
            out.push((
                format!("{org}-embeddings"),
                format!(
                    "@id(\"{org}-embeddings\")\n\
                     @reason(\"everyone in {org} may create embeddings with the embedding models\")\n\
                     permit (principal in {scope}, action == Llm::Action::\"embedding\", resource)\n\
                     when {{ resource.kind == \"embedding\" }};"
                ),
            ));
        }
        // acme's callers are in the US, so its residency list always includes it.
        let regions = if is_acme {
            REGIONS.get(3).copied().unwrap_or(&["US"])
        } else {
            self.rng.pick(&REGIONS).copied().unwrap_or(&["US"])
        };
        out.push((
            format!("{org}-data-residency"),
            format!(
                "@id(\"{org}-data-residency\")\n\
                 @reason(\"{org}'s contract allows calls only from {}\")\n\
                 forbid (principal in {scope}, action, resource)\n\
                 when {{ context has country && ![{}].contains(context.country) }};",
                regions.join(", "),
                quote_list(regions),
            ),
        ));
        if !is_acme {
            let provider = if self.rng.chance(50) {
                Provider::Anthropic
            } else {
                Provider::Openai
            };
            out.push((
                format!("{org}-no-{}", provider.id()),
                format!(
                    "@id(\"{org}-no-{p}\")\n\
                     @reason(\"{org} has no data-processing agreement with {p}\")\n\
                     forbid (principal in {scope}, action, resource in Llm::Provider::\"{p}\");",
                    p = provider.id(),
                ),
            ));
        }
        let role = if is_acme {
            "developer"
        } else {
            "senior-engineer"
        };
        out.push((
            format!("{org}-premium-needs-role"),
            format!(
                "@id(\"{org}-premium-needs-role\")\n\
                 @reason(\"in {org}, premium models need the {role} role\")\n\
                 forbid (principal in {scope}, action, resource)\n\
                 when {{ resource.premium && !principal.roles.contains(\"{role}\") }};"
            ),
        ));
        if is_acme {
            // Limits on the benchmark caller's own team: evaluated, never firing on it.
            out.push((
                "research-cost-budget".to_owned(),
                "@id(\"research-cost-budget\")\n\
                 @reason(\"research may spend at most $2 per request (worst case)\")\n\
                 forbid (principal in Llm::Team::\"research\", action, resource)\n\
                 when { context.estimated_cost_micro_usd > 2000000 };"
                    .to_owned(),
            ));
            out.push((
                "research-no-card-data".to_owned(),
                "@id(\"research-no-card-data\")\n\
                 @reason(\"research handles no payment data: card numbers and IBANs are refused\")\n\
                 forbid (principal in Llm::Team::\"research\", action, resource)\n\
                 when { context.pii_kinds.containsAny([\"credit_card\", \"iban\"]) };"
                    .to_owned(),
            ));
        }
    }

    fn team_policies(&mut self, org: &str, team: &str, out: &mut Vec<(String, String)>) {
        let scope = format!("Llm::Team::\"{team}\"");

        // The allowlist: two to five chat models of the catalog.
        let mut models = self.chat_models.clone();
        let keep = 2 + self.rng.below(models.len().saturating_sub(1).min(4));
        while models.len() > keep {
            let drop = self.rng.below(models.len());
            models.remove(drop);
        }
        let list = models
            .iter()
            .map(|m| format!("Llm::Model::\"{m}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut permit = format!(
            "@id(\"{team}-model-allowlist\")\n\
             @reason(\"the {team} team of {org} may use {}\")\n",
            models.join(", ")
        );
        if self.rng.chance(30) {
            let cap = [256, 512, 1024, 2048]
                .get(self.rng.below(4))
                .copied()
                .unwrap_or(1024);
            let _ = writeln!(permit, "@obligation_cap_output_tokens(\"{cap}\")");
        }
        let _ = write!(
            permit,
            "permit (\n  principal in {scope},\n  \
             action in [Llm::Action::\"chat.completion\", Llm::Action::\"message\"],\n  \
             resource\n)\nwhen {{ resource in [{list}] }};"
        );
        out.push((format!("{team}-model-allowlist"), permit));

        let forbids = 3 + self.rng.below(3);
        let mut kinds: Vec<usize> = (0..8).collect();
        for _ in 0..forbids {
            let index = self.rng.below(kinds.len());
            let kind = kinds.remove(index);
            out.push(self.team_forbid(kind, team, &scope));
        }
    }

    fn team_forbid(&mut self, kind: usize, team: &str, scope: &str) -> (String, String) {
        let rng = &mut self.rng;
        let (suffix, reason, condition) = match kind {
            0 => {
                let tier = if rng.chance(50) { "free" } else { "pro" };
                let cap = [512, 1024, 2048, 4096]
                    .get(rng.below(4))
                    .copied()
                    .unwrap_or(1024);
                (
                    format!("{tier}-output-cap"),
                    format!(
                        "{tier}-tier callers of {team} may ask for at most {cap} output tokens"
                    ),
                    format!("principal.tier == \"{tier}\" && context.max_output_tokens > {cap}"),
                )
            }
            1 => {
                let budget = [20_000, 100_000, 250_000, 1_000_000]
                    .get(rng.below(4))
                    .copied()
                    .unwrap_or(100_000);
                (
                    "cost-budget".to_owned(),
                    format!("{team} may spend at most {budget} micro-USD per request (worst case)"),
                    format!(
                        "principal.tier != \"enterprise\" && context.estimated_cost_micro_usd > {budget}"
                    ),
                )
            }
            2 => {
                let kinds = rng.pick(&PII_GROUPS).copied().unwrap_or(&["iban"]);
                (
                    "pii-guard".to_owned(),
                    format!("{team} must not send {} to a model", kinds.join(", ")),
                    format!("context.pii_kinds.containsAny([{}])", quote_list(kinds)),
                )
            }
            3 => {
                let threshold = 40 + 5 * rng.below(7);
                (
                    "injection-threshold".to_owned(),
                    format!("{team} refuses prompts scoring {threshold} or more for injection"),
                    format!("context.injection_score >= {threshold}"),
                )
            }
            4 => {
                let model = rng.pick(&self.chat_models).cloned().unwrap_or_default();
                (
                    "no-streaming".to_owned(),
                    format!("{team} may not stream from {model} or any premium model"),
                    format!(
                        "context.stream && (resource.premium || resource == Llm::Model::\"{model}\")"
                    ),
                )
            }
            5 => (
                "tools-need-role".to_owned(),
                format!("tool use in {team} needs the tool-user role"),
                "context.tools_present && !principal.roles.contains(\"tool-user\")".to_owned(),
            ),
            6 => {
                let max = [20, 50, 100].get(rng.below(3)).copied().unwrap_or(50);
                (
                    "conversation-length".to_owned(),
                    format!("{team} conversations may have at most {max} messages"),
                    format!("context.message_count > {max}"),
                )
            }
            _ => {
                let max = [4_000, 16_000, 32_000]
                    .get(rng.below(3))
                    .copied()
                    .unwrap_or(16_000);
                (
                    "free-prompt-size".to_owned(),
                    format!("free-tier callers of {team} may send at most {max} input tokens"),
                    format!("principal.tier == \"free\" && context.estimated_input_tokens > {max}"),
                )
            }
        };
        let id = format!("{team}-{suffix}");
        let text = format!(
            "@id(\"{id}\")\n@reason(\"{reason}\")\n\
             forbid (principal in {scope}, action, resource)\nwhen {{ {condition} }};"
        );
        (id, text)
    }
}

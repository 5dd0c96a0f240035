//! `policy diff`: what publishing a bundle would change, by policy `@id`, schema, catalog
//! model and limit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use gateway_policy::bundle::{version_of, PolicyBundle, Validation};
use gateway_policy::catalog::ModelInfo;
use gateway_policy::limits::Limit;

use crate::source::{load_bundle, read_bundle};
use gateway_policy::dir::PolicyDir;

/// One side of the comparison.
struct Side {
    /// How the header line describes it.
    label: String,
    version: Option<u64>,
    schema: String,
    bundle: PolicyBundle,
}

impl Side {
    fn from_bundle(path: &Path) -> Result<Self, String> {
        let signed = read_bundle(path)?;
        // Compare what is there, valid or not: only parsing is needed.
        let bundle = load_bundle(path, &signed, Validation::AlreadyValidated)?;
        let signer = signed.signature.as_ref().map_or_else(
            || "unsigned".to_owned(),
            |s| format!("signed by `{}`", s.key_id),
        );
        Ok(Self {
            label: format!(
                "`{}`: version {}, created {}, {signer}, {}",
                path.display(),
                signed.version,
                signed.created_at,
                version_of(bundle.content_hash())
            ),
            version: Some(signed.version),
            schema: signed.schema,
            bundle,
        })
    }

    fn from_dir(dir: &Path) -> Result<Self, String> {
        let source = PolicyDir::read(dir)?;
        let bundle = source
            .load(Validation::AlreadyValidated)
            .map_err(|report| format!("`{}` does not load\n\n{report}", dir.display()))?;
        Ok(Self {
            label: format!(
                "`{}`: source directory, {}",
                dir.display(),
                version_of(bundle.content_hash())
            ),
            version: None,
            schema: source.source().schema.to_owned(),
            bundle,
        })
    }

    /// Each policy's text by `@id`.
    fn policies(&self) -> BTreeMap<String, String> {
        self.bundle
            .policies()
            .policies()
            .map(|p| (p.id().to_string(), p.to_string().trim().to_owned()))
            .collect()
    }

    fn models(&self) -> &BTreeMap<String, ModelInfo> {
        &self.bundle.catalog().models
    }

    fn limits(&self) -> BTreeMap<&str, &Limit> {
        self.bundle
            .limits()
            .iter()
            .map(|l| (l.id.as_str(), l))
            .collect()
    }
}

/// Compares OLD with NEW (a bundle) or with a source directory. Exit 0: same content;
/// 1: different content (versions, times and signatures alone do not count).
pub fn run(old: &Path, new: Option<&Path>, dir: Option<&Path>) -> Result<ExitCode, String> {
    let old = Side::from_bundle(old)?;
    let new = match (new, dir) {
        (Some(path), None) => Side::from_bundle(path)?,
        (None, Some(dir)) => Side::from_dir(dir)?,
        _ => return Err("give a NEW bundle or --dir, not both".to_owned()),
    };

    println!("old: {}", old.label);
    println!("new: {}", new.label);
    let show = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
    println!("version: {} -> {}", show(old.version), show(new.version));

    let (old_policies, new_policies) = (old.policies(), new.policies());
    let mut differences = compare(
        ("policy", "policies"),
        &by_id(&old_policies),
        &by_id(&new_policies),
        |_, _| String::new(),
    );

    if old.schema == new.schema {
        println!("schema: unchanged");
    } else {
        differences += 1;
        println!("schema: changed");
    }

    differences += compare(
        ("model", "models"),
        &by_id(old.models()),
        &by_id(new.models()),
        field_changes,
    );
    differences += compare(
        ("limit", "limits"),
        &old.limits(),
        &new.limits(),
        field_changes,
    );

    let same_hash = old.bundle.content_hash() == new.bundle.content_hash();
    if differences == 0 && !same_hash {
        // Comments or blank lines between policies, file names, catalog formatting.
        differences += 1;
        println!("other: the sources differ outside policies, schema, models and limits (comments, file names or formatting)");
    }
    if differences == 0 {
        println!("no differences");
        Ok(ExitCode::SUCCESS)
    } else {
        let plural = if differences == 1 { "" } else { "s" };
        println!("{differences} difference{plural}");
        Ok(ExitCode::from(1))
    }
}

fn by_id<T>(entries: &BTreeMap<String, T>) -> BTreeMap<&str, &T> {
    entries
        .iter()
        .map(|(id, entry)| (id.as_str(), entry))
        .collect()
}

/// Prints each entry added, removed or changed (with `detail` of a change) between two
/// sets keyed by id, then how many are unchanged; returns how many differ.
fn compare<T: PartialEq>(
    (noun, plural): (&str, &str),
    old: &BTreeMap<&str, T>,
    new: &BTreeMap<&str, T>,
    detail: impl Fn(&T, &T) -> String,
) -> usize {
    let (mut differences, mut unchanged) = (0usize, 0usize);
    let ids: BTreeSet<&&str> = old.keys().chain(new.keys()).collect();
    for id in ids {
        let line = match (old.get(id), new.get(id)) {
            (None, Some(_)) => format!("{noun} added: `{id}`"),
            (Some(_), None) => format!("{noun} removed: `{id}`"),
            (Some(a), Some(b)) if a != b => format!("{noun} changed: `{id}`{}", detail(a, b)),
            _ => {
                unchanged += 1;
                continue;
            }
        };
        differences += 1;
        println!("{line}");
    }
    println!("{plural} unchanged: {unchanged}");
    differences
}

/// ` (field, field)`: the fields that differ, after a changed entry's id.
fn field_changes<T: serde::Serialize>(a: &T, b: &T) -> String {
    format!(" ({})", changed_fields(a, b).join(", "))
}

/// The fields (top-level, by their JSON names) that differ between two catalog entries or
/// limits.
fn changed_fields<T: serde::Serialize>(a: &T, b: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return Vec::new();
    };
    a.keys()
        .chain(b.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|key| a.get(*key) != b.get(*key))
        .cloned()
        .collect()
}

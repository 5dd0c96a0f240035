//! Where policies come from: a source directory laid out as `build.rs` reads it, or a
//! bundle file; and how their errors are shown (Cedar's diagnostics, rendered by miette
//! as the build renders them).

use std::path::{Path, PathBuf};

use llm_policy_gateway::engine::bundle::{
    content_hash, BundleError, BundleSource, PolicyBundle, PolicyFile, Validation,
};
use llm_policy_gateway::engine::signed::{SignedBundle, DEFAULT_MAX_BUNDLE_BYTES};

use crate::files::{io_message, read_bytes, read_text};

pub const SCHEMA_FILE: &str = "schema.cedarschema";
pub const CATALOG_FILE: &str = "models.json";
/// Bundles name a policy file `policies/<file>`, as `build.rs` names the embedded ones,
/// whatever directory it was read from: the same text makes the same content hash (the
/// embedded set's version included) on every machine.
const BUNDLE_DIR: &str = "policies";

/// A policy source directory: `schema.cedarschema`, every `*.cedar` file directly in it,
/// and `models.json`.
#[derive(Debug)]
pub struct DirSource {
    pub dir: PathBuf,
    schema: String,
    catalog: String,
    files: Vec<SourceFile>,
}

#[derive(Debug)]
struct SourceFile {
    /// The name in the bundle (`policies/access.cedar`).
    name: String,
    /// Where it was read from.
    path: PathBuf,
    text: String,
}

impl DirSource {
    pub fn read(dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read `{}`: {}", dir.display(), io_message(&e)))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|e| format!("cannot read `{}`: {}", dir.display(), io_message(&e)))?;
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "cedar") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            return Err(format!("`{}` holds no *.cedar policy files", dir.display()));
        }
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push(SourceFile {
                name: format!("{BUNDLE_DIR}/{file_name}"),
                text: read_text(&path)?,
                path,
            });
        }
        Ok(Self {
            dir: dir.to_owned(),
            schema: read_text(&dir.join(SCHEMA_FILE))?,
            catalog: read_text(&dir.join(CATALOG_FILE))?,
            files,
        })
    }

    pub fn source(&self) -> BundleSource<'_> {
        BundleSource {
            schema: &self.schema,
            policy_files: self
                .files
                .iter()
                .map(|f| PolicyFile {
                    name: &f.name,
                    text: &f.text,
                })
                .collect(),
            catalog: &self.catalog,
        }
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    pub fn load(&self, validation: Validation) -> Result<PolicyBundle, String> {
        PolicyBundle::load(&self.source(), validation).map_err(|e| self.report(&e))
    }

    /// The error naming the files it came from, with Cedar's diagnostic.
    pub fn report(&self, error: &BundleError) -> String {
        let path_of = |name: &str| {
            self.files
                .iter()
                .find(|f| f.name == name)
                .map_or_else(|| name.to_owned(), |f| f.path.display().to_string())
        };
        crate::diagnostics::report(
            error,
            &self.dir.join(SCHEMA_FILE).display().to_string(),
            &self.dir.join(CATALOG_FILE).display().to_string(),
            &path_of,
        )
    }
}

/// Reads and parses a bundle file (size cap, JSON, format), without checking anything
/// else.
pub fn read_bundle(path: &Path) -> Result<SignedBundle, String> {
    let bytes = read_bytes(path)?;
    SignedBundle::parse(&bytes, DEFAULT_MAX_BUNDLE_BYTES)
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Checks a bundle's content hash and loads its policies (validating them unless told
/// otherwise), without looking at its signature. The error is the whole message.
pub fn load_bundle(
    path: &Path,
    bundle: &SignedBundle,
    validation: Validation,
) -> Result<PolicyBundle, String> {
    let source = bundle.source();
    if content_hash(&source) != bundle.content_hash {
        return Err(format!(
            "`{}`: bundle content hash does not match its content",
            path.display()
        ));
    }
    PolicyBundle::load(&source, validation).map_err(|e| {
        format!(
            "`{}` does not load\n\n{}",
            path.display(),
            report_in_bundle(path, &e)
        )
    })
}

/// A bundle's load error, naming the bundle and the part of it at fault.
pub fn report_in_bundle(path: &Path, error: &BundleError) -> String {
    let bundle = path.display().to_string();
    crate::diagnostics::report(
        error,
        &format!("{bundle} (schema)"),
        &format!("{bundle} (catalog)"),
        &|name: &str| format!("{bundle} ({name})"),
    )
}

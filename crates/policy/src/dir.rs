//! A policy source directory as operators keep it and `build.rs` embeds it:
//! `schema.cedarschema`, every `*.cedar` file directly in it, `models.json`, and
//! `budgets.json` when the set declares budgets and rate limits.

use std::io;
use std::path::{Path, PathBuf};

use crate::bundle::{content_hash, BundleSource};
#[cfg(feature = "report")]
use crate::bundle::{BundleError, PolicyBundle, Validation};
use crate::limits::LIMITS_FILE;

pub const SCHEMA_FILE: &str = "schema.cedarschema";
pub const CATALOG_FILE: &str = "models.json";
/// Bundles name a policy file `policies/<file>` whatever directory it was read from: the
/// same text makes the same content hash (the embedded set's version included) on every
/// machine.
const BUNDLE_DIR: &str = "policies";

#[derive(Debug)]
pub struct PolicyDir {
    pub dir: PathBuf,
    schema: String,
    catalog: String,
    /// Empty when the directory has no `budgets.json`.
    limits: String,
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

impl PolicyDir {
    /// Reads the directory. Errors name the file at fault.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let paths = files_with_extension(dir, "cedar")?;
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
            limits: read_optional_text(&dir.join(LIMITS_FILE))?,
            files,
        })
    }

    pub fn source(&self) -> BundleSource<'_> {
        let files = self
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.text.as_str()));
        BundleSource::new(&self.schema, &self.catalog, files).with_limits(&self.limits)
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    pub fn catalog(&self) -> &str {
        &self.catalog
    }

    pub fn limits(&self) -> &str {
        &self.limits
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Where the policy file named `name` in the bundle was read from.
    pub fn path_of(&self, name: &str) -> Option<&Path> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.path.as_path())
    }

    /// The content hash of the source: the version of the bundle it makes.
    pub fn content_hash(&self) -> String {
        content_hash(&self.source())
    }

    /// Loads the policies, or the error as [`PolicyDir::report`] renders it.
    #[cfg(feature = "report")]
    pub fn load(&self, validation: Validation) -> Result<PolicyBundle, String> {
        PolicyBundle::load(&self.source(), validation).map_err(|e| self.report(&e))
    }

    /// The error naming the files it came from, with Cedar's diagnostic.
    #[cfg(feature = "report")]
    pub fn report(&self, error: &BundleError) -> String {
        let path_of = |name: &str| {
            self.path_of(name)
                .map_or_else(|| name.to_owned(), |path| path.display().to_string())
        };
        crate::diagnostics::report(
            error,
            &self.dir.join(SCHEMA_FILE).display().to_string(),
            &self.dir.join(CATALOG_FILE).display().to_string(),
            &self.dir.join(LIMITS_FILE).display().to_string(),
            &path_of,
        )
    }
}

/// The files directly in `dir` whose extension is `extension`, sorted by path.
pub fn files_with_extension(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, String> {
    let cannot = |e: io::Error| format!("cannot read `{}`: {}", dir.display(), io_message(&e));
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let path = entry.map_err(cannot)?.path();
        if path.extension().is_some_and(|ext| ext == extension) && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

pub fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_message(&e)))
}

/// The file's text, or empty when it does not exist.
fn read_optional_text(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        _ => read_text(path),
    }
}

/// An I/O error's message, lower-cased like the rest of the messages.
pub fn io_message(error: &io::Error) -> String {
    let message = error.to_string();
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => message,
    }
}

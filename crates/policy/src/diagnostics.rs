//! Rendering policy-bundle errors for people, so `build.rs` and the `policy` CLI report
//! the same error the same way. Behind the `report` feature: miette's graphical handler
//! is for terminals, and the wasm worker does not carry it.

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::bundle::BundleError;

/// The error with Cedar's own diagnostic (source snippet, label, help) where it has one,
/// rendered by miette's graphical handler without colour. `schema`, `catalog` and
/// `limits` name those files; `file` maps a policy file's name in the source to the name to show.
pub fn report(
    error: &BundleError,
    schema: &str,
    catalog: &str,
    limits: &str,
    file: &dyn Fn(&str) -> String,
) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let render = |diagnostic: &dyn miette::Diagnostic| {
        let mut text = String::new();
        match handler.render_report(&mut text, diagnostic) {
            Ok(()) => text,
            Err(_) => diagnostic.to_string(),
        }
    };
    // Errors whose message starts with the file's name in the bundle: name the real file.
    let renamed = |name: &str| {
        let message = error.to_string();
        let rest = message
            .strip_prefix(&format!("{name}: "))
            .unwrap_or(&message)
            .to_owned();
        format!("{}: {rest}", file(name))
    };
    match error {
        BundleError::Schema(e) => {
            format!("{schema}: schema does not parse\n{}", render(e.as_ref()))
        }
        BundleError::PolicyParse { file: name, errors } => format!(
            "{}: policies do not parse\n{}",
            file(name),
            render(errors.as_ref())
        ),
        BundleError::Invalid(invalid) => invalid
            .iter()
            .map(|e| {
                format!(
                    "{}: fails schema validation\n{}",
                    file(&e.file),
                    render(&e.error)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        BundleError::Template { file: name, .. }
        | BundleError::MissingAnnotation { file: name, .. }
        | BundleError::DuplicateId { file: name, .. } => renamed(name),
        BundleError::Catalog(e) => format!("{catalog}: {e}"),
        BundleError::CatalogEntity { .. } => format!("{catalog}: {error}"),
        BundleError::Limits(e) => format!("{limits}: {e}"),
        BundleError::RequestContext(_) => format!("{schema}: {error}"),
        other => other.to_string(),
    }
}

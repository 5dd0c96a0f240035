//! The verbs: each returns its exit code, or an error message (printed as `error: …`).

use std::path::Path;
use std::process::ExitCode;

use gateway_engine::cases::{self, CaseFile};
use gateway_policy::bundle::{version_of, PolicyBundle, Validation};
use gateway_policy::signed::{KeyPairFile, SignedBundle, Trust, TrustedKeys, VerifyError};
use serde::Serialize;

use crate::args::{Command, DEFAULT_DIR};
use crate::files::{create_secret, read_text, write_text};
use crate::source::{load_bundle, read_bundle, report_in_bundle};
use crate::{diff, kv, time};
use gateway_policy::dir::{files_with_extension, PolicyDir};

/// Runs one verb. Errors exit 1, except for `diff`, which exits 2 (0 and 1 say whether
/// the inputs differ, as diff(1) does).
pub fn run(command: Command) -> ExitCode {
    let (result, error_code) = match command {
        Command::Validate { dir } => (validate(&dir), 1),
        Command::Test { dir, bundle, cases } => {
            (test(dir.as_deref(), bundle.as_deref(), &cases), 1)
        }
        Command::Bundle { version, dir, out } => (bundle(version, &dir, out.as_deref()), 1),
        Command::Keygen { id, out } => (keygen(&id, &out), 1),
        Command::Sign { key, bundle, out } => (sign(&key, &bundle, out.as_deref()), 1),
        Command::Verify {
            trusted_keys,
            bundle,
        } => (verify(&trusted_keys, &bundle), 1),
        Command::Diff { old, new, dir } => (diff::run(&old, new.as_deref(), dir.as_deref()), 2),
        Command::Publish {
            bundle,
            trusted_keys,
            kv,
        } => (kv::publish(&bundle, trusted_keys.as_deref(), &kv), 1),
        Command::Pin { version, kv } => (kv::pin(version, &kv), 1),
        Command::Unpin { kv } => (kv::unpin(&kv), 1),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(error_code)
    })
}

/// `version sha256:<16 hex> (content hash <64 hex>)`: the policy version as the worker
/// reports it, and the whole hash.
fn hash_summary(bundle: &PolicyBundle) -> String {
    format!(
        "version {} (content hash {})",
        bundle.version(),
        bundle.content_hash()
    )
}

fn validate(dir: &Path) -> Result<ExitCode, String> {
    let source = PolicyDir::read(dir)?;
    let bundle = source
        .load(Validation::Strict)
        .map_err(|report| format!("`{}` is not valid\n\n{report}", dir.display()))?;
    println!(
        "`{}` is valid: {} policies in {} files, {} models, {} limits, {}",
        dir.display(),
        bundle.policy_count(),
        source.file_count(),
        bundle.catalog().models.len(),
        bundle.limits().iter().count(),
        hash_summary(&bundle)
    );
    Ok(ExitCode::SUCCESS)
}

fn test(
    dir: Option<&Path>,
    bundle_path: Option<&Path>,
    cases_dir: &Path,
) -> Result<ExitCode, String> {
    let (label, bundle) = match bundle_path {
        Some(path) => {
            let signed = read_bundle(path)?;
            let bundle = load_bundle(path, &signed, Validation::Strict)?;
            (
                format!("bundle `{}` (version {})", path.display(), signed.version),
                bundle,
            )
        }
        None => {
            let dir = dir.unwrap_or(Path::new(DEFAULT_DIR));
            let source = PolicyDir::read(dir)?;
            let bundle = source
                .load(Validation::Strict)
                .map_err(|report| format!("`{}` is not valid\n\n{report}", dir.display()))?;
            (format!("`{}`", dir.display()), bundle)
        }
    };
    let files = read_case_files(cases_dir)?;
    println!(
        "testing {label}, {}, with {} case files from `{}`",
        bundle.version(),
        files.len(),
        cases_dir.display()
    );

    let (mut passed, mut failed) = (0usize, 0usize);
    for (name, file) in &files {
        for case in &file.cases {
            let result = cases::run_case(&bundle, case);
            let actual = result
                .actual
                .as_ref()
                .map_or_else(|| "not run".to_owned(), ToString::to_string);
            if result.passed() {
                passed += 1;
                println!("PASS {name}: {}: {actual}", case.name);
            } else {
                failed += 1;
                println!("FAIL {name}: {}: {actual}", case.name);
                println!("     {}", result.problem());
            }
        }
    }

    let coverage = cases::coverage(&bundle, files.iter().flat_map(|(_, f)| &f.cases));
    for id in &coverage.unexercised {
        println!("UNCOVERED policy `{id}`: no case expects it to decide");
    }
    for id in &coverage.unknown {
        println!(
            "UNKNOWN policy `{id}`: cases expect it to decide, the policy set has no such policy"
        );
    }
    let uncovered = coverage.unexercised.len() + coverage.unknown.len();
    let mut summary = format!("{passed} passed, {failed} failed");
    if uncovered > 0 {
        let plural = if uncovered == 1 { "policy" } else { "policies" };
        summary.push_str(&format!(", {uncovered} {plural} uncovered or unknown"));
    }
    println!("{summary}");
    Ok(if failed == 0 && coverage.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every `*.json` file directly in `dir`, by name, parsed and checked.
fn read_case_files(dir: &Path) -> Result<Vec<(String, CaseFile)>, String> {
    let paths = files_with_extension(dir, "json")?;
    if paths.is_empty() {
        return Err(format!("`{}` holds no *.json case files", dir.display()));
    }
    paths
        .into_iter()
        .map(|path| {
            let file = CaseFile::from_json(&read_text(&path)?)
                .map_err(|e| format!("`{}`: {e}", path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, file))
        })
        .collect()
}

fn bundle(version: u64, dir: &Path, out: Option<&Path>) -> Result<ExitCode, String> {
    if version == 0 {
        return Err(
            "the bundle version must be 1 or more (version 0 is the policy set built into the \
             worker)"
                .to_owned(),
        );
    }
    let source = PolicyDir::read(dir)?;
    let loaded = source
        .load(Validation::Strict)
        .map_err(|report| format!("`{}` is not valid\n\n{report}", dir.display()))?;
    let created_at = time::now_rfc3339()?;
    let signed = SignedBundle::build(&source.source(), version, &created_at)
        .map_err(|e| format!("`{}` is not valid\n\n{}", dir.display(), source.report(&e)))?;
    let json = format!("{}\n", signed.to_json());
    let summary = format!(
        "bundle version {version} of `{}`: {} policies, {} models, {}",
        dir.display(),
        loaded.policy_count(),
        loaded.catalog().models.len(),
        hash_summary(&loaded)
    );
    match out {
        Some(path) => {
            write_text(path, &json)?;
            println!("wrote {summary} to `{}` (unsigned)", path.display());
        }
        None => {
            print!("{json}");
            eprintln!("wrote {summary} (unsigned)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The entry a trusted keys file lists for a key.
#[derive(Serialize)]
struct PublicEntry<'a> {
    id: &'a str,
    public_key: &'a str,
}

fn keygen(id: &str, out: &Path) -> Result<ExitCode, String> {
    if id.trim().is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "key id `{id}` must be non-empty, without spaces or control characters"
        ));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("cannot get random bytes: {e}"))?;
    let pair = KeyPairFile::from_secret(id, secret);
    secret.fill(0);
    let json = serde_json::to_string_pretty(&pair)
        .map_err(|e| format!("cannot encode the key file: {e}"))?;
    create_secret(out, &format!("{json}\n"))?;
    let entry = serde_json::to_string(&PublicEntry {
        id: &pair.id,
        public_key: &pair.public_key,
    })
    .map_err(|e| format!("cannot encode the public key: {e}"))?;
    eprintln!(
        "wrote key `{id}` to `{}` (mode 0600; keep it secret); add this entry to the \
         trusted keys file's `keys`:",
        out.display()
    );
    println!("{entry}");
    Ok(ExitCode::SUCCESS)
}

fn sign(key_path: &Path, bundle_path: &Path, out: Option<&Path>) -> Result<ExitCode, String> {
    let pair: KeyPairFile = serde_json::from_str(&read_text(key_path)?)
        .map_err(|e| format!("`{}` is not a key file: {e}", key_path.display()))?;
    let key = pair
        .signing_key()
        .map_err(|e| format!("`{}`: {e}", key_path.display()))?;
    if hex::encode(key.verifying_key().as_bytes()) != pair.public_key.trim().to_ascii_lowercase() {
        return Err(format!(
            "`{}`: its public key does not match its secret key",
            key_path.display()
        ));
    }

    let mut signed = read_bundle(bundle_path)?;
    let loaded = load_bundle(bundle_path, &signed, Validation::Strict)?;
    let previous = signed.signature.take().map(|s| s.key_id);
    signed.sign(&pair.id, &key);
    let target = out.unwrap_or(bundle_path);
    write_text(target, &format!("{}\n", signed.to_json()))?;

    let replaced = previous
        .map(|id| format!(", replacing the signature by `{id}`"))
        .unwrap_or_default();
    println!(
        "signed bundle version {} ({}) with key `{}`{replaced}: wrote `{}`",
        signed.version,
        version_of(loaded.content_hash()),
        pair.id,
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(keys_path: &Path, bundle_path: &Path) -> Result<ExitCode, String> {
    let keys = TrustedKeys::from_json(&read_text(keys_path)?)
        .map_err(|e| format!("`{}`: {e}", keys_path.display()))?;
    let signed = read_bundle(bundle_path)?;
    let verified =
        signed
            .verify_and_load(Trust::SignedBy(&keys))
            .map_err(|error| match &error {
                VerifyError::Invalid(e) => format!(
                    "`{}` does not verify: its policies do not load\n\n{}",
                    bundle_path.display(),
                    report_in_bundle(bundle_path, e)
                ),
                _ => format!("`{}` does not verify: {error}", bundle_path.display()),
            })?;
    println!(
        "`{}` verifies: version {}, content hash {}, signed by `{}`, created {}; {} policies, {} \
         models",
        bundle_path.display(),
        verified.version,
        verified.policy.content_hash(),
        verified.signed_by.as_deref().unwrap_or_default(),
        verified.created_at,
        verified.policy.policy_count(),
        verified.policy.catalog().models.len()
    );
    Ok(ExitCode::SUCCESS)
}

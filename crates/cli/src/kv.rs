//! `publish`, `pin` and `unpin`: writes to the `POLICY_KV` namespace through wrangler
//! (`wrangler kv key put|delete --binding … --local|--remote`), which holds the account's
//! credentials; the CLI never talks to Cloudflare itself.

use std::path::Path;
use std::process::{Command, ExitCode};

use gateway_policy::bundle::{version_of, Validation};
use gateway_policy::signed::{kv_entry, Trust, TrustedKeys, VerifyError};

use crate::args::KvArgs;
use crate::files::{io_message, read_text};
use crate::source::{load_bundle, read_bundle, report_in_bundle};

/// Publishes a signed bundle under `policy:bundle:v<N>`, then as the latest
/// (`policy:bundle`), so a version is pinnable before the worker can see it as latest.
pub fn publish(
    bundle_path: &Path,
    trusted_keys: Option<&Path>,
    kv: &KvArgs,
) -> Result<ExitCode, String> {
    let shown = bundle_path.display();
    let signed = read_bundle(bundle_path)?;
    let Some(signature) = &signed.signature else {
        return Err(format!(
            "`{shown}` is not signed; sign it first with `policy sign --key KEYFILE {shown}`"
        ));
    };
    if signed.version == 0 {
        return Err(format!(
            "`{shown}` has version 0, which is the policy set built into the worker; publish \
             version 1 or more"
        ));
    }
    let hash = match trusted_keys {
        Some(keys_path) => {
            let keys = TrustedKeys::from_json(&read_text(keys_path)?)
                .map_err(|e| format!("`{}`: {e}", keys_path.display()))?;
            let verified = signed
                .verify_and_load(Trust::SignedBy(&keys))
                .map_err(|error| match &error {
                    VerifyError::Invalid(e) => format!(
                        "`{shown}` does not verify: its policies do not load\n\n{}",
                        report_in_bundle(bundle_path, e)
                    ),
                    _ => format!(
                        "`{shown}` does not verify against `{}`: {error}",
                        keys_path.display()
                    ),
                })?;
            verified.policy.content_hash().to_owned()
        }
        None => {
            // Without trusted keys the signature cannot be checked here (the worker will),
            // but the content must match its hash and validate.
            let loaded = load_bundle(bundle_path, &signed, Validation::Strict)?;
            loaded.content_hash().to_owned()
        }
    };

    let path = utf8(bundle_path)?;
    let commands = [
        put(kv, &kv_entry::version(signed.version), &["--path", path]),
        put(kv, kv_entry::LATEST, &["--path", path]),
    ];
    run_all(kv, &commands)?;
    if !kv.print {
        println!(
            "published bundle version {} ({}, signed by `{}`) to `{}` ({}) as `{}` and `{}`",
            signed.version,
            version_of(&hash),
            signature.key_id,
            kv.binding,
            kv.target.name(),
            kv_entry::version(signed.version),
            kv_entry::LATEST
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Pins the worker to a version (`policy:pin` = "N"; 0 is the embedded set).
pub fn pin(version: u64, kv: &KvArgs) -> Result<ExitCode, String> {
    let value = version.to_string();
    run_all(kv, &[put(kv, kv_entry::PIN, &[&value])])?;
    if !kv.print {
        println!(
            "pinned `{}` ({}) to version {version}",
            kv.binding,
            kv.target.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Deletes the pin: the worker follows the latest bundle again.
pub fn unpin(kv: &KvArgs) -> Result<ExitCode, String> {
    let command = wrangler(
        kv,
        &[
            "kv",
            "key",
            "delete",
            "--binding",
            &kv.binding,
            kv_entry::PIN,
        ],
    );
    run_all(kv, &[command])?;
    if !kv.print {
        println!("unpinned `{}` ({})", kv.binding, kv.target.name());
    }
    Ok(ExitCode::SUCCESS)
}

fn utf8(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("`{}`: the path is not valid UTF-8", path.display()))
}

/// `wrangler kv key put --binding B KEY <value args> --local|--remote`.
fn put(kv: &KvArgs, key: &str, value: &[&str]) -> Vec<String> {
    let mut args = vec!["kv", "key", "put", "--binding", &kv.binding, key];
    args.extend_from_slice(value);
    wrangler(kv, &args)
}

/// The program and its arguments, ending with the target flag.
fn wrangler(kv: &KvArgs, args: &[&str]) -> Vec<String> {
    let program = match &kv.wrangler {
        Some(program) => program.clone(),
        None => default_wrangler(),
    };
    std::iter::once(program.as_str())
        .chain(args.iter().copied())
        .chain([kv.target.flag()])
        .map(str::to_owned)
        .collect()
}

/// `wrangler` when it is on PATH; else the project's own, which `npm install` leaves in
/// `node_modules/.bin` of the current folder or one above it; else `wrangler` (running it
/// then fails with advice).
fn default_wrangler() -> String {
    const NAME: &str = "wrangler";
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(NAME).is_file()));
    if on_path {
        return NAME.to_owned();
    }
    let project = std::env::current_dir().ok().and_then(|cwd| {
        cwd.ancestors()
            .map(|dir| dir.join("node_modules/.bin").join(NAME))
            .find(|candidate| candidate.is_file())
    });
    match project.as_deref().and_then(Path::to_str) {
        Some(path) => path.to_owned(),
        None => NAME.to_owned(),
    }
}

/// Prints the commands (`--print`), or runs them in order, stopping at the first failure.
fn run_all(kv: &KvArgs, commands: &[Vec<String>]) -> Result<(), String> {
    for command in commands {
        if kv.print {
            println!("{}", shell_line(command));
            continue;
        }
        let Some((program, args)) = command.split_first() else {
            continue;
        };
        let status = Command::new(program).args(args).status().map_err(|e| {
            format!(
                "cannot run `{program}`: {}; install wrangler (npm install) and put it on \
                 PATH, or pass --wrangler PATH",
                io_message(&e)
            )
        })?;
        if !status.success() {
            return Err(format!("`{}` failed ({status})", shell_line(command)));
        }
    }
    Ok(())
}

/// The command as a shell would need it typed: arguments quoted where needed.
fn shell_line(command: &[String]) -> String {
    command
        .iter()
        .map(|arg| shell_quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

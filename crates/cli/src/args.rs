//! The command line: verbs and flags, in the manner of Cedar's own CLI.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The default policy source directory (schema.cedarschema, *.cedar, models.json).
pub const DEFAULT_DIR: &str = "policies";
/// The default directory of decision case files.
pub const DEFAULT_CASES: &str = "tests/policy_cases";
/// The KV binding bundles are published to (wrangler.toml's `[[kv_namespaces]]`).
pub const DEFAULT_BINDING: &str = "POLICY_KV";

#[derive(Debug, Parser)]
#[command(
    name = "policy",
    version,
    about = "Validate, test, bundle, sign, verify, diff and publish the gateway's Cedar policies",
    after_help = "A release: `policy validate`, `policy test`, `policy bundle --version N --out \
                  b.json`, `policy sign --key ops.key.json b.json`, `policy diff old.json \
                  b.json`, `policy publish b.json --remote --trusted-keys \
                  policies/trusted_keys.json`. Roll back with `policy pin N --remote`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the policy source against its schema, as the build does
    ///
    /// Parses schema.cedarschema, every *.cedar file and models.json, and validates the
    /// policies against the schema in strict mode. On failure, prints the file and Cedar's
    /// diagnostic and exits 1.
    Validate {
        /// The policy source directory
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Run the decision cases against the policy source or a bundle
    ///
    /// Prints PASS or FAIL for each case with what it decided, then "N passed, M failed".
    /// Exits 1 if a case fails, or if a policy decides in no case (or a case expects a
    /// policy the set does not have).
    Test {
        /// The policy source directory (the default, unless --bundle is given)
        #[arg(long, value_name = "DIR", conflicts_with = "bundle")]
        dir: Option<PathBuf>,
        /// A bundle file to test instead of a source directory (need not be signed)
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        /// The directory of case files (every *.json in it)
        #[arg(long, value_name = "DIR", default_value = DEFAULT_CASES)]
        cases: PathBuf,
    },
    /// Build an unsigned bundle of the policy source
    ///
    /// The bundle carries the schema, the policy files and the catalog, the version, the
    /// current time (RFC 3339, UTC) and the content hash. Sign it before publishing.
    Bundle {
        /// The bundle's version: 1 or more, higher than every version published before
        #[arg(long, value_name = "N")]
        version: u64,
        /// The policy source directory
        #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Where to write the bundle (standard output if not given)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make an Ed25519 signing key pair
    ///
    /// Writes the key file (mode 0600) and prints, on standard output, the entry to add to
    /// a trusted keys file.
    Keygen {
        /// The key's id, as bundles and trusted keys files name it
        #[arg(long, value_name = "ID")]
        id: String,
        /// The key file to create (mode 0600; an existing file is never overwritten)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign a bundle, replacing any signature it has
    Sign {
        /// The key file `policy keygen` wrote
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// The bundle to sign
        #[arg(value_name = "BUNDLE")]
        bundle: PathBuf,
        /// Where to write the signed bundle (the bundle file itself if not given)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Verify a bundle as the worker does
    ///
    /// Checks the signature against the trusted keys, the content hash, and validates the
    /// policies against the schema.
    Verify {
        /// The trusted keys file ({"keys":[{"id":…,"public_key":…}]})
        #[arg(long, value_name = "FILE")]
        trusted_keys: PathBuf,
        /// The bundle to verify
        #[arg(value_name = "BUNDLE")]
        bundle: PathBuf,
    },
    /// Compare two bundles, or a bundle and a source directory
    ///
    /// Lists the policies added, removed and changed (by @id, comparing each policy's
    /// text), whether the schema changed, the catalog models added, removed and changed,
    /// and the versions. Exits 0 when the contents are the same, 1 when they differ
    /// (versions, times and signatures alone do not count), 2 when an input cannot be read.
    Diff {
        /// The old bundle
        #[arg(value_name = "OLD")]
        old: PathBuf,
        /// The new bundle (or give --dir)
        #[arg(
            value_name = "NEW",
            required_unless_present = "dir",
            conflicts_with = "dir"
        )]
        new: Option<PathBuf>,
        /// A policy source directory as the new side
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Publish a signed bundle to KV
    ///
    /// Refuses an unsigned bundle, checks its content hash and policies (and its signature
    /// with --trusted-keys), then runs `wrangler kv key put` twice: under
    /// policy:bundle:v<N>, then as the latest, policy:bundle.
    Publish {
        /// The signed bundle
        #[arg(value_name = "BUNDLE")]
        bundle: PathBuf,
        /// Verify the signature against these trusted keys first
        #[arg(long, value_name = "FILE")]
        trusted_keys: Option<PathBuf>,
        #[command(flatten)]
        kv: KvArgs,
    },
    /// Pin the worker to a published version
    ///
    /// Puts policy:pin = N; the worker then serves policy:bundle:v<N>, even if older than
    /// the latest (a rollback). Version 0 pins the policy set built into the worker.
    Pin {
        /// The version to serve
        #[arg(value_name = "N")]
        version: u64,
        #[command(flatten)]
        kv: KvArgs,
    },
    /// Remove the pin, so the worker serves the latest published bundle again
    Unpin {
        #[command(flatten)]
        kv: KvArgs,
    },
}

/// Which KV namespace, and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct KvArgs {
    #[command(flatten)]
    pub target: KvTarget,
    /// The KV binding in wrangler.toml
    #[arg(long, value_name = "NAME", default_value = DEFAULT_BINDING)]
    pub binding: String,
    /// Print the wrangler commands instead of running them
    #[arg(long)]
    pub print: bool,
    /// The wrangler executable [default: `wrangler` on PATH, else the project's own
    /// `node_modules/.bin/wrangler` in this folder or one above it]
    #[arg(long, value_name = "PATH")]
    pub wrangler: Option<String>,
}

#[derive(Debug, Clone, Copy, Args)]
#[group(required = true, multiple = false)]
pub struct KvTarget {
    /// The local KV of `wrangler dev`
    #[arg(long)]
    pub local: bool,
    /// The deployed KV namespace
    #[arg(long)]
    pub remote: bool,
}

impl KvTarget {
    pub fn flag(self) -> &'static str {
        if self.remote {
            "--remote"
        } else {
            "--local"
        }
    }

    pub fn name(self) -> &'static str {
        if self.remote {
            "remote"
        } else {
            "local"
        }
    }
}

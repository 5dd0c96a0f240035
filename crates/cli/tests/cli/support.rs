//! Helpers shared by the CLI tests: temporary directories with a copy of the policies,
//! running the built binary, and the repository's policies and cases.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use gateway_engine::cases::CaseFile;
use gateway_policy::bundle::{PolicyBundle, Validation};
use gateway_policy::dir::PolicyDir;
use gateway_policy::signed::{SignedBundle, DEFAULT_MAX_BUNDLE_BYTES};

/// The repository root (this crate is `crates/cli`).
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
pub const FIXTURE_KEY: &str = "tests/fixtures/signing/test-signing-key.json";
pub const FIXTURE_TRUSTED: &str = "tests/fixtures/signing/trusted_keys.json";

/// A temporary directory, removed when dropped.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let prefix = format!("policy-cli-{name}-");
        Self(tempfile::Builder::new().prefix(&prefix).tempdir().unwrap())
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, rest: &str) -> PathBuf {
        self.0.path().join(rest)
    }

    pub fn read(&self, rest: &str) -> String {
        std::fs::read_to_string(self.join(rest)).unwrap()
    }

    pub fn write(&self, rest: &str, text: &str) {
        let path = self.join(rest);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A copy of the repository's `policies/` (schema, policy files, catalog) as `policies/`.
    pub fn with_policies(name: &str) -> Self {
        let dir = Self::new(name);
        for entry in std::fs::read_dir(Path::new(REPO).join("policies")).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            if file.ends_with(".cedar")
                || file == "schema.cedarschema"
                || file == "models.json"
                || file == "budgets.json"
            {
                dir.write(
                    &format!("policies/{file}"),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
        dir
    }

    pub fn edit(&self, rest: &str, edit: impl FnOnce(String) -> String) {
        let text = self.read(rest);
        self.write(rest, &edit(text));
    }

    pub fn bundle(&self, rest: &str) -> SignedBundle {
        SignedBundle::parse(self.read(rest).as_bytes(), DEFAULT_MAX_BUNDLE_BYTES).unwrap()
    }

    /// A fake wrangler that appends its arguments (one a line, then `<end>`) to
    /// `wrangler.log` and exits with `code`.
    pub fn fake_wrangler(&self, code: u8) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let log = self.join("wrangler.log");
        let script = self.join("fake-wrangler.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n{{ for arg in \"$@\"; do printf '%s\\n' \"$arg\"; done; echo '<end>'; }} \
                 >> '{}'\nexit {code}\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Let any child forked while the script was open for writing reach its exec, so
        // running the script cannot fail with "text file busy".
        std::thread::sleep(std::time::Duration::from_millis(50));
        script.display().to_string()
    }

    /// Each wrangler invocation the fake recorded, as its argument list.
    pub fn wrangler_calls(&self) -> Vec<Vec<String>> {
        let Ok(log) = std::fs::read_to_string(self.join("wrangler.log")) else {
            return Vec::new();
        };
        let mut calls = Vec::new();
        let mut current = Vec::new();
        for line in log.lines() {
            if line == "<end>" {
                calls.push(std::mem::take(&mut current));
            } else {
                current.push(line.to_owned());
            }
        }
        calls
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code and the whole of stderr.
    pub fn fails(&self, code: i32, stderr: &str) -> &Self {
        assert_eq!(
            (self.code, self.stderr.as_str()),
            (code, stderr),
            "stdout:\n{}",
            self.stdout
        );
        self
    }

    /// Asserts the exit code and how stderr starts.
    pub fn fails_starting(&self, code: i32, stderr_start: &str) -> &Self {
        assert_eq!(self.code, code, "stderr:\n{}", self.stderr);
        assert!(self.stderr.starts_with(stderr_start), "{}", self.stderr);
        self
    }
}

pub fn policy(dir: &Path, args: &[&str]) -> Run {
    policy_with_path(dir, args, None)
}

/// `policy` with `PATH` set to `path` (unchanged when `None`).
pub fn policy_with_path(dir: &Path, args: &[&str], path: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy"));
    command.current_dir(dir).args(args);
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let output = command.output().unwrap();
    Run {
        code: output.status.code().expect("the CLI exits with a code"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

pub fn repo(path: &str) -> String {
    Path::new(REPO).join(path).display().to_string()
}

/// The repository's `policies/`, as build.rs embeds them.
pub fn repo_policies() -> &'static (PolicyDir, PolicyBundle) {
    static POLICIES: OnceLock<(PolicyDir, PolicyBundle)> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let dir = PolicyDir::read(Path::new(&repo("policies"))).unwrap();
        let bundle = dir.load(Validation::Strict).unwrap();
        (dir, bundle)
    })
}

/// The content hash of the embedded policy set.
pub fn embedded_hash() -> String {
    repo_policies().0.content_hash()
}

pub fn embedded_counts() -> (usize, usize) {
    let bundle = &repo_policies().1;
    (bundle.policy_count(), bundle.catalog().models.len())
}

/// The number of cases in the repository's case files.
pub fn repo_case_count() -> usize {
    std::fs::read_dir(repo("tests/policy_cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            CaseFile::from_json(&std::fs::read_to_string(p).unwrap())
                .unwrap()
                .cases
                .len()
        })
        .sum()
}

/// Builds `name` (version `version`) from `policies/`, unsigned.
pub fn unsigned_bundle(dir: &TempDir, name: &str, version: u64) {
    let version = version.to_string();
    policy(
        dir.path(),
        &["bundle", "--version", &version, "--out", name],
    )
    .ok();
}

/// Builds `name` (version `version`) from `policies/` and signs it with the fixture key.
pub fn signed_bundle(dir: &TempDir, name: &str, version: u64) {
    unsigned_bundle(dir, name, version);
    policy(dir.path(), &["sign", "--key", &repo(FIXTURE_KEY), name]).ok();
}

/// Makes a new key `id` (in `{id}.json`) and signs the bundle `input` with it as `out`.
pub fn sign_with_new_key(dir: &TempDir, id: &str, input: &str, out: &str) {
    let key = format!("{id}.json");
    policy(dir.path(), &["keygen", "--id", id, "--out", &key]).ok();
    policy(dir.path(), &["sign", "--key", &key, input, "--out", out]).ok();
}

pub fn hex_array(text: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

//! Credentials in the original text, with byte spans (same [`Finding`] shape as PII).
//!
//! Prefixed formats are found where a run of at least 15 token characters starts or
//! after a `+` or `/` inside one (see [`find`]), then a bounded read of the body. A prefix
//! only counts at a token boundary (the byte before it cannot belong to the body's
//! alphabet), so bodies never overlap and the total read is linear. Overlaps are resolved with private_key > jwt > anthropic_key > openai_key >
//! github_token > slack_token > aws_access_key > google_api_key > high_entropy.
//!
//! * `anthropic_key`: `sk-ant-` + ≥ 20 of `[A-Za-z0-9_-]`.
//! * `openai_key`: `sk-` (so `sk-proj-`, `sk-svcacct-`, …) + ≥ 20 of `[A-Za-z0-9_-]`,
//!   unless it is `sk-ant-`. (The gateway's own demo keys, `sk-demo-alice`, are too short.)
//! * `aws_access_key`: `AKIA` or `ASIA` + exactly 16 of `[A-Z0-9]`.
//! * `github_token`: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + ≥ 36 alphanumerics,
//!   `github_pat_` + ≥ 82 of `[A-Za-z0-9_]`, or an App installation token
//!   `ghs_<app id>_<JWT>` (1–20 digits, then three base64url segments from `eyJ`).
//! * `slack_token`: `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxe-` (refresh and,
//!   as `xoxe.xoxp-`, configuration tokens) or `xapp-` (app-level tokens) + ≥ 10 of
//!   `[A-Za-z0-9-]`.
//! * `google_api_key`: `AIza` + exactly 35 of `[A-Za-z0-9_-]`.
//! * `jwt`: `eyJ…` `.` `…` `.` `[…]`: three base64url segments (the signature may be
//!   empty, as in unsecured JWTs) where the first two decode to text starting with `{`.
//! * `private_key`: `-----BEGIN <label> PRIVATE KEY-----` (any label of capitals, digits
//!   and spaces, `PGP PRIVATE KEY BLOCK` included) through the matching `-----END …-----`
//!   line, or to the end of the text when that line is missing (a truncated paste still
//!   leaks the key).
//! * `high_entropy`: a token of 32–512 characters of `[A-Za-z0-9+/_-]` (plus trailing
//!   `=` padding) that has a letter and a digit, Shannon entropy ≥ 4.0 bits per
//!   character, and a class change (lower/upper/digit) between at least a quarter of
//!   its adjacent letters and digits, separators skipped (random strings switch classes
//!   about every other character; paths and snake_case names only at their
//!   separators), and is not made of words (see `wordy`: camelCase identifiers, paths,
//!   snake_case names with a version number). Excluded on purpose:
//!   * hex-only tokens (`[0-9a-fA-F-]`): git SHAs, MD5/SHA-1/SHA-256 digests and UUIDs are
//!     identifiers far more often than credentials, and a 32-character hex string cannot
//!     reach 4.0 bits per character anyway (at most log2 16 = 4, ~3.7 typically). A hex
//!     token of 32–128 digits is a `high_entropy` secret only when a secret's name
//!     (`secret`, `private`, `password`, `token`, `api key`, `access key`, `credential`,
//!     `signing key`) precedes it within 48 bytes on its line, unless that name is part
//!     of a key's or token's id (`private_key_id`, `signingKeyId`, `token_id`);
//!   * tokens whose base64 decoding is printable text (encoded content, which the
//!     injection detector rescans, not a key) or starts like a common file format
//!     (PNG, JPEG, GIF, PDF, ZIP, gzip, RIFF: a small inline image);
//!   * tokens over 512 characters (inline images and other data blobs);
//!   * public material, recognised by its structure rather than its context, so a secret
//!     pasted beside it (or dressed up as it) is still found: the body of a PEM block
//!     with a public label (`CERTIFICATE`, `PUBLIC KEY`, …) whose base64 decodes to one
//!     whole DER structure; an SSH public key blob (it decodes to a length-prefixed
//!     `ssh-…`, `ecdsa-…` or `sk-…` algorithm name); an integrity hash (`sha1-`,
//!     `sha256-`, `sha384-`, `sha512-`, Go's `h1:`, or a wheel RECORD's `sha256=`
//!     before base64 of exactly that digest's length);
//!   * anything already found as another kind.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
use memchr::{memchr2, memmem, memrchr};

use super::bytes::{is_token, long_runs};
use super::{classify_decoded, decode_base64, resolve_overlaps, tick, Decoded, Finding, Kind};

/// Every secret in `text`, sorted by start and non-overlapping.
///
/// Nothing reads every byte: a private key's `-----BEGIN` and every prefixed
/// credential lie in a run of at least 10 `token_char` bytes, and a `high_entropy` token
/// in one of at least 32 (with its padding), so only such runs are looked into (see
/// `long_runs`); a JWT can be short, and is found from the `J` of its `eyJ`.
pub fn find(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut keys = PemBlocks::default();
    let padded = |c: u8| token_char(c) || c == b'=';
    long_runs(b, 10, padded, |from, to| {
        // Token by token: a run of `token_char` bytes, then its `=` padding.
        let mut start = from;
        while start < to {
            tick(1);
            if at(b, start) == b'=' {
                start += 1;
                continue;
            }
            let end = run(b, start, token_char);
            let padded_end = run(b, end, |c| c == b'=');
            if end - start >= 10 {
                keys.in_run(text, start, end, &mut found);
            }
            if end - start >= MIN_PREFIXED {
                prefixed_in_run(b, start, end, &mut found);
            }
            if padded_end - start >= 32 {
                high_entropy(b, start, padded_end, &mut found);
            }
            start = padded_end;
        }
    });
    jwts(b, &mut found);
    // Public PEM bodies are base64 that looks random: they are not secrets.
    found.retain(|f| {
        f.kind != Kind::HighEntropy
            || !keys
                .public
                .iter()
                .any(|&(from, to)| from <= f.start && f.end <= to)
    });
    resolve_overlaps(found)
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(0, |p| at(b, p))
}

fn key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn upper_digit(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn slack_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// A credential recognised by its prefix.
struct Prefixed {
    prefix: &'static str,
    kind: Kind,
    /// The body's alphabet; the byte before the prefix must not be in it.
    body: fn(u8) -> bool,
    /// Body length bounds, inclusive.
    min: usize,
    max: usize,
}

const PREFIXED: &[Prefixed] = &[
    Prefixed {
        prefix: "sk-ant-",
        kind: Kind::AnthropicKey,
        body: key_char,
        min: 20,
        max: 512,
    },
    Prefixed {
        prefix: "sk-",
        kind: Kind::OpenaiKey,
        body: key_char,
        min: 20,
        max: 512,
    },
    Prefixed {
        prefix: "AKIA",
        kind: Kind::AwsAccessKey,
        body: upper_digit,
        min: 16,
        max: 16,
    },
    Prefixed {
        prefix: "ASIA",
        kind: Kind::AwsAccessKey,
        body: upper_digit,
        min: 16,
        max: 16,
    },
    Prefixed {
        prefix: "ghp_",
        kind: Kind::GithubToken,
        body: alnum,
        min: 36,
        max: 255,
    },
    Prefixed {
        prefix: "gho_",
        kind: Kind::GithubToken,
        body: alnum,
        min: 36,
        max: 255,
    },
    Prefixed {
        prefix: "ghu_",
        kind: Kind::GithubToken,
        body: alnum,
        min: 36,
        max: 255,
    },
    Prefixed {
        prefix: "ghs_",
        kind: Kind::GithubToken,
        body: alnum,
        min: 36,
        max: 255,
    },
    Prefixed {
        prefix: "ghr_",
        kind: Kind::GithubToken,
        body: alnum,
        min: 36,
        max: 255,
    },
    Prefixed {
        prefix: "github_pat_",
        kind: Kind::GithubToken,
        body: word,
        min: 82,
        max: 255,
    },
    Prefixed {
        prefix: "xoxa-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xoxb-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xoxp-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xoxr-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xoxs-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xoxe-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "xapp-",
        kind: Kind::SlackToken,
        body: slack_char,
        min: 10,
        max: 255,
    },
    Prefixed {
        prefix: "AIza",
        kind: Kind::GoogleApiKey,
        body: key_char,
        min: 35,
        max: 35,
    },
];

/// The shortest prefixed credential: every one lies in a run of `token_char` bytes at
/// least this long.
const MIN_PREFIXED: usize = {
    let mut min = usize::MAX;
    let mut rest = PREFIXED;
    while let [spec, tail @ ..] = rest {
        if spec.prefix.len() + spec.min < min {
            min = spec.prefix.len() + spec.min;
        }
        rest = tail;
    }
    min
};

/// The credential format whose prefix starts `b[start..to]`, if any: the longest
/// prefix wins, so `sk-ant-` is read as Anthropic's and never as OpenAI's `sk-`.
fn prefix_at(b: &[u8], start: usize, to: usize) -> Option<&'static Prefixed> {
    // One anchored automaton over every prefix, built once.
    static PREFIXES: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    let prefixes = PREFIXES.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            .build(PREFIXED.iter().map(|spec| spec.prefix))
            .ok()
    });
    match prefixes {
        Some(automaton) => {
            let input = Input::new(b).range(start..to).anchored(Anchored::Yes);
            let found = automaton.find(input)?;
            PREFIXED.get(found.pattern().as_usize())
        }
        // Building cannot fail for sixteen short literals; if it ever did, read them.
        None => PREFIXED
            .iter()
            .filter(|spec| {
                b.get(start..to)
                    .is_some_and(|t| t.starts_with(spec.prefix.as_bytes()))
            })
            .max_by_key(|spec| spec.prefix.len()),
    }
}

/// The prefixed credentials in `b[from..to]`, a run of `token_char` bytes. A prefix only
/// counts at a token boundary, and the only bytes of the run that are no body's
/// (`key_char`) are `+` and `/`: a credential starts at the run's start or after one.
fn prefixed_in_run(b: &[u8], from: usize, to: usize, out: &mut Vec<Finding>) {
    let mut start = from;
    while start < to {
        tick(1);
        if let Some(spec) = prefix_at(b, start, to) {
            prefixed_at(b, start, spec, out);
        }
        start = match b.get(start..to).and_then(|run| memchr2(b'+', b'/', run)) {
            Some(k) => start + k + 1,
            None => to,
        };
    }
}

/// The credential of `spec` whose prefix is at `start`, if it is one.
fn prefixed_at(b: &[u8], start: usize, spec: &Prefixed, out: &mut Vec<Finding>) {
    tick(spec.prefix.len());
    // The boundary test uses the wider of the prefix's and the body's alphabets, so
    // `my_ghp_…` or `xsk-…` is not a token start.
    let boundary = |c: u8| !(spec.body)(c) && !key_char(c);
    if !boundary(before(b, start)) {
        return;
    }
    let body = start + spec.prefix.len();
    let mut end = body;
    while end - body <= spec.max && (spec.body)(at(b, end)) {
        tick(1);
        end += 1;
    }
    let len = end - body;
    if (spec.min..=spec.max).contains(&len) && !(spec.body)(at(b, end)) {
        out.push(Finding::new(spec.kind, start, end));
    } else if spec.prefix == "ghs_" {
        if let Some(end) = github_app_token(b, body) {
            out.push(Finding::new(spec.kind, start, end));
        }
    }
}

/// The end of a GitHub App installation token's body from `body` (after `ghs_`): an app
/// id of 1–20 digits, `_`, and a JWT (three base64url segments, the first `eyJ…`), at most
/// 12 KiB in all.
fn github_app_token(b: &[u8], body: usize) -> Option<usize> {
    const MAX: usize = 12 * 1024;
    let id_end = run(b, body, |c| c.is_ascii_digit());
    if !(1..=20).contains(&(id_end - body)) || at(b, id_end) != b'_' {
        return None;
    }
    let jwt = id_end + 1;
    if b.get(jwt..jwt + 3) != Some(b"eyJ") {
        return None;
    }
    let mut end = jwt;
    for segment in 0..3 {
        let from = end;
        end = run(b, from, b64url);
        if end - jwt > MAX || (segment < 2 && (end == from || at(b, end) != b'.')) {
            return None;
        }
        if segment < 2 {
            end += 1;
        }
    }
    (end > jwt && !b64url(at(b, end)) && at(b, end) != b'.').then_some(end)
}

fn b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Every JWT, found from its `eyJ` (the base64 of `{"`).
fn jwts(b: &[u8], out: &mut Vec<Finding>) {
    static JWT_START: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    let finder = JWT_START.get_or_init(|| memmem::Finder::new(b"eyJ"));
    tick(b.len());
    for start in finder.find_iter(b) {
        tick(3);
        let prev = before(b, start);
        if b64url(prev) || prev == b'.' {
            continue;
        }
        let seg1_end = run(b, start, b64url);
        if at(b, seg1_end) != b'.' {
            continue;
        }
        let seg2 = seg1_end + 1;
        let seg2_end = run(b, seg2, b64url);
        if seg2_end - seg2 < 2 || at(b, seg2_end) != b'.' {
            continue;
        }
        let end = run(b, seg2_end + 1, b64url);
        let json = |from: usize, to: usize| {
            let head = b.get(from..to.min(from + 16)).unwrap_or_default();
            let decoded = decode_base64(head.iter().copied());
            let first = decoded.iter().find(|c| !c.is_ascii_whitespace());
            first == Some(&b'{') && decoded.iter().all(|c| (0x20..0x7F).contains(c))
        };
        if json(start, seg1_end) && json(seg2, seg2_end) {
            out.push(Finding::new(Kind::Jwt, start, end));
        }
    }
}

/// The end of the run of bytes in `class` from `from`.
fn run(b: &[u8], from: usize, class: impl Fn(u8) -> bool) -> usize {
    let rest = b.get(from..).unwrap_or_default();
    let len = rest.iter().position(|&c| !class(c)).unwrap_or(rest.len());
    tick(len);
    from + len
}

/// Private keys, read in order: where the next `-----BEGIN ` may be looked for, and
/// whether a truncated key already ran to the end of the text.
/// PEM blocks: private keys (findings) and the spans of well-formed public ones.
#[derive(Default)]
struct PemBlocks {
    cursor: usize,
    done: bool,
    public: Vec<(usize, usize)>,
}

/// PEM labels of public material (RFC 7468 and common practice).
const PUBLIC_LABELS: &[&str] = &[
    "CERTIFICATE",
    "TRUSTED CERTIFICATE",
    "X509 CERTIFICATE",
    "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST",
    "X509 CRL",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "DH PARAMETERS",
    "EC PARAMETERS",
    "PKCS7",
    "CMS",
];

impl PemBlocks {
    /// A `-----BEGIN ` marker in `text[from..to]`, a run of `token_char` bytes: the
    /// marker's `-----BEGIN` is one, and the space after it ends the run, so the marker
    /// can only be at the run's end.
    fn in_run(&mut self, text: &str, from: usize, to: usize, out: &mut Vec<Finding>) {
        const MARK: &[u8] = b"-----BEGIN";
        let b = text.as_bytes();
        tick(MARK.len());
        let Some(start) = to.checked_sub(MARK.len()).filter(|&s| s >= from) else {
            return;
        };
        if !self.done && b.get(start..to) == Some(MARK) && at(b, to) == b' ' {
            self.marker(text, start, out);
        }
    }

    /// A `-----BEGIN ` at `start`, where the search had reached.
    fn marker(&mut self, text: &str, start: usize, out: &mut Vec<Finding>) {
        const BEGIN: &str = "-----BEGIN ";
        if start < self.cursor {
            return;
        }
        let label_start = start + BEGIN.len();
        let rest = text.get(label_start..).unwrap_or_default();
        let label_len = rest
            .bytes()
            .take(48)
            .take_while(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ')
            .count();
        let label = rest.get(..label_len).unwrap_or_default();
        let is_key = label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK");
        let is_public = PUBLIC_LABELS.contains(&label);
        if !(is_key || is_public)
            || !rest
                .get(label_len..)
                .is_some_and(|r| r.starts_with("-----"))
        {
            self.cursor = label_start;
            return;
        }
        let body = label_start + label_len + 5;
        let end_marker = format!("-----END {label}-----");
        if is_public {
            self.public_block(text, body, &end_marker);
            return;
        }
        match text.get(body..).and_then(|r| r.find(&end_marker)) {
            Some(offset) => {
                tick(offset);
                let end = body + offset + end_marker.len();
                out.push(Finding::new(Kind::PrivateKey, start, end));
                self.cursor = end;
            }
            None => {
                // A truncated key still leaks: redact to the end, and stop here.
                tick(text.len().saturating_sub(body));
                out.push(Finding::new(Kind::PrivateKey, start, text.len()));
                self.done = true;
            }
        }
    }
}

fn token_char(c: u8) -> bool {
    is_token(c)
}

impl PemBlocks {
    /// A public block's body from `body` to its END line: public when it is there and the
    /// body decodes to exactly one DER structure (a certificate or key, not text dressed
    /// up as one).
    fn public_block(&mut self, text: &str, body: usize, end_marker: &str) {
        let Some(offset) = text.get(body..).and_then(|r| r.find(end_marker)) else {
            self.cursor = body;
            return;
        };
        tick(offset);
        let end = body + offset + end_marker.len();
        let encoded = text.as_bytes().get(body..body + offset).unwrap_or_default();
        let der = decode_base64(encoded.iter().copied().filter(|c| !c.is_ascii_whitespace()));
        if is_one_der_sequence(&der) {
            self.public.push((body, end));
        }
        self.cursor = end;
    }
}

/// A DER SEQUENCE whose encoded length is exactly the bytes given.
fn is_one_der_sequence(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&first)) = (der.first(), der.get(1)) else {
        return false;
    };
    let (header, length) = match first {
        0..=0x7F => (2, usize::from(first)),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7F);
            let Some(bytes) = der.get(2..2 + count) else {
                return false;
            };
            let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (2 + count, length)
        }
        _ => return false,
    };
    header.checked_add(length) == Some(der.len())
}

/// Public material shaped like a random token, by structure (see the module
/// documentation): an SSH public key blob, or an integrity hash.
fn public_token(b: &[u8], start: usize, token: &[u8]) -> bool {
    ssh_public_key(token) || integrity_hash(b, start, token)
}

/// An SSH public key blob: base64 of a 4-byte length and an algorithm name of that length.
fn ssh_public_key(token: &[u8]) -> bool {
    let head = decode_base64(token.iter().copied().take(96));
    let Some(prefix) = head.get(..4).and_then(|h| <[u8; 4]>::try_from(h).ok()) else {
        return false;
    };
    let length = u32::from_be_bytes(prefix);
    if !(7..=64).contains(&length) {
        return false;
    }
    let Some(name) = head.get(4..4 + length as usize) else {
        return false;
    };
    (name.starts_with(b"ssh-") || name.starts_with(b"ecdsa-") || name.starts_with(b"sk-"))
        && name.iter().all(u8::is_ascii_graphic)
}

/// An integrity hash: `sha1-`, `sha256-`, `sha384-` or `sha512-` (npm lockfiles, SRI,
/// Nix), or Go's `h1:` (SHA-256), before base64 of exactly that digest's length.
fn integrity_hash(b: &[u8], start: usize, token: &[u8]) -> bool {
    const PREFIXED: &[(&[u8], usize)] = &[
        (b"sha1-", 20),
        (b"sha256-", 32),
        (b"sha384-", 48),
        (b"sha512-", 64),
    ];
    let digest_of = |encoded: &[u8], bytes: usize| {
        let body: Vec<u8> = encoded.iter().copied().take_while(|&c| c != b'=').collect();
        body.len() == (bytes * 4).div_ceil(3) && decode_base64(body).len() == bytes
    };
    let prefixed = PREFIXED.iter().any(|&(prefix, bytes)| {
        token
            .strip_prefix(prefix)
            .is_some_and(|encoded| digest_of(encoded, bytes))
    });
    let go_sum = start >= 3 && b.get(start - 3..start) == Some(b"h1:") && digest_of(token, 32);
    // A wheel's RECORD (PEP 376/427): `path,sha256=<url-safe base64, unpadded>,size`.
    let record = PREFIXED.iter().any(|&(prefix, bytes)| {
        let name = prefix.strip_suffix(b"-").unwrap_or(prefix);
        start > name.len()
            && b.get(start - name.len() - 1..start - 1) == Some(name)
            && before(b, start) == b'='
            && digest_of(token, bytes)
    });
    prefixed || go_sum || record
}

/// Whether the token `b[start..end]` (a run of `token_char` bytes and its `=` padding) is
/// a `high_entropy` secret.
fn high_entropy(b: &[u8], start: usize, end: usize, out: &mut Vec<Finding>) {
    if let Some(token) = b.get(start..end) {
        if public_token(b, start, token) {
            return;
        }
        if looks_random(token) || hex_secret(b, start, token) {
            out.push(Finding::new(Kind::HighEntropy, start, end));
        }
    }
}

/// The `high_entropy` test of one token (see the module documentation).
pub fn looks_random(token: &[u8]) -> bool {
    if !(32..=512).contains(&token.len()) {
        return false;
    }
    let has_digit = token.iter().any(u8::is_ascii_digit);
    let has_alpha = token.iter().any(u8::is_ascii_alphabetic);
    let hex_only = token.iter().all(|&c| c.is_ascii_hexdigit() || c == b'-');
    if !has_digit || !has_alpha || hex_only {
        return false;
    }
    let (changes, alnums) = class_changes(token);
    if changes.saturating_mul(4) < alnums.saturating_sub(1) {
        return false;
    }
    if entropy_bits(token) < 4.0 || wordy(token) {
        return false;
    }
    // Encoded text or an encoded file (an inline image) is content, not a credential.
    let body = token.iter().copied().take_while(|&c| c != b'=');
    let decoded = decode_base64(body);
    classify_decoded(&decoded) == Decoded::Binary && !file_magic(&decoded)
}

/// Names that, shortly before a hex token on the same line, make it a credential.
const SECRET_NAMES: &[&[u8]] = &[
    b"secret",
    b"private",
    b"password",
    b"passwd",
    b"token",
    b"api key",
    b"api_key",
    b"apikey",
    b"api-key",
    b"access key",
    b"access_key",
    b"credential",
    b"signing key",
    b"signing_key",
];

/// How far before a hex token its secret's name is looked for (see [`hex_secret`]).
pub const HEX_NAME_SPAN: usize = 48;

/// A hex-only token of 32–128 digits (mixing digits and letters) named as a secret
/// within the 48 bytes before it on its line: `"secret_key": "094a…"`, `API key is 9b1d…`.
/// Without such a name a hex string is taken for a hash or an id.
fn hex_secret(b: &[u8], start: usize, token: &[u8]) -> bool {
    let shape = (32..=128).contains(&token.len())
        && token.iter().all(u8::is_ascii_hexdigit)
        && token.iter().any(u8::is_ascii_digit)
        && token.iter().any(u8::is_ascii_alphabetic);
    if !shape {
        return false;
    }
    let window = b
        .get(start.saturating_sub(HEX_NAME_SPAN)..start)
        .unwrap_or_default();
    let line = match memrchr(b'\n', window) {
        Some(nl) => window.get(nl + 1..).unwrap_or_default(),
        None => window,
    };
    tick(line.len() * SECRET_NAMES.len());
    SECRET_NAMES.iter().any(|name| {
        line.windows(name.len())
            .enumerate()
            .any(|(i, w)| w.eq_ignore_ascii_case(name) && !names_key_id(line, i + name.len()))
    })
}

/// Whether the identifier that a secret's name ends at `from` in `line` is a key's id
/// (`private_key_id`, `signingKeyId`, `access-key-id`): an identifier, not the secret.
fn names_key_id(line: &[u8], from: usize) -> bool {
    let rest = line.get(from..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-'))
        .unwrap_or(rest.len());
    let ident: Vec<u8> = rest
        .iter()
        .take(len)
        .filter(|c| c.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    ident.ends_with(b"keyid") || ident.ends_with(b"tokenid") || ident == b"id"
}

/// The first bytes of common binary file formats (PNG, JPEG, GIF, PDF, ZIP, gzip, WebP).
fn file_magic(bytes: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"%PDF",
        b"PK\x03\x04",
        b"\x1F\x8B",
        b"RIFF",
    ];
    MAGIC.iter().any(|m| bytes.starts_with(m))
}

/// Made of words: at least 60% of the letters lie in camelCase segments (an optional
/// capital and lower-case letters, or a run of capitals) of 3+ letters of which at least
/// 30% are vowels. Random strings break into short, vowel-poor segments.
fn wordy(token: &[u8]) -> bool {
    let (mut letters, mut in_words) = (0usize, 0usize);
    let (mut len, mut vowels) = (0usize, 0usize);
    let mut prev = 0u8;
    let mut close = |len: &mut usize, vowels: &mut usize| {
        if *len >= 3 && *vowels * 10 >= *len * 3 {
            in_words += *len;
        }
        *len = 0;
        *vowels = 0;
    };
    for &c in token {
        tick(1);
        if !c.is_ascii_alphabetic() {
            close(&mut len, &mut vowels);
        } else {
            // A capital after a lower-case letter starts a new segment.
            if c.is_ascii_uppercase() && prev.is_ascii_lowercase() {
                close(&mut len, &mut vowels);
            }
            letters += 1;
            len += 1;
            if matches!(
                c.to_ascii_lowercase(),
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
            ) {
                vowels += 1;
            }
        }
        prev = c;
    }
    close(&mut len, &mut vowels);
    letters > 0 && in_words * 10 >= letters * 6
}

fn class_of(c: u8) -> u8 {
    if c.is_ascii_lowercase() {
        0
    } else if c.is_ascii_uppercase() {
        1
    } else {
        2
    }
}

/// The class changes (lower/upper/digit) between adjacent letters and digits of the
/// token, skipping its separators (`+`, `/`, `_`, `-`), and how many letters and digits
/// it has. Separators are left out because a path or a snake_case name alternates with
/// them on every segment (`vectors/x509/PKITS_data/certs`) while a random string changes
/// class about every other character without them.
fn class_changes(token: &[u8]) -> (usize, usize) {
    let (mut changes, mut alnums, mut prev) = (0usize, 0usize, None);
    for &c in token.iter().filter(|c| c.is_ascii_alphanumeric()) {
        let class = class_of(c);
        changes += usize::from(prev.is_some_and(|p| p != class));
        alnums += 1;
        prev = Some(class);
    }
    (changes, alnums)
}

/// Shannon entropy of the token's bytes, in bits per byte.
pub fn entropy_bits(token: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &c in token {
        tick(1);
        if let Some(n) = counts.get_mut(usize::from(c)) {
            *n += 1;
        }
    }
    let len = token.len() as f64;
    if token.is_empty() {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_is_found_at_its_start_and_the_longest_wins() {
        for spec in PREFIXED {
            let text = format!("{}XYZ", spec.prefix);
            let found = prefix_at(text.as_bytes(), 0, text.len()).map(|s| s.prefix);
            assert_eq!(found, Some(spec.prefix), "{text}");
            let shifted = format!("a{text}");
            let found = prefix_at(shifted.as_bytes(), 0, shifted.len());
            assert!(found.is_none(), "anchored: {shifted}");
        }
        let anthropic = b"sk-ant-api03-abc";
        let found = prefix_at(anthropic, 0, anthropic.len()).map(|s| s.kind);
        assert_eq!(found, Some(Kind::AnthropicKey));
        let openai = b"sk-proj-abc";
        let found = prefix_at(openai, 0, openai.len()).map(|s| s.kind);
        assert_eq!(found, Some(Kind::OpenaiKey));
    }

    fn kinds(text: &str) -> Vec<Kind> {
        find(text).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn slack_app_and_refresh_tokens() {
        for token in [
            "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef",
            "xoxe-1-My4xLTEtMTIzNDU2Nzg5MC0xMjM0NTY3ODkwMTIz",
            "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIz",
        ] {
            assert_eq!(
                kinds(&format!("token: {token}")),
                [Kind::SlackToken],
                "{token}"
            );
        }
    }

    #[test]
    fn github_app_installation_token() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2J5dGVzX2hlcmU";
        let text = format!("GITHUB_TOKEN=ghs_1234567_{jwt} and more");
        let found: Vec<_> = find(&text)
            .iter()
            .map(|f| (f.kind, text.get(f.start..f.end)))
            .collect();
        let token = format!("ghs_1234567_{jwt}");
        assert_eq!(found, [(Kind::GithubToken, Some(token.as_str()))]);
        // Not an app id and a JWT: nothing of GitHub's.
        assert!(!kinds("ghs_12x_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
            .contains(&Kind::GithubToken));
    }

    #[test]
    fn wheel_record_lines_and_paths_are_not_secrets() {
        let line = "cryptography_vectors/x509/PKITS_data/certs/deltaCRLCA3Cert.crt,\
                    sha256=EYTfpJfMeWXJUSbS-P2nW1ppK0i0_wR_Yi1aApvkL5Q,901";
        assert!(find(line).is_empty(), "{:?}", find(line));
        // The same digest without its algorithm's name is still random-looking.
        assert_eq!(
            kinds("value=EYTfpJfMeWXJUSbS-P2nW1ppK0i0_wR_Yi1aApvkL5Q"),
            [Kind::HighEntropy]
        );
    }

    #[test]
    fn a_key_id_is_not_a_named_secret() {
        let id = "\"private_key_id\": \"3d5ba9c787acfc694a799b0de803d0c79039a250\"";
        assert!(find(id).is_empty());
        let key = "\"private_key\": \"3d5ba9c787acfc694a799b0de803d0c79039a250\"";
        assert_eq!(kinds(key), [Kind::HighEntropy]);
    }
}

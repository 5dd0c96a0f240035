#!/usr/bin/env python3
"""Builds tests/corpus/secrets_eval.jsonl: held-out texts for the secret detector
(`crates/engine/src/detect/secrets.rs`), from public third-party material the detector
was not developed against, and from seeded generators that follow each provider's
published format (not the detector's patterns).

    mkdir -p /tmp/secrets-eval && cd /tmp/secrets-eval
    pip download --no-deps --no-binary :all: certifi==2026.10.18 paramiko==5.1.0 \
        PyJWT==2.15.1 python-jose==3.5.0 jwcrypto==1.6.1
    pip download --no-deps cryptography-vectors==50.0.2
    for r in slack@13.0.4 github@13.0.4 openai@12.3.1 anthropic@12.3.1; do
        npm pack @secretlint/secretlint-rule-$r; done
    cd /work/main && python3 scripts/corpus/build_secrets_eval.py /tmp/secrets-eval

Only the standard library is needed: the archives are read in place and checked
against the SHA-256 sums below, so a rerun is byte-identical (fixed seed, sorted files).

Each row: {"text", "kinds", "source", "licence", "split": "heldout"}; negatives have
`"kinds": []`.

Positives
* private_key: every PEM/OpenSSH private key block in cryptography-vectors (test vectors:
  RSA, DSA, EC, Ed25519/Ed448, X25519/X448, DH, ML-KEM; PKCS#1, SEC1, PKCS#8, encrypted
  PKCS#8, OpenSSL-encrypted, OpenSSH) and paramiko's test keys, deduplicated; a few are
  pasted as a GCP service-account JSON (`"private_key": "-----BEGIN…\\n…"`).
* jwt: JWS compact tokens from PyJWT's, python-jose's and jwcrypto's sources whose
  payload is a JSON object (RFC 7519), completed by HS256/384/512 tokens made here
  (RFC 7519, seeded claims and keys, `alg: none` ones with an empty signature too).
* openai_key, anthropic_key, github_token, slack_token, google_api_key,
  aws_access_key: no third-party package ships samples of these, so they are generated
  with a seeded generator following the providers' published formats, as written down in
  secretlint's rules (npm, MIT) and the providers' docs (see `generated:` sources):
  OpenAI `sk-proj-`/`sk-svcacct-`/`sk-admin-` keys with the `T3BlbkFJ` marker and the
  legacy 48-character `sk-…T3BlbkFJ…`; Anthropic `sk-ant-api03-…AA` and
  `sk-ant-admin01-…AA`; GitHub's `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` (30 random base62
  characters and a base62 CRC32 checksum), fine-grained `github_pat_<22>_<59>` and the
  new App installation token `ghs_<app id>_<JWT>`; Slack bot/user/app/configuration/
  refresh tokens (`xoxb-`, `xoxp-`, `xapp-`, `xoxe.xoxp-`, `xoxe-`, legacy `xoxa-2-`);
  Google `AIza` + 35; AWS `AKIA`/`ASIA` + 16 base32 characters.
* high_entropy: the Fernet keys of cryptography-vectors, then generated AWS secret access
  keys (40 of base64), `openssl rand -base64 32`, Fernet-style url-safe keys and
  `openssl rand -hex 32` values named as a secret.

Negatives (public material)
* certificates: every certificate of certifi's `cacert.pem` (Mozilla's CA bundle) and
  the first PEM block of cryptography-vectors' x509 certificate and CSR files;
* PEM public keys of cryptography-vectors;
* SSH public keys and SSH certificates (`*.pub`) of cryptography-vectors and paramiko;
* npm integrity hashes (`sha512-…`, `sha1-…`) of this repository's package-lock.json,
  and SRI `sha384-` attributes derived from them;
* wheel RECORD lines (`path,sha256=<urlsafe base64>,size`) of cryptography-vectors'
  wheel, and pip `--hash=sha256:<hex>` lines of the same digests;
* Cargo.lock `checksum = "…"` lines of this repository's Cargo.lock;
* git commit SHAs of this repository's history (`git log --format=%H`), in commit
  messages, `git revert`, and `direct_url.json`-style metadata;
* UUIDs (uuid4 from the fixed seed) in logs, JSON and YAML.
"""

import base64
import hashlib
import hmac
import io
import json
import random
import re
import subprocess
import sys
import tarfile
import uuid
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "corpus" / "secrets_eval.jsonl"
SEED = 20261201

ARCHIVES = {
    "certifi-2026.10.18.tar.gz": "b9995d97b64d0431a5af837d8ca8cd6238104d1f319f04bd93ea43124d6c861e",
    "paramiko-5.1.0.tar.gz": "239b5f9b2a53006cd54f83cf8495ee742083708ead947882c8dd2786de79f39b",
    "pyjwt-2.15.1.tar.gz": "4f259e80cdfb6b3fc18a7de51fd1ef9ec79652f25019bae68975ca2468a34df8",
    "python_jose-3.5.0.tar.gz": "fb4eaa44dbeb1c26dcc69e4bd7ec54a1cb8dd64d3b4d81ef08d90ff453f2b01b",
    "jwcrypto-1.6.1.tar.gz": "a1e1570da5c2e35dbcd375ec1d2891a24de8eb35ee2c1fe8e91978efb72cfe90",
    "cryptography_vectors-50.0.2-py3-none-any.whl": "51641f03a3eb4edbe9fb68e3a3574d25f86aa502d06391fffa886330d02778a0",
}

LICENCES = {
    "certifi==2026.10.18": "MPL-2.0",
    "paramiko==5.1.0": "LGPL-2.1-or-later",
    "PyJWT==2.15.1": "MIT",
    "python-jose==3.5.0": "MIT",
    "jwcrypto==1.6.1": "LGPL-3.0-or-later",
    "cryptography-vectors==50.0.2": "Apache-2.0 OR BSD-3-Clause",
}

PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.S)


def files(archive):
    """(path, text) of every UTF-8 text member, sorted by path."""
    data = archive.read_bytes()
    if hashlib.sha256(data).hexdigest() != ARCHIVES[archive.name]:
        sys.exit(f"{archive.name}: checksum differs from the pinned one")
    out = []
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in sorted(z.namelist()):
                try:
                    out.append((name, z.read(name).decode("utf-8")))
                except UnicodeDecodeError:
                    pass
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in sorted(t.getmembers(), key=lambda m: m.name):
                if m.isfile():
                    try:
                        out.append((m.name.split("/", 1)[1], t.extractfile(m).read().decode("utf-8")))
                    except UnicodeDecodeError:
                        pass
    return out


rows = []
seen = set()


def add(text, kinds, source, licence):
    if text in seen:
        return False
    seen.add(text)
    rows.append({"text": text, "kinds": kinds, "source": source, "licence": licence,
                 "split": "heldout"})
    return True


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main(dl):
    rng = random.Random(SEED)
    arch = {name: files(dl / name) for name in ARCHIVES}
    cv = arch["cryptography_vectors-50.0.2-py3-none-any.whl"]
    cv_pkg = "cryptography-vectors==50.0.2"
    pk = "paramiko==5.1.0"

    # ---- private keys ------------------------------------------------------------
    key_templates = [
        "Can you tell me why this key fails to load?\n\n{k}\n",
        "```\n{k}\n```\nThat's the deploy key from the server, is the format right?",
        "Here is id_rsa from the build box:\n{k}",
        "ssl_certificate_key contents:\n{k}\n\nnginx says 'bad decrypt'.",
    ]
    keys = []
    sources = [(cv_pkg, p, t) for p, t in cv]
    sources += [(pk, p, t) for p, t in arch["paramiko-5.1.0.tar.gz"] if p.startswith("tests/")]
    for src, path, text in sources:
        for m in PEM_RE.finditer(text):
            if m.group(1).endswith("PRIVATE KEY") and len(m.group(0)) <= 6000:
                keys.append((m.group(0).replace("\r\n", "\n"), f"{src}:{path}", LICENCES[src]))
    for i, (k, src, lic) in enumerate(keys):
        if i % 9 == 8 and "OPENSSH" not in k:
            sa = {"type": "service_account", "project_id": "demo-project",
                  "private_key_id": hashlib.sha1(k.encode()).hexdigest(),
                  "private_key": k + "\n",
                  "client_email": "ci@demo-project.iam.gserviceaccount.com"}
            add("Our service account file:\n" + json.dumps(sa, indent=2), ["private_key"], src, lic)
        else:
            add(key_templates[i % len(key_templates)].format(k=k), ["private_key"], src, lic)

    # ---- JWTs ----------------------------------------------------------------------
    jwt_re = re.compile(r"(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?![A-Za-z0-9_.-])")

    def json_obj(seg):
        try:
            v = json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
        except Exception:
            return None
        return v if isinstance(v, dict) else None

    jwt_templates = [
        "Authorization: Bearer {t}",
        "The API returns this token: {t} - how do I read the exp claim?",
        'localStorage.setItem("id_token", "{t}");',
        "curl -H 'Authorization: Bearer {t}' https://api.example.com/v1/me",
        "JWT_TOKEN={t}",
    ]
    n = 0
    for name, pkg in (("pyjwt-2.15.1.tar.gz", "PyJWT==2.15.1"),
                      ("python_jose-3.5.0.tar.gz", "python-jose==3.5.0"),
                      ("jwcrypto-1.6.1.tar.gz", "jwcrypto==1.6.1")):
        for path, text in arch[name]:
            if "egg-info" in path or path == "PKG-INFO":
                continue
            for tok in sorted(set(jwt_re.findall(text))):
                h, p, _ = tok.split(".")
                head, body = json_obj(h), json_obj(p)
                if head is None or body is None or "alg" not in head:
                    continue
                n += add(jwt_templates[n % len(jwt_templates)].format(t=tok), ["jwt"],
                         f"{pkg}:{path}", LICENCES[pkg])

    def make_jwt(alg):
        now = 1_700_000_000 + rng.randrange(0, 50_000_000)
        claims = {"sub": str(rng.randrange(10**6, 10**9)), "iat": now, "exp": now + 3600}
        if rng.random() < 0.5:
            claims["email"] = f"user{rng.randrange(1000)}@example.com"
        if rng.random() < 0.5:
            claims["scope"] = rng.choice(["read", "read write", "admin", "openid profile"])
        header = {"alg": alg, "typ": "JWT"}
        signing = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        if alg == "none":
            return signing + "."
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        key = bytes(rng.randrange(256) for _ in range(32))
        return signing + "." + b64url(hmac.new(key, signing.encode(), digest).digest())

    while n < 80:
        alg = ["HS256", "HS256", "HS384", "HS512", "none"][n % 5]
        n += add(jwt_templates[n % len(jwt_templates)].format(t=make_jwt(alg)), ["jwt"],
                 "generated:RFC 7519 (JWS compact, HMAC or alg none)", "CC0-1.0")

    # ---- prefixed provider keys --------------------------------------------------
    ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    URL = ALNUM + "_-"
    B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    HEX = "0123456789abcdef"

    def draw(alphabet, k):
        return "".join(rng.choice(alphabet) for _ in range(k))

    def base62(num, width):
        s = ""
        while num:
            num, r = divmod(num, 62)
            s = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[r] + s
        return s.rjust(width, "0")

    def github_classic():
        prefix = rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
        body = draw(ALNUM, 30)
        return prefix + body + base62(zlib.crc32(body.encode()), 6)

    def github_app_installation():
        return f"ghs_{rng.randrange(10**5, 10**8)}_{make_jwt('HS256')}"

    def slack():
        team, user = rng.randrange(10**9, 10**12), rng.randrange(10**9, 10**13)
        kind = rng.randrange(6)
        if kind == 0:
            return f"xoxb-{team}-{user}-{draw(ALNUM, 24)}"
        if kind == 1:
            return f"xoxp-{team}-{user}-{rng.randrange(10**12, 10**13)}-{draw(HEX, 32)}"
        if kind == 2:
            return f"xapp-1-A{draw('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}-{rng.randrange(10**12, 10**13)}-{draw(HEX, 64)}"
        if kind == 3:
            return f"xoxe.xoxp-1-{draw(ALNUM, 140)}"
        if kind == 4:
            return f"xoxe-1-{draw(ALNUM, 140)}"
        return f"xoxa-2-{team}-{user}-{rng.randrange(10**12, 10**13)}-{draw(HEX, 64)}"

    def openai():
        kind = rng.randrange(4)
        if kind == 3:
            return "sk-" + draw(ALNUM, 20) + "T3BlbkFJ" + draw(ALNUM, 20)
        prefix = ["sk-proj-", "sk-svcacct-", "sk-admin-"][kind]
        n1 = rng.choice([74, 58])
        return prefix + draw(URL, n1) + "T3BlbkFJ" + draw(URL, n1)

    def anthropic():
        prefix = rng.choice(["sk-ant-api03-", "sk-ant-api03-", "sk-ant-admin01-"])
        return prefix + draw(URL, 93) + "AA"

    formats = [
        ("openai_key", openai, "generated:OpenAI key format (sk-proj-/sk-svcacct-/sk-admin- with T3BlbkFJ; legacy sk-<20>T3BlbkFJ<20>) per @secretlint/secretlint-rule-openai@12.3.1"),
        ("anthropic_key", anthropic, "generated:Anthropic key format (sk-ant-api03-<93>AA, sk-ant-admin01-) per @secretlint/secretlint-rule-anthropic@12.3.1"),
        ("github_token", github_classic, "generated:GitHub token format (prefix + 30 base62 + base62 CRC32), GitHub blog 2021-04-05 'Behind GitHub's new authentication token formats'"),
        ("github_token", lambda: "github_pat_" + draw(ALNUM, 22) + "_" + draw(ALNUM, 59), "generated:GitHub fine-grained PAT format (github_pat_<22>_<59>) per @secretlint/secretlint-rule-github@13.0.4"),
        ("github_token", github_app_installation, "generated:GitHub App installation token format ghs_<app id>_<JWT>, GitHub changelog 2026-04-24, per @secretlint/secretlint-rule-github@13.0.4"),
        ("slack_token", slack, "generated:Slack token types (xoxb-, xoxp-, xapp-, xoxe.xoxp-, xoxe-, xoxa-2-) per Slack's token-types docs and @secretlint/secretlint-rule-slack@13.0.4"),
        ("google_api_key", lambda: "AIza" + draw(URL, 35), "generated:Google API key format (AIza + 35 of [A-Za-z0-9_-])"),
        ("aws_access_key", lambda: rng.choice(["AKIA", "ASIA"]) + draw(B32, 16), "generated:AWS access key ID format (AKIA/ASIA + 16 base32), AWS IAM user guide 'Understanding unique ID prefixes'"),
    ]
    counts = {"openai_key": 80, "anthropic_key": 80, "google_api_key": 80, "aws_access_key": 80,
              "slack_token": 84}
    per_format = {0: 80, 1: 80, 2: 50, 3: 15, 4: 15, 5: 84, 6: 80, 7: 80}
    env = {"openai_key": "OPENAI_API_KEY", "anthropic_key": "ANTHROPIC_API_KEY",
           "github_token": "GITHUB_TOKEN", "slack_token": "SLACK_BOT_TOKEN",
           "google_api_key": "GOOGLE_API_KEY", "aws_access_key": "AWS_ACCESS_KEY_ID"}
    key_texts = [
        "export {env}={k}",
        "My key is {k} - why do I get a 401?",
        'config.yaml:\n  api_key: "{k}"\n  timeout: 30',
        '{{"token": "{k}", "retries": 3}}',
        "{env}='{k}' python app.py",
        "I accidentally committed {k} to the repo, how do I rotate it?",
    ]
    del counts
    for i, (kind, gen, src) in enumerate(formats):
        for j in range(per_format[i]):
            text = key_texts[j % len(key_texts)].format(env=env[kind], k=gen())
            add(text, [kind], src, "CC0-1.0")

    # ---- high-entropy secrets ----------------------------------------------------
    he = 0
    for path, text in cv:
        if path.startswith("cryptography_vectors/fernet/"):
            for secret in sorted(set(re.findall(r'"secret": "([^"]+)"', text))):
                he += add(f"FERNET_KEY={secret}", ["high_entropy"], f"{cv_pkg}:{path}",
                          LICENCES[cv_pkg])
    he_formats = [
        (lambda: draw(ALNUM + "+/", 40), "aws_secret_access_key = {s}", "generated:AWS secret access key format (40 of base64)"),
        (lambda: base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode(), "SESSION_SECRET={s}", "generated:openssl rand -base64 32"),
        (lambda: base64.urlsafe_b64encode(bytes(rng.randrange(256) for _ in range(32))).decode(), "key = Fernet(b\"{s}\")", "generated:Fernet key format (url-safe base64 of 32 bytes)"),
        (lambda: draw(HEX, 64), "webhook signing secret: {s}", "generated:openssl rand -hex 32"),
    ]
    j = 0
    while he < 80:
        gen, tpl, src = he_formats[j % len(he_formats)]
        he += add(tpl.format(s=gen()), ["high_entropy"], src, "CC0-1.0")
        j += 1

    # ---- negatives: certificates and public keys ---------------------------------
    cert_templates = [
        "Here is our CA bundle:\n{c}",
        "The server presents this certificate, is it expired?\n\n{c}\n",
        "```pem\n{c}\n```",
        "ssl_trusted_certificate contents:\n{c}",
    ]
    certifi = arch["certifi-2026.10.18.tar.gz"]
    for path, text in certifi:
        if path == "certifi/cacert.pem":
            for i, m in enumerate(PEM_RE.finditer(text)):
                add(cert_templates[i % 4].format(c=m.group(0)), [], f"certifi==2026.10.18:{path}#{i}", "MPL-2.0")
    pub_templates = [
        "Public key for verifying webhooks:\n{c}",
        "Add this to the JWKS config (PEM):\n{c}",
        "public_key.pem:\n{c}\n",
    ]
    i = 0
    for path, text in cv:
        if not (path.endswith(".pem") or path.endswith(".crt") or path.endswith(".csr") or path.endswith(".txt") or path.endswith(".key")):
            continue
        m = PEM_RE.search(text)
        if m is None:
            continue
        label = m.group(1)
        if label in ("CERTIFICATE", "CERTIFICATE REQUEST", "PUBLIC KEY", "RSA PUBLIC KEY", "X509 CRL") \
                and len(m.group(0)) <= 6000:
            tpl = cert_templates if "CERT" in label or "CRL" in label else pub_templates
            add(tpl[i % len(tpl)].format(c=m.group(0).replace("\r\n", "\n")), [], f"{cv_pkg}:{path}", LICENCES[cv_pkg])
            i += 1
    ssh_templates = [
        "Add this to ~/.ssh/authorized_keys:\n{k}",
        "known_hosts entry: git.example.com {k}",
        "Here's my public key, please give me access: {k}",
    ]
    i = 0
    ssh_line = re.compile(r"^((?:ssh|ecdsa|sk)-[a-z0-9@.-]+ AAAA[A-Za-z0-9+/=]+(?: \S+)?)", re.M)
    for name, pkg in (("cryptography_vectors-50.0.2-py3-none-any.whl", cv_pkg), ("paramiko-5.1.0.tar.gz", pk)):
        for path, text in arch[name]:
            if not path.endswith(".pub"):
                continue
            for k in ssh_line.findall(text):
                add(ssh_templates[i % 3].format(k=k), [], f"{pkg}:{path}", LICENCES[pkg])
                i += 1

    # ---- negatives: integrity hashes, checksums, SHAs, UUIDs ---------------------
    lock = json.loads((ROOT / "package-lock.json").read_text())
    i = 0
    for name, entry in sorted(lock.get("packages", {}).items()):
        if "integrity" not in entry:
            continue
        integ = entry["integrity"]
        short = name.split("node_modules/")[-1]
        tpls = [
            f'package-lock.json entry:\n"{name}": {{\n  "version": "{entry.get("version")}",\n  "resolved": "{entry.get("resolved")}",\n  "integrity": "{integ}"\n}}',
            f"npm ERR! code EINTEGRITY: {short}@{entry.get('version')} expected {integ}",
            f"{short}@{entry.get('version')}:\n  resolved \"{entry.get('resolved')}\"\n  integrity {integ}",
        ]
        add(tpls[i % 3], [], "main:package-lock.json (npm registry integrity)", "facts (hash of MIT/ISC packages)")
        digest = base64.b64decode(integ.split("-", 1)[1])
        sri = "sha384-" + base64.b64encode(hashlib.sha384(digest).digest()).decode()
        if i % 3 == 0:
            add(f'<script src="https://cdn.example.com/{short}.min.js" integrity="{sri}" crossorigin="anonymous"></script>',
                [], "derived:SRI sha384 of a package-lock.json digest", "facts")
        i += 1
    record = next(t for p, t in cv if p.endswith(".dist-info/RECORD"))
    lines = [l for l in record.splitlines() if ",sha256=" in l]
    for l in rng.sample(lines, 120):
        path, h, size = l.split(",")
        if rng.random() < 0.5:
            add(f"RECORD line from the wheel:\n{l}", [], f"{cv_pkg}:RECORD", LICENCES[cv_pkg])
        else:
            hexd = base64.urlsafe_b64decode(h[7:] + "=").hex()
            add(f"requirements.txt:\ncryptography-vectors==50.0.2 \\\n    --hash=sha256:{hexd}",
                [], f"{cv_pkg}:RECORD (hex)", LICENCES[cv_pkg])
    cargo = (ROOT / "Cargo.lock").read_text()
    pkgs = re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"\nsource = "[^"]+"\nchecksum = "([0-9a-f]{64})"', cargo)
    for name, ver, ck in pkgs[:80]:
        add(f'Cargo.lock:\n[[package]]\nname = "{name}"\nversion = "{ver}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{ck}"',
            [], "main:Cargo.lock (crates.io checksums)", "facts (hash of crates)")
    shas = subprocess.run(["git", "-C", str(ROOT), "log", "--format=%H", "0759a92"],
                          capture_output=True, text=True, check=True).stdout.split()
    for i, sha in enumerate(shas[:120]):
        tpl = [
            "Fixed in commit {s}, please cherry-pick.",
            "git revert {s}",
            '{{"url": "https://example.com/repo.git", "vcs_info": {{"vcs": "git", "commit_id": "{s}"}}}}',
            "node: {s}\nnode-date: 2026-11-30T12:00:00Z\ndescribe-name: v0.4.1-12-g{p}",
        ][i % 4]
        add(tpl.format(s=sha, p=sha[:9]), [], "main:git log --format=%H", "facts")
    urng = random.Random(SEED + 1)
    for i in range(100):
        u = str(uuid.UUID(int=urng.getrandbits(128), version=4))
        tpl = [
            "request_id={u} status=500 path=/v1/chat",
            '{{"id": "{u}", "object": "thread", "created_at": 1764590400}}',
            "tenant:\n  id: {u}\n  plan: enterprise",
            "Trace {u} failed after 3 retries",
        ][i % 4]
        add(tpl.format(u=u), [], "generated:uuid4 (seeded)", "CC0-1.0")

    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    from collections import Counter
    c = Counter(k for r in rows for k in (r["kinds"] or ["<negative>"]))
    print(f"{len(rows)} rows, {OUT.stat().st_size} bytes: {dict(sorted(c.items()))}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))

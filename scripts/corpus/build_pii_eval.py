#!/usr/bin/env python3
"""Builds tests/corpus/pii_eval.jsonl: held-out texts for the PII detectors' national ids
and phone numbers, from generators the detectors were not developed against.

    python3 -m venv /tmp/piieval
    /tmp/piieval/bin/pip install faker==40.54.0 python-stdnum==2.2 phonenumbers==9.0.43
    /tmp/piieval/bin/python scripts/corpus/build_pii_eval.py

Each row: {"text", "kinds", "source", "split": "heldout"}. `kinds` lists the specific
kind (the detector also reports `national_id` beside it; the test reads only the
specific kinds). The output is deterministic (fixed seeds, pinned versions: the script
refuses other versions).

Sources (the detectors were developed against python-stdnum's documented examples and
the specifications, not against these):

* Faker's locale providers: `en_US` ssn, `fr_FR` ssn (NIR), `it_IT` ssn (codice
  fiscale), `nl_NL` ssn (BSN), `pt_BR` cpf, `pl_PL` pesel, `sv_SE` ssn (personnummer),
  `es_ES` nif/nie, `en_CA` ssn (SIN), and `phone_number()` of 18 locales.
* Where Faker has no valid generator, Faker's random digits completed by python-stdnum:
  `en_IN` aadhaar_id() is not Verhoeff-valid (about 1 in 10 pass), so its first 11 digits
  (first digit redrawn from 2-9) get stdnum's Verhoeff check digit; `en_GB` ssn() always
  uses the reserved `ZZ` prefix and suffix `T`, so its digits get a prefix and suffix
  drawn from the ones HMRC issues; Faker has no German tax id, so Faker's random digits
  get stdnum's ISO 7064 mod 11,10 check digit and are kept when stdnum validates them.
  Every national id is checked with python-stdnum (`is_valid`) before it is used.
* Phones: Faker's numbers kept only when libphonenumber (`phonenumbers`) finds the number
  possible for the locale's region, extensions (`x123`) cut off.

Negative rows (`kinds: []`): digit runs of the ids' lengths and groupings with a wrong
check digit, order numbers, dates, amounts, times, versions.
"""

import datetime
import json
import random
import sys
import types
from pathlib import Path

import faker
import faker.providers.ssn.sv_SE as faker_sv_se
import phonenumbers
import stdnum
from faker import Faker
from stdnum import verhoeff
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn

PINS = {"faker": (faker.VERSION, "40.54.0"), "python-stdnum": (stdnum.__version__, "2.2"),
        "phonenumbers": (phonenumbers.__version__, "9.0.43")}
for name, (have, want) in PINS.items():
    if have != want:
        sys.exit(f"{name}=={want} is required (have {have})")


class _Frozen(datetime.datetime):
    """sv_SE's ssn() counts ages back from now: a fixed now keeps the output stable."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 12, 1, 12, 0, 0)


faker_sv_se.datetime = types.SimpleNamespace(datetime=_Frozen, timedelta=datetime.timedelta)
BIRTH = (datetime.datetime(1930, 1, 1), datetime.datetime(2020, 12, 31))

FAKER = f"faker=={faker.VERSION}"
STDNUM = f"python-stdnum=={stdnum.__version__}"
PER_KIND = 120
OUT = Path(__file__).resolve().parents[2] / "tests" / "corpus" / "pii_eval.jsonl"
rng = random.Random(20261201)


def fk(locale, seed):
    f = Faker(locale)
    f.seed_instance(seed)
    # Some providers (es_ES nif/nie) draw from the `random` module itself.
    random.seed(seed)
    return f


# Templates: the ways people write the id in running text, in the id's language and in
# English, most naming it the way it is usually named.
TEMPLATES = {
    "us_ssn": ["My SSN is {v}.", "Social Security number: {v}", "SSN {v}, DOB 04/12/1987.",
               "Please verify {v} for the applicant.", "Mi número de seguro social es {v}."],
    "uk_nino": ["My National Insurance number is {v}.", "NI number: {v}",
                "NINO {v} (employee record)", "Please update {v} on the payroll."],
    "fr_nir": ["Mon numéro de sécurité sociale est le {v}.", "NIR : {v}",
               "N° INSEE {v} — merci de mettre à jour le dossier.",
               "Assuré social {v}, né en 1972.", "Social security number (France): {v}"],
    "it_codice_fiscale": ["Il mio codice fiscale è {v}.", "Codice fiscale: {v}",
                          "C.F. {v} - residente a Milano", "Tax code {v} for the Italian payroll."],
    "nl_bsn": ["Mijn BSN is {v}.", "Burgerservicenummer: {v}", "BSN {v} (klantdossier)",
               "My Dutch BSN number is {v}."],
    "br_cpf": ["Meu CPF é {v}.", "CPF: {v}", "Cliente João Silva, CPF {v}, pediu reembolso.",
               "Please find the customer's CPF {v} attached."],
    "pl_pesel": ["Mój PESEL to {v}.", "Numer PESEL: {v}", "PESEL {v}, adres Warszawa.",
                 "The patient's PESEL is {v}."],
    "se_personnummer": ["Mitt personnummer är {v}.", "Personnummer: {v}",
                        "Kund {v} har ringt om fakturan.", "Swedish personal number {v}."],
    "in_aadhaar": ["My Aadhaar number is {v}.", "Aadhaar: {v}", "आधार संख्या (Aadhaar) {v}",
                   "Please link Aadhaar {v} to the account."],
    "es_dni": ["Mi DNI es {v}.", "NIF: {v}", "El cliente con documento {v} llamó ayer.",
               "NIE {v}, residente en Valencia."],
    "de_tax_id": ["Meine Steuer-ID ist {v}.", "Steuerliche Identifikationsnummer: {v}",
                  "Steuer-IdNr. {v} bitte eintragen.", "German tax ID (Steuer-ID) {v}."],
    "ca_sin": ["My SIN is {v}.", "Social Insurance Number: {v}", "NAS : {v}",
               "Employee SIN {v}, start date Monday."],
    "phone": ["Call me at {v}.", "Phone: {v}", "You can reach the office on {v} tomorrow.",
              "Tel. {v}", "Mobile {v} (after 6pm)"],
}
PHONE_TEMPLATES = {
    "de_DE": ["Ruf mich an unter {v}.", "Telefon: {v}"],
    "fr_FR": ["Appelez-moi au {v}.", "Téléphone : {v}"],
    "es_ES": ["Llámame al {v}.", "Teléfono: {v}"],
    "es_MX": ["Llámame al {v}.", "Teléfono: {v}"],
    "it_IT": ["Chiamami al {v}.", "Telefono: {v}"],
    "nl_NL": ["Bel me op {v}.", "Telefoon: {v}"],
    "pt_BR": ["Me ligue no {v}.", "Telefone: {v}"],
    "ja_JP": ["電話番号は {v} です。", "TEL: {v}"],
    "zh_CN": ["我的电话是 {v}。", "手机：{v}"],
    "pl_PL": ["Zadzwoń pod {v}.", "Telefon: {v}"],
    "sv_SE": ["Ring mig på {v}.", "Telefon: {v}"],
    "tr_TR": ["Beni {v} numarasından arayın.", "Telefon: {v}"],
    "ru_RU": ["Позвоните мне по номеру {v}.", "Телефон: {v}"],
}


def texts(kind, values, source, templates=None):
    templates = templates or TEMPLATES[kind]
    rows = []
    for v in values:
        t = rng.choice(templates)
        rows.append({"text": t.format(v=v), "kinds": [kind], "source": source,
                     "split": "heldout"})
    return rows


def take(gen, valid, n=PER_KIND):
    out, seen = [], set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > n * 200:
            raise SystemExit(f"generator stalls after {len(out)} values")
        v = gen()
        if v is None or v in seen or not valid(v):
            continue
        seen.add(v)
        out.append(v)
    return out


def variants(values, *formats):
    """Each value in one of `formats` (functions), in turn."""
    return [formats[i % len(formats)](v) for i, v in enumerate(values)]


def digits(v):
    return "".join(c for c in v if c.isdigit())


rows = []

# us_ssn
f = fk("en_US", 1)
rows += texts("us_ssn", take(f.ssn, ssn.is_valid), f"{FAKER}:en_US")

# uk_nino: Faker's digits, an issued prefix and suffix.
f = fk("en_GB", 2)
FIRST = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
SECOND = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
BAD = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino():
    v = f.ssn()
    prefix = f.random.choice(FIRST) + f.random.choice(SECOND)
    if prefix in BAD:
        return None
    return prefix + v[2:-1] + f.random.choice("ABCD")


rows += texts("uk_nino", take(nino, lambda v: True), f"{FAKER}:en_GB+issued-prefix")

# fr_nir: compact and spaced.
f = fk("fr_FR", 3)
vals = take(f.ssn, nir.is_valid)
rows += texts("fr_nir", variants(vals, str, nir.format), f"{FAKER}:fr_FR")

# it_codice_fiscale
f = fk("it_IT", 4)
rows += texts("it_codice_fiscale", take(f.ssn, codicefiscale.is_valid), f"{FAKER}:it_IT")

# nl_BSN: bare and 4-2-3 with dots.
f = fk("nl_NL", 5)
vals = take(f.ssn, bsn.is_valid)
rows += texts("nl_bsn", variants(vals, str, bsn.format), f"{FAKER}:nl_NL")

# br_cpf: formatted (Faker's) and bare.
f = fk("pt_BR", 6)
vals = take(f.cpf, cpf.is_valid)
rows += texts("br_cpf", variants(vals, str, digits), f"{FAKER}:pt_BR")

# pl_pesel
f = fk("pl_PL", 7)
rows += texts("pl_pesel", take(lambda: f.pesel(date_of_birth=f.date_time_between(*BIRTH)),
                               pesel.is_valid), f"{FAKER}:pl_PL")

# se_personnummer: YYMMDD-NNNN and YYYYMMDDNNNN / YYYYMMDD-NNNN.
f = fk("sv_SE", 8)
short = take(lambda: f.ssn(), personnummer.is_valid, PER_KIND // 2)
long_ = take(lambda: f.ssn(long=True, dash=f.random.random() < 0.5),
             lambda v: personnummer.is_valid(v[2:]), PER_KIND // 2)
rows += texts("se_personnummer", short + long_, f"{FAKER}:sv_SE")

# in_aadhaar: Faker's digits with stdnum's Verhoeff digit; grouped 4-4-4 and bare.
f = fk("en_IN", 9)


def aadhaar_value():
    body = str(f.random.randint(2, 9)) + f.aadhaar_id()[1:11]
    return body + verhoeff.calc_check_digit(body)


vals = take(aadhaar_value, aadhaar.is_valid)
rows += texts("in_aadhaar", variants(vals, aadhaar.format, str),
              f"{FAKER}:en_IN+{STDNUM}:verhoeff")

# es_dni: DNI and NIE.
f = fk("es_ES", 10)
vals = take(f.nif, dni.is_valid, PER_KIND // 2) + take(f.nie, nie.is_valid, PER_KIND // 2)
rows += texts("es_dni", vals, f"{FAKER}:es_ES")

# de_tax_id: Faker's random digits, stdnum's check digit, kept when stdnum validates.
f = fk("de_DE", 11)


def idnr_value():
    body = str(f.random.randint(1, 9)) + "".join(str(f.random.randint(0, 9)) for _ in range(9))
    return body + mod_11_10.calc_check_digit(body)


vals = take(idnr_value, idnr.is_valid)
rows += texts("de_tax_id", variants(vals, idnr.format, str),
              f"{FAKER}:de_DE+{STDNUM}:mod_11_10")

# ca_sin: Faker's spaced form, dashed and bare.
f = fk("en_CA", 12)
vals = take(f.ssn, sin.is_valid)
rows += texts("ca_sin", variants(vals, str, lambda v: v.replace(" ", "-"), digits),
              f"{FAKER}:en_CA")

# Phones: Faker's numbers of each locale that libphonenumber finds possible there.
PHONE_LOCALES = ["en_US", "en_CA", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL",
                 "pt_BR", "en_IN", "ja_JP", "zh_CN", "en_AU", "es_MX", "pl_PL", "sv_SE",
                 "tr_TR", "ru_RU"]
PER_LOCALE = 40
for n, locale in enumerate(PHONE_LOCALES):
    f = fk(locale, 100 + n)
    region = locale.split("_")[1]

    def phone_value():
        v = f.phone_number()
        for ext in ("x", " x", " ext"):
            if ext in v:
                v = v[: v.index(ext)]
        return v.strip()

    def possible(v):
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(v, region))
        except phonenumbers.NumberParseException:
            return False

    vals = take(phone_value, possible, PER_LOCALE)
    templates = TEMPLATES["phone"] + PHONE_TEMPLATES.get(locale, [])
    rows += texts("phone", vals, f"{FAKER}:{locale}", templates)

# Negatives: the same lengths and groupings with a wrong check digit, and numbers of
# other sorts, in the same templates' company.
NEG_TEMPLATES = ["Order {v} shipped today.", "Invoice no. {v}", "Reference {v}, see attached.",
                 "Ticket {v} was closed.", "Tracking number {v}", "Total: {v}",
                 "Bestellnummer {v}", "Numéro de commande {v}", "Pedido {v} enviado.",
                 "Kundnummer {v}", "Numer zamówienia {v}"]


def wrong_check(v, valid):
    """`v` with its last digit changed to one that makes it invalid."""
    i = max(k for k, c in enumerate(v) if c.isdigit())
    for d in "0123456789":
        w = v[:i] + d + v[i + 1:]
        if w != v and not valid(w):
            return w
    return None


# (text, what): ids with a wrong check digit, in their own kind's templates (label
# words and all), so only the check can tell.
negatives = []
sources = [
    ("us_ssn", fk("en_US", 30).ssn, lambda v: False, [str]),
    ("fr_nir", fk("fr_FR", 31).ssn, nir.is_valid, [str, nir.format]),
    ("nl_bsn", fk("nl_NL", 32).ssn, bsn.is_valid, [str, bsn.format]),
    ("br_cpf", fk("pt_BR", 33).cpf, cpf.is_valid, [str, digits]),
    ("pl_pesel", lambda f=fk("pl_PL", 34): f.pesel(date_of_birth=f.date_time_between(*BIRTH)),
     pesel.is_valid, [str]),
    ("se_personnummer", fk("sv_SE", 35).ssn, personnummer.is_valid, [str]),
    ("ca_sin", fk("en_CA", 36).ssn, sin.is_valid, [str, lambda v: v.replace(" ", "-"), digits]),
    ("es_dni", fk("es_ES", 37).nif, dni.is_valid, [str]),
    ("it_codice_fiscale", fk("it_IT", 38).ssn, codicefiscale.is_valid, [str]),
]
g = random.Random(7)
for kind, gen, valid, fmts in sources:
    if kind == "us_ssn":
        # No check digit: never-issued areas, groups and serials instead.
        for n in range(30):
            area = ["000", "666", str(g.randint(900, 999))][n % 3]
            negatives.append((g.choice(TEMPLATES[kind]).format(
                v=f"{area}-{g.randint(1, 99):02d}-{g.randint(1, 9999):04d}"), "never-issued"))
        continue
    made = 0
    while made < 30:
        w = wrong_check(gen(), valid)
        if w is None:
            continue
        v = fmts[made % len(fmts)](w)
        if valid(v):
            continue
        negatives.append((g.choice(TEMPLATES[kind]).format(v=v), "wrong-check"))
        made += 1
for _ in range(30):
    body = str(g.randint(2, 9)) + "".join(str(g.randint(0, 9)) for _ in range(10))
    w = body + str((int(verhoeff.calc_check_digit(body)) + g.randint(1, 9)) % 10)
    v = aadhaar.format(w) if g.random() < 0.5 else w
    negatives.append((g.choice(TEMPLATES["in_aadhaar"]).format(v=v), "wrong-check"))
for _ in range(30):
    body = str(g.randint(1, 9)) + "".join(str(g.randint(0, 9)) for _ in range(9))
    w = body + str((int(mod_11_10.calc_check_digit(body)) + g.randint(1, 9)) % 10)
    v = idnr.format(w) if g.random() < 0.5 else w
    negatives.append((g.choice(TEMPLATES["de_tax_id"]).format(v=v), "wrong-check"))
others = []
# Other numbers: order numbers of the ids' lengths, dates, amounts, times, versions.
for n in range(150):
    length = [9, 10, 11, 12, 15][n % 5]
    others.append(("".join(str(g.randint(0, 9)) for _ in range(length)), "digits"))
for n in range(30):
    others.append((f"{g.randint(1990, 2030)}-{g.randint(1, 12):02d}-{g.randint(1, 28):02d}",
                   "date"))
    others.append((f"{g.randint(1, 28):02d}.{g.randint(1, 12):02d}.{g.randint(1950, 2030)}",
                   "date"))
    others.append((f"${g.randint(1, 999)},{g.randint(0, 999):03d}.{g.randint(0, 99):02d}",
                   "amount"))
    others.append((f"{g.randint(1, 999)} {g.randint(0, 999):03d},{g.randint(0, 99):02d} €",
                   "amount"))
    others.append((f"{g.randint(0, 23):02d}:{g.randint(0, 59):02d}", "time"))
    others.append((f"v{g.randint(0, 9)}.{g.randint(0, 30)}.{g.randint(0, 99)}", "version"))
negatives += [(g.choice(NEG_TEMPLATES).format(v=v), what) for v, what in others]
for text, what in negatives:
    rows.append({"text": text, "kinds": [], "source": f"negative:{what}", "split": "heldout"})

with OUT.open("w", encoding="utf-8") as out:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
print(f"{len(rows)} rows -> {OUT}")

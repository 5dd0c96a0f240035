//! PII and secrets written with Unicode confusables (fullwidth forms, digits of other
//! scripts, Unicode spaces and dashes, zero-width and bidi characters) are found and
//! redacted whole, with spans on the original text; plain ASCII behaves as before.

use crate::support::{
    check, fullwidth, kinds, matched, pieces, prose, through_window, work, OPENAI_KEY as OPENAI,
};
use gateway_engine::detect::{
    find_kinds, find_pii, find_secrets, pii, redact, redact_kinds, scan_text, secrets, Finding,
    KindSet,
};
use gateway_engine::guard::body::{self, Checked};
use gateway_engine::guard::OutputGuard;
use gateway_engine::{Endpoint, LlmCall};
use gateway_policy::catalog::Provider;
use proptest::collection::vec;
use proptest::sample::select;
use proptest::strategy::Strategy;
use proptest::{bool, option};
use serde_json::{json, Value};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

// ---------------------------------------------------------------------------------------
// Helpers

const ZERO_WIDTH: [char; 16] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{2060}', '\u{2063}', '\u{FEFF}',
    '\u{00AD}', '\u{202A}', '\u{202C}', '\u{202E}', '\u{2066}', '\u{2068}', '\u{2069}', '\u{061C}',
];

const SPACES: [char; 6] = [
    '\u{00A0}', '\u{2002}', '\u{2009}', '\u{202F}', '\u{205F}', '\u{3000}',
];

/// The zero of digit runs in several scripts (ASCII, fullwidth, Arabic-Indic, Extended
/// Arabic-Indic, Devanagari, Bengali, Thai, mathematical bold and monospace).
const ZEROS: [u32; 9] = [
    0x30, 0xFF10, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0x1D7CE, 0x1D7F6,
];

/// (kind, matched original text) of every PII finding, read through the confusable fold.
fn pii_in(text: &str) -> Vec<(&'static str, &str)> {
    matched(text, &find_pii(text))
}

/// (kind, matched original text) of every secret finding, read through the fold.
fn secrets_in(text: &str) -> Vec<(&'static str, &str)> {
    matched(text, &find_secrets(text))
}

/// `text` has one PII finding, of `kind` over `found`, and redacts to `redacted`.
fn assert_one_pii(text: &str, kind: &str, found: &str, redacted: &str) {
    assert_eq!(pii_in(text), [(kind, found)], "{text:?}");
    assert_eq!(redact(text, &find_pii(text)), redacted, "{text:?}");
}

fn all() -> KindSet {
    KindSet::parse("pii,secrets").unwrap()
}

/// Every ASCII digit of `text` as the digit of the run starting at `zero`.
fn digits_from(text: &str, zero: u32) -> String {
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero + d).unwrap(),
            None => c,
        })
        .collect()
}

/// Sorted, non-overlapping, on character boundaries of `text`.
fn assert_well_formed(text: &str, findings: &[Finding]) {
    for f in findings {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?} in {text:?}");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?} in {text:?}"
        );
    }
    assert!(
        findings.windows(2).all(|w| w[0].end <= w[1].start),
        "{findings:?} in {text:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Each kind of disguise

#[test]
fn fullwidth_card_number_is_found_and_redacted_whole() {
    let card = "４１１１ １１１１ １１１１ １１１１";
    let text = format!("My card is {card}, thanks.");
    let expected = "My card is [REDACTED:credit_card], thanks.";
    assert_one_pii(&text, "credit_card", card, expected);
    assert_eq!(scan_text(&text).pii_kinds(), ["credit_card"]);
    let (redacted, found) = redact_kinds(&text, all()).unwrap();
    assert_eq!(redacted, expected);
    assert_eq!(kinds(&found), ["credit_card"]);
    // Contiguous, and with fullwidth dashes as separators.
    for card in [
        "４１１１１１１１１１１１１１１１",
        "４１１１－１１１１－１１１１－１１１１",
    ] {
        assert_eq!(pii_in(card), [("credit_card", card)]);
    }
    // The raw byte scan does not see it.
    assert!(pii::find(&text).is_empty());
}

#[test]
fn digits_of_other_scripts_are_read_as_digits() {
    // Arabic-Indic.
    let phone = "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨";
    let text = format!("اتصل بي على {phone} من فضلك");
    assert_eq!(pii_in(&text), [("phone", phone)]);
    let card = "٤١١١ ١١١١ ١١١١ ١١١١";
    assert_eq!(pii_in(&format!("رقم {card}")), [("credit_card", card)]);
    // Extended Arabic-Indic, Devanagari, mathematical digits, fullwidth plus sign.
    for card in [
        "۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱",
        "४१११-११११-११११-११११",
        "𝟒𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏",
        "𝟺𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷𝟷",
    ] {
        let text = format!("card {card} ok");
        assert_one_pii(&text, "credit_card", card, "card [REDACTED:credit_card] ok");
    }
    let phone = "＋४४ २० ७९४६ ०९५८";
    assert_eq!(pii_in(phone), [("phone", phone)]);
    // A digit run mixing scripts reads as one number.
    let card = "4١۱१ ١١١١ 1111 𝟏𝟏𝟏𝟏";
    assert_eq!(pii_in(card), [("credit_card", card)]);
}

#[test]
fn zero_width_characters_inside_a_match_are_covered() {
    let card = "4\u{200B}1\u{200C}1\u{200D}1 1\u{2060}111 1111\u{FEFF} 1111";
    let text = format!("pay with {card} today");
    assert_one_pii(
        &text,
        "credit_card",
        card,
        "pay with [REDACTED:credit_card] today",
    );
    let card = "4111\u{AD}1111\u{202E}1111\u{2066}1111\u{2069}";
    // The trailing bidi control is not part of the match: it is left in place.
    assert_eq!(pii_in(card), [("credit_card", &card[..card.len() - 3])]);
    let email = "zoe\u{200B}.doe@exa\u{200D}mple\u{2060}.com";
    let text = format!("write to {email}.");
    assert_one_pii(&text, "email", email, "write to [REDACTED:email].");
}

#[test]
fn unicode_spaces_and_dashes_separate_groups() {
    for space in SPACES {
        let card = "4111 1111 1111 1111".replace(' ', &space.to_string());
        let text = format!("card: {card}.");
        assert_eq!(pii_in(&text), [("credit_card", card.as_str())], "{space:?}");
        let iban = "GB82 WEST 1234 5698 7654 32".replace(' ', &space.to_string());
        let text = format!("IBAN {iban} please");
        assert_one_pii(&text, "iban", &iban, "IBAN [REDACTED:iban] please");
    }
    for dash in [
        '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}',
    ] {
        let phone = "415-555-2671".replace('-', &dash.to_string());
        assert_eq!(
            pii_in(&format!("call {phone}")),
            [("phone", phone.as_str())]
        );
        let ssn = format!("078{dash}05{dash}1120");
        assert_eq!(pii_in(&ssn), [("us_ssn", ssn.as_str())]);
    }
}

#[test]
fn fullwidth_keys_and_emails() {
    // Only the prefix disguised, or the whole key.
    let prefix = format!("ｓｋ-{}", &OPENAI[3..]);
    let whole = fullwidth(OPENAI);
    for key in [prefix.as_str(), whole.as_str()] {
        let text = format!("my key is {key} ok");
        assert_eq!(secrets_in(&text), [("openai_key", key)], "{key}");
        assert_eq!(scan_text(&text).secret_kinds(), ["openai_key"]);
        assert_eq!(
            redact_kinds(&text, all()).unwrap().0,
            "my key is [REDACTED:openai_key] ok"
        );
        assert!(secrets::find(&text)
            .iter()
            .all(|f| f.kind.name() != "openai_key"));
    }
    for email in ["zoe＠example.com", "ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"] {
        let text = format!("mail {email} now");
        assert_one_pii(&text, "email", email, "mail [REDACTED:email] now");
    }
}

#[test]
fn plain_text_behaves_as_before() {
    let texts = [
        "",
        "Nothing here at all.",
        "a@example.com 10.0.0.1 +44 20 7946 0958 4111111111111111 GB82WEST12345698765432",
        "call 415-555-2671 or mail jane.doe@example.com, card 4111 1111 1111 1111",
        "Grüße aus Köln 🇩🇪, écrivez à zoe@example.com — 日本語のテキスト",
        "key sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj and AKIAIOSFODNN7EXAMPLE",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw",
    ];
    for text in texts {
        assert_eq!(find_pii(text), pii::find(text), "{text:?}");
        assert_eq!(find_secrets(text), secrets::find(text), "{text:?}");
        let scanned = scan_text(text);
        assert_eq!(scanned.pii, pii::find(text));
        assert_eq!(scanned.secrets, secrets::find(text));
    }
    // Characters the fold leaves alone do not change the findings either.
    let text = "Ο αριθμός 4111 1111 1111 1111 και zoe@example.com, ÅÄÖ, 中文 🙂";
    assert_eq!(find_pii(text), pii::find(text));
    assert_eq!(kinds(&find_pii(text)), ["credit_card", "email"]);
}

#[test]
fn findings_map_to_character_boundaries() {
    let texts = [
        "é４１１１ １１１１ １１１１ １１１１é",
        "日本語４１１１\u{3000}１１１１\u{3000}１１１１\u{3000}１１１１です",
        "\u{200B}4\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}",
        "ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ\u{200B}ｓｋ-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj",
        "١٠.٠.٠.١ and ２００１：ｄｂ８：：１ and +٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨",
        "\u{202E}GB82\u{00A0}WEST\u{00A0}1234\u{00A0}5698\u{00A0}7654\u{00A0}32\u{202C}",
    ];
    for text in texts {
        let pii = find_pii(text);
        let secrets = find_secrets(text);
        assert!(!pii.is_empty() || !secrets.is_empty(), "{text:?}");
        assert_well_formed(text, &pii);
        assert_well_formed(text, &secrets);
        let both = find_kinds(text, all());
        assert_well_formed(text, &both);
        let redacted = redact(text, &both);
        assert!(!redacted.chars().any(|c| c.is_numeric()), "{redacted:?}");
    }
    let found = pii_in("١٠.٠.٠.١ and ２００１：ｄｂ８：：１ and +٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨");
    assert_eq!(
        found,
        [
            ("ip_address", "١٠.٠.٠.١"),
            ("ip_address", "２００１：ｄｂ８：：１"),
            ("phone", "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨")
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Properties

/// Texts with a card number or an email and no other digit or `@`.
const TEMPLATES: [&str; 8] = [
    "My card is 4111 1111 1111 1111, expiring soon.",
    "Charge 5555-5555-5555-4444 please",
    "amex: 378282246310005.",
    "Discover 6011111111111117 on file",
    "Write to jane.doe@example.com about it.",
    "cc: ops+alerts@mail.example.org, thanks",
    "Card 4012 8888 8888 1881 and mail a.b@example.co.uk today.",
    "4111111111111111",
];

/// The most characters a template has.
fn longest_template() -> usize {
    TEMPLATES.iter().map(|t| t.chars().count()).max().unwrap()
}

/// How many disguises each property below is checked with, on every template.
const CASES: u32 = 50;

/// Zero-width characters to put before each character of a template, and maybe one
/// after its last.
#[derive(Debug)]
struct Invisible {
    before: Vec<Vec<char>>,
    after: Option<char>,
}

impl Invisible {
    fn strategy() -> impl Strategy<Value = Self> {
        (
            vec(vec(select(ZERO_WIDTH.to_vec()), 0..=2), longest_template()),
            option::of(select(ZERO_WIDTH.to_vec())),
        )
            .prop_map(|(before, after)| Self { before, after })
    }

    fn apply(&self, plain: &str) -> String {
        let mut text = String::new();
        for (c, before) in plain.chars().zip(&self.before) {
            text.extend(before);
            text.push(c);
        }
        text.extend(self.after);
        text
    }
}

#[test]
fn zero_width_characters_anywhere_change_nothing() {
    check(CASES, Invisible::strategy(), |invisible| {
        for plain in TEMPLATES {
            let expected = redact(plain, &find_pii(plain));
            let text = invisible.apply(plain);
            let found = find_pii(&text);
            assert_well_formed(&text, &found);
            assert_eq!(kinds(&found), kinds(&find_pii(plain)), "{text:?}");
            let redacted = redact(&text, &found);
            assert!(
                !redacted.contains(|c: char| c.is_ascii_digit()),
                "{redacted:?}"
            );
            assert!(!redacted.contains('@'), "{redacted:?}");
            // Only invisible characters outside the matches remain.
            let visible: String = redacted
                .chars()
                .filter(|c| !ZERO_WIDTH.contains(c))
                .collect();
            assert_eq!(visible, expected, "{text:?}");
            // The same through the kinds interface (input redaction, output guard).
            assert_eq!(redact_kinds(&text, all()).unwrap().0, redacted);
        }
    });
}

/// How to disguise one character of a template: a zero-width character before it, the
/// script of a digit, the Unicode space for a space, and whether `@` and a letter turn
/// fullwidth.
#[derive(Debug)]
struct Disguise {
    zero_width: Option<char>,
    zero: u32,
    space: Option<char>,
    fullwidth_at: bool,
    fullwidth_letter: bool,
}

impl Disguise {
    /// One disguise for each character of the longest template.
    fn strategy() -> impl Strategy<Value = Vec<Self>> {
        let one = (
            option::weighted(0.25, select(ZERO_WIDTH.to_vec())),
            select(ZEROS.to_vec()),
            option::weighted(0.5, select(SPACES.to_vec())),
            bool::weighted(0.5),
            bool::weighted(0.25),
        )
            .prop_map(
                |(zero_width, zero, space, fullwidth_at, fullwidth_letter)| Self {
                    zero_width,
                    zero,
                    space,
                    fullwidth_at,
                    fullwidth_letter,
                },
            );
        vec(one, longest_template())
    }

    fn apply(disguises: &[Self], plain: &str) -> String {
        let mut text = String::new();
        for (c, disguise) in plain.chars().zip(disguises) {
            text.extend(disguise.zero_width);
            match c {
                '0'..='9' => text.push_str(&digits_from(&c.to_string(), disguise.zero)),
                ' ' if disguise.space.is_some() => text.extend(disguise.space),
                '@' if disguise.fullwidth_at => text.push('＠'),
                'a'..='z' if disguise.fullwidth_letter => text.push_str(&fullwidth(&c.to_string())),
                _ => text.push(c),
            }
        }
        text
    }
}

#[test]
fn mixed_disguises_still_find_the_same_kinds() {
    check(CASES, Disguise::strategy(), |disguises| {
        for plain in TEMPLATES {
            let text = Disguise::apply(&disguises, plain);
            let found = find_pii(&text);
            assert_well_formed(&text, &found);
            assert_eq!(kinds(&found), kinds(&find_pii(plain)), "{text:?}");
            let redacted = redact(&text, &found);
            assert!(!redacted.chars().any(char::is_numeric), "{redacted:?}");
            assert!(!redacted.contains(['@', '＠']), "{redacted:?}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// Through the callers: whole calls, input redaction, the output guard

#[test]
fn calls_and_answers_are_redacted_through_confusables() {
    let card = "４１１１ １１１１ １１１１ １１１１";
    let email = "zoe\u{200B}@example.com";
    let body = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": format!("card {card}, mail {email}")},
            {"role": "user", "content": format!("key {}", fullwidth(OPENAI))}
        ]
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    let mut call = LlmCall::parse(Endpoint::ChatCompletions, &bytes).unwrap();
    let found = call.scan();
    assert_eq!(found.pii_kinds(), ["credit_card", "email"]);
    assert_eq!(found.secret_kinds(), ["openai_key"]);
    let counts = call.redact(all());
    assert_eq!(counts.values().sum::<u32>(), 3);
    assert_eq!(
        prose(&call),
        [
            "card [REDACTED:credit_card], mail [REDACTED:email]",
            "key [REDACTED:openai_key]"
        ]
    );

    // A whole answer.
    let guard = OutputGuard {
        redact: KindSet::parse("pii").unwrap(),
        block: KindSet::parse("secrets").unwrap(),
    };
    let answer = json!({
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": format!("It is {card}.")}}]
    });
    let (checked, report) = body::check(
        &guard,
        Provider::Openai,
        &serde_json::to_vec(&answer).unwrap(),
    );
    let Checked::Rewritten(bytes) = checked else {
        panic!("{checked:?}");
    };
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "It is [REDACTED:credit_card]."
    );
    assert_eq!(report.redacted.get("credit_card"), Some(&1));
    let answer = json!({
        "id": "x", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": format!("Use ｓｋ-{}", &OPENAI[3..])}}]
    });
    let (checked, _) = body::check(
        &guard,
        Provider::Openai,
        &serde_json::to_vec(&answer).unwrap(),
    );
    assert_eq!(checked, Checked::Blocked);
}

#[test]
fn streamed_confusables_are_redacted_like_the_whole_text() {
    let text = "Sure: the card is ４１１１ １１１１ １１１１ １１１１ and the other one is \
        4\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1\u{200B}1, \
        write to ｚｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ. The weather was fine and the meeting ran long.";
    let kinds = KindSet::parse("pii").unwrap();
    let (expected, found) = redact_kinds(text, kinds).unwrap();
    assert_eq!(found.len(), 3, "{expected}");
    for size in [1, 3, 7, 40] {
        assert_eq!(
            through_window(&pieces(text, size), kinds, KindSet::EMPTY),
            Ok(expected.clone()),
            "size {size}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Cost

#[test]
fn folding_scales_linearly() {
    let units = [
        "４",
        "٤ ",
        "4\u{200B}",
        "\u{200B}",
        "a\u{3000}",
        "４１１１ １１１１ １１１１ １１１１ ",
        "ｚ＠ｅ．ｃｏ ",
        "ｓｋ-",
        "é",
        "日本語",
    ];
    for unit in units {
        let repeats = (32 * 1024) / unit.len();
        let (w1, w2) = (work(&unit.repeat(repeats)), work(&unit.repeat(2 * repeats)));
        if w1 == 0 {
            return; // release build: no counter
        }
        let ratio = w2 as f64 / w1 as f64;
        assert!(ratio <= 2.5, "{unit:?}: {w1} then {w2} (x{ratio:.2})");
    }
}

#[test]
fn large_random_texts_of_foldable_characters_do_not_panic() {
    let pool: Vec<char> = "٤４𝟒 -@.\u{200B}\u{3000}\u{2212}ｓｋa1é".chars().collect();
    let texts = vec(select(pool), 200_000).prop_map(String::from_iter);
    check(3, texts, |text| {
        let found = scan_text(&text);
        assert_well_formed(&text, &found.pii);
        assert_well_formed(&text, &found.secrets);
    });
}

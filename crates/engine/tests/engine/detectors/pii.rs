//! PII: emails, phones, cards, IBANs, national ids and IP addresses, with the near
//! misses each must not claim, and spans into the original text.

use super::pii_in;
use crate::support::matched;
use gateway_engine::detect::{pii, Kind};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Each text has one PII finding, of `kind` over the text paired with it.
fn assert_finds(kind: &str, cases: &[(&str, &str)]) {
    for &(text, want) in cases {
        assert_eq!(pii_in(text), [(kind, want)], "{text}");
    }
}

/// No text has a PII finding.
fn assert_no_pii(texts: &[&str]) {
    for text in texts {
        assert_eq!(pii_in(text), [], "{text}");
    }
}

#[test]
fn emails() {
    assert_eq!(
        pii_in("Mail alice.smith+news@example.com or bob@mail.example.co.uk."),
        [
            ("email", "alice.smith+news@example.com"),
            ("email", "bob@mail.example.co.uk")
        ]
    );
    assert_eq!(
        pii_in("<mailto:carol@example.org>"),
        [("email", "carol@example.org")]
    );
    assert_no_pii(&[
        "@handle",
        "a@b",
        "user@localhost",
        "x@-bad.com",
        "me@example.c0m",
        "..@x.com",
    ]);
}

#[test]
fn phones() {
    assert_finds(
        "phone",
        &[
            ("Call +1 415 555 2671 today", "+1 415 555 2671"),
            ("Call +14155552671.", "+14155552671"),
            ("Call +1 (415) 555-2671.", "+1 (415) 555-2671"),
            ("tel: +44 20 7946 0958", "+44 20 7946 0958"),
            ("(415) 555-2671", "(415) 555-2671"),
            ("415-555-2671", "415-555-2671"),
            ("415.555.2671", "415.555.2671"),
            ("1-800-555-0199", "1-800-555-0199"),
            ("020 7946 0958", "020 7946 0958"),
            ("06 12 34 56 78", "06 12 34 56 78"),
            ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
            // National formats of the countries in the table.
            ("(415)555-2671", "(415)555-2671"),
            ("call 1 (800) 555-0199", "1 (800) 555-0199"),
            ("030 12345678", "030 12345678"),
            ("+49 (0)30 1234567", "+49 (0)30 1234567"),
            ("+44(0)20 7946 0958", "+44(0)20 7946 0958"),
            ("(0141) 496 0172", "(0141) 496 0172"),
            ("(11) 91234-5678", "(11) 91234-5678"),
            ("090-1234-5678", "090-1234-5678"),
            ("138 0013 8000", "138 0013 8000"),
            ("8 (495) 123-45-67", "8 (495) 123-45-67"),
            ("0914 177 76 31", "0914 177 76 31"),
            ("(08)-8690-7366", "(08)-8690-7366"),
            ("+90(280)675-7604", "+90(280)675-7604"),
            // A label word makes any grouping, or a bare run, a phone.
            ("Tel. 0612345678", "0612345678"),
            ("我的电话是 13800138000。", "13800138000"),
            ("Zadzwoń pod 501 125 384.", "501 125 384"),
            ("Телефон: 8 812 415 86 83", "8 812 415 86 83"),
            ("Mobile 55 0765-4871", "55 0765-4871"),
        ],
    );
    assert_no_pii(&[
        "order 20240115123 shipped", // a long id without + or separators
        "4111111111111112",          // a long digit run (not a valid card)
        "on 2024-01-15 at 10:30",    // a date
        "version 1.2.3",             // a version
        "+12345",                    // too short for E.164
        "123-456-7890",              // NANP area codes never start with 1
        "ISBN 978-3-16-148410-0",    // an ISBN
        "pi is 3.14159265358979",    // a decimal
        "+0 123 456 789",            // E.164 country codes never start with 0
        "order 0612345678",          // a bare run without a label word
        "13800138000",
        "Call on 2024-01-15", // a date after a label word
        "BSN 0154.29.380",    // an id's label: a BSN with a wrong check digit
    ]);
}

#[test]
fn credit_cards() {
    assert_finds(
        "credit_card",
        &[
            ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
            ("card 4111-1111-1111-1111", "4111-1111-1111-1111"),
            ("card 4111111111111111.", "4111111111111111"),
            ("amex 3782 822463 10005", "3782 822463 10005"),
            ("mc 5555555555554444", "5555555555554444"),
            ("mc 2223003122003222", "2223003122003222"),
            ("discover 6011 1111 1111 1117", "6011 1111 1111 1117"),
            ("diners 3056 9309 0259 04", "3056 9309 0259 04"),
        ],
    );
    // Two cards in one run of digit groups.
    assert_eq!(
        pii_in("4111 1111 1111 1111 5555 5555 5555 4444"),
        [
            ("credit_card", "4111 1111 1111 1111"),
            ("credit_card", "5555 5555 5555 4444")
        ]
    );
    assert_no_pii(&[
        "4111 1111 1111 1112",     // Luhn-invalid
        "9111 1111 1111 1113",     // Luhn-valid but no card IIN
        "4111 1111-1111 1111",     // mixed separators
        "41111111111111111111111", // too long
        "id_4111111111111111",     // glued to an identifier
        "4111111111111111abc",
    ]);
}

#[test]
fn ibans() {
    assert_finds(
        "iban",
        &[
            (
                "IBAN: GB82 WEST 1234 5698 7654 32.",
                "GB82 WEST 1234 5698 7654 32",
            ),
            ("GB82WEST12345698765432", "GB82WEST12345698765432"),
            (
                "DE89 3704 0044 0532 0130 00 please",
                "DE89 3704 0044 0532 0130 00",
            ),
            (
                "FR14 2004 1010 0505 0001 3M02 606",
                "FR14 2004 1010 0505 0001 3M02 606",
            ),
            ("pay NL91ABNA0417164300 now", "NL91ABNA0417164300"),
            // A following capitalised word is not swallowed.
            (
                "GB82 WEST 1234 5698 7654 32 THEN",
                "GB82 WEST 1234 5698 7654 32",
            ),
        ],
    );
    assert_no_pii(&[
        "GB83 WEST 1234 5698 7654 32", // wrong check digits
        "GB82 WEST 1234 5698 7654 33", // wrong account
        "QQ82 WEST 1234 5698 7654 32", // not an IBAN country
        "gb82 west 1234 5698 7654 32", // lower case
    ]);
}

/// Each text has one PII finding of `kind`, the whole of `value` (the text is
/// `template` with `{}` replaced by `value`).
fn assert_ids(kind: &str, template: &str, values: &[&str]) {
    for value in values {
        let text = template.replace("{}", value);
        assert_eq!(pii_in(&text), [(kind, *value)], "{text}");
    }
}

#[test]
fn national_ids() {
    // The Spanish DNI and NIE: the control letter.
    assert_ids(
        "es_dni",
        "DNI {}",
        &["12345678Z", "12345678-Z", "X1234567L"],
    );
    assert_ids("es_dni", "{} is on file", &["12345678Z"]);
    assert_no_pii(&["DNI 12345678A", "NIE X1234567A"]);
    // The US SSN: AAA-GG-SSSS (dashes or spaces), never-issued values excluded; bare
    // only after a label.
    assert_ids(
        "us_ssn",
        "SSN {}",
        &["123-45-6789", "078 05 1120", "536-90-4399"],
    );
    assert_ids("us_ssn", "{} (HR record)", &["536-90-4399"]);
    assert_ids("us_ssn", "Social Security number: {}", &["536904399"]);
    assert_no_pii(&[
        "000-12-3456", // area 000
        "666-12-3456", // area 666
        "912-34-5678", // area 9xx
        "123-00-4567", // group 00
        "123-45-0000", // serial 0000
        "123456789",   // unseparated and unlabelled: not claimed
        "order 536904399",
        "1112-23333", // dash in the wrong place
        "SSN 123-45-6789-1234",
    ]);
    // UK National Insurance number: prefix rules, suffix A-D, no check digit.
    assert_ids(
        "uk_nino",
        "NI number {}",
        &["AB123456C", "AB 12 34 56 C", "JG 103759 A"],
    );
    assert_no_pii(&[
        "DA123456C", // D never first
        "AO123456C", // O never second
        "GB123456A", // reserved prefix
        "ZZ 12 34 56 T",
        "AB123456E", // suffix past D
        "xAB123456C",
    ]);
    // French NIR: 13 digits and the key 97 - n mod 97, Corsica 2A/2B.
    assert_ids(
        "fr_nir",
        "NIR : {}",
        &[
            "2 95 10 99 126 111 93",
            "295109912611193",
            "253072B07300470",
            "253072A07300443",
            "2 59 06 81 004 427 94",
            "1 55 10 07 186 014 71",
        ],
    );
    assert_ids("fr_nir", "{} — Sécu", &["295109912611193"]);
    assert_no_pii(&[
        "NIR 295109912611199", // key
        "NIR 253072C07300443", // no department 2C
        "NIR 595109912611193", // sex digit 5
    ]);
    // Italian codice fiscale: the check character, omocodia letters.
    assert_ids(
        "it_codice_fiscale",
        "Codice fiscale: {}",
        &[
            "RCCMNL83S18D969H",
            "CNTCHR83T41D969D",
            "rccmnl83s18d969h",
            "RCCMNL83S18D96VW",
        ],
    );
    assert_no_pii(&[
        "CF RCCMNL83S18D969A",
        "CF RCCMNL83Z18D969H",
        "RCCMNL83S18D969HX",
    ]);
    // Dutch BSN: 11-proof; 1234.56.789 form, else a label.
    assert_ids(
        "nl_bsn",
        "BSN {}",
        &["111222333", "1112.22.333", "123456782"],
    );
    assert_ids("nl_bsn", "{} staat in het dossier", &["1112.22.333"]);
    assert_ids("nl_bsn", "Mijn burgerservicenummer is {}.", &["111222333"]);
    assert_no_pii(&["BSN 1112.52.333", "BSN 111222334", "klant 111222333"]);
    // Brazilian CPF: two mod-11 digits; 000.000.000-00, else a label.
    assert_ids("br_cpf", "CPF {}", &["390.533.447-05", "39053344705"]);
    assert_ids("br_cpf", "cliente {} pediu reembolso", &["390.533.447-05"]);
    assert_no_pii(&[
        "CPF 231.002.999-00",
        "CPF 111.111.111-11",
        "pedido 39053344705",
    ]);
    // Polish PESEL: weights 1-3-7-9, a valid date; needs its label.
    assert_ids("pl_pesel", "PESEL: {}", &["44051401359", "02211307589"]);
    assert_no_pii(&[
        "PESEL 44051401358", // check digit
        "PESEL 02381307589", // month 38
        "zamówienie 44051401359",
    ]);
    // Swedish personnummer: Luhn, a valid date (day + 60 for samordningsnummer).
    assert_ids(
        "se_personnummer",
        "Personnummer {}",
        &[
            "880320-0016",
            "8803200016",
            "880320+0016",
            "19880320-0016",
            "198803200016",
            "701063-2391",
        ],
    );
    assert_ids(
        "se_personnummer",
        "kund {} ringde",
        &["880320-0016", "198803200016"],
    );
    assert_no_pii(&[
        "Personnummer 880320-0018", // Luhn
        "Personnummer 881320-0017", // month 13
        "order 8803200016",         // bare short form without a label
    ]);
    // Indian Aadhaar: Verhoeff, not starting 0 or 1; 4-4-4 grouping, else a label.
    assert_ids(
        "in_aadhaar",
        "Aadhaar {}",
        &["2341 2341 2346", "234123412346", "2341-2341-2346"],
    );
    assert_ids("in_aadhaar", "{} linked", &["2341 2341 2346"]);
    assert_no_pii(&[
        "Aadhaar 2341 2341 2347", // Verhoeff
        "Aadhaar 1234 1234 1234", // starts with 1
        "Aadhaar 2222 2222 2222", // a palindrome
        "invoice 234123412346",
    ]);
    // German Steuer-IdNr: ISO 7064 mod 11,10, one digit repeated twice or thrice.
    assert_ids(
        "de_tax_id",
        "Steuer-ID {}",
        &["36574261809", "11234567890", "11123456786"],
    );
    assert_ids("de_tax_id", "{} eintragen", &["36 574 261 809"]);
    assert_no_pii(&[
        "Steuer-ID 36574261808", // check digit
        "Steuer-ID 12345678903", // every digit once
        "Steuer-ID 11112345678", // one digit four times
        "Steuer-ID 01234567896", // leading zero
        "Bestellung 36574261809",
    ]);
    // Canadian SIN: Luhn, not starting 0 or 8; 3-3-3 grouping, else a label.
    assert_ids(
        "ca_sin",
        "SIN {}",
        &["130 692 544", "123-456-782", "123456782"],
    );
    assert_no_pii(&["SIN 123-456-789", "SIN 823 456 785", "since 123456782"]);
    // A label names the kind when the digits would pass several checks.
    assert_eq!(pii_in("BSN 123 456 782"), [("nl_bsn", "123 456 782")]);
    assert_eq!(pii_in("SIN 123 456 782"), [("ca_sin", "123 456 782")]);
}

#[test]
fn national_ids_keep_char_boundaries_in_non_ascii_text() {
    for (text, kind, value) in [
        (
            "Numéro de sécurité sociale : 2 95 10 99 126 111 93 — merci",
            "fr_nir",
            "2 95 10 99 126 111 93",
        ),
        (
            "आधार संख्या (Aadhaar) 2341 2341 2346 है",
            "in_aadhaar",
            "2341 2341 2346",
        ),
        (
            "Mój PESEL to 44051401359, dziękuję",
            "pl_pesel",
            "44051401359",
        ),
        (
            "日本語 RCCMNL83S18D969H です",
            "it_codice_fiscale",
            "RCCMNL83S18D969H",
        ),
        (
            "Steuer-Identifikationsnummer für Müller: 36574261809.",
            "de_tax_id",
            "36574261809",
        ),
        ("Личный номер SIN — 130 692 544", "ca_sin", "130 692 544"),
    ] {
        let found = pii::find(text);
        assert_eq!(found.len(), 1, "{text}");
        let f = found[0];
        assert_eq!(f.kind.name(), kind);
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert_eq!(&text[f.start..f.end], value);
        let scanned = gateway_engine::detect::scan_text(text);
        assert_eq!(scanned.pii_kinds(), {
            let mut want = vec![kind, "national_id"];
            want.sort_unstable();
            want
        });
    }
}

#[test]
fn ip_addresses() {
    assert_finds(
        "ip_address",
        &[
            ("host 192.168.1.10 is up", "192.168.1.10"),
            ("from 10.0.0.1.", "10.0.0.1"),
            ("0.0.0.0 and", "0.0.0.0"),
            ("255.255.255.255", "255.255.255.255"),
            (
                "v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            ),
            ("v6 2001:db8::1.", "2001:db8::1"),
            (
                "link fe80::1ff:fe23:4567:890a%eth0",
                "fe80::1ff:fe23:4567:890a",
            ),
            ("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"),
            (
                "at [2001:db8::8a2e:370:7334]:443",
                "2001:db8::8a2e:370:7334",
            ),
        ],
    );
    assert_no_pii(&[
        "256.1.1.1", // octet 256
        "192.168.1.256",
        "192.168.01.1", // leading zero
        "1.2.3.4.5",    // an OID or a version, not an address
        "1.3.6.1.4.1.311",
        "std::vector a::b",  // C++ and Rust paths
        "dead::beef",        // no digits: a word pair, not an address
        "12:34:56",          // a time
        "::1",               // too little to tell
        "00:1a:2b:3c:4d:5e", // a MAC address
        "1:2:3:4:5:6:7:8:9", // nine groups
        "2001:db8::1::2",    // two ::
    ]);
}

#[test]
fn pii_spans_point_at_original_bytes() {
    let text = "Grüße aus Köln 🇩🇪 — écrivez à zoe@example.com ou ＋ 4111 1111 1111 1111";
    assert_eq!(
        pii_in(text),
        [
            ("email", "zoe@example.com"),
            ("credit_card", "4111 1111 1111 1111")
        ]
    );
    let email = "zoe@example.com";
    let text = format!("日本語のテキスト {email} です");
    let found = pii::find(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, Kind::Email);
    assert_eq!(found[0].start, text.find(email).unwrap());
    assert_eq!(&text[found[0].start..found[0].end], email);
    // Sorted by start, non-overlapping.
    let text = "a@example.com 10.0.0.1 +44 20 7946 0958 4111111111111111 GB82WEST12345698765432";
    let found = pii::find(text);
    assert_eq!(
        matched(text, &found)
            .iter()
            .map(|m| m.0)
            .collect::<Vec<_>>(),
        ["email", "ip_address", "phone", "credit_card", "iban"]
    );
    assert!(found.windows(2).all(|w| w[0].end <= w[1].start));
}

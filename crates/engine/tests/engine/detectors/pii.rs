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

#[test]
fn national_ids() {
    assert_finds(
        "national_id",
        &[
            ("DNI 12345678Z", "12345678Z"),
            ("DNI 12345678-Z.", "12345678-Z"),
            ("NIE X1234567L", "X1234567L"),
            ("SSN 123-45-6789", "123-45-6789"),
            ("SSN 078 05 1120", "078 05 1120"),
        ],
    );
    assert_no_pii(&[
        "DNI 12345678A", // wrong control letter
        "NIE X1234567A",
        "000-12-3456", // area 000
        "666-12-3456", // area 666
        "912-34-5678", // area 9xx
        "123-00-4567", // group 00
        "123-45-0000", // serial 0000
        "123456789",   // unseparated: not claimed
    ]);
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

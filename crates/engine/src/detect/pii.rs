//! Personal data in the original text, with byte spans.
//!
//! Each kind has its own single-pass scanner over the bytes; all patterns are ASCII, so a
//! span always starts and ends on a character boundary. Overlaps between kinds are then
//! resolved (earliest start wins, then the longer span, then email > iban > credit_card >
//! national ids > ip_address > phone). Fullwidth or otherwise disguised digits are not
//! folded here: [`super::find_pii`] runs this scan on a folded view and maps the spans
//! back.
//!
//! * `email`: `local@domain`, local part of `[A-Za-z0-9._%+-]` (1–64, not starting or
//!   ending with `.`), a domain of at least two labels of `[A-Za-z0-9-]` (no label
//!   starting or ending with `-`) whose last label is 2+ letters. Not the user part of a
//!   URL (`https://user@host`, `postgres://user:password@host`). ASCII only: an
//!   internationalised address (`zoë@example.com`) is not found.
//! * `credit_card`: 13–19 digits, contiguous or in groups of at most 6 digits separated
//!   by one space or one dash (the same separator throughout), starting with 3, 4, 5 or 6
//!   (or the Mastercard 2221–2720 range), passing Luhn. Inside a longer run of digit
//!   groups (`4111 1111 1111 1111 5500 …`), group-aligned sub-runs are tried too.
//! * `phone`: `+` then 8–15 digits (first digit not 0), optionally grouped by spaces,
//!   dashes, dots or parentheses (E.164 as people write it, `+44 (0)20 7946 0958` and
//!   `+49(0)30 1234567` included); or a national format with separators, from a compact
//!   table: North American `(415) 555-2671`, `(415)555-2671`, `415-555-2671`,
//!   `1 (800) 555-0199` (area code starting 2–9); trunk-prefixed with `0`, 9–12 digits in
//!   2+ groups of 2–8 (`020 7946 0958`, `030 12345678`, `06 12 34 56 78`,
//!   `090-1234-5678`, `(0141) 496 0172`: most of Europe, the UK, Japan, India, Australia,
//!   Mexico, Turkey); Russian `8 (495) 123-45-67`; Chinese mobile `138 0013 8000`;
//!   Brazilian `(11) 91234-5678`. After a phone's label word (`Tel.`, `call`, `mobile`,
//!   `Telefon`, `téléphone`, `电话`, `телефон`, … within 48 bytes before, see
//!   `PHONE_WORDS`), any grouping of 8–15 digits, or a bare run of 8–12, is a phone too
//!   (but for dates). Unseparated digit runs without `+` or a label word are never phones
//!   (they are ids, card numbers, amounts), nor is a number in a phone format after a
//!   national id's label word with no phone label (`BSN 0154.29.380` with a wrong check
//!   digit is no phone).
//! * `iban`: two capital letters of a country in the IBAN registry, two check digits,
//!   11–30 capital letters or digits, contiguous or in groups of four separated by single
//!   spaces; total length 15–34; ISO 7064 mod-97 remainder 1.
//! * National identifiers, one kind each (policies see `national_id` beside it), only
//!   with the check the scheme defines, which is always mandatory:
//!   * `us_ssn`: `AAA-GG-SSSS` (dashes or spaces), never-issued values excluded (area 000,
//!     666 or 900–999, group 00, serial 0000).
//!   * `uk_nino`: National Insurance number, `AB123456C` or `AB 12 34 56 C`: prefix
//!     rules (first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; not BG,
//!     GB, KN, NK, NT, TN, ZZ), suffix A–D, capitals only (there is no check digit).
//!   * `fr_nir`: 13 digits (sex 1–4, 7 or 8; month 01–12, 20–42 or 50–99; department
//!     `2A`/`2B` for Corsica, counted as 19/18) and the key 97 − (n mod 97); compact or
//!     spaced at the usual places (`2 95 10 99 126 111 93`).
//!   * `it_codice_fiscale`: 16 characters, either case: six letters, the year, a month
//!     letter, the day (1–31, +40 for women), the town, the check character; the digits
//!     may be omocodia letters (`LMNPQRSTUV`).
//!   * `nl_bsn`: 9 digits, 11-proof; `1234.56.789`, else a label.
//!   * `br_cpf`: 11 digits, two mod-11 check digits, not all one digit; `000.000.000-00`,
//!     else a label.
//!   * `pl_pesel`: 11 digits, weights 1-3-7-9, a valid date (century in the month); a
//!     label always (it has no formatting of its own).
//!   * `se_personnummer`: Luhn over YYMMDDNNNN and a valid date (day + 60 for a
//!     samordningsnummer); `YYMMDD-NNNN`, `YYMMDD+NNNN` (age 100 and over),
//!     `YYYYMMDD-NNNN` or `YYYYMMDDNNNN` (a year 1870–2029), else a label.
//!   * `in_aadhaar`: 12 digits, not starting 0 or 1, not a palindrome, Verhoeff; grouped
//!     4-4-4 (spaces or dashes), else a label.
//!   * `es_dni`: the Spanish DNI (8 digits and the mod-23 control letter, `12345678Z`,
//!     optionally `12345678-Z`) and NIE (`X`/`Y`/`Z`, 7 digits, control letter).
//!   * `de_tax_id`: Steuer-IdNr, 11 digits, not starting 0, one digit of the first ten
//!     twice or three times and the others once, ISO 7064 mod 11,10; `12 345 678 901`,
//!     else a label.
//!   * `ca_sin`: 9 digits, Luhn, not starting 0 or 8; grouped 3-3-3 (spaces or dashes),
//!     else a label.
//!
//!   A bare run of 9–12 digits is ambiguous (a BSN, a SIN and an SSN are all 9 digits,
//!   and so is any order number): it is an id only after a **label word** of that id
//!   (`ids::LABELS`: `SSN`, `BSN`, `burgerservicenummer`, `SIN`, `NAS`, `CPF`, `PESEL`,
//!   `personnummer`, `Aadhaar`, `Steuer-ID`, `IdNr`, …) starting a word within 48 bytes
//!   before it (a label of at most 4 letters must also end a word: `SIN` is not `since`).
//!   The label also settles which kind digits passing several checks are, and lets an
//!   id be written in any grouping. Without a label, only the formats above count, and a
//!   phone's label word before them makes them a phone instead (`Zadzwoń pod 538 214
//!   503`). Digit groups continuing before or after an id (`SSN 123-45-6789-1234`) make
//!   it no id; runs longer than 16 digits hold none. Digits inside a spaced id that would
//!   pass for a card number (`2 59 06 81 004 427 94`) are the id's.
//! * `ip_address`: IPv4 dotted quads (octets 0–255, no leading zeros, not part of a
//!   longer dotted run such as an OID); IPv6 with 8 groups, or `::`-compressed with at
//!   least 2 groups and a decimal digit somewhere (so `a::b` or `dead::beef` in code are
//!   not addresses, nor is the bare `::1`), optionally ending in an embedded IPv4.

use super::bytes::for_each_digit_colon_at;
use super::{resolve_overlaps, tick, Finding, Kind};

mod ids;

/// Every PII finding in `text`, sorted by start and non-overlapping.
///
/// Every kind needs an `@` or a digit, an IPv6 address a `:` too: one pass (eight bytes
/// at a time) lists where they are, and each scanner jumps from one place that can start
/// its kind to the next instead of reading every byte.
pub fn find(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut ats = Vec::new();
    let mut digits: Vec<(usize, usize)> = Vec::new();
    let mut colons: Vec<(usize, usize)> = Vec::new();
    for_each_digit_colon_at(b, |i| {
        let runs = match at(b, i) {
            b'@' => {
                ats.push(i);
                return;
            }
            b':' => &mut colons,
            _ => &mut digits,
        };
        match runs.last_mut() {
            Some(run) if run.1 == i => run.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    });
    let mut found = Vec::new();
    emails(b, &ats, &mut found);
    if !digits.is_empty() {
        digit_runs(b, &mut Marks::new(&digits), &mut found);
        ibans(b, &mut Marks::new(&digits), &mut found);
        spanish_ids(b, &mut Marks::new(&digits), &mut found);
        ids::find(b, &digits, &mut found);
        ipv4s(b, &mut Marks::new(&digits), &mut found);
        if !colons.is_empty() {
            ipv6s(b, &mut Marks::new(&colons), &mut found);
        }
    }
    // The digits at the end of a spaced national id may pass for a card number
    // (`2 59 06 81 004 427 94`): the id, starting first, keeps them.
    let ids: Vec<(usize, usize)> = found
        .iter()
        .filter(|f| f.kind.is_national_id())
        .map(|f| (f.start, f.end))
        .collect();
    if !ids.is_empty() {
        found.retain(|f| {
            f.kind != Kind::CreditCard || !ids.iter().any(|&(s, e)| s < f.start && f.end <= e)
        });
    }
    resolve_overlaps(found)
}

/// Runs of marked bytes of a text (digits or colons: `(start, end)`, in order), read
/// forwards.
struct Marks<'a> {
    runs: &'a [(usize, usize)],
    next: usize,
}

impl<'a> Marks<'a> {
    fn new(runs: &'a [(usize, usize)]) -> Self {
        Marks { runs, next: 0 }
    }

    /// The first marked byte at or after `i`. Calls must not go backwards.
    fn from(&mut self, i: usize) -> Option<usize> {
        while let Some(&(start, end)) = self.runs.get(self.next) {
            if end > i {
                return Some(start.max(i));
            }
            self.next += 1;
        }
        None
    }

    /// Where to look next from `i` when a match can only start from `lead` bytes before
    /// a run of digits to the run's first digit, and only when `keep(start, end)` holds
    /// for that run: `i` itself or the first such place after it; `None` when there is
    /// no run left. Calls must not go backwards.
    fn skip(
        &mut self,
        i: usize,
        lead: usize,
        keep: impl Fn(usize, usize) -> bool,
    ) -> Option<usize> {
        while let Some(&(start, end)) = self.runs.get(self.next) {
            if start >= i && keep(start, end) {
                return Some(i.max(start.saturating_sub(lead)));
            }
            tick(1);
            self.next += 1;
        }
        None
    }
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

fn before(b: &[u8], i: usize) -> u8 {
    i.checked_sub(1).map_or(0, |p| at(b, p))
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

// ---------------------------------------------------------------------------------------
// Email

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// Each byte is examined at most twice: leftwards from the next `@` (which stops at the
/// previous `@`, not a local-part byte) and rightwards from the previous one.
fn emails(b: &[u8], ats: &[usize], out: &mut Vec<Finding>) {
    let mut floor = 0usize; // no email may start before the end of the previous one
    for &i in ats {
        tick(1);
        if i < floor {
            continue;
        }
        let mut start = i;
        while start > floor && is_local(before(b, start)) {
            tick(1);
            start -= 1;
        }
        while at(b, start) == b'.' && start < i {
            start += 1;
        }
        // `scheme://user@host` and `scheme://user:password@host` are URL credentials.
        match before(b, start) {
            b'/' => continue,
            b':' => {
                let mut k = start - 1;
                while k > floor && is_local(before(b, k)) {
                    tick(1);
                    k -= 1;
                }
                if before(b, k) == b'/' {
                    continue;
                }
            }
            _ => {}
        }
        let local_len = i - start;
        if local_len == 0 || local_len > 64 || before(b, i) == b'.' {
            continue;
        }
        let mut end = i + 1;
        while is_domain(at(b, end)) {
            tick(1);
            end += 1;
        }
        while end > i + 1 && matches!(before(b, end), b'.' | b'-') {
            end -= 1;
        }
        let Some(domain) = b.get(i + 1..end) else {
            continue;
        };
        if valid_domain(domain) {
            out.push(Finding::new(Kind::Email, start, end));
            floor = end;
        }
    }
}

fn valid_domain(domain: &[u8]) -> bool {
    if domain.len() > 253 {
        return false;
    }
    let mut labels = 0usize;
    let mut last: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        tick(label.len().max(1));
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-');
        if !ok {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

// ---------------------------------------------------------------------------------------
// Digit runs: credit cards, phones, SSNs

#[derive(Debug, Clone, Copy)]
struct Group {
    /// Digits of the group: `b[start..end]`.
    start: usize,
    end: usize,
    /// The separator before the group (0 for none or the first group).
    sep: u8,
    /// The group was written in parentheses; `open` is the `(` position.
    open: Option<usize>,
    /// The end of the group as written (after its `)`, if any).
    close: usize,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Scans runs of digit groups (`+`, parentheses, one-byte separators) once each and
/// classifies every run.
fn digit_runs(b: &[u8], digits: &mut Marks, out: &mut Vec<Finding>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0usize;
    // A run starts with a digit after a byte that is not a word's (so the first of a
    // run of digits), `+` or `(` then that digit, or `+(` then that digit. A lone group
    // of fewer than 8 digits, without `+` or `(` before it or another group after it,
    // is nothing (see `classify_run`): most numbers in prose are skipped at once.
    let worth_parsing = |start: usize, end: usize| {
        let (next, after) = (at(b, end), at(b, end + 1));
        end - start >= 8
            || matches!(before(b, start), b'+' | b'(')
            || (matches!(next, b' ' | b'-' | b'.') && (after.is_ascii_digit() || after == b'('))
            || (next == b'(' && after.is_ascii_digit())
    };
    while let Some(next) = digits.skip(i, 2, worth_parsing) {
        i = next;
        tick(1);
        let c = at(b, i);
        let starts = c.is_ascii_digit()
            || (c == b'+' && (at(b, i + 1).is_ascii_digit() || at(b, i + 1) == b'('))
            || (c == b'(' && at(b, i + 1).is_ascii_digit());
        let prev = before(b, i);
        if !starts || is_word(prev) || matches!(prev, b'.' | b'-' | b'/' | b'+') {
            i += 1;
            continue;
        }
        let plus = c == b'+';
        let end = parse_run(b, if plus { i + 1 } else { i }, &mut groups);
        if groups.is_empty() || end <= i {
            i += 1;
            continue;
        }
        // A run glued to a word (`4111…abc`) is an identifier, not data.
        if !is_word(at(b, end)) {
            classify_run(b, i, end, plus, &groups, out);
        }
        i = end;
    }
}

/// Parses digit groups from `from`; returns the end of the run (exclusive).
fn parse_run(b: &[u8], from: usize, groups: &mut Vec<Group>) -> usize {
    groups.clear();
    let mut j = from;
    let mut sep = 0u8;
    let mut end = from;
    loop {
        let open = (at(b, j) == b'(').then_some(j);
        if open.is_some() {
            j += 1;
        }
        let digits = j;
        while at(b, j).is_ascii_digit() {
            tick(1);
            j += 1;
        }
        if j == digits {
            break;
        }
        let digits_end = j;
        if open.is_some() {
            if at(b, j) == b')' {
                j += 1;
            } else {
                // An unclosed parenthesis ends the run before it.
                break;
            }
        }
        groups.push(Group {
            start: digits,
            end: digits_end,
            sep,
            open,
            close: j,
        });
        end = j;
        let next = at(b, j);
        let after = at(b, j + 1);
        if matches!(next, b' ' | b'-' | b'.') && (after.is_ascii_digit() || after == b'(') {
            sep = next;
            j += 1;
        } else if (next == b'(' && after.is_ascii_digit())
            || (open.is_some() && next.is_ascii_digit())
        {
            // `1(415)`, `(415)555-2671`, `+44(0)20 …`.
            sep = 0;
        } else {
            break;
        }
    }
    end
}

fn digit_count(groups: &[Group]) -> usize {
    groups.iter().map(Group::len).sum()
}

/// A run starting with `+` is a phone number as far as its first groups make one (the
/// longest prefix of 8–15 digits); whatever follows, and any run without `+`, is checked
/// for an SSN (the whole run), then card numbers, then phone numbers between the cards.
fn classify_run(
    b: &[u8],
    start: usize,
    end: usize,
    plus: bool,
    groups: &[Group],
    out: &mut Vec<Finding>,
) {
    // A lone group of fewer than 13 digits is no card (13+), phone (2+ groups) or SSN
    // (3 groups): most numbers in prose.
    if !plus && groups.len() < 2 && digit_count(groups) < 13 {
        // Unless a phone's label word stands before it (`Tel. 0612345678`).
        if let [g] = groups {
            if (8..=12).contains(&g.len()) && g.open.is_none() && phone_label(b, g.start) {
                out.push(Finding::new(Kind::Phone, g.start, g.end));
            }
        }
        return;
    }
    let mut rest = groups;
    if plus {
        let mut digits = 0usize;
        let mut phone_groups = None;
        for (k, g) in groups.iter().enumerate() {
            tick(1);
            digits += g.len();
            if digits > 15 {
                break;
            }
            if digits >= 8 {
                phone_groups = Some(k + 1);
            }
        }
        let first_digit = groups.first().map_or(0, |g| at(b, g.start));
        match phone_groups {
            Some(k) if first_digit != b'0' => {
                let close = groups.get(k - 1).map_or(end, |g| g.close);
                out.push(Finding::new(Kind::Phone, start, close));
                rest = groups.get(k..).unwrap_or_default();
            }
            _ => return,
        }
        if rest.first().is_some_and(|g| g.sep == 0) {
            return;
        }
    }
    if rest.is_empty() {
        return;
    }
    // Cards, then phones in the stretches of groups between them.
    let cards = cards(b, rest);
    let mut from = 0usize;
    for &(first, last) in cards
        .iter()
        .chain(std::iter::once(&(rest.len(), rest.len())))
    {
        tick(1);
        if let Some(stretch) = rest.get(from..first) {
            if (phone(b, stretch) && !id_label(b, stretch)) || labelled_phone(b, stretch) {
                let start = stretch.first().map_or(0, |g| g.open.unwrap_or(g.start));
                let end = stretch.last().map_or(0, |g| g.close);
                out.push(Finding::new(Kind::Phone, start, end));
            }
        }
        if let (Some(a), Some(z)) = (rest.get(first), rest.get(last)) {
            out.push(Finding::new(Kind::CreditCard, a.start, z.end));
        }
        from = last + 1;
    }
}

/// Card numbers in a run, as inclusive group index ranges: from each group, the longest
/// group-aligned span of 13–19 digits with one consistent separator that passes the card
/// checks. At most 19 groups are examined per starting group, so a run costs
/// O(19 × groups).
fn cards(b: &[u8], groups: &[Group]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut s = 0usize;
    while let Some(first) = groups.get(s) {
        let startable = (s == 0 || matches!(first.sep, b' ' | b'-')) && first.open.is_none();
        let mut best: Option<usize> = None;
        if startable {
            let mut digits = 0usize;
            let mut sep = 0u8;
            for (e, g) in groups.iter().enumerate().skip(s) {
                tick(1);
                if e > s {
                    if !matches!(g.sep, b' ' | b'-')
                        || (sep != 0 && g.sep != sep)
                        || g.open.is_some()
                    {
                        break;
                    }
                    sep = g.sep;
                }
                digits += g.len();
                if digits > 19 {
                    break;
                }
                let grouped_ok = e == s
                    || groups
                        .get(s..=e)
                        .is_some_and(|gs| gs.iter().all(|g| g.len() <= 6));
                if digits >= 13 && grouped_ok && card_ok(b, groups.get(s..=e).unwrap_or_default()) {
                    best = Some(e);
                }
            }
        }
        match best {
            Some(e) => {
                found.push((s, e));
                s = e + 1;
            }
            None => s += 1,
        }
    }
    found
}

fn card_ok(b: &[u8], groups: &[Group]) -> bool {
    let digits = || {
        groups
            .iter()
            .flat_map(|g| b.get(g.start..g.end).unwrap_or_default().iter())
            .map(|d| u32::from(d - b'0'))
    };
    let mut prefix = digits();
    let d1 = prefix.next().unwrap_or(0);
    let p4 = digits().take(4).fold(0u32, |v, d| v * 10 + d);
    // Mastercard's 2-series numbers are 16 digits long.
    let sixteen = groups.iter().map(Group::len).sum::<usize>() == 16;
    let known_iin = (3..=6).contains(&d1) || (sixteen && (2221..=2720).contains(&p4));
    known_iin && luhn(digits())
}

fn luhn(digits: impl DoubleEndedIterator<Item = u32>) -> bool {
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A national phone format (the `+` form is handled by the caller): North American,
/// trunk-prefixed with `0` (most of Europe, the UK, Japan, India, Australia, Mexico,
/// Turkey), Russian `8 (495) 123-45-67`, Chinese mobile `138 0013 8000`, Brazilian
/// `(11) 91234-5678`.
fn phone(b: &[u8], groups: &[Group]) -> bool {
    let digits = digit_count(groups);
    let first_digit = groups.first().map_or(0, |g| at(b, g.start));
    if groups.len() < 2 {
        return false;
    }
    // Only the area code may be parenthesised: the first group, or the second after a
    // one-digit trunk or country code (`1 (415) 555-2671`, `8 (495) 123-45-67`).
    let one_digit_lead = groups
        .first()
        .is_some_and(|g| g.len() == 1 && g.open.is_none());
    if groups
        .iter()
        .enumerate()
        .skip(1)
        .any(|(k, g)| g.open.is_some() && !(k == 1 && one_digit_lead))
    {
        return false;
    }
    let digit = |k: usize, i: usize| groups.get(k).map_or(0, |g| at(b, g.start + i));
    let lens = |want: &[usize]| groups.iter().map(Group::len).eq(want.iter().copied());
    let north_american = match groups.len() {
        3 => lens(&[3, 3, 4]) && (b'2'..=b'9').contains(&first_digit),
        4 => lens(&[1, 3, 3, 4]) && first_digit == b'1' && (b'2'..=b'9').contains(&digit(1, 0)),
        _ => false,
    };
    // Trunk-prefixed, but not shaped like an SSN (`000-12-3456`).
    let ssn_shape = lens(&[3, 2, 4]);
    let trunk = first_digit == b'0'
        && !ssn_shape
        && (9..=12).contains(&digits)
        && groups.iter().all(|g| (2..=8).contains(&g.len()));
    // Russia and Kazakhstan: trunk 8, a 3-digit code, 7 digits.
    let russian = digits == 11
        && first_digit == b'8'
        && groups.first().is_some_and(|g| g.len() == 1)
        && groups.get(1).is_some_and(|g| g.len() == 3)
        && groups.iter().skip(2).all(|g| (2..=4).contains(&g.len()));
    // China: mobiles 1[3-9]x xxxx xxxx.
    let chinese = lens(&[3, 4, 4]) && first_digit == b'1' && (b'3'..=b'9').contains(&digit(0, 1));
    // Brazil: (DD) 9xxxx-xxxx or (DD) xxxx-xxxx.
    let brazilian = groups
        .first()
        .is_some_and(|g| g.open.is_some() && g.len() == 2)
        && first_digit != b'0'
        && (lens(&[2, 5, 4]) || lens(&[2, 4, 4]));
    north_american || trunk || russian || chinese || brazilian
}

/// Any grouping of 8-15 digits after a phone's label word (`Tel. 55 0765-4871`,
/// `Zadzwoń pod 501 125 384`), but for dates.
fn labelled_phone(b: &[u8], groups: &[Group]) -> bool {
    let digits = digit_count(groups);
    let lens: Vec<usize> = groups.iter().map(Group::len).collect();
    let date = matches!(lens.as_slice(), [4, 2, 2] | [2, 2, 4] | [2, 2, 2]);
    let inner_parens = groups.iter().skip(1).any(|g| g.open.is_some());
    (8..=15).contains(&digits)
        && !date
        && !inner_parens
        && groups
            .first()
            .is_some_and(|g| phone_label(b, g.open.unwrap_or(g.start)))
}

/// Label words of phone numbers in the languages of the formats above: lowercase ASCII
/// compared without case, other scripts as written.
const PHONE_WORDS: &[(&[u8], Kind)] = &[
    (b"tel", Kind::Phone),
    (b"tlf", Kind::Phone),
    (b"phone", Kind::Phone),
    (b"telephone", Kind::Phone),
    (b"call", Kind::Phone),
    (b"mobile", Kind::Phone),
    (b"mob", Kind::Phone),
    (b"cell", Kind::Phone),
    (b"fax", Kind::Phone),
    (b"sms", Kind::Phone),
    (b"whatsapp", Kind::Phone),
    (b"reach", Kind::Phone),
    (b"dial", Kind::Phone),
    (b"telefon", Kind::Phone),
    (b"telefoon", Kind::Phone),
    (b"t\xc3\xa9l\xc3\xa9phone", Kind::Phone),
    (b"tel\xc3\xa9fono", Kind::Phone),
    (b"telefono", Kind::Phone),
    (b"telefone", Kind::Phone),
    (b"celular", Kind::Phone),
    (b"m\xc3\xb3vil", Kind::Phone),
    (b"movil", Kind::Phone),
    (b"cellulare", Kind::Phone),
    (b"handy", Kind::Phone),
    (b"mobil", Kind::Phone),
    (b"portable", Kind::Phone),
    (b"appel", Kind::Phone),
    (b"anruf", Kind::Phone),
    (b"ruf", Kind::Phone),
    (b"bel", Kind::Phone),
    (b"ring", Kind::Phone),
    (b"ll\xc3\xa1m", Kind::Phone),
    (b"llam", Kind::Phone),
    (b"chiam", Kind::Phone),
    (b"ligue", Kind::Phone),
    (b"zadzwo", Kind::Phone),
    (b"dzwo", Kind::Phone),
    (b"aray", Kind::Phone),
    (b"\xe7\x94\xb5\xe8\xaf\x9d", Kind::Phone), // 电话
    (b"\xe6\x89\x8b\xe6\x9c\xba", Kind::Phone), // 手机
    (b"\xe9\x9b\xbb\xe8\xa9\xb1", Kind::Phone), // 電話
    (b"\xe6\x90\xba\xe5\xb8\xaf", Kind::Phone), // 携帯
    (b"\xd1\x82\xd0\xb5\xd0\xbb", Kind::Phone), // тел
    (b"\xd0\xa2\xd0\xb5\xd0\xbb", Kind::Phone), // Тел
    (
        b"\xd0\xbf\xd0\xbe\xd0\xb7\xd0\xb2\xd0\xbe\xd0\xbd",
        Kind::Phone,
    ), // позвон
    (
        b"\xd0\x9f\xd0\xbe\xd0\xb7\xd0\xb2\xd0\xbe\xd0\xbd",
        Kind::Phone,
    ), // Позвон
];

static PHONE_LABELS: ids::Labels = ids::Labels::new(PHONE_WORDS);

fn phone_label(b: &[u8], start: usize) -> bool {
    ids::labels_before(b, start, &PHONE_LABELS) != 0
}

/// A national id's label word, and no phone's, before a number in a phone format: the
/// number is the id with a wrong check digit, or another id, not a phone.
fn id_label(b: &[u8], groups: &[Group]) -> bool {
    let start = groups.first().map_or(0, |g| g.open.unwrap_or(g.start));
    ids::labels_before(b, start, &ids::ID_LABELS) != 0 && !phone_label(b, start)
}

// ---------------------------------------------------------------------------------------
// IBAN

/// The IBAN registry's country codes (SWIFT, 2024), two letters each.
const IBAN_COUNTRIES: &[u8] = b"ADAEALATAZBABEBGBHBIBRBYCHCRCYCZDEDJDKDOEEEGESFIFKFOFRGBGEGIGLGRGTHNHRHUIEILIQISITJOKWKZLBLCLILTLULVLYMCMDMEMKMNMRMTMUNINLNOOMPKPLPSPTQAROSARSRUSCSDSESISKSMSOSTSVTLTNTRUAVAVGXKYE";

fn iban_country(a: u8, b: u8) -> bool {
    IBAN_COUNTRIES.chunks_exact(2).any(|cc| cc == [a, b])
}

fn ibans(b: &[u8], digits: &mut Marks, out: &mut Vec<Finding>) {
    let mut i = 0usize;
    // The check digits follow the two letters of the country (so they start a run).
    let head = |start: usize, end: usize| {
        end - start >= 2
            && before(b, start).is_ascii_uppercase()
            && start
                .checked_sub(1)
                .is_some_and(|s| before(b, s).is_ascii_uppercase())
    };
    while let Some(next) = digits.skip(i, 2, head) {
        i = next;
        tick(1);
        let head = at(b, i).is_ascii_uppercase()
            && at(b, i + 1).is_ascii_uppercase()
            && at(b, i + 2).is_ascii_digit()
            && at(b, i + 3).is_ascii_digit()
            && !is_word(before(b, i));
        if head && iban_country(at(b, i), at(b, i + 1)) {
            if let Some(end) = iban_at(b, i) {
                out.push(Finding::new(Kind::Iban, i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

fn is_iban_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Reads at most 34 IBAN characters (plus single spaces after groups of four) from
/// `start` and returns the end of the longest valid IBAN there.
fn iban_at(b: &[u8], start: usize) -> Option<usize> {
    let mut chars = [0u8; 34];
    let mut n = 0usize;
    let mut group = 0usize;
    // Candidate ends: (byte end, character count), at each group boundary and the end.
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut j = start;
    loop {
        tick(1);
        let c = at(b, j);
        if is_iban_char(c) {
            let slot = chars.get_mut(n)?;
            *slot = c;
            n += 1;
            group += 1;
            j += 1;
        } else if c == b' ' && group == 4 && is_iban_char(at(b, j + 1)) {
            ends.push((j, n));
            group = 0;
            j += 1;
        } else {
            if !is_word(c) {
                ends.push((j, n));
            }
            break;
        }
    }
    ends.iter().rev().find_map(|&(end, count)| {
        let iban = chars.get(..count)?;
        ((15..=34).contains(&count) && mod97(iban)).then_some(end)
    })
}

fn mod97(iban: &[u8]) -> bool {
    let check = iban.get(2..4).unwrap_or_default();
    if check == b"00" || check == b"01" || check == b"99" {
        return false;
    }
    let rotated = iban.iter().skip(4).chain(iban.iter().take(4));
    let mut rem = 0u32;
    for &c in rotated {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    rem == 1
}

// ---------------------------------------------------------------------------------------
// National ids: Spanish DNI / NIE

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn spanish_ids(b: &[u8], digits: &mut Marks, out: &mut Vec<Finding>) {
    let mut i = 0usize;
    // A DNI starts with a digit after a byte that is not a word's, a NIE with a letter
    // then a digit (so the first of a run, either way): 8 digits or 7.
    while let Some(next) = digits.skip(i, 1, |start, end| matches!(end - start, 7 | 8)) {
        i = next;
        tick(1);
        let c = at(b, i);
        if (c.is_ascii_digit() || matches!(c, b'X' | b'Y' | b'Z')) && !is_word(before(b, i)) {
            if let Some(end) = spanish_id_at(b, i) {
                out.push(Finding::new(Kind::EsDni, i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

fn spanish_id_at(b: &[u8], start: usize) -> Option<usize> {
    let (mut value, mut j) = match at(b, start) {
        b'X' => (0u32, start + 1),
        b'Y' => (1, start + 1),
        b'Z' => (2, start + 1),
        _ => (0, start),
    };
    let want = if j > start { 7 } else { 8 };
    for _ in 0..want {
        let d = at(b, j);
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
        j += 1;
    }
    if at(b, j) == b'-' {
        j += 1;
    }
    let letter = at(b, j).to_ascii_uppercase();
    let expected = DNI_LETTERS.get(usize::try_from(value % 23).ok()?)?;
    (letter == *expected && !is_word(at(b, j + 1))).then_some(j + 1)
}

// ---------------------------------------------------------------------------------------
// IP addresses

fn ipv4s(b: &[u8], digits: &mut Marks, out: &mut Vec<Finding>) {
    let mut i = 0usize;
    // An address starts with a digit after a byte that is not a word's, and its first
    // octet has 1-3 digits and a dot after it.
    let octet = |start: usize, end: usize| end - start <= 3 && at(b, end) == b'.';
    while let Some(next) = digits.skip(i, 0, octet) {
        i = next;
        tick(1);
        let prev = before(b, i);
        if at(b, i).is_ascii_digit() && !is_word(prev) && prev != b'.' {
            if let Some(end) = ipv4_at(b, i) {
                let next = at(b, end);
                // `1.2.3.4.5` is an OID, `1.2.3.4-beta` a version.
                let longer = (next == b'.' && at(b, end + 1).is_ascii_digit())
                    || (matches!(next, b'-' | b'_') && at(b, end + 1).is_ascii_alphabetic());
                if !is_word(next) && !longer {
                    out.push(Finding::new(Kind::IpAddress, i, end));
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

/// Parses four dotted octets at `start`; returns the end.
fn ipv4_at(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    for octet in 0..4 {
        if octet > 0 {
            if at(b, j) != b'.' {
                return None;
            }
            j += 1;
        }
        let from = j;
        let mut value = 0u32;
        while at(b, j).is_ascii_digit() && j - from < 3 {
            tick(1);
            value = value * 10 + u32::from(at(b, j) - b'0');
            j += 1;
        }
        let len = j - from;
        if len == 0 || value > 255 || (len > 1 && at(b, from) == b'0') || at(b, j).is_ascii_digit()
        {
            return None;
        }
    }
    Some(j)
}

fn is_v6(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

/// Only the start of a maximal run of `is_v6` bytes can start an address (inside a run
/// the previous byte is a hex digit, `:` or `.`), and the address needs a colon: from
/// `i`, the scan jumps to the start of the run that holds the next colon.
fn ipv6s(b: &[u8], colons: &mut Marks, out: &mut Vec<Finding>) {
    let mut i = 0usize;
    // The next colon, once the scan has been moved to the start of its run.
    let mut reached: Option<usize> = None;
    while let Some(d) = colons.from(i) {
        if d > i && reached != Some(d) {
            let mut start = d;
            while start > i && is_v6(before(b, start)) {
                tick(1);
                start -= 1;
            }
            i = start;
            reached = Some(d);
        }
        tick(1);
        let c = at(b, i);
        let prev = before(b, i);
        let starts = c.is_ascii_hexdigit() || (c == b':' && at(b, i + 1) == b':');
        if !starts || is_word(prev) || matches!(prev, b':' | b'.') {
            i += 1;
            continue;
        }
        let mut end = i;
        while is_v6(at(b, end)) {
            tick(1);
            end += 1;
        }
        let glued = is_word(at(b, end));
        // Sentence punctuation after the address is not part of it.
        let mut trimmed = end;
        while trimmed > i
            && (before(b, trimmed) == b'.'
                || (before(b, trimmed) == b':' && before(b, trimmed - 1) != b':'))
        {
            trimmed -= 1;
        }
        if !glued && b.get(i..trimmed).is_some_and(valid_ipv6) {
            out.push(Finding::new(Kind::IpAddress, i, trimmed));
        }
        i = end.max(i + 1);
    }
}

fn valid_ipv6(s: &[u8]) -> bool {
    if !s.contains(&b':') || !s.iter().any(u8::is_ascii_digit) {
        return false;
    }
    // An embedded IPv4 may only end the address, and counts as two groups.
    let (hex, v4_groups) = match s.iter().rposition(|&c| c == b':') {
        Some(colon) if s.contains(&b'.') => {
            let tail = s.get(colon + 1..).unwrap_or_default();
            if ipv4_at(tail, 0) != Some(tail.len()) {
                return false;
            }
            (s.get(..=colon).unwrap_or_default(), 2usize)
        }
        _ => (s, 0usize),
    };
    let compressed = hex.windows(2).filter(|w| w == b"::").count();
    if compressed > 1 || hex.windows(3).any(|w| w == b":::") {
        return false;
    }
    let mut groups = v4_groups;
    let pieces: Vec<&[u8]> = if compressed == 1 {
        let at = hex.windows(2).position(|w| w == b"::").unwrap_or(0);
        let (head, tail) = (
            hex.get(..at).unwrap_or_default(),
            hex.get(at + 2..).unwrap_or_default(),
        );
        let tail = if v4_groups > 0 {
            tail.strip_suffix(b":").unwrap_or(tail)
        } else {
            tail
        };
        let mut pieces = Vec::new();
        for part in [head, tail] {
            if !part.is_empty() {
                pieces.extend(part.split(|&c| c == b':'));
            }
        }
        pieces
    } else {
        let hex = if v4_groups > 0 {
            hex.strip_suffix(b":").unwrap_or(hex)
        } else {
            hex
        };
        hex.split(|&c| c == b':').collect()
    };
    for piece in &pieces {
        tick(1);
        if piece.is_empty() || piece.len() > 4 || !piece.iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        groups += 1;
    }
    if compressed == 1 {
        (2..=7).contains(&groups)
    } else {
        groups == 8
    }
}

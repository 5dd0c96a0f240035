//! Personal data in the original text, with byte spans.
//!
//! Each kind has its own single-pass scanner over the bytes; all patterns are ASCII, so a
//! span always starts and ends on a character boundary. Overlaps between kinds are then
//! resolved (earliest start wins, then the longer span, then email > iban > credit_card >
//! national_id > ip_address > phone). Fullwidth or otherwise disguised digits are not
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
//!   dashes, dots or parentheses (E.164 as people write it); or a national format with
//!   separators: North American `(415) 555-2671`, `415-555-2671`, `1-800-555-0199`
//!   (area code starting 2–9), or a trunk-prefixed number of 9–12 digits in 2+ groups of
//!   2–8 digits (`020 7946 0958`, `06 12 34 56 78`). Unseparated digit runs without `+`
//!   are never phones (they are ids, card numbers, amounts).
//! * `iban`: two capital letters of a country in the IBAN registry, two check digits,
//!   11–30 capital letters or digits, contiguous or in groups of four separated by single
//!   spaces; total length 15–34; ISO 7064 mod-97 remainder 1.
//! * `national_id`: only identifiers with a check the text can verify:
//!   the Spanish DNI (8 digits and the mod-23 control letter, `12345678Z`, optionally
//!   `12345678-Z`) and NIE (`X`/`Y`/`Z`, 7 digits, control letter); and the US SSN by
//!   format `AAA-GG-SSSS` (dashes or spaces) with the never-issued values excluded (area
//!   000, 666 or 900–999, group 00, serial 0000). Unseparated 9-digit SSNs are not
//!   matched (indistinguishable from any other 9-digit number), nor are ids whose only
//!   check is weak (Dutch BSN 11-proof) or absent.
//! * `ip_address`: IPv4 dotted quads (octets 0–255, no leading zeros, not part of a
//!   longer dotted run such as an OID); IPv6 with 8 groups, or `::`-compressed with at
//!   least 2 groups and a decimal digit somewhere (so `a::b` or `dead::beef` in code are
//!   not addresses, nor is the bare `::1`), optionally ending in an embedded IPv4.

use super::bytes::for_each_digit_colon_at;
use super::{resolve_overlaps, tick, Finding, Kind};

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
        ipv4s(b, &mut Marks::new(&digits), &mut found);
        if !colons.is_empty() {
            ipv6s(b, &mut Marks::new(&colons), &mut found);
        }
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
    // of fewer than 13 digits, without `+` or `(` before it or another group after it,
    // is nothing (see `classify_run`): most numbers in prose are skipped at once.
    let worth_parsing = |start: usize, end: usize| {
        let (next, after) = (at(b, end), at(b, end + 1));
        end - start >= 13
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
        } else if next == b'(' && after.is_ascii_digit() {
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
    if let Some(ssn) = ssn(b, rest) {
        out.push(ssn);
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
            if phone(b, stretch) {
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

fn digits_value(b: &[u8], g: &Group) -> u32 {
    b.get(g.start..g.end)
        .unwrap_or_default()
        .iter()
        .fold(0u32, |v, d| {
            v.saturating_mul(10).saturating_add(u32::from(d - b'0'))
        })
}

fn ssn(b: &[u8], groups: &[Group]) -> Option<Finding> {
    let [area, group, serial] = groups else {
        return None;
    };
    let shape = area.len() == 3 && group.len() == 2 && serial.len() == 4 && area.open.is_none();
    let seps = matches!(group.sep, b'-' | b' ') && serial.sep == group.sep;
    if !shape || !seps {
        return None;
    }
    let a = digits_value(b, area);
    let valid = a != 0
        && a != 666
        && a < 900
        && digits_value(b, group) != 0
        && digits_value(b, serial) != 0;
    valid.then(|| Finding::new(Kind::NationalId, area.start, serial.end))
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
    let known_iin = (3..=6).contains(&d1) || (2221..=2720).contains(&p4);
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

/// A national phone format (the `+` form is handled by the caller).
fn phone(b: &[u8], groups: &[Group]) -> bool {
    let digits = digit_count(groups);
    let first_digit = groups.first().map_or(0, |g| at(b, g.start));
    if groups.len() < 2 {
        return false;
    }
    // Only the first group may be parenthesised in a national format.
    if groups.iter().skip(1).any(|g| g.open.is_some()) {
        return false;
    }
    let mut sizes = groups.iter().map(Group::len);
    let north_american = match (
        sizes.next(),
        sizes.next(),
        sizes.next(),
        sizes.next(),
        sizes.next(),
    ) {
        (Some(3), Some(3), Some(4), None, None) => (b'2'..=b'9').contains(&first_digit),
        (Some(1), Some(3), Some(3), Some(4), None) => {
            first_digit == b'1'
                && groups
                    .get(1)
                    .is_some_and(|g| (b'2'..=b'9').contains(&at(b, g.start)))
        }
        _ => false,
    };
    // Trunk-prefixed, but not shaped like an SSN (`000-12-3456`).
    let ssn_shape = groups.len() == 3 && groups.iter().map(Group::len).eq([3, 2, 4]);
    let trunk = first_digit == b'0'
        && !ssn_shape
        && (9..=12).contains(&digits)
        && groups.iter().all(|g| (2..=8).contains(&g.len()));
    north_american || trunk
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
                out.push(Finding::new(Kind::NationalId, i, end));
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

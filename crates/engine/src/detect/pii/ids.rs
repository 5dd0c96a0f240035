//! National identifiers other than the Spanish DNI/NIE (see the `pii` module docs for the
//! rules): one pass over the runs of digits, each run tried once as the start of an id.

use super::{at, before, is_word, luhn, tick, Finding, Kind};

/// How far before an id a label word may start (bytes).
const LABEL_WINDOW: usize = 48;

/// Label words, lowercase ASCII (or UTF-8), and the kind each names. A label matches at a
/// word start in the `LABEL_WINDOW` bytes before an id; one of at most 4 bytes must also
/// end there (`SIN`, not `since`), a longer one is a prefix (`steuer` for `Steuer-ID`,
/// `Steueridentifikationsnummer`).
const LABELS: &[(&[u8], Kind)] = &[
    (b"ssn", Kind::UsSsn),
    (b"social security", Kind::UsSsn),
    (b"seguro social", Kind::UsSsn),
    (b"bsn", Kind::NlBsn),
    (b"burgerservicenummer", Kind::NlBsn),
    (b"sofinummer", Kind::NlBsn),
    (b"sofi", Kind::NlBsn),
    (b"sin", Kind::CaSin),
    (b"social insurance", Kind::CaSin),
    (b"nas", Kind::CaSin),
    (b"assurance sociale", Kind::CaSin),
    (b"cpf", Kind::BrCpf),
    (b"pesel", Kind::PlPesel),
    (b"personnummer", Kind::SePersonnummer),
    (b"personnr", Kind::SePersonnummer),
    (b"samordningsnummer", Kind::SePersonnummer),
    (b"personal number", Kind::SePersonnummer),
    (b"personal identity number", Kind::SePersonnummer),
    (b"aadhaar", Kind::InAadhaar),
    (b"aadhar", Kind::InAadhaar),
    (b"uid", Kind::InAadhaar),
    (b"uidai", Kind::InAadhaar),
    (b"steuer", Kind::DeTaxId),
    (b"idnr", Kind::DeTaxId),
    (b"identifikationsnummer", Kind::DeTaxId),
    (b"tin", Kind::DeTaxId),
    (b"tax id", Kind::DeTaxId),
];

/// A table of label words with, for each byte, the words that start with it (either
/// case): a window is read once, and only the few words starting with the byte at a
/// word start are compared.
pub(super) struct Labels {
    words: &'static [(&'static [u8], Kind)],
    first: [u64; 256],
}

impl Labels {
    /// At most 64 words, none empty (checked when the constant is built).
    // Runs at compile time only: an index out of range fails the build, never a request.
    #[allow(clippy::indexing_slicing)]
    pub(super) const fn new(words: &'static [(&'static [u8], Kind)]) -> Labels {
        assert!(words.len() <= 64);
        let mut first = [0u64; 256];
        let mut i = 0;
        while i < words.len() {
            let c = words[i].0[0];
            first[c.to_ascii_lowercase() as usize] |= 1 << i;
            first[c.to_ascii_uppercase() as usize] |= 1 << i;
            i += 1;
        }
        Labels { words, first }
    }
}

/// National ids' label words.
pub(super) static ID_LABELS: Labels = Labels::new(LABELS);

/// The kinds (as bits of [`label_bit`]) of the `labels` that stand in the window before
/// `start`. A label starts a word (the byte before it is no ASCII letter or digit); one of
/// at most 4 bytes must also end one.
pub(super) fn labels_before(b: &[u8], start: usize, labels: &Labels) -> u32 {
    let from = start.saturating_sub(LABEL_WINDOW);
    let window = b.get(from..start).unwrap_or_default();
    let mut found = 0u32;
    let mut prev = before(b, from);
    for (k, &c) in window.iter().enumerate() {
        tick(1);
        let mut candidates = if prev.is_ascii_alphanumeric() {
            0
        } else {
            labels.first.get(usize::from(c)).copied().unwrap_or(0)
        };
        prev = c;
        while candidates != 0 {
            let i = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let Some(&(label, kind)) = labels.words.get(i) else {
                continue;
            };
            let Some(text) = window.get(k..k + label.len()) else {
                continue;
            };
            let ends = label.len() > 4 || !at(window, k + label.len()).is_ascii_alphabetic();
            if ends && text.eq_ignore_ascii_case(label) {
                found |= label_bit(kind);
            }
        }
    }
    found
}

fn label_bit(kind: Kind) -> u32 {
    1u32 << ((kind as u32).saturating_sub(Kind::UsSsn as u32) & 31)
}

/// Every national id (but the Spanish DNI/NIE) among the runs of digits of `b`.
pub(super) fn find(b: &[u8], runs: &[(usize, usize)], out: &mut Vec<Finding>) {
    let mut floor = 0usize;
    for &(s, e) in runs {
        tick(1);
        if s < floor {
            continue;
        }
        let prev = before(b, s);
        let found = if prev.is_ascii_alphabetic() || (prev == b' ' && s >= 2) {
            letter_led(b, s, e)
        } else {
            None
        };
        let found = found.or_else(|| digit_led(b, s, e));
        if let Some(f) = found {
            floor = f.end;
            out.push(f);
        }
    }
}

/// Ids that start with letters before the run at `s..e`: the codice fiscale and the
/// National Insurance number.
fn letter_led(b: &[u8], s: usize, e: usize) -> Option<Finding> {
    // Codice fiscale: the run sits in a token of exactly 16 letters and digits.
    let mut t = s;
    while t > 0 && s - t < 16 && before(b, t).is_ascii_alphanumeric() {
        tick(1);
        t -= 1;
    }
    if t < s && !is_word(before(b, t)) && at(b, t).is_ascii_alphabetic() {
        let mut z = e;
        while z < t + 17 && at(b, z).is_ascii_alphanumeric() {
            tick(1);
            z += 1;
        }
        if z == t + 16 && !is_word(at(b, z)) {
            if let Some(code) = b.get(t..z) {
                if codice_fiscale(code) {
                    return Some(Finding::new(Kind::ItCodiceFiscale, t, z));
                }
            }
        }
    }
    // National Insurance number: `AB123456C`, `AB 12 34 56 C`.
    let letters = if before(b, s) == b' ' {
        s.checked_sub(3)?
    } else {
        s.checked_sub(2)?
    };
    nino_at(b, letters).map(|end| Finding::new(Kind::UkNino, letters, end))
}

fn nino_at(b: &[u8], start: usize) -> Option<usize> {
    let (l1, l2) = (at(b, start), at(b, start + 1));
    if !l1.is_ascii_uppercase() || !l2.is_ascii_uppercase() || is_word(before(b, start)) {
        return None;
    }
    let prefix_ok = !b"DFIQUV".contains(&l1)
        && !b"DFIOQUV".contains(&l2)
        && ![b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"].contains(&&[l1, l2]);
    if !prefix_ok {
        return None;
    }
    let mut j = start + 2;
    if at(b, j) == b' ' {
        j += 1;
    }
    // Six digits, or three pairs separated by single spaces.
    let pairs = at(b, j + 2) == b' ';
    for pair in 0..3 {
        if pairs && pair > 0 {
            if at(b, j) != b' ' {
                return None;
            }
            j += 1;
        }
        if !at(b, j).is_ascii_digit() || !at(b, j + 1).is_ascii_digit() {
            return None;
        }
        j += 2;
    }
    if at(b, j) == b' ' {
        j += 1;
    }
    let suffix = at(b, j);
    (matches!(suffix, b'A'..=b'D') && !is_word(at(b, j + 1))).then_some(j + 1)
}

/// The codice fiscale's check character, structure (month letter, day 1–31 or 41–71) and
/// omocodia (digits replaced by `LMNPQRSTUV`). Either case.
fn codice_fiscale(code: &[u8]) -> bool {
    const OMOCODIA: &[u8] = b"LMNPQRSTUV";
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let mut c = [0u8; 16];
    for (slot, &x) in c.iter_mut().zip(code) {
        *slot = x.to_ascii_uppercase();
    }
    // The digits of positions 6-7, 9-10 and 12-14, decoded from omocodia.
    let digit = |i: usize| -> Option<u32> {
        let x = c.get(i).copied()?;
        if x.is_ascii_digit() {
            Some(u32::from(x - b'0'))
        } else {
            let k = OMOCODIA.iter().position(|&o| o == x)?;
            u32::try_from(k).ok()
        }
    };
    let letters = c
        .get(..6)
        .is_some_and(|l| l.iter().all(u8::is_ascii_uppercase))
        && c.get(11).is_some_and(u8::is_ascii_uppercase)
        && c.get(15).is_some_and(u8::is_ascii_uppercase);
    let month = c.get(8).is_some_and(|m| b"ABCDEHLMPRST".contains(m));
    let mut numeric = true;
    for i in [6, 7, 12, 13, 14] {
        numeric &= digit(i).is_some();
    }
    let day = match (digit(9), digit(10)) {
        (Some(a), Some(b)) => a * 10 + b,
        _ => 0,
    };
    if !letters || !month || !numeric || !((1..=31).contains(&day) || (41..=71).contains(&day)) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &x) in c.iter().take(15).enumerate() {
        let v = if x.is_ascii_digit() {
            u32::from(x - b'0')
        } else {
            u32::from(x.wrapping_sub(b'A'))
        };
        sum += if i % 2 == 0 {
            ODD.get(usize::try_from(v).unwrap_or(99))
                .copied()
                .unwrap_or(0)
        } else {
            v
        };
    }
    c.get(15).copied() == u8::try_from(sum % 26).ok().map(|r| b'A' + r)
}

/// Digit groups read from an id's first digit.
struct Groups {
    digits: [u8; 16],
    /// `(length, separator before)` of each group (0 for the first).
    groups: [(u8, u8); 8],
    n: usize,
    /// The byte after each group's last digit.
    ends: [usize; 8],
    /// The separator after the last group read when more digits follow (0 for none).
    more: u8,
}

impl Groups {
    /// Reads groups of digits separated by one of ` -.+/`, at most 8 groups and 16
    /// digits (what follows is only noted in `more`).
    fn read(b: &[u8], s: usize) -> Groups {
        let mut g = Groups {
            digits: [0; 16],
            groups: [(0, 0); 8],
            n: 0,
            ends: [0; 8],
            more: 0,
        };
        let (mut j, mut count, mut sep) = (s, 0usize, 0u8);
        loop {
            let from = j;
            while at(b, j).is_ascii_digit() {
                tick(1);
                j += 1;
            }
            let (Some(digits), Some(group), Some(end)) = (
                g.digits.get_mut(count..count + (j - from)),
                g.groups.get_mut(g.n),
                g.ends.get_mut(g.n),
            ) else {
                g.more = sep;
                return g;
            };
            for (slot, &c) in digits.iter_mut().zip(b.get(from..j).unwrap_or_default()) {
                *slot = c - b'0';
            }
            *group = (u8::try_from(j - from).unwrap_or(u8::MAX), sep);
            *end = j;
            count += j - from;
            g.n += 1;
            let next = at(b, j);
            if matches!(next, b' ' | b'-' | b'.' | b'+' | b'/') && at(b, j + 1).is_ascii_digit() {
                sep = next;
                j += 1;
            } else {
                return g;
            }
        }
    }

    fn lens(&self, k: usize) -> impl Iterator<Item = u8> + '_ {
        self.groups.iter().take(k).map(|g| g.0)
    }

    fn seps(&self, k: usize) -> impl Iterator<Item = u8> + '_ {
        self.groups.iter().take(k).skip(1).map(|g| g.1)
    }

    /// The first `k` groups have these lengths and every separator is one of `seps`
    /// (the same one throughout when `same`).
    fn shaped(&self, k: usize, lens: &[u8], seps: &[u8], same: bool) -> bool {
        let first = self.groups.get(1).map_or(0, |g| g.1);
        self.lens(k).eq(lens.iter().copied())
            && self
                .seps(k)
                .all(|s| seps.contains(&s) && (!same || s == first))
    }
}

/// Ids made of digits (and the `2A`/`2B` of a French NIR) starting at the run `s..e`.
fn digit_led(b: &[u8], s: usize, e: usize) -> Option<Finding> {
    let prev = before(b, s);
    // Digit groups before it make one longer number (`ref 2024 078-05-1120`).
    let glued = is_word(prev)
        || prev == b'+'
        || (matches!(prev, b' ' | b'-' | b'.' | b'/')
            && before(b, s.saturating_sub(1)).is_ascii_digit());
    if glued {
        return None;
    }
    let next = at(b, e);
    let grouped = matches!(next, b' ' | b'-' | b'.' | b'+' | b'/') && at(b, e + 1).is_ascii_digit();
    let corsica = matches!(next, b'A' | b'B') && before(b, e) == b'2';
    if !grouped && !corsica && !matches!(e - s, 9..=12 | 15) {
        return None;
    }
    if let Some(end) = nir_at(b, s) {
        return Some(Finding::new(Kind::FrNir, s, end));
    }
    // The whole run of groups is the id: more groups after it make one longer number.
    let g = Groups::read(b, s);
    let k = g.n;
    let count: usize = g.lens(k).map(usize::from).sum();
    let end = g.ends.get(k.checked_sub(1)?).copied()?;
    if g.more != 0 || !(9..=12).contains(&count) || is_word(at(b, end)) {
        return None;
    }
    let digits = g.digits.get(..count)?;
    let label = labels_before(b, s, &ID_LABELS);
    let kind = digit_id(b, s, digits, &g, k, label)?;
    Some(Finding::new(kind, s, end))
}

/// Which id `digits` (the first `k` groups of `g`) are: a kind named by a label before
/// them, whatever their grouping, else a kind whose usual formatting they have.
fn digit_id(
    b: &[u8],
    start: usize,
    digits: &[u8],
    g: &Groups,
    k: usize,
    label: u32,
) -> Option<Kind> {
    let labelled = |kind: Kind| label & label_bit(kind) != 0;
    let candidates: &[Kind] = match digits.len() {
        9 => &[Kind::NlBsn, Kind::CaSin, Kind::UsSsn],
        10 => &[Kind::SePersonnummer],
        11 => &[Kind::BrCpf, Kind::PlPesel, Kind::DeTaxId],
        12 => &[Kind::InAadhaar, Kind::SePersonnummer],
        _ => &[],
    };
    // Named kinds first.
    for &kind in candidates {
        if labelled(kind) && valid(kind, digits, g, k) {
            return Some(kind);
        }
    }
    for &kind in candidates {
        let formatted = match (kind, digits.len()) {
            (Kind::UsSsn, _) => g.shaped(k, &[3, 2, 4], b"- ", true),
            (Kind::CaSin, _) => g.shaped(k, &[3, 3, 3], b"- ", true),
            (Kind::NlBsn, _) => g.shaped(k, &[4, 2, 3], b".", true),
            (Kind::SePersonnummer, 10) => g.shaped(k, &[6, 4], b"-+", true),
            // The long form's date (a year from 1870 to 2029) makes even the bare run
            // specific enough.
            (Kind::SePersonnummer, _) => {
                let year = digits
                    .iter()
                    .take(4)
                    .fold(0u32, |v, &d| v * 10 + u32::from(d));
                (g.shaped(k, &[8, 4], b"-+", true) || k == 1) && (1870..=2029).contains(&year)
            }
            (Kind::BrCpf, _) => g.shaped(k, &[3, 3, 3, 2], b".-", false) && g.seps(k).eq(*b"..-"),
            (Kind::DeTaxId, _) => g.shaped(k, &[2, 3, 3, 3], b" ", true),
            (Kind::InAadhaar, _) => g.shaped(k, &[4, 4, 4], b" -", true),
            _ => false,
        };
        if formatted && valid(kind, digits, g, k) {
            // After a phone's label word (and none of an id's), a number in an id's
            // format is the phone it is said to be (`Zadzwoń pod 538 214 503`).
            if label == 0 && super::phone_label(b, start) {
                return None;
            }
            return Some(kind);
        }
    }
    None
}

/// Each kind's check on its digits.
fn valid(kind: Kind, d: &[u8], g: &Groups, k: usize) -> bool {
    let at = |i: usize| u32::from(d.get(i).copied().unwrap_or(0));
    let first = at(0);
    match kind {
        Kind::UsSsn => {
            let area = at(0) * 100 + at(1) * 10 + at(2);
            let group = at(3) * 10 + at(4);
            let serial = (5..9).fold(0, |v, i| v * 10 + at(i));
            area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
        }
        Kind::CaSin => first != 0 && first != 8 && luhn(d.iter().map(|&x| u32::from(x))),
        Kind::NlBsn => {
            let sum: u32 = (0..8).map(|i| at(i) * (9 - i as u32)).sum::<u32>() + 10 * at(8);
            sum.is_multiple_of(11) && d.iter().any(|&x| x != 0)
        }
        Kind::SePersonnummer => {
            let off = d.len() - 10;
            let (year, known_century) = if off == 2 {
                (at(0) * 1000 + at(1) * 100 + at(2) * 10 + at(3), true)
            } else {
                (at(0) * 10 + at(1), false)
            };
            let month = at(off + 2) * 10 + at(off + 3);
            let mut day = at(off + 4) * 10 + at(off + 5);
            if day > 60 {
                day -= 60; // samordningsnummer
            }
            let century_ok = !known_century || (1800..2100).contains(&year);
            let separator_ok = off == 0 || g.seps(k).all(|s| s != b'+');
            century_ok
                && separator_ok
                && valid_date(year, month, day)
                && luhn(d.iter().skip(off).map(|&x| u32::from(x)))
        }
        Kind::BrCpf => {
            let check = |n: usize| {
                let sum: u32 = (0..n).map(|i| at(i) * (n as u32 + 1 - i as u32)).sum();
                sum * 10 % 11 % 10
            };
            d.iter().any(|&x| x != d.first().copied().unwrap_or(0))
                && check(9) == at(9)
                && check(10) == at(10)
        }
        Kind::PlPesel => {
            const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
            let sum: u32 = W.iter().enumerate().map(|(i, w)| at(i) * w).sum();
            let (yy, mm, dd) = (at(0) * 10 + at(1), at(2) * 10 + at(3), at(4) * 10 + at(5));
            let (century, month) = match mm {
                1..=12 => (1900, mm),
                21..=32 => (2000, mm - 20),
                41..=52 => (2100, mm - 40),
                61..=72 => (2200, mm - 60),
                81..=92 => (1800, mm - 80),
                _ => return false,
            };
            (10 - sum % 10) % 10 == at(10) && valid_date(century + yy, month, dd)
        }
        Kind::DeTaxId => {
            let mut counts = [0u8; 10];
            for &x in d.iter().take(10) {
                if let Some(c) = counts.get_mut(usize::from(x)) {
                    *c += 1;
                }
            }
            let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
            let repetition_ok = matches!(repeated.as_slice(), [2] | [3]);
            let mut product = 10u32;
            for i in 0..10 {
                let mut sum = (at(i) + product) % 10;
                if sum == 0 {
                    sum = 10;
                }
                product = sum * 2 % 11;
            }
            let check = (11 - product) % 10;
            first != 0 && repetition_ok && check == at(10)
        }
        Kind::InAadhaar => {
            let palindrome = d.iter().eq(d.iter().rev());
            first >= 2 && !palindrome && verhoeff(d)
        }
        _ => false,
    }
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    (1..=days).contains(&day)
}

fn verhoeff(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in digits.iter().rev().enumerate() {
        let p = P
            .get(i % 8)
            .and_then(|row| row.get(usize::from(x)))
            .copied()
            .unwrap_or(0);
        c = D
            .get(usize::from(c))
            .and_then(|row| row.get(usize::from(p)))
            .copied()
            .unwrap_or(0);
    }
    c == 0
}

/// A French NIR at `s`: 13 digits (the department may be `2A` or `2B`) and the key
/// 97 − (n mod 97), compact or spaced at the usual places (`1 84 12 76 451 089 46`).
/// Returns its end.
fn nir_at(b: &[u8], s: usize) -> Option<usize> {
    // Group boundaries after which a space may stand: sex, year, month, department,
    // commune, order, key.
    const BREAKS: [usize; 6] = [1, 3, 5, 7, 10, 13];
    let mut chars = [0u8; 15];
    let mut j = s;
    for (n, slot) in chars.iter_mut().enumerate() {
        if n > 0 && BREAKS.contains(&n) && at(b, j) == b' ' {
            j += 1;
        }
        let c = at(b, j);
        let corsica = n == 6 && matches!(c, b'A' | b'B');
        if !c.is_ascii_digit() && !corsica {
            return None;
        }
        *slot = c;
        j += 1;
    }
    if is_word(at(b, j))
        || (at(b, j) == b' ' && at(b, j + 1).is_ascii_digit())
        || (matches!(at(b, j), b'-' | b'.' | b'/') && at(b, j + 1).is_ascii_digit())
    {
        return None;
    }
    let d = |i: usize| u64::from(chars.get(i).copied().unwrap_or(b'0').wrapping_sub(b'0'));
    let sex = d(0);
    let month = d(3) * 10 + d(4);
    let sex_ok = matches!(sex, 1..=4 | 7 | 8);
    let month_ok = matches!(month, 1..=12 | 20..=42 | 50..=99);
    // Corsica: 2A stands for 19, 2B for 18 in the key's number.
    let (dept, corsica) = match chars.get(6) {
        Some(b'A') => (19, true),
        Some(b'B') => (18, true),
        _ => (d(5) * 10 + d(6), false),
    };
    if corsica && d(5) != 2 {
        return None;
    }
    let mut n = 0u64;
    for i in 0..13 {
        n = match i {
            5 => n * 100 + dept,
            6 => n,
            _ => n * 10 + d(i),
        };
    }
    let key = d(13) * 10 + d(14);
    (sex_ok && month_ok && key == 97 - n % 97).then_some(j)
}

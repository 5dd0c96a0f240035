//! A confusable-folded view of a text for the PII and secret detectors, with a map back
//! to the original bytes.
//!
//! Those detectors match ASCII patterns, but a model reads `４１１１`, `٤١١١`, or `41`
//! and `11` with a zero-width space between them, as `4111`: the fold turns such characters into the ASCII a reader sees,
//! the detectors scan the folded view, and every span is mapped back onto the original
//! text so redaction covers the disguised characters too. What is folded:
//!
//! * fullwidth forms U+FF01–U+FF5E → the ASCII character (by arithmetic);
//! * decimal digits of every script (Unicode `Nd`, mathematical digits included) → `0`–`9`;
//! * Unicode spaces (U+00A0, U+2000–U+200A, U+202F, U+205F, U+3000) → ` `;
//! * dashes (U+2010–U+2015, U+2212, U+FE58, U+FE63) → `-`;
//! * zero-width characters (U+200B–U+200F, U+2060–U+2064, U+FEFF), the soft hyphen and
//!   bidi controls (U+202A–U+202E, U+2066–U+2069, U+061C) → dropped.
//!
//! Every other character is kept as it is. Unlike [`super::normalize`] this neither
//! lowercases nor touches letters outside the fullwidth block: the detectors care about
//! case and the view must stay close to the text.
//!
//! Most texts contain nothing to fold: [`fold`] then returns `None` after one scan that
//! reads ASCII eight bytes at a time and looks only at non-ASCII characters. Text that
//! does (CJK prose with ideographic spaces or fullwidth punctuation, for one) is copied
//! once, with one map entry per folded character.

use super::bytes::{has_non_ascii, load8};
use super::{tick, Finding};

/// The folded view of a text and where each of its bytes came from.
#[derive(Debug)]
pub(crate) struct Folded {
    text: String,
    /// `(folded, original)`: from folded byte `folded` on, byte `folded + k` came from
    /// original byte `original + k`, up to the next entry. Strictly increasing in both.
    /// A folded character gets an entry of its own, so it maps to its original start.
    map: Vec<(usize, usize)>,
}

/// What the fold does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    Keep,
    Drop,
    Ascii(u8),
}

/// The folded view of `text`, or `None` when folding would not change it.
pub(crate) fn fold(text: &str) -> Option<Folded> {
    let mut next = next_foldable(text, 0);
    next?;
    let mut folded = Folded {
        text: String::with_capacity(text.len()),
        map: Vec::new(),
    };
    // Whether the last map entry still holds for the next kept byte.
    let mut synced = false;
    let mut i = 0usize;
    while let Some((at, c, action)) = next {
        folded.keep(text, i, at, &mut synced);
        synced = false;
        if let Fold::Ascii(b) = action {
            folded.map.push((folded.text.len(), at));
            folded.text.push(char::from(b));
        }
        i = at + c.len_utf8();
        next = next_foldable(text, i);
    }
    folded.keep(text, i, text.len(), &mut synced);
    Some(folded)
}

impl Folded {
    /// Appends `text[from..to]` unchanged.
    fn keep(&mut self, text: &str, from: usize, to: usize, synced: &mut bool) {
        if from < to {
            if !*synced {
                self.map.push((self.text.len(), from));
                *synced = true;
            }
            self.text.push_str(text.get(from..to).unwrap_or_default());
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Maps findings in the folded view (sorted by start, non-overlapping) onto
    /// `original`: from the original start of the character that produced a finding's
    /// first byte to the original end of the one that produced its last byte, so
    /// characters dropped inside a match are covered. The spans stay sorted,
    /// non-overlapping and on character boundaries of `original`.
    pub(crate) fn map_back(&self, original: &str, found: Vec<Finding>) -> Vec<Finding> {
        let mut entry = 0usize;
        let mut floor = 0usize;
        let mut out = Vec::with_capacity(found.len());
        for f in found {
            tick(1);
            let Some(last) = f.end.checked_sub(1).filter(|&last| last >= f.start) else {
                continue;
            };
            let start = original.floor_char_boundary(self.original(&mut entry, f.start));
            let end = original.ceil_char_boundary(self.original(&mut entry, last) + 1);
            let start = start.max(floor);
            if start < end {
                out.push(Finding { start, end, ..f });
                floor = end;
            }
        }
        out
    }

    /// The original byte that folded byte `at` came from. `entry` is a cursor into the
    /// map: increasing queries cost linear time in all; a query behind it searches.
    fn original(&self, entry: &mut usize, at: usize) -> usize {
        if self.map.get(*entry).is_some_and(|&(folded, _)| folded > at) {
            *entry = self
                .map
                .partition_point(|&(folded, _)| folded <= at)
                .saturating_sub(1);
        }
        while self
            .map
            .get(*entry + 1)
            .is_some_and(|&(folded, _)| folded <= at)
        {
            tick(1);
            *entry += 1;
        }
        self.map.get(*entry).map_or(at, |&(folded, original)| {
            original + at.saturating_sub(folded)
        })
    }
}

/// The first character at or after byte `from` (a character boundary) that the fold
/// changes: its byte offset, the character and what becomes of it.
fn next_foldable(text: &str, from: usize) -> Option<(usize, char, Fold)> {
    let b = text.as_bytes();
    let mut i = from;
    loop {
        // Skip ASCII eight bytes at a time, landing on the first non-ASCII byte.
        while let Some(word) = load8(b, i) {
            tick(1);
            if has_non_ascii(word) {
                i += (word & 0x8080_8080_8080_8080).trailing_zeros() as usize / 8;
                break;
            }
            i += 8;
        }
        let &lead = b.get(i)?;
        if lead < 0x80 {
            // Fewer than eight bytes left.
            tick(1);
            i += 1;
            continue;
        }
        // `i` follows ASCII bytes or a whole character: a character boundary.
        let c = text.get(i..)?.chars().next()?;
        tick(1);
        let action = fold_char(c);
        if action != Fold::Keep {
            return Some((i, c, action));
        }
        i += c.len_utf8();
    }
}

/// Whether the fold drops `c` (zero-width, bidi control, soft hyphen): a reader sees
/// through it, so a guard that holds text back must too.
pub(crate) fn is_invisible(c: char) -> bool {
    fold_char(c) == Fold::Drop
}

/// Where the `span` folded bytes that end at byte `end` of `text` start in `text` (the
/// folded view is shorter: invisible characters vanish, confusables become one byte).
pub(crate) fn folded_span_start(text: &str, end: usize, span: usize) -> usize {
    let mut counted = 0usize;
    let mut start = text.floor_char_boundary(end);
    for (at, c) in text.get(..start).unwrap_or_default().char_indices().rev() {
        if counted >= span {
            break;
        }
        counted += match fold_char(c) {
            Fold::Keep => c.len_utf8(),
            Fold::Drop => 0,
            Fold::Ascii(_) => 1,
        };
        start = at;
    }
    start
}

fn fold_char(c: char) -> Fold {
    let code = u32::from(c);
    match code {
        0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => Fold::Ascii(b' '),
        0x00AD
        | 0x061C
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x2069
        | 0xFEFF => Fold::Drop,
        0x2010..=0x2015 | 0x2212 | 0xFE58 | 0xFE63 => Fold::Ascii(b'-'),
        0xFF01..=0xFF5E => u8::try_from(code - 0xFEE0).map_or(Fold::Keep, Fold::Ascii),
        _ => digit(code).map_or(Fold::Keep, |d| Fold::Ascii(b'0' + d)),
    }
}

/// The value of a non-ASCII decimal digit (Unicode `Nd`: every such digit belongs to a
/// run of ten, zero to nine, so the run's zero is enough to know it).
fn digit(code: u32) -> Option<u8> {
    if code < 0x0660 || (0x1C5A..0xA620).contains(&code) {
        return None;
    }
    let zero = ND_ZEROS
        .get(ND_ZEROS.partition_point(|&z| z <= code).checked_sub(1)?)
        .copied()?;
    u8::try_from(code - zero).ok().filter(|&d| d < 10)
}

/// The zero of every run of decimal digits (Unicode 16 `Nd`) outside ASCII.
const ND_ZEROS: [u32; 75] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50,
    0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8,
    0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Kind;

    fn view(text: &str) -> Option<String> {
        fold(text).map(|f| f.text)
    }

    #[test]
    fn nothing_to_fold_is_none() {
        for text in [
            "",
            "plain ascii 4111 1111",
            "Grüße aus Köln, 日本語",
            "ο α ε",
        ] {
            assert!(fold(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn folds_what_a_reader_sees_as_ascii() {
        assert_eq!(view("４１１１").as_deref(), Some("4111"));
        assert_eq!(view("٤١\u{6F1}\u{967}").as_deref(), Some("4111"));
        assert_eq!(view("𝟒𝟏𝟙𝟷").as_deref(), Some("4111"));
        assert_eq!(
            view("4\u{200B}1\u{202E}1\u{FEFF}1\u{AD}").as_deref(),
            Some("4111")
        );
        assert_eq!(
            view("a\u{A0}b\u{3000}c\u{2212}d\u{2013}e").as_deref(),
            Some("a b c-d-e")
        );
        assert_eq!(view("ｓｋ－ａｂ＠ｃ").as_deref(), Some("sk-ab@c"));
        assert_eq!(view("é４é").as_deref(), Some("é4é"));
    }

    #[test]
    fn every_nd_zero_starts_ten_digits() {
        for zero in ND_ZEROS {
            for d in 0..10u8 {
                assert_eq!(digit(zero + u32::from(d)), Some(d), "{zero:#x}");
            }
            assert!(
                char::from_u32(zero).is_some_and(char::is_numeric),
                "{zero:#x}"
            );
        }
        assert!(ND_ZEROS
            .iter()
            .zip(ND_ZEROS.iter().skip(1))
            .all(|(a, b)| a + 10 <= *b));
        assert_eq!(digit(u32::from('é')), None);
        assert_eq!(digit(0x4E00), None);
    }

    #[test]
    fn spans_map_back_to_whole_original_characters() {
        let text = "x ４\u{200B}１ é 2";
        let folded = fold(text);
        assert_eq!(folded.as_ref().map(Folded::text), Some("x 41 é 2"));
        let found = vec![
            Finding::new(Kind::CreditCard, 2, 4),
            Finding::new(Kind::Phone, 5, 7),
            Finding::new(Kind::Phone, 8, 9),
        ];
        let mapped = folded.map(|f| f.map_back(text, found)).unwrap_or_default();
        let spans: Vec<&str> = mapped
            .iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect();
        assert_eq!(spans, ["４\u{200B}１", "é", "2"]);
    }
}

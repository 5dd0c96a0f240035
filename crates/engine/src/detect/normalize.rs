//! Text normalisation for detection: one linear pass that undoes the cheap tricks used to
//! slip a phrase past a keyword matcher.
//!
//! What [`normalize`] does, in order, per character:
//!
//! 1. **Drops invisible characters**: zero-width characters (U+200B–U+200F, U+2060–U+2064,
//!    U+FEFF), the soft hyphen U+00AD, bidi controls (U+202A–U+202E, U+2066–U+2069,
//!    U+061C), variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF), combining diacritical
//!    marks (U+0300–U+036F, so `i̇gnore` with a combining dot reads `ignore`), and a few
//!    blank "filler" letters (U+034F, U+115F, U+1160, U+17B4, U+17B5, U+180E, U+3164,
//!    U+FFA0, the Unicode tag delimiters U+E0001 and U+E007F).
//! 2. **Reveals Unicode tag text**: the invisible tag characters U+E0020–U+E007E
//!    ("ASCII smuggling") become the ASCII characters they shadow, because a model reads
//!    them even though a human does not see them.
//! 3. **Folds confusables to ASCII**: fullwidth forms U+FF01–U+FF5E (`ｉｇｎｏｒｅ`) by
//!    arithmetic; mathematical alphanumerics U+1D400–U+1D7FF (`𝐢𝐠𝐧𝐨𝐫𝐞`, bold, italic,
//!    script, fraktur, double-struck, sans-serif, monospace; digits too; the Greek styles
//!    map to Greek and then through the homoglyph table) by arithmetic, plus the
//!    letterlike symbols that fill that block's holes (`ℎ`, `ℯ`, `ℴ`, …); circled,
//!    parenthesised, squared letters and regional indicators (`Ⓘ`, `⒤`, `🅸`, `🇮`);
//!    a compact table of Cyrillic, Greek and Armenian homoglyphs (`а е о р с у х і ј к м
//!    н т в`, `ο α ε ι κ ν ρ τ υ χ`, …), small capitals (`ɪɢɴᴏʀᴇ`), Latin-1 accented
//!    letters (`ïgnöré`), and typographic quotes and dashes (`’` → `'`, `—` → `-`).
//! 4. **Lowercases** (ASCII directly, anything else with `char::to_lowercase`).
//! 5. **Collapses whitespace**: every run of whitespace becomes one space, or one `\n` if
//!    the run held a line break (the injection detector needs line starts to spot a fake
//!    `system:` turn); leading and trailing whitespace is dropped.
//!
//! What it does **not** do: it is a confusable fold, not Unicode NFKC or the full UTS #39
//! skeleton. Precomposed letters outside Latin-1 (`ā`, `ő`, `ł`), most compatibility
//! forms (superscripts, ligatures like `ﬁ`, Roman numerals), homoglyphs from scripts not
//! in the table (Cherokee, Coptic, …) and leetspeak (`1gn0r3`, handled by the injection
//! tokenizer instead) pass through unchanged. Text that is genuinely Cyrillic or Greek is
//! mangled by the fold; the output is only for matching, never shown or forwarded.
//!
//! The output is for detectors that match words (injection phrases). Byte offsets into
//! it do not map back to the original text; the PII and secret detectors scan the
//! original text instead.

use super::bytes::{bytes_equal, has_below, has_non_ascii, load8};

/// Normalises `text` for detection (see the module documentation). Linear in the input.
///
/// ASCII is the fast path: a run of printable ASCII is copied and lowercased in one go,
/// ASCII whitespace updates the pending separator; only a non-ASCII character goes
/// through the invisible-character test and the confusable fold.
pub fn normalize(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // Whitespace seen since the last emitted character: None, a space, or a line break.
    let mut pending: Option<char> = None;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            if is_ascii_space(b) {
                super::tick(1);
                let line_break = matches!(b, b'\n' | b'\r' | 0x0B | 0x0C);
                pending = match pending {
                    Some('\n') => Some('\n'),
                    _ if line_break => Some('\n'),
                    _ => Some(' '),
                };
                i += 1;
                continue;
            }
            // A run of ASCII that needs no change but lowercasing: no whitespace except
            // single spaces between other characters. Copied, then lowercased in place.
            let run = plain_run(bytes, i);
            super::tick(run - i);
            if let Some(ws) = pending.take() {
                if !out.is_empty() {
                    out.push(ws);
                }
            }
            let from = out.len();
            out.push_str(text.get(i..run).unwrap_or_default());
            if let Some(appended) = out.get_mut(from..) {
                appended.make_ascii_lowercase();
            }
            i = run;
            continue;
        }
        let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        super::tick(1);
        if is_invisible(c) {
            continue;
        }
        let folded = fold(c);
        if folded.is_whitespace() {
            let line_break = matches!(folded, '\n' | '\r' | '\u{0B}' | '\u{0C}')
                || matches!(folded, '\u{85}' | '\u{2028}' | '\u{2029}');
            pending = match pending {
                Some('\n') => Some('\n'),
                _ if line_break => Some('\n'),
                _ => Some(' '),
            };
            continue;
        }
        if let Some(ws) = pending.take() {
            if !out.is_empty() {
                out.push(ws);
            }
        }
        if folded.is_ascii() {
            out.push(folded.to_ascii_lowercase());
        } else {
            out.extend(folded.to_lowercase());
        }
    }
    out
}

/// The end of the run from `from` (a non-whitespace ASCII byte) of ASCII bytes whose
/// only whitespace is single spaces each followed by a non-whitespace ASCII byte. Eight
/// bytes at a time while they qualify, then byte by byte.
fn plain_run(bytes: &[u8], from: usize) -> usize {
    let mut j = from;
    loop {
        while let Some(word) = load8(bytes, j) {
            let n = plain8(word);
            j += n;
            if n < 7 {
                break;
            }
        }
        let stop = j + 8;
        while j < stop {
            let Some(&c) = bytes.get(j) else {
                return j;
            };
            if c == b' ' {
                match bytes.get(j + 1) {
                    Some(&next) if next < 0x80 && !is_ascii_space(next) => j += 2,
                    _ => return j,
                }
            } else if c >= 0x80 || is_ascii_space(c) {
                return j;
            } else {
                j += 1;
            }
        }
    }
}

/// How many of these eight bytes (0, 7 or 8) certainly belong to a plain run that
/// reached them: ASCII without control characters, whose only whitespace is single
/// spaces. A space in the last byte is left out (the next byte decides what it is).
fn plain8(word: u64) -> usize {
    if has_non_ascii(word) {
        return 0;
    }
    let spaces = bytes_equal(word, b' ');
    if has_below(word, 0x20) || spaces & (spaces << 8) != 0 {
        0
    } else if spaces >> 56 != 0 {
        7
    } else {
        8
    }
}

/// The ASCII characters `char::is_whitespace` accepts.
fn is_ascii_space(b: u8) -> bool {
    b == b' ' || (0x09..=0x0D).contains(&b)
}

/// Characters that render as nothing (or nearly nothing) and only serve to split words.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{0300}'..='\u{036F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0001}'
            | '\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Folds one character to its ASCII look-alike, or returns it unchanged.
pub fn fold(c: char) -> char {
    let cp = u32::from(c);
    if cp < 0x80 {
        return c;
    }
    match cp {
        // Fullwidth ASCII variants, and the ideographic space.
        0xFF01..=0xFF5E => from_u32(cp - 0xFEE0, c),
        0x3000 => ' ',
        // Unicode tags shadow ASCII one to one.
        0xE0020..=0xE007E => from_u32(cp - 0xE0000, c),
        // Mathematical alphanumeric symbols: 13 Latin styles of 52 letters each.
        0x1D400..=0x1D6A3 => letter((cp - 0x1D400) % 52),
        0x1D6A4 => 'i',
        0x1D6A5 => 'j',
        // Five Greek styles of 58 symbols each.
        0x1D6A8..=0x1D7C9 => math_greek((cp - 0x1D6A8) % 58),
        // Five digit styles of 10 digits each.
        0x1D7CE..=0x1D7FF => digit((cp - 0x1D7CE) % 10),
        // Enclosed alphanumerics: parenthesised a-z, circled A-Z and a-z.
        0x249C..=0x24B5 => letter(cp - 0x249C + 26),
        0x24B6..=0x24CF => letter(cp - 0x24B6),
        0x24D0..=0x24E9 => letter(cp - 0x24D0 + 26),
        // Squared, negative circled and negative squared capitals; regional indicators.
        0x1F130..=0x1F149 => letter(cp - 0x1F130),
        0x1F150..=0x1F169 => letter(cp - 0x1F150),
        0x1F170..=0x1F189 => letter(cp - 0x1F170),
        0x1F1E6..=0x1F1FF => letter(cp - 0x1F1E6),
        _ => table(c),
    }
}

fn from_u32(cp: u32, fallback: char) -> char {
    char::from_u32(cp).unwrap_or(fallback)
}

/// Letter `index` of "A…Za…z" (0–51), lowercased.
fn letter(index: u32) -> char {
    let offset = u8::try_from(index % 26).unwrap_or(0);
    char::from(b'a'.saturating_add(offset))
}

fn digit(index: u32) -> char {
    let offset = u8::try_from(index % 10).unwrap_or(0);
    char::from(b'0'.saturating_add(offset))
}

/// Symbol `index` (0–57) of a mathematical Greek style: Α–Ω with ϴ in the 18th place,
/// ∇, α–ω, ∂, ϵ ϑ ϰ ϕ ϱ ϖ. Folded through the homoglyph table like plain Greek.
fn math_greek(index: u32) -> char {
    let greek = match index {
        17 => 0x3F4,
        0..=24 => 0x391 + index,
        26..=50 => 0x3B1 + (index - 26),
        52 => 0x3F5,
        54 => 0x3F0,
        56 => 0x3F1,
        _ => return '\u{FFFD}',
    };
    char::from_u32(greek).map_or('\u{FFFD}', table)
}

/// Cyrillic, Greek, Armenian and Latin look-alikes of ASCII letters; small capitals;
/// letterlike symbols; Latin-1 accented letters; typographic punctuation.
fn table(c: char) -> char {
    match c {
        // Cyrillic.
        'а' | 'А' => 'a',
        'в' | 'В' => 'b',
        'е' | 'Е' | 'ё' | 'Ё' => 'e',
        'к' | 'К' => 'k',
        'м' | 'М' => 'm',
        'н' | 'Н' | 'һ' | 'Һ' => 'h',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'с' | 'С' => 'c',
        'т' | 'Т' => 't',
        'у' | 'У' | 'ү' | 'Ү' => 'y',
        'х' | 'Х' => 'x',
        'ѕ' | 'Ѕ' => 's',
        'і' | 'І' | 'ї' | 'Ї' | 'ӏ' => 'i',
        'ј' | 'Ј' => 'j',
        'ԁ' | 'Ԁ' => 'd',
        'ԛ' | 'Ԛ' => 'q',
        'ԝ' | 'Ԝ' => 'w',
        // Greek.
        'α' | 'Α' => 'a',
        'β' | 'Β' => 'b',
        'ε' | 'Ε' | 'ϵ' => 'e',
        'ζ' | 'Ζ' => 'z',
        'η' => 'n',
        'Η' => 'h',
        'ι' | 'Ι' => 'i',
        'κ' | 'Κ' | 'ϰ' => 'k',
        'μ' | 'Μ' => 'm',
        'ν' => 'v',
        'Ν' => 'n',
        'ο' | 'Ο' => 'o',
        'ρ' | 'Ρ' | 'ϱ' => 'p',
        'τ' | 'Τ' => 't',
        'υ' => 'u',
        'Υ' | 'γ' => 'y',
        'χ' | 'Χ' => 'x',
        'ϲ' | 'Ϲ' => 'c',
        'ϳ' => 'j',
        // Armenian.
        'օ' => 'o',
        'ս' => 'u',
        'հ' => 'h',
        'ո' => 'n',
        // Latin look-alikes and small capitals.
        'ı' | 'ɩ' | 'ɪ' => 'i',
        'ȷ' => 'j',
        'ɑ' | 'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ғ' => 'f',
        'ɡ' | 'ɢ' => 'g',
        'ʜ' => 'h',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ǫ' => 'q',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        // Letterlike symbols (the holes of the mathematical alphabets).
        'ℂ' | 'ℭ' => 'c',
        'ℊ' => 'g',
        'ℋ' | 'ℌ' | 'ℍ' | 'ℎ' => 'h',
        'ℐ' | 'ℑ' | 'ℹ' => 'i',
        'ℒ' | 'ℓ' => 'l',
        'ℕ' => 'n',
        'ℙ' => 'p',
        'ℚ' => 'q',
        'ℛ' | 'ℜ' | 'ℝ' => 'r',
        'ℤ' | 'ℨ' => 'z',
        'ℬ' => 'b',
        'ℯ' | 'ℰ' => 'e',
        'ℱ' => 'f',
        'ℳ' => 'm',
        'ℴ' => 'o',
        // Latin-1 accented letters.
        'À'..='Å' | 'à'..='å' => 'a',
        'Ç' | 'ç' => 'c',
        'È'..='Ë' | 'è'..='ë' => 'e',
        'Ì'..='Ï' | 'ì'..='ï' => 'i',
        'Ñ' | 'ñ' => 'n',
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' => 'o',
        'Ù'..='Ü' | 'ù'..='ü' => 'u',
        'Ý' | 'ý' | 'ÿ' => 'y',
        // Typographic punctuation.
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{2024}' => '.',
        _ => c,
    }
}

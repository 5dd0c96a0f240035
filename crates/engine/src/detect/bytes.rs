//! Byte-scanning helpers shared by the detectors: finding long runs of a byte class
//! without looking at every byte, and eight-bytes-at-a-time tests.

use super::tick;

/// Calls `found(start, end)` for every maximal run `b[start..end]` of bytes in `class`
/// that is at least `min` bytes long, in order.
///
/// Only every `min`-th byte is looked at first (a run that long covers one of them);
/// from a byte in the class the run around it is measured exactly. The run found from
/// one sample ends before the next sample, and the next sample's run cannot reach back
/// past the previous one, so every byte is read at most twice: linear, and much less
/// than one read per byte on text made of short words.
pub(crate) fn long_runs(
    b: &[u8],
    min: usize,
    class: impl Fn(u8) -> bool,
    mut found: impl FnMut(usize, usize),
) {
    let min = min.max(1);
    let in_class = |i: usize| b.get(i).is_some_and(|&c| class(c));
    // Bytes before `floor` belong to runs already measured.
    let mut floor = 0usize;
    let mut p = min - 1;
    while p < b.len() {
        tick(1);
        if !in_class(p) {
            p += min;
            continue;
        }
        let mut start = p;
        while start > floor && in_class(start - 1) {
            tick(1);
            start -= 1;
        }
        let mut end = p + 1;
        while in_class(end) {
            tick(1);
            end += 1;
        }
        if end - start >= min {
            found(start, end);
        }
        // `end` is outside the class: a long run after it covers `end + min`.
        floor = end;
        p = end + min;
    }
}

/// The bytes of base64 (standard and URL-safe alphabets) and of most credentials:
/// ASCII letters and digits, `+`, `/`, `_` and `-`.
pub(crate) fn is_token(c: u8) -> bool {
    TOKEN.get(usize::from(c)).copied().unwrap_or(false)
}

static TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut rest: &mut [bool] = &mut table;
    let mut b = 0u8;
    while let [entry, tail @ ..] = rest {
        *entry = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-');
        b = b.wrapping_add(1);
        rest = tail;
    }
    table
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// `bytes[at..at + 8]` as a little-endian word, if there are eight bytes.
pub(crate) fn load8(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// The high bit of each byte of `word` that is zero (exact, no false positives).
pub(crate) fn zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH).wrapping_add(!HIGH)) | word | !HIGH)
}

/// The high bit of each byte of `word` equal to `byte` (exact).
pub(crate) fn bytes_equal(word: u64, byte: u8) -> u64 {
    zero_bytes(word ^ (ONES * u64::from(byte)))
}

/// Whether some byte of `word` is below `n` (`n` at most 0x80; exact as a yes/no answer
/// when every byte of `word` is ASCII).
pub(crate) fn has_below(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH != 0
}

/// Whether some byte of `word` is not ASCII.
pub(crate) fn has_non_ascii(word: u64) -> bool {
    word & HIGH != 0
}

/// The high bit of each byte of `word` in `low..=high` (ASCII bounds; exact).
pub(crate) fn bytes_between(word: u64, low: u8, high: u8) -> u64 {
    let forced = word | HIGH;
    let at_least_low = forced.wrapping_sub(ONES * u64::from(low)) & HIGH;
    let above_high = forced.wrapping_sub(ONES * u64::from(high.saturating_add(1))) & HIGH;
    at_least_low & !above_high & !word & HIGH
}

/// Calls `found(position)` for every ASCII digit, `:` and `@` of `b`, in order, eight
/// bytes at a time.
pub(crate) fn for_each_digit_colon_at(b: &[u8], found: impl FnMut(usize)) {
    for_each_match(
        b,
        |word| {
            // `:` comes right after `9`, and `@` a few bytes later: one range test rules
            // out most words of prose at once.
            if bytes_between(word, b'0', b'@') == 0 {
                0
            } else {
                bytes_between(word, b'0', b':') | bytes_equal(word, b'@')
            }
        },
        |c| matches!(c, b'0'..=b':' | b'@'),
        found,
    );
}

/// The eight-bytes-at-a-time scan: `in_word` gives the high bit of each matching byte of an
/// eight-byte word, `is_match` tests the tail's bytes one by one.
#[inline(always)]
fn for_each_match(
    b: &[u8],
    in_word: impl Fn(u64) -> u64,
    is_match: impl Fn(u8) -> bool,
    mut found: impl FnMut(usize),
) {
    let mut chunks = b.chunks_exact(8);
    for (n, chunk) in (&mut chunks).enumerate() {
        tick(8);
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        let mut mask = in_word(word);
        while mask != 0 {
            found(8 * n + (mask.trailing_zeros() / 8) as usize);
            mask &= mask - 1;
        }
    }
    let tail = b.len() - chunks.remainder().len();
    for (k, &c) in chunks.remainder().iter().enumerate() {
        tick(1);
        if is_match(c) {
            found(tail + k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_by_reading_every_byte(
        b: &[u8],
        min: usize,
        class: fn(u8) -> bool,
    ) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in b.iter().copied().chain(std::iter::once(b' ')).enumerate() {
            match (class(c), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    if i - s >= min.max(1) {
                        out.push((s, i));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn long_runs_finds_every_run_that_long() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 300) as usize;
            let density = 2 + (seed >> 20) % 30;
            let text: Vec<u8> = (0..len)
                .map(|k| {
                    let x = seed.rotate_left(k as u32 % 64) ^ (k as u64).wrapping_mul(0x9E37_79B9);
                    if x.is_multiple_of(density) {
                        b' '
                    } else {
                        b'a'
                    }
                })
                .collect();
            for min in [1, 2, 3, 5, 8, 32, 40] {
                let mut got = Vec::new();
                long_runs(&text, min, |c| c == b'a', |s, e| got.push((s, e)));
                let want = runs_by_reading_every_byte(&text, min, |c| c == b'a');
                assert_eq!(
                    got,
                    want,
                    "round {round}, min {min}, text {:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn digits_colons_and_ats_are_all_found() {
        let text = "a1b22@c 333x@@9\u{e9}0123456789 /:@;?";
        let mut got = Vec::new();
        for_each_digit_colon_at(text.as_bytes(), |i| got.push(i));
        let want: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(_, c)| c.is_ascii_digit() || c == b'@' || c == b':')
            .map(|(i, _)| i)
            .collect();
        assert_eq!(got, want);
        for c in 0..=255u8 {
            let word = u64::from_le_bytes([c, b'x', c, 0x80, c, b'/', b';', c]);
            let want = if c.is_ascii_digit() {
                0x80 | 0x80 << 16 | 0x80 << 32 | 0x80 << 56
            } else {
                0
            };
            assert_eq!(bytes_between(word, b'0', b'9'), want, "{c:#x}");
        }
    }

    #[test]
    fn word_tests() {
        let w = u64::from_le_bytes(*b"ab cd\x1f\xc3z");
        assert_eq!(bytes_equal(w, b' '), 0x80 << 16);
        assert!(has_below(u64::from_le_bytes(*b"abcdefg\x1f"), 0x20));
        assert!(!has_below(u64::from_le_bytes(*b"abcdefg "), 0x20));
        assert!(has_non_ascii(w));
        assert_eq!(load8(b"1234567", 0), None);
    }
}

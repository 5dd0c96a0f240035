//! Input-token estimates without shipping a tokenizer vocabulary in the wasm.
//!
//! BPE tokenizers of the GPT-4 and Claude families average about four bytes of English or
//! code per token, and about one token per character of scripts outside ASCII. The
//! estimate leans high on purpose: caps and cost checks should fail safe.

/// Tokens a chat API adds per message for roles and delimiters (OpenAI documents 3-4).
pub const PER_MESSAGE_OVERHEAD: u64 = 4;

pub fn estimate(text: &str) -> u64 {
    // Counted over bytes, eight at a time, without decoding UTF-8: a character outside
    // ASCII is one lead byte (0xC0 and up) and its continuation bytes (0x80-0xBF).
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let bytes = text.as_bytes();
    let (mut high, mut lead) = (0u64, 0u64);
    let mut chunks = bytes.chunks_exact(8);
    // Per-byte counters (one per lane of a word), summed before a lane can pass 31 so
    // that the sum of the eight lanes fits in a byte.
    let (mut high_lanes, mut lead_lanes, mut rounds) = (0u64, 0u64, 0u32);
    let sum_lanes = |lanes: u64| lanes.wrapping_mul(ONES) >> 56;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        high_lanes += (word & HIGH) >> 7;
        lead_lanes += (word & (word << 1) & HIGH) >> 7;
        rounds += 1;
        if rounds == 31 {
            high += sum_lanes(high_lanes);
            lead += sum_lanes(lead_lanes);
            (high_lanes, lead_lanes, rounds) = (0, 0, 0);
        }
    }
    high += sum_lanes(high_lanes);
    lead += sum_lanes(lead_lanes);
    for &b in chunks.remainder() {
        high += u64::from(b >= 0x80);
        lead += u64::from(b >= 0xC0);
    }
    let ascii = bytes.len() as u64 - high;
    ascii.div_ceil(4) + lead
}

#[cfg(test)]
mod tests {
    use super::estimate;

    #[test]
    fn empty_text_is_free() {
        assert_eq!(estimate(""), 0);
    }

    #[test]
    fn ascii_counts_a_token_per_four_bytes_rounding_up() {
        assert_eq!(estimate("abcd"), 1);
        assert_eq!(estimate("abcde"), 2);
    }

    #[test]
    fn non_ascii_counts_a_token_per_character() {
        assert_eq!(estimate("日本語"), 3);
        assert_eq!(estimate("héllo"), 2);
        assert_eq!(estimate("😀 ok"), 2);
    }

    #[test]
    fn counting_bytes_matches_counting_chars() {
        for text in [
            "",
            "a",
            "abcde",
            "héllo wörld",
            "日本語 text",
            "😀😀x",
            "\u{7f}\u{80}\u{7ff}\u{800}",
        ] {
            let ascii = text.chars().filter(char::is_ascii).count() as u64;
            let other = text.chars().filter(|c| !c.is_ascii()).count() as u64;
            assert_eq!(estimate(text), ascii.div_ceil(4) + other, "{text:?}");
        }
    }
}

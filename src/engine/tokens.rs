//! Input-token estimates without shipping a tokenizer vocabulary in the wasm.
//!
//! BPE tokenizers of the GPT-4 and Claude families average about four bytes of English or
//! code per token, and about one token per character of scripts outside ASCII. The
//! estimate leans high on purpose: caps and cost checks should fail safe.

/// Tokens a chat API adds per message for roles and delimiters (OpenAI documents 3-4).
pub const PER_MESSAGE_OVERHEAD: u64 = 4;

pub fn estimate(text: &str) -> u64 {
    // Counted over bytes, not chars (no UTF-8 decoding): a character outside ASCII is
    // one lead byte (0xC0 and up) and its continuation bytes (0x80-0xBF).
    let (ascii, other) = text.bytes().fold((0u64, 0u64), |(ascii, other), b| {
        (ascii + u64::from(b < 0x80), other + u64::from(b >= 0xC0))
    });
    ascii.div_ceil(4) + other
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

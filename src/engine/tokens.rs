//! Input-token estimates without shipping a tokenizer vocabulary in the wasm.
//!
//! BPE tokenizers of the GPT-4 and Claude families average about four bytes of English or
//! code per token, and about one token per character of scripts outside ASCII. The
//! estimate leans high on purpose: caps and cost checks should fail safe.

/// Tokens a chat API adds per message for roles and delimiters (OpenAI documents 3-4).
pub const PER_MESSAGE_OVERHEAD: u64 = 4;

pub fn estimate(text: &str) -> u64 {
    let (ascii, other) = text.chars().fold((0u64, 0u64), |(ascii, other), c| {
        if c.is_ascii() {
            (ascii + 1, other)
        } else {
            (ascii, other + 1)
        }
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
    }
}

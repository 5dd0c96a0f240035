//! The injection detector's learned half: a hashed n-gram logistic regression over the
//! [`normalize`](super::normalize::normalize)d text, trained by
//! `crates/engine/examples/train_injection.rs` on the `tune` split of
//! `tests/corpus/third_party/injection.jsonl` plus the `dev` set of `tests/corpus/detectors.jsonl`, and
//! embedded at build time (`injection_model.bin`).
//!
//! # Features
//!
//! [`for_each_feature`] reads the normalised text (all of it up to
//! [`HEAD_BYTES`]` + `[`TAIL_BYTES`], else its first [`HEAD_BYTES`] and last
//! [`TAIL_BYTES`], cut at character boundaries) once and emits, per occurrence:
//!
//! * each **word** (a run of alphanumeric characters of any script; a run of ASCII
//!   digits is one `<num>` word) and each **word bigram**;
//! * the **character 4-grams** of each word with boundary marks (`<ignore>` gives
//!   `<ign`, `igno`, `gnor`, `nore`, `ore>`): what carries over between languages that
//!   share roots (`ignore`/`ignorez`/`ignoriere`, `instructions`/`instrucciones`) and what
//!   reads scripts without spaces (a run of CJK characters is one long word);
//! * each run of **punctuation** (its first four characters: `` ``` ``, `<|`, `](`, `{{`,
//!   `###`), again tagged when it starts a line;
//! * a word that starts a line and is followed by `:` (a **header** such as `system:`,
//!   `assistant:`, `new instructions:`).
//!
//! Each feature is hashed with [`Fnv`] (FNV-1a over a tag byte and the feature's bytes,
//! then folded to [`BUCKET_BITS`] bits). The trainer calls the same function, so the two
//! cannot disagree.
//!
//! # Score
//!
//! `logit = bias + scale × Σ weight[bucket] / norm(n)` over the `n` features emitted,
//! where [`norm`] is `√n`; weights are `i8` with one `f32` scale. A feature equal to the
//! one emitted just before it of its kind (the same word, bigram or 4-gram again, as in
//! `aaaa…` or `a a a …`) is not emitted again, or one repeated character could push the
//! logit up by `√n`. (Dividing by `n` or capping the growth instead lost most of the
//! cross-validated recall: long jailbreaks are told apart by many features agreeing.) [`Model::contribution`] maps the logit to the `learned` family's share of
//! the 0–100 score: 0 below the first anchor, then linear between anchors to 45, 60 and
//! 90. The anchors come from the trainer's leave-one-source-out cross-validation on the
//! tune split: 45 is where the benign false-positive rate is 0.5 %, 60 where it is
//! 0.25 %, 90 above every benign text's cross-validated logit (2 % at 45 flagged short
//! questions about system prompts in `tests/corpus/detectors.jsonl`).
//!
//! # File format (little endian)
//!
//! `b"INJM"`, the format version ([`FORMAT_VERSION`]), [`BUCKET_BITS`], two zero bytes,
//! then `f32` scale, bias and the three anchors (45, 60, 90), then `2^BUCKET_BITS` `i8`
//! weights. [`Model::parse`] checks all of it; [`model`] returns `None` for a malformed
//! file and the detector falls back to the patterns alone (a test holds the embedded file
//! to parse).
//!
//! Cost: a few hash steps and one table read per feature, about 2 features per byte of
//! words; no allocation. Linear in the text, and at most [`HEAD_BYTES`]` + `[`TAIL_BYTES`]
//! bytes are read whatever its length.

use std::sync::OnceLock;

/// Bumped whenever feature extraction or the file layout changes.
pub const FORMAT_VERSION: u8 = 3;
/// log2 of the number of weight buckets.
pub const BUCKET_BITS: u32 = 17;
/// Number of weight buckets.
pub const BUCKETS: usize = 1 << BUCKET_BITS;
/// Bytes of normalised text read from the start.
pub const HEAD_BYTES: usize = 1536;
/// Bytes of normalised text read from the end of a longer text.
pub const TAIL_BYTES: usize = 512;
/// Header bytes before the weights.
pub const HEADER_LEN: usize = 8 + 5 * 4;
/// The contributions the anchors map to.
pub const ANCHOR_SCORES: [u8; 3] = [45, 60, 90];

const MAGIC: &[u8; 4] = b"INJM";
const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

const TAG_WORD: u8 = 1;
const TAG_BIGRAM: u8 = 2;
const TAG_CHARS: u8 = 3;
const TAG_HEADER: u8 = 4;
const TAG_PUNCT: u8 = 5;
const TAG_LINE_PUNCT: u8 = 6;
/// The length of character n-grams (with the boundary marks). 3-, 4- and 5-grams together
/// cost three times the table reads for little gain on the tune split.
const CHAR_N: usize = 4;
/// Word boundary marks in character n-grams (not UTF-8 lead bytes, not ASCII text).
const WORD_START: u8 = 0xFE;
const WORD_END: u8 = 0xFF;

/// FNV-1a, 32 bits. The one hash of the model's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(pub u32);

impl Fnv {
    /// A hash started with a feature tag.
    pub const fn new(tag: u8) -> Self {
        Fnv(FNV_OFFSET).byte(tag)
    }

    pub const fn byte(self, b: u8) -> Self {
        Fnv((self.0 ^ b as u32).wrapping_mul(FNV_PRIME))
    }

    pub fn bytes(self, bytes: &[u8]) -> Self {
        bytes.iter().fold(self, |h, &b| h.byte(b))
    }

    pub fn u32(self, v: u32) -> Self {
        self.bytes(&v.to_le_bytes())
    }

    /// The bucket: the hash xor-folded to [`BUCKET_BITS`] bits.
    pub fn bucket(self) -> usize {
        let h = self.0 ^ (self.0 >> BUCKET_BITS);
        usize::try_from(h).unwrap_or(0) & (BUCKETS - 1)
    }
}

/// FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    Fnv(FNV_OFFSET).bytes(bytes).0
}

/// The parts of `normalized` the model reads: all of it, or its head and tail.
fn window(normalized: &str) -> (&str, &str) {
    let len = normalized.len();
    if len <= HEAD_BYTES + TAIL_BYTES {
        return (normalized, "");
    }
    let mut head = HEAD_BYTES;
    while head > 0 && !normalized.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = len - TAIL_BYTES;
    while tail < len && !normalized.is_char_boundary(tail) {
        tail += 1;
    }
    (
        normalized.get(..head).unwrap_or_default(),
        normalized.get(tail..).unwrap_or_default(),
    )
}

/// Calls `emit(bucket)` for every feature of `normalized` (see the module documentation).
pub fn for_each_feature(normalized: &str, mut emit: impl FnMut(usize)) {
    let (head, tail) = window(normalized);
    extract(head, &mut emit);
    extract(tail, &mut emit);
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

fn char_at(text: &str, i: usize) -> Option<char> {
    match text.as_bytes().get(i) {
        Some(&b) if b < 0x80 => Some(char::from(b)),
        Some(_) => text.get(i..).and_then(|rest| rest.chars().next()),
        None => None,
    }
}

fn extract(text: &str, emit: &mut impl FnMut(usize)) {
    let bytes = text.as_bytes();
    let mut prev_word: Option<u32> = None;
    // The last bigram and 4-gram emitted: an immediate repeat is skipped.
    let mut last_bigram: Option<usize> = None;
    let mut last_gram: Option<usize> = None;
    let mut line_start = true;
    let mut i = 0usize;
    while let Some(c) = char_at(text, i) {
        if c == ' ' {
            i += 1;
            continue;
        }
        if c == '\n' {
            line_start = true;
            i += 1;
            continue;
        }
        let word = is_word_char(c);
        let mut j = i;
        while let Some(d) = char_at(text, j) {
            if d == ' ' || d == '\n' || is_word_char(d) != word {
                break;
            }
            j += d.len_utf8();
        }
        super::tick(j - i);
        let run = bytes.get(i..j).unwrap_or_default();
        if word {
            let digits = run.iter().all(u8::is_ascii_digit);
            let h = if digits {
                Fnv::new(TAG_WORD).bytes(b"<num>")
            } else {
                Fnv::new(TAG_WORD).bytes(run)
            };
            let repeat = prev_word == Some(h.0);
            if !repeat {
                emit(h.bucket());
            }
            if let Some(p) = prev_word {
                let bigram = Fnv::new(TAG_BIGRAM).u32(p).u32(h.0).bucket();
                if last_bigram != Some(bigram) {
                    emit(bigram);
                }
                last_bigram = Some(bigram);
            }
            prev_word = Some(h.0);
            if !digits && !repeat {
                char_grams(text.get(i..j).unwrap_or_default(), &mut last_gram, emit);
            }
            if line_start && bytes.get(j) == Some(&b':') {
                emit(Fnv::new(TAG_HEADER).bytes(run).bucket());
            }
        } else {
            // The first four characters of the run.
            let cut = text
                .get(i..j)
                .unwrap_or_default()
                .char_indices()
                .nth(4)
                .map_or(j, |(k, _)| i + k);
            let punct = bytes.get(i..cut).unwrap_or_default();
            emit(Fnv::new(TAG_PUNCT).bytes(punct).bucket());
            if line_start {
                emit(Fnv::new(TAG_LINE_PUNCT).bytes(punct).bucket());
            }
        }
        line_start = false;
        i = j;
    }
}

/// The character 4-grams of `word` between boundary marks.
fn char_grams(word: &str, last: &mut Option<usize>, emit: &mut impl FnMut(usize)) {
    let mut emit = |b: usize| {
        if *last != Some(b) {
            emit(b);
        }
        *last = Some(b);
    };
    if word.is_ascii() {
        // One byte a character: the same hashes as below, straight from the bytes.
        let w = word.as_bytes();
        let at = |k: usize| match k {
            0 => WORD_START,
            k if k > w.len() => WORD_END,
            k => w.get(k - 1).copied().unwrap_or(WORD_END),
        };
        for k in 0..(w.len() + 2).saturating_sub(CHAR_N - 1) {
            let h = (k..k + CHAR_N).fold(Fnv::new(TAG_CHARS), |h, j| h.byte(at(j)));
            emit(h.bucket());
        }
        return;
    }
    // Positions (in the marked word: the start mark, each character, the end mark) are
    // kept as byte ranges of `word`; the marks are empty ranges flagged apart.
    #[derive(Clone, Copy)]
    enum Unit {
        Start,
        Char(usize, usize),
        End,
    }
    let hash_unit = |h: Fnv, u: Unit| match u {
        Unit::Start => h.byte(WORD_START),
        Unit::End => h.byte(WORD_END),
        Unit::Char(a, b) => h.bytes(word.as_bytes().get(a..b).unwrap_or_default()),
    };
    let mut ring = [Unit::Start; 5];
    let mut filled = 1usize;
    let units = word
        .char_indices()
        .map(|(a, c)| Unit::Char(a, a + c.len_utf8()))
        .chain(std::iter::once(Unit::End));
    for u in units {
        ring.rotate_left(1);
        if let Some(last) = ring.last_mut() {
            *last = u;
        }
        filled = (filled + 1).min(5);
        // The n-gram ending at this unit: the last CHAR_N units.
        if filled >= CHAR_N {
            let h = ring
                .iter()
                .skip(5 - CHAR_N)
                .fold(Fnv::new(TAG_CHARS), |h, &u| hash_unit(h, u));
            emit(h.bucket());
        }
    }
}

/// The divisor of the weight sum of `n` features: `√n`, so a long text is not pushed to
/// the extremes by its length alone, and a short one is not drowned by it.
pub fn norm(n: f32) -> f32 {
    n.sqrt().max(1.0)
}

/// A parsed model: borrowed weights and the figures that map their sum to a score.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    pub scale: f32,
    pub bias: f32,
    /// Logits at which the contribution reaches 45, 60 and 90.
    pub anchors: [f32; 3],
    weights: &'a [u8],
}

/// Why a model file was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelError {
    Length,
    Magic,
    Version,
    Buckets,
    /// A figure is not finite or the anchors are not increasing.
    Figures,
}

fn f32_at(bytes: &[u8], at: usize) -> Option<f32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(f32::from_le_bytes(b))
}

impl<'a> Model<'a> {
    /// Parses and checks a model file (see the module documentation).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ModelError> {
        if bytes.len() != HEADER_LEN + BUCKETS {
            return Err(ModelError::Length);
        }
        if bytes.get(..4) != Some(MAGIC.as_slice()) {
            return Err(ModelError::Magic);
        }
        if bytes.get(4) != Some(&FORMAT_VERSION) {
            return Err(ModelError::Version);
        }
        if bytes.get(5).map(|&b| u32::from(b)) != Some(BUCKET_BITS) {
            return Err(ModelError::Buckets);
        }
        let figure = |k: usize| f32_at(bytes, 8 + 4 * k).filter(|f| f.is_finite());
        let (Some(scale), Some(bias), Some(a45), Some(a60), Some(a90)) =
            (figure(0), figure(1), figure(2), figure(3), figure(4))
        else {
            return Err(ModelError::Figures);
        };
        if !(scale >= 0.0 && a45 <= a60 && a60 < a90) {
            return Err(ModelError::Figures);
        }
        Ok(Model {
            scale,
            bias,
            anchors: [a45, a60, a90],
            weights: bytes.get(HEADER_LEN..).unwrap_or_default(),
        })
    }

    /// Writes a model file (for the trainer).
    pub fn to_bytes(scale: f32, bias: f32, anchors: [f32; 3], weights: &[i8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + weights.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(u8::try_from(BUCKET_BITS).unwrap_or(0));
        out.extend_from_slice(&[0, 0]);
        for f in [scale, bias, anchors[0], anchors[1], anchors[2]] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out.extend(weights.iter().map(|w| w.to_le_bytes()[0]));
        out
    }

    /// The weight of a bucket.
    pub fn weight(&self, bucket: usize) -> i8 {
        self.weights
            .get(bucket)
            .map_or(0, |&b| i8::from_le_bytes([b]))
    }

    /// The model's logit for a normalised text.
    pub fn logit(&self, normalized: &str) -> f32 {
        let mut sum = 0i32;
        let mut n = 0u32;
        for_each_feature(normalized, |bucket| {
            sum = sum.saturating_add(i32::from(self.weight(bucket)));
            n = n.saturating_add(1);
        });
        if n == 0 {
            return self.bias;
        }
        // Exact enough: |sum| < 2^24 for any text the window allows.
        #[allow(clippy::cast_precision_loss)]
        let (sum, n) = (sum as f32, n as f32);
        self.bias + self.scale * sum / norm(n)
    }

    /// The `learned` family's contribution (0, or 45–90) for a logit.
    pub fn contribution(&self, logit: f32) -> u8 {
        let [a45, a60, a90] = self.anchors;
        let lerp = |z: f32, z0: f32, z1: f32, s0: f32, s1: f32| {
            let t = if z1 > z0 { (z - z0) / (z1 - z0) } else { 1.0 };
            s0 + (s1 - s0) * t.clamp(0.0, 1.0)
        };
        let s = if logit.is_nan() || logit < a45 {
            return 0;
        } else if logit < a60 {
            lerp(logit, a45, a60, 45.0, 60.0)
        } else {
            lerp(logit, a60, a90, 60.0, 90.0)
        };
        // `s` lies in [45, 90]; the float-to-int cast saturates anyway.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = s.floor() as u8;
        // Never reach the next anchor's score below it.
        if logit < a60 {
            s.min(59)
        } else if logit < a90 {
            s.min(89)
        } else {
            s
        }
    }

    /// The contribution for a normalised text.
    pub fn score(&self, normalized: &str) -> u8 {
        self.contribution(self.logit(normalized))
    }
}

/// The embedded model file.
pub static MODEL_BYTES: &[u8] = include_bytes!("injection_model.bin");

/// The embedded model, parsed once; `None` if the file is malformed (the detector then
/// scores with the patterns alone, and `embedded_model_parses` fails).
pub fn model() -> Option<&'static Model<'static>> {
    static MODEL: OnceLock<Option<Model<'static>>> = OnceLock::new();
    MODEL
        .get_or_init(|| Model::parse(MODEL_BYTES).ok())
        .as_ref()
}

//! The tokenizer of a GGUF model, built from its metadata alone.
//!
//! GGUF stores a byte-level BPE vocabulary (`tokenizer.ggml.tokens`, `merges`, `token_type`)
//! and names its pre-tokenizer (`tokenizer.ggml.pre`). We build the plain-text pipeline
//! (normalizer, pre-tokenizer, BPE) with the `tokenizers` crate, and do the two things around
//! it ourselves so that they are exact and under our control:
//! - splitting out special tokens such as `<|im_start|>` (only when asked to: text typed by
//!   a person must never turn into control tokens);
//! - decoding, which is byte-exact: every token maps to a fixed byte string, and decoding a
//!   sequence is the concatenation of those bytes.
//!
//! candle's `TokenizerFromGguf` was not used: it maps the `smollm` pre-tokenizer to GPT-2
//! defaults with a prefix space (SmolLM2 then encodes "Hello" as " Hello"), and it marks
//! every unused `[PAD…]` token as special.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{PreTokenizerWrapper, SplitDelimiterBehavior};

use crate::error::{ModelsError, Result};
use crate::gguf_meta::{read_header, Meta};

/// Qwen2's split: single digits, letters with one leading non-letter, punctuation runs.
const REGEX_QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3's split: as Qwen2 but digits in groups of up to three.
const REGEX_LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Control tokens that end a turn, in the order we look for them in a chat template.
const END_OF_TURN_MARKERS: &[&str] = &["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"];
/// Control tokens after which a model has nothing more to say.
const STOP_MARKERS: &[&str] =
    &["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|end|>", "<end_of_turn>"];

/// The kind of a vocabulary entry, as in GGUF's `tokenizer.ggml.token_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Ordinary text, stored byte-level encoded.
    Normal,
    Unknown,
    /// Chat and document markers such as `<|im_start|>`; only produced from text on request.
    Control,
    /// Added words such as `<tool_call>`; always split out of text, stored verbatim.
    UserDefined,
    /// Padding entries that no text produces.
    Unused,
    /// A single raw byte written `<0xAB>`.
    Byte,
}

impl TokenKind {
    fn from_gguf(code: i64) -> TokenKind {
        match code {
            2 => TokenKind::Unknown,
            3 => TokenKind::Control,
            4 => TokenKind::UserDefined,
            5 => TokenKind::Unused,
            6 => TokenKind::Byte,
            // 1 is normal; 0 ("undefined") is treated as normal text, as llama.cpp does.
            _ => TokenKind::Normal,
        }
    }
}

/// Ids with a fixed role, from `tokenizer.ggml.*_token_id` (eot also from the chat template).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// End of a chat turn, e.g. `<|im_end|>`.
    pub eot: Option<u32>,
    pub pad: Option<u32>,
}

/// A GGUF model's tokenizer.
///
/// Invariants: every id below [`Tokenizer::vocab_size`] has a byte string
/// ([`Tokenizer::token_bytes`]); [`Tokenizer::decode`] is the lossy UTF-8 reading of the
/// concatenated byte strings; for NFC-normalised text `decode(encode(t, true)) == t`.
pub struct Tokenizer {
    /// Normalizer, pre-tokenizer and BPE, with no added tokens: it only ever sees plain text.
    pipeline: tokenizers::Tokenizer,
    tokens: Vec<String>,
    kinds: Vec<TokenKind>,
    /// Every token's bytes, concatenated; token `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    specials: SpecialTokens,
    stop_ids: Vec<u32>,
    pieces: SpecialPieces,
    chat_template: Option<String>,
}

impl Tokenizer {
    /// Loads the tokenizer of the GGUF file at `path`, reading only its header.
    pub fn from_path(path: &Path) -> Result<Tokenizer> {
        let content = read_header(path)?;
        Tokenizer::from_content(&content, &path.display().to_string())
    }

    /// Builds the tokenizer from parsed GGUF metadata; `source` names the file in errors.
    pub fn from_content(content: &Content, source: &str) -> Result<Tokenizer> {
        let meta = Meta::new(content, source);
        let model = meta.opt_str("tokenizer.ggml.model")?.unwrap_or("(none)");
        if model != "gpt2" {
            return Err(ModelsError::Unsupported(format!(
                "{source}: the model uses the `{model}` tokenizer; Tandem supports byte-level BPE (`gpt2`) tokenizers"
            )));
        }
        let tokens: Vec<String> = meta.strings("tokenizer.ggml.tokens")?.into_iter().map(str::to_owned).collect();
        let kinds: Vec<TokenKind> = match meta.opt_i64s("tokenizer.ggml.token_type")? {
            Some(codes) if codes.len() == tokens.len() => codes.into_iter().map(TokenKind::from_gguf).collect(),
            Some(codes) => {
                return Err(meta.bad(format!(
                    "the model lists {} tokens but {} token types",
                    tokens.len(),
                    codes.len()
                )))
            }
            None => vec![TokenKind::Normal; tokens.len()],
        };
        let pre = meta.opt_str("tokenizer.ggml.pre")?.unwrap_or("default");
        let pipeline = build_pipeline(&meta, &tokens, pre)?;

        let (bytes, offsets) = token_byte_table(&tokens, &kinds);
        let chat_template = meta.opt_str("tokenizer.chat_template")?.map(str::to_owned);
        let id_of = |key: &str| -> Result<Option<u32>> {
            match meta.opt_u32(key)? {
                Some(id) if id as usize >= tokens.len() => {
                    Err(meta.bad(format!("`{key}` is {id}, outside the vocabulary of {} tokens", tokens.len())))
                }
                other => Ok(other),
            }
        };
        let pieces = SpecialPieces::new(&tokens, &kinds);
        let eot = match id_of("tokenizer.ggml.eot_token_id")? {
            Some(id) => Some(id),
            // The fallback template is ChatML, whose end of turn is `<|im_end|>`.
            None => end_of_turn_from_template(chat_template.as_deref().unwrap_or("<|im_end|>"), &pieces),
        };
        let specials = SpecialTokens {
            bos: id_of("tokenizer.ggml.bos_token_id")?,
            eos: id_of("tokenizer.ggml.eos_token_id")?,
            eot,
            pad: id_of("tokenizer.ggml.padding_token_id")?,
        };
        let mut stop_ids: Vec<u32> = [specials.eos, specials.eot, id_of("tokenizer.ggml.eom_token_id")?]
            .into_iter()
            .flatten()
            .chain(STOP_MARKERS.iter().filter_map(|m| pieces.control_id(m)))
            .collect();
        stop_ids.sort_unstable();
        stop_ids.dedup();

        Ok(Tokenizer { pipeline, tokens, kinds, bytes, offsets, specials, stop_ids, pieces, chat_template })
    }

    /// Token ids for `text`. With `parse_special`, control-token text such as `<|im_end|>`
    /// becomes that control token (for rendered chat templates); without it, such text is
    /// tokenized as ordinary characters (for anything a person typed).
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (plain, special) = match self.pieces.find(rest, parse_special) {
                Some((start, len, id)) => (&rest[..start], Some((start + len, id))),
                None => (rest, None),
            };
            if !plain.is_empty() {
                let encoding = self
                    .pipeline
                    .encode(plain, false)
                    .map_err(|e| ModelsError::Tokenizer(format!("cannot tokenize the text: {e}")))?;
                ids.extend_from_slice(encoding.get_ids());
            }
            match special {
                Some((end, id)) => {
                    ids.push(id);
                    rest = &rest[end..];
                }
                None => break,
            }
        }
        Ok(ids)
    }

    /// The text of `ids`: their bytes concatenated, read as UTF-8 (invalid sequences and
    /// ids outside the vocabulary become U+FFFD). Control tokens appear as their text.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut out = Vec::new();
        for &id in ids {
            match self.token_bytes(id) {
                Some(b) => out.extend_from_slice(b),
                None => out.extend_from_slice(char::REPLACEMENT_CHARACTER.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The raw bytes token `id` stands for (byte-level decoded); None outside the vocabulary.
    /// A token may end in the middle of a UTF-8 character.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let i = id as usize;
        (i < self.tokens.len()).then(|| &self.bytes[self.offsets[i]..self.offsets[i + 1]])
    }

    /// The vocabulary entry of `id` as stored in the file (byte-level encoded for normal tokens).
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    pub fn token_kind(&self, id: u32) -> Option<TokenKind> {
        self.kinds.get(id as usize).copied()
    }

    /// The id of a control or user-defined token by its text, such as `<|im_start|>`.
    pub fn special_id(&self, text: &str) -> Option<u32> {
        self.pieces.id(text)
    }

    /// Number of entries in the vocabulary (the token list of the file).
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn specials(&self) -> SpecialTokens {
        self.specials
    }

    /// Every id after which generation stops: eos, the end-of-turn token and end markers
    /// such as `<|endoftext|>`; sorted, without duplicates.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    pub fn is_stop(&self, id: u32) -> bool {
        self.stop_ids.binary_search(&id).is_ok()
    }

    /// The Jinja chat template stored in the file, if any.
    pub fn chat_template_source(&self) -> Option<&str> {
        self.chat_template.as_deref()
    }
}

/// The normalizer, pre-tokenizer and BPE model named by `tokenizer.ggml.pre`, as in the
/// models' original `tokenizer.json` files.
fn build_pipeline(meta: &Meta, tokens: &[String], pre: &str) -> Result<tokenizers::Tokenizer> {
    let split = |regex: &str| -> Result<PreTokenizerWrapper> {
        let split = Split::new(SplitPattern::Regex(regex.to_string()), SplitDelimiterBehavior::Isolated, false)
            .map_err(|e| ModelsError::Tokenizer(format!("bad pre-tokenizer pattern: {e}")))?;
        Ok(split.into())
    };
    let (nfc, pre_tokenizer, ignore_merges): (bool, PreTokenizerWrapper, bool) = match pre {
        "qwen2" => {
            (true, Sequence::new(vec![split(REGEX_QWEN2)?, ByteLevel::new(false, false, false).into()]).into(), false)
        }
        "llama3" | "llama-bpe" | "smaug-bpe" => {
            // Llama 3's tokenizer looks whole words up in the vocabulary before merging.
            (false, Sequence::new(vec![split(REGEX_LLAMA3)?, ByteLevel::new(false, false, false).into()]).into(), true)
        }
        "smollm" => (
            false,
            Sequence::new(vec![Digits::new(true).into(), ByteLevel::new(false, true, true).into()]).into(),
            false,
        ),
        "default" | "gpt2" | "gpt-2" => (false, ByteLevel::new(false, true, true).into(), false),
        other => {
            return Err(ModelsError::Unsupported(format!(
                "the model's tokenizer splits text the `{other}` way, which Tandem does not know yet"
            )))
        }
    };
    let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let merges = meta
        .strings("tokenizer.ggml.merges")?
        .into_iter()
        .map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| meta.bad(format!("the merge rule `{m}` is not two tokens")))
        })
        .collect::<Result<Vec<_>>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .ignore_merges(ignore_merges)
        .build()
        .map_err(|e| meta.bad(format!("the tokenizer's merge rules do not fit its vocabulary ({e})")))?;
    let mut pipeline = tokenizers::Tokenizer::new(bpe);
    if nfc {
        pipeline
            .with_normalizer(Some(NFC))
            .map_err(|e| ModelsError::Tokenizer(format!("cannot set up normalization: {e}")))?;
    }
    pipeline.with_pre_tokenizer(Some(pre_tokenizer));
    Ok(pipeline)
}

/// The first end-of-turn control token that the chat template writes.
fn end_of_turn_from_template(template: &str, pieces: &SpecialPieces) -> Option<u32> {
    END_OF_TURN_MARKERS.iter().filter(|m| template.contains(*m)).find_map(|m| pieces.control_id(m))
}

/// The byte strings of all tokens, concatenated, with start offsets (one extra at the end).
fn token_byte_table(tokens: &[String], kinds: &[TokenKind]) -> (Vec<u8>, Vec<usize>) {
    let unicode_to_byte = byte_level_inverse();
    let mut bytes = Vec::with_capacity(tokens.iter().map(String::len).sum());
    let mut offsets = Vec::with_capacity(tokens.len() + 1);
    for (text, kind) in tokens.iter().zip(kinds) {
        offsets.push(bytes.len());
        match kind {
            TokenKind::Normal => {
                for c in text.chars() {
                    match unicode_to_byte.get(c as usize).copied().flatten() {
                        Some(b) => bytes.push(b),
                        // Not byte-level text (a hand-made vocabulary): keep it as written.
                        None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    }
                }
            }
            TokenKind::Byte => match parse_byte_token(text) {
                Some(b) => bytes.push(b),
                None => bytes.extend_from_slice(text.as_bytes()),
            },
            // Markers and added words are stored as the text they stand for.
            _ => bytes.extend_from_slice(text.as_bytes()),
        }
    }
    offsets.push(bytes.len());
    (bytes, offsets)
}

/// GPT-2's byte-level alphabet, inverted: printable bytes stand for themselves and the
/// other 68 bytes are mapped, in order, to the code points from U+0100 on.
fn byte_level_inverse() -> [Option<u8>; 324] {
    let mut table = [None; 324];
    let mut next = 256;
    for b in 0..=255u8 {
        let printable = matches!(b, 33..=126 | 161..=172 | 174..=255);
        if printable {
            table[b as usize] = Some(b);
        } else {
            table[next] = Some(b);
            next += 1;
        }
    }
    table
}

/// `<0xAB>` → 0xAB.
fn parse_byte_token(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    u8::from_str_radix(hex, 16).ok()
}

/// The control and user-defined tokens that text can contain literally, for splitting.
struct SpecialPieces {
    /// By first byte: (text, id, is control), longest text first.
    by_first_byte: HashMap<u8, Vec<(String, u32, bool)>>,
    ids: HashMap<String, (u32, bool)>,
}

impl SpecialPieces {
    fn new(tokens: &[String], kinds: &[TokenKind]) -> SpecialPieces {
        let mut by_first_byte: HashMap<u8, Vec<(String, u32, bool)>> = HashMap::new();
        let mut ids = HashMap::new();
        for (id, (text, kind)) in tokens.iter().zip(kinds).enumerate() {
            let control = match kind {
                TokenKind::Control | TokenKind::Unknown => true,
                TokenKind::UserDefined => false,
                _ => continue,
            };
            let Some(&first) = text.as_bytes().first() else { continue };
            // On a duplicate text the lowest id wins, like a vocabulary lookup would.
            ids.entry(text.clone()).or_insert((id as u32, control));
            by_first_byte.entry(first).or_default().push((text.clone(), id as u32, control));
        }
        for list in by_first_byte.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        }
        SpecialPieces { by_first_byte, ids }
    }

    fn id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).map(|&(id, _)| id)
    }

    fn control_id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).filter(|(_, control)| *control).map(|&(id, _)| id)
    }

    /// The leftmost (then longest) piece in `text`: (byte start, byte length, id). Control
    /// tokens count only with `with_control`.
    fn find(&self, text: &str, with_control: bool) -> Option<(usize, usize, u32)> {
        let bytes = text.as_bytes();
        for (start, b) in bytes.iter().enumerate() {
            let Some(candidates) = self.by_first_byte.get(b) else { continue };
            let hit = candidates
                .iter()
                .find(|(piece, _, control)| (with_control || !control) && bytes[start..].starts_with(piece.as_bytes()));
            if let Some((piece, id, _)) = hit {
                return Some((start, piece.len(), *id));
            }
        }
        None
    }
}

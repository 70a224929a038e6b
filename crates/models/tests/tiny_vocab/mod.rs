//! Tiny tokenizer-only GGUF files (metadata, no tensors) for fast tokenizer tests.
//!
//! The vocabulary: the 256 byte-level characters (id = byte value), then merged words,
//! then markers. Enough to exercise BPE merges, special tokens and byte-exact decoding.
#![allow(dead_code)] // each test binary uses part of this module

use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{self, Value};
use tandem_models::Tokenizer;

/// (token, GGUF token type) after the 256 byte tokens.
pub const EXTRA: &[(&str, i32)] = &[
    ("he", 1),
    ("ll", 1),
    ("hell", 1),
    ("hello", 1),
    ("<|endoftext|>", 3),
    ("<|im_start|>", 3),
    ("<|im_end|>", 3),
    ("<tool>", 4),
    ("[PAD]", 5),
];
pub const MERGES: &[&str] = &["h e", "l l", "he ll", "hell o"];

pub const HELLO: u32 = 259;
pub const ENDOFTEXT: u32 = 260;
pub const IM_START: u32 = 261;
pub const IM_END: u32 = 262;
pub const TOOL: u32 = 263;
pub const PAD: u32 = 264;
pub const VOCAB: usize = 265;

/// The GPT-2 byte-level character standing for byte `b`.
pub fn byte_char(b: u8) -> char {
    let printable = matches!(b, 33..=126 | 161..=172 | 174..=255);
    if printable {
        return b as char;
    }
    let rank = (0..b).filter(|&x| !matches!(x, 33..=126 | 161..=172 | 174..=255)).count() as u32;
    char::from_u32(256 + rank).unwrap()
}

/// The default metadata: byte-level BPE, GPT-2 pre-tokenizer, bos = eos = <|endoftext|>.
pub fn metadata() -> Vec<(String, Value)> {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    let mut types = vec![1i32; 256];
    for (t, ty) in EXTRA {
        tokens.push(t.to_string());
        types.push(*ty);
    }
    vec![
        ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), Value::String("default".into())),
        ("tokenizer.ggml.tokens".into(), Value::Array(tokens.into_iter().map(Value::String).collect())),
        ("tokenizer.ggml.token_type".into(), Value::Array(types.into_iter().map(Value::I32).collect())),
        ("tokenizer.ggml.merges".into(), Value::Array(MERGES.iter().map(|m| Value::String(m.to_string())).collect())),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(ENDOFTEXT)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(ENDOFTEXT)),
    ]
}

/// Sets (or adds) `key`.
pub fn set(meta: &mut Vec<(String, Value)>, key: &str, value: Value) {
    meta.retain(|(k, _)| k != key);
    meta.push((key.to_string(), value));
}

pub fn remove(meta: &mut Vec<(String, Value)>, key: &str) {
    meta.retain(|(k, _)| k != key);
}

/// Appends normal tokens (which need no merges to exist) to the vocabulary.
pub fn append_tokens(meta: &mut [(String, Value)], extra: impl IntoIterator<Item = String>) {
    let extra: Vec<String> = extra.into_iter().collect();
    for (k, v) in meta.iter_mut() {
        if let Value::Array(items) = v {
            match k.as_str() {
                "tokenizer.ggml.tokens" => items.extend(extra.iter().cloned().map(Value::String)),
                "tokenizer.ggml.token_type" => items.extend(extra.iter().map(|_| Value::I32(1))),
                _ => {}
            }
        }
    }
}

/// Writes `meta` as a GGUF file without tensors.
pub fn write(dir: &Path, name: &str, meta: &[(String, Value)]) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    let refs: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(&mut file, &refs, &[]).unwrap();
    path
}

/// The tokenizer for `meta`, through a real file.
pub fn load(meta: &[(String, Value)]) -> Tokenizer {
    let dir = tempfile::tempdir().unwrap();
    Tokenizer::from_path(&write(dir.path(), "tiny.gguf", meta)).unwrap()
}

/// The error loading `meta` gives.
pub fn load_err(meta: &[(String, Value)]) -> tandem_models::ModelsError {
    let dir = tempfile::tempdir().unwrap();
    match Tokenizer::from_path(&write(dir.path(), "tiny.gguf", meta)) {
        Ok(_) => panic!("the tokenizer should not load"),
        Err(e) => e,
    }
}

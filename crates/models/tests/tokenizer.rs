//! Tokenizer behaviour on tiny hand-made vocabularies: merges, special tokens, byte-exact
//! decoding, stop ids, and the errors a damaged or foreign file gives.

mod tiny_vocab;

use candle_core::quantized::gguf_file::Value;
use tandem_models::{ModelsError, TokenKind, Tokenizer};
use tiny_vocab::*;

fn tiny() -> Tokenizer {
    load(&metadata())
}

fn bytes_of(text: &str) -> Vec<u32> {
    text.bytes().map(u32::from).collect()
}

#[test]
fn merges_build_words_and_spaces_are_byte_tokens() {
    let tok = tiny();
    assert_eq!(tok.encode("hello", false).unwrap(), [HELLO]);
    // GPT-2 splitting keeps the space with the word; no merge joins "Ġ" and "hello".
    assert_eq!(tok.encode(" hello", false).unwrap(), [b' ' as u32, HELLO]);
    assert_eq!(tok.encode("help", false).unwrap(), [256, b'l' as u32, b'p' as u32]);
    assert_eq!(tok.encode("all", false).unwrap(), [b'a' as u32, 257]);
    assert_eq!(tok.vocab_size(), VOCAB);
}

#[test]
fn control_tokens_are_parsed_only_on_request() {
    let tok = tiny();
    let text = "<|im_start|>hello<|im_end|>";
    assert_eq!(tok.encode(text, true).unwrap(), [IM_START, HELLO, IM_END]);
    let literal = tok.encode(text, false).unwrap();
    assert!(!literal.contains(&IM_START) && !literal.contains(&IM_END), "{literal:?}");
    assert_eq!(tok.decode(&literal), text);
    assert_eq!(tok.decode(&[IM_START, HELLO, IM_END]), text);
}

#[test]
fn user_defined_tokens_are_always_split_and_unused_never() {
    let tok = tiny();
    assert_eq!(tok.encode("a<tool>b", false).unwrap(), [b'a' as u32, TOOL, b'b' as u32]);
    assert_eq!(tok.encode("a<tool>b", true).unwrap(), [b'a' as u32, TOOL, b'b' as u32]);
    assert_eq!(tok.encode("[PAD]", true).unwrap(), bytes_of("[PAD]"));
    assert_eq!(tok.token_kind(TOOL), Some(TokenKind::UserDefined));
    assert_eq!(tok.token_kind(PAD), Some(TokenKind::Unused));
    assert_eq!(tok.special_id("<tool>"), Some(TOOL));
    assert_eq!(tok.special_id("[PAD]"), None);
}

#[test]
fn the_longest_special_token_wins() {
    let mut meta = metadata();
    append_tokens(&mut meta, ["<|im_end|>x".to_string()]);
    let mut types = match meta.iter().find(|(k, _)| k == "tokenizer.ggml.token_type").unwrap().1.clone() {
        Value::Array(v) => v,
        _ => unreachable!(),
    };
    *types.last_mut().unwrap() = Value::I32(3);
    set(&mut meta, "tokenizer.ggml.token_type", Value::Array(types));
    let tok = load(&meta);
    assert_eq!(tok.encode("<|im_end|>x<|im_end|>", true).unwrap(), [VOCAB as u32, IM_END]);
}

#[test]
fn decoding_is_byte_exact() {
    let tok = tiny();
    assert_eq!(tok.token_bytes(b'\n' as u32), Some(&b"\n"[..]));
    assert_eq!(tok.token_text(b'\n' as u32), Some("\u{10a}"));
    assert_eq!(tok.token_bytes(HELLO), Some(&b"hello"[..]));
    assert_eq!(tok.token_bytes(VOCAB as u32), None);
    let text = "héllo wörld\n\t🦀";
    let ids = tok.encode(text, false).unwrap();
    assert_eq!(tok.decode(&ids), text);
    // Half of "é" alone cannot be text; ids outside the vocabulary are marked the same way.
    assert_eq!(tok.decode(&[0xC3]), "\u{FFFD}");
    assert_eq!(tok.decode(&[HELLO, 9999]), "hello\u{FFFD}");
}

#[test]
fn stop_ids_cover_eos_end_of_turn_and_end_of_text() {
    let tok = tiny();
    let s = tok.specials();
    assert_eq!((s.bos, s.eos, s.pad), (Some(ENDOFTEXT), Some(ENDOFTEXT), None));
    // No template: ChatML is the fallback, so <|im_end|> ends a turn.
    assert_eq!(s.eot, Some(IM_END));
    assert_eq!(tok.stop_ids(), [ENDOFTEXT, IM_END]);
    assert!(tok.is_stop(IM_END) && !tok.is_stop(IM_START) && !tok.is_stop(HELLO));
}

#[test]
fn end_of_turn_comes_from_metadata_first() {
    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.eot_token_id", Value::U32(TOOL));
    set(&mut meta, "tokenizer.ggml.padding_token_id", Value::U64(PAD as u64));
    let tok = load(&meta);
    assert_eq!(tok.specials().eot, Some(TOOL));
    assert_eq!(tok.specials().pad, Some(PAD));
    assert_eq!(tok.stop_ids(), [ENDOFTEXT, IM_END, TOOL]);
}

#[test]
fn a_template_without_chatml_markers_has_no_end_of_turn() {
    let mut meta = metadata();
    set(&mut meta, "tokenizer.chat_template", Value::String("{{ messages[0].content }}".into()));
    let tok = load(&meta);
    assert_eq!(tok.specials().eot, None);
    assert_eq!(tok.chat_template_source(), Some("{{ messages[0].content }}"));
    // <|im_end|> still stops generation: a model may emit it anyway.
    assert_eq!(tok.stop_ids(), [ENDOFTEXT, IM_END]);
}

#[test]
fn qwen2_pre_tokenizer_normalizes_and_splits_digits() {
    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.pre", Value::String("qwen2".into()));
    let tok = load(&meta);
    // NFC: "e" + combining acute becomes the single character "é" (bytes C3 A9).
    assert_eq!(tok.encode("e\u{301}", false).unwrap(), [0xC3, 0xA9]);
    assert_eq!(tok.encode("42", false).unwrap(), [b'4' as u32, b'2' as u32]);
}

#[test]
fn foreign_tokenizers_are_unsupported() {
    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.model", Value::String("llama".into()));
    let err = load_err(&meta);
    assert_eq!(err.code(), "unsupported_model");
    assert!(err.to_string().contains("`llama` tokenizer"), "{err}");

    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.pre", Value::String("mystery".into()));
    let err = load_err(&meta);
    assert_eq!(err.code(), "unsupported_model");
    assert!(err.to_string().contains("`mystery`"), "{err}");
}

#[test]
fn damaged_metadata_is_a_bad_file() {
    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.eos_token_id", Value::U32(VOCAB as u32));
    let err = load_err(&meta);
    assert!(matches!(err, ModelsError::BadFile { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.ggml.eos_token_id"), "{err}");

    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.token_type", Value::Array(vec![Value::I32(1)]));
    assert!(load_err(&meta).to_string().contains("265 tokens but 1 token types"));

    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.merges", Value::Array(vec![Value::String("x y".into())]));
    assert!(load_err(&meta).to_string().contains("merge rules"));

    let mut meta = metadata();
    remove(&mut meta, "tokenizer.ggml.tokens");
    assert!(load_err(&meta).to_string().contains("lacks `tokenizer.ggml.tokens`"));

    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.bos_token_id", Value::String("1".into()));
    assert!(load_err(&meta).to_string().contains("`tokenizer.ggml.bos_token_id` should be"));
}

#[test]
fn a_file_that_is_not_gguf_is_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.gguf");
    std::fs::write(&path, "just some text, not a model").unwrap();
    let err = Tokenizer::from_path(&path).err().unwrap();
    assert_eq!(err.code(), "bad_file");
    assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
}

//! The tokenizers of the real catalog models against reference token ids, and streaming
//! detokenisation of text whose characters span tokens.

mod real_models;

use real_models::{real_tokenizer, QWEN_DRAFT, QWEN_TARGET, SMOLLM2};
use tandem_models::{token_piece, TokenKind, TokenStream, Tokenizer};

const ENGLISH: &str = "Hello, world! Speculative decoding is fast.";
const CHINESE: &str = "用三段话解释推测解码。";

fn check_qwen_vectors(tok: &Tokenizer) {
    assert_eq!(tok.encode(ENGLISH, false).unwrap(), [9707, 11, 1879, 0, 10956, 22160, 47116, 374, 4937, 13]);
    assert_eq!(tok.encode(CHINESE, false).unwrap(), [11622, 44991, 37474, 57443, 104136, 117132, 49238, 16476, 1773]);
    assert_eq!(tok.encode("<|im_start|>user\nhi<|im_end|>", true).unwrap(), [151644, 872, 198, 6023, 151645]);
}

#[test]
fn real_qwen_target_matches_reference_ids() {
    check_qwen_vectors(&real_tokenizer(QWEN_TARGET));
}

#[test]
fn real_qwen_draft_matches_reference_ids() {
    check_qwen_vectors(&real_tokenizer(QWEN_DRAFT));
}

#[test]
fn real_smollm2_matches_reference_ids() {
    let tok = real_tokenizer(SMOLLM2);
    assert_eq!(tok.encode(ENGLISH, false).unwrap(), [19556, 28, 905, 17, 4363, 11398, 30081, 314, 3538, 30]);
    // SmolLM2 splits every digit, unlike GPT-2's digit runs.
    let digits = tok.encode("2024", false).unwrap();
    assert_eq!(digits.len(), 4);
    assert_eq!(tok.decode(&digits), "2024");
    let s = tok.specials();
    assert_eq!((s.bos, s.eos, s.eot, s.pad), (Some(1), Some(2), Some(2), Some(2)));
    assert_eq!(tok.stop_ids(), [0, 2]);
}

#[test]
fn real_qwen_special_tokens_and_stops() {
    let tok = real_tokenizer(QWEN_TARGET);
    assert_eq!(tok.vocab_size(), 151936);
    let s = tok.specials();
    assert_eq!((s.bos, s.eos, s.eot, s.pad), (Some(151643), Some(151645), Some(151645), Some(151643)));
    assert_eq!(tok.stop_ids(), [151643, 151645]);
    assert!(tok.is_stop(151643) && tok.is_stop(151645) && !tok.is_stop(151644));
    assert_eq!(tok.special_id("<|im_start|>"), Some(151644));
    assert_eq!(tok.token_kind(151644), Some(TokenKind::Control));
    assert_eq!(tok.token_kind(9707), Some(TokenKind::Normal));
    // A person typing the marker gets characters, not the control token.
    let typed = tok.encode("<|im_end|>", false).unwrap();
    assert!(typed.len() > 1 && !typed.contains(&151645), "{typed:?}");
    assert_eq!(tok.decode(&typed), "<|im_end|>");
    // Added words such as <tool_call> are split out either way, as llama.cpp does.
    assert_eq!(tok.encode("<tool_call>", false).unwrap(), [151657]);
}

#[test]
fn real_qwen_round_trips_text() {
    let tok = real_tokenizer(QWEN_TARGET);
    for text in [
        ENGLISH,
        CHINESE,
        "fn main() {\n    println!(\"{}\", 12345);\n}\n\n\t  trailing  ",
        "emoji 🦀🚀 and accents: café naïve Ωmega",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    ] {
        assert_eq!(tok.decode(&tok.encode(text, true).unwrap()), text);
    }
    // Leading spaces are part of the tokens: "Ġworld" is " world".
    assert_eq!(tok.token_bytes(1879), Some(&b" world"[..]));
}

#[test]
fn real_streaming_chinese_is_byte_exact() {
    let tok = real_tokenizer(QWEN_TARGET);
    // Rare characters (鱻, 猋, 惢, 𪚥, 龘) are split over two or three tokens.
    let text = "三条鱼是鱻，三只狗是猋，惢是三颗心，𪚥是四条龙，龘是三条龙。推测解码：小模型先猜，大模型核对。";
    let ids = tok.encode(text, false).unwrap();
    // The test means something only if some token ends inside a character.
    let splits = ids.iter().filter(|&&id| std::str::from_utf8(tok.token_bytes(id).unwrap()).is_err()).count();
    assert!(splits > 0, "no token of the sample splits a character");

    let mut stream = TokenStream::new(&tok);
    let mut joined = String::new();
    let mut empty_pushes = 0;
    for &id in &ids {
        let piece = stream.push(id);
        assert!(!piece.contains('\u{FFFD}'), "push of {id} gave a broken character: {piece:?}");
        empty_pushes += piece.is_empty() as usize;
        joined.push_str(&piece);
    }
    joined.push_str(&stream.flush());
    assert!(empty_pushes > 0, "a token ending mid-character must yield nothing");
    assert_eq!(joined, tok.decode(&ids));
    assert_eq!(joined, text);
}

#[test]
fn real_token_piece_shows_single_tokens() {
    let tok = real_tokenizer(QWEN_TARGET);
    assert_eq!(token_piece(&tok, 1879), " world");
    assert_eq!(token_piece(&tok, 151645), "<|im_end|>");
    // Half a character cannot be shown; it is marked, not dropped.
    let ids = tok.encode("龘", false).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(token_piece(&tok, ids[0]).contains('\u{FFFD}'));
    assert_eq!(tok.decode(&ids), "龘");
}

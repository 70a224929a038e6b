//! Streaming detokenisation: the UTF-8 buffer against the whole-string decoder on many
//! random splits, and the token stream on characters split across byte tokens.

mod tiny_vocab;

use tandem_models::detok::Utf8Buffer;
use tandem_models::{token_piece, TokenStream};
use tiny_vocab::*;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Valid text with multi-byte characters, sometimes damaged with stray bytes.
fn sample(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&str] = &["a", " ", "é", "ж", "推", "测", "🦀", "\n", "𪚥"];
    const STRAY: &[u8] = &[0x80, 0xBF, 0xC3, 0xE4, 0xF0, 0xFF, 0xED];
    let mut bytes = Vec::new();
    for _ in 0..rng.below(40) {
        if rng.below(6) == 0 {
            bytes.push(STRAY[rng.below(STRAY.len())]);
        } else {
            bytes.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
        }
    }
    bytes
}

#[test]
fn any_split_decodes_like_the_whole() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let bytes = sample(&mut rng);
        let mut buffer = Utf8Buffer::default();
        let mut out = String::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(1 + rng.below(rest.len().min(5)));
            out.push_str(&buffer.push(chunk));
            rest = tail;
        }
        out.push_str(&buffer.flush());
        assert!(buffer.is_empty());
        assert_eq!(out, String::from_utf8_lossy(&bytes), "bytes {bytes:x?}");
    }
}

#[test]
fn valid_text_is_never_replaced_while_streaming() {
    let text = "é推🦀";
    let mut buffer = Utf8Buffer::default();
    let pieces: Vec<String> = text.bytes().map(|b| buffer.push(&[b])).collect();
    assert_eq!(pieces, ["", "é", "", "", "推", "", "", "", "🦀"]);
    assert_eq!(buffer.flush(), "");
}

#[test]
fn a_character_split_over_tokens_appears_with_its_last_token() {
    let tok = load(&metadata());
    // "é" is C3 A9: two byte tokens.
    let ids = [HELLO, 0xC3, 0xA9, b'!' as u32];
    let mut stream = TokenStream::new(&tok);
    let pieces: Vec<String> = ids.iter().map(|&id| stream.push(id)).collect();
    assert_eq!(pieces, ["hello", "", "é", "!"]);
    assert_eq!(stream.flush(), "");
    assert_eq!(pieces.concat(), tok.decode(&ids));
}

#[test]
fn an_unfinished_character_is_marked_at_the_end() {
    let tok = load(&metadata());
    let mut stream = TokenStream::new(&tok);
    assert_eq!(stream.push(0xE4), "");
    assert_eq!(stream.push(0xB8), "");
    assert_eq!(stream.flush(), "\u{FFFD}");
    assert_eq!(tok.decode(&[0xE4, 0xB8]), "\u{FFFD}");
    // An id outside the vocabulary ends the pending bytes and is marked itself.
    assert_eq!(stream.push(0xC3), "");
    assert_eq!(stream.push(VOCAB as u32 + 5), "\u{FFFD}\u{FFFD}");
    assert_eq!(tok.decode(&[0xC3, VOCAB as u32 + 5]), "\u{FFFD}\u{FFFD}");
}

#[test]
fn token_piece_shows_one_token() {
    let tok = load(&metadata());
    assert_eq!(token_piece(&tok, HELLO), "hello");
    assert_eq!(token_piece(&tok, b' ' as u32), " ");
    assert_eq!(token_piece(&tok, IM_END), "<|im_end|>");
    assert_eq!(token_piece(&tok, 0xC3), "\u{FFFD}");
    assert_eq!(token_piece(&tok, VOCAB as u32), "\u{FFFD}");
}

//! Streaming detokenisation: text as tokens arrive, never a broken character.
//!
//! A byte-level BPE token may end in the middle of a UTF-8 character (most Chinese
//! characters are three bytes spread over two tokens). [`TokenStream`] holds such a tail
//! back until the token that completes it arrives.
//!
//! Invariant: the concatenation of every [`TokenStream::push`] and the final
//! [`TokenStream::flush`] equals [`Tokenizer::decode`] of all the pushed ids.

use crate::tokenizer::Tokenizer;

/// Turns arriving token ids into text.
pub struct TokenStream<'a> {
    tokenizer: &'a Tokenizer,
    buffer: Utf8Buffer,
}

impl<'a> TokenStream<'a> {
    pub fn new(tokenizer: &'a Tokenizer) -> TokenStream<'a> {
        TokenStream { tokenizer, buffer: Utf8Buffer::default() }
    }

    /// The text completed by token `id`; "" when it ends mid-character. An id outside the
    /// vocabulary stands for U+FFFD, as in [`Tokenizer::decode`].
    pub fn push(&mut self, id: u32) -> String {
        match self.tokenizer.token_bytes(id) {
            Some(bytes) => self.buffer.push(bytes),
            None => {
                let mut text = self.buffer.flush();
                text.push(char::REPLACEMENT_CHARACTER);
                text
            }
        }
    }

    /// Whatever is held back (an unfinished character, shown as U+FFFD); call at the end.
    pub fn flush(&mut self) -> String {
        self.buffer.flush()
    }
}

/// How a single token looks on its own, e.g. a draft token that was rejected. Lossy: a
/// token that is part of a character shows as U+FFFD.
pub fn token_piece(tokenizer: &Tokenizer, id: u32) -> String {
    match tokenizer.token_bytes(id) {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => char::REPLACEMENT_CHARACTER.to_string(),
    }
}

/// Bytes in, complete UTF-8 text out.
///
/// Invariant: the concatenated output of any sequence of `push` calls followed by `flush`
/// equals `String::from_utf8_lossy` of the concatenated input, however the input is split.
/// This holds because UTF-8 decoding is a left-to-right automaton: an unfinished sequence
/// at the end is held back, and a sequence is replaced by U+FFFD only once it is known to
/// be invalid, exactly where the whole-string decoder would replace it.
#[derive(Default)]
pub struct Utf8Buffer {
    pending: Vec<u8>,
}

impl Utf8Buffer {
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(s) => {
                    out.push_str(s);
                    start = self.pending.len();
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[start..start + valid]).expect("checked valid"));
                    start += valid;
                    match e.error_len() {
                        // Invalid whatever follows: replace it, as the lossy decoder does.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start += bad;
                        }
                        // The start of a character whose remaining bytes have not arrived.
                        None => break,
                    }
                }
            }
        }
        self.pending.drain(..start);
        out
    }

    /// Ends the stream: an unfinished character becomes U+FFFD.
    pub fn flush(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }

    /// True when no bytes are held back.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

//! Stop strings: the engine works on token ids, so the text side decides where a stop
//! string cuts the answer.

use std::sync::Arc;

use crate::tokenizer::Tokenizer;

/// Watches the generated ids for any of `stops` and, once one appears, says how many
/// tokens to keep: every token that ends before the stop string begins (a token that
/// straddles the start is dropped with it, since ids cannot hold half a token).
///
/// Invariant: `bytes` is the byte concatenation of the ids seen so far and `ends[i]` the
/// end of token i in it, so each call only decodes the new tokens and searches the tail
/// where a new match can be.
pub struct StopStrings {
    tokenizer: Arc<Tokenizer>,
    stops: Vec<Vec<u8>>,
    longest: usize,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl StopStrings {
    /// Empty stop strings are ignored.
    pub fn new(tokenizer: Arc<Tokenizer>, stops: &[String]) -> StopStrings {
        let stops: Vec<Vec<u8>> = stops.iter().filter(|s| !s.is_empty()).map(|s| s.as_bytes().to_vec()).collect();
        let longest = stops.iter().map(Vec::len).max().unwrap_or(0);
        StopStrings { tokenizer, stops, longest, bytes: Vec::new(), ends: Vec::new() }
    }

    /// Given every generated id so far, the number of tokens to keep if a stop string has
    /// appeared, else `None`.
    pub fn check(&mut self, ids: &[u32]) -> Option<usize> {
        if self.stops.is_empty() {
            return None;
        }
        if ids.len() < self.ends.len() {
            // The output was cut back: start over from what remains.
            self.bytes.clear();
            self.ends.clear();
        }
        let searched_to = self.bytes.len();
        for &id in &ids[self.ends.len()..] {
            self.bytes.extend_from_slice(self.tokenizer.token_bytes(id).unwrap_or_default());
            self.ends.push(self.bytes.len());
        }
        let from = searched_to.saturating_sub(self.longest.saturating_sub(1));
        let start = self.stops.iter().filter_map(|s| find(&self.bytes[from..], s).map(|i| from + i)).min()?;
        Some(self.ends.iter().take_while(|&&end| end <= start).count())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

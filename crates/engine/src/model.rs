//! The interface the engine needs from a language model.

/// A token id in the model's vocabulary.
pub type TokenId = u32;

/// Which positions of a forward pass need logits.
///
/// Prefill of a long prompt only needs the last row; verification needs every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogitsWanted {
    /// Only the logits after the last token of the call.
    Last,
    /// Logits after every token of the call.
    All,
}

/// Logits of one forward call: `rows` rows of `vocab` values, row-major.
#[derive(Clone, Debug, Default)]
pub struct Logits {
    pub rows: usize,
    pub vocab: usize,
    pub data: Vec<f32>,
}

impl Logits {
    /// The distribution (unnormalised) over the token that follows row `i`'s input token.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.vocab..(i + 1) * self.vocab]
    }
}

/// Errors a model can report to the engine.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the conversation is longer than this model's context ({max} tokens)")]
    ContextFull { max: usize },
    #[error("{0}")]
    Other(String),
}

/// A causal language model with a KV cache that can be truncated.
///
/// Invariants every implementation keeps:
/// - `forward(tokens)` appends `tokens` at positions `cached_len()..cached_len()+tokens.len()`.
/// - **Row exactness**: row `i` of a k-token call is bit-identical to the logits a 1-token
///   call would give for the same token at the same position with the same cache. This is
///   what makes greedy speculative output identical to plain decoding, not merely close.
/// - `truncate(len)` forgets every position `>= len`; afterwards the model behaves exactly
///   as if those tokens had never been fed.
pub trait Model: Send {
    /// Number of logits per row. May exceed the tokenizer's vocabulary (padding rows).
    fn vocab_size(&self) -> usize;
    /// Longest sequence (prompt plus generated) the model accepts.
    fn max_context(&self) -> usize;
    /// Number of positions currently held in the KV cache.
    fn cached_len(&self) -> usize;
    /// Runs the model over `tokens` (non-empty) and returns the wanted logits
    /// (`tokens.len()` rows for [`LogitsWanted::All`], one row for [`LogitsWanted::Last`]).
    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Result<Logits, ModelError>;
    /// Drops every cached position at or after `len` (no-op if `len >= cached_len()`).
    fn truncate(&mut self, len: usize);
    /// The widest call (in tokens) whose rows keep the row-exactness invariant. Models whose
    /// kernels are exact by construction keep the default; a model running on kernels it does
    /// not own (a GPU library's) measures it, and the generator never verifies more than this
    /// many tokens at once. 1 means every step is a plain one.
    fn exact_rows(&self) -> usize {
        usize::MAX
    }
}

//! Drafting with a small language model that keeps its own KV cache.

use crate::drafter::{Drafter, DrafterKind, Proposal};
use crate::error::EngineError;
use crate::model::{LogitsWanted, Model, TokenId};
use crate::prefix::common_prefix;
use crate::rng::Rng;
use crate::sampler::{self, SamplingParams};

/// A draft model kept in sync with the accepted sequence by itself.
///
/// Invariants:
/// - `fed` is exactly what the model's KV cache holds (`fed.len() == model.cached_len()`).
/// - `last_row`, when `Some`, holds the logits after the last token of `fed`.
/// - The model is never fed more than `max_context()` positions.
/// - Only ids `< vocab_limit` (the ids the target also has) are ever proposed.
/// - Drafting stops early only when the draft's own estimate that every token so far will
///   be accepted falls below `stop_below`: the first token is always proposed.
pub struct ModelDrafter<M: Model> {
    model: M,
    fed: Vec<TokenId>,
    last_row: Option<Vec<f32>>,
    vocab_limit: usize,
    stop_below: f32,
}

impl<M: Model> ModelDrafter<M> {
    /// Wraps `model`, proposing only ids below `target_vocab` (the number of logit rows the
    /// target has): a draft vocabulary with extra tail ids must never propose them.
    pub fn new(mut model: M, target_vocab: usize) -> Self {
        // The cache may hold tokens we cannot name; start from a known-empty state.
        model.truncate(0);
        let vocab_limit = model.vocab_size().min(target_vocab);
        ModelDrafter { model, fed: Vec::new(), last_row: None, vocab_limit, stop_below: 0.0 }
    }

    /// Stops a draft early once the product of the draft's probabilities for its own
    /// tokens (its estimate that the target accepts all of them) would fall below
    /// `threshold`: a guess the draft itself doubts mostly costs a verification row for
    /// nothing. The output cannot change; only how much is guessed.
    pub fn stopping_below(mut self, threshold: f32) -> Self {
        self.stop_below = threshold;
        self
    }

    /// The wrapped model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Feeds whatever part of `context` the cache lacks (one batched forward) so that
    /// `fed == context` and `last_row` holds the logits after it. `context` must be
    /// non-empty and fit the model's context.
    fn sync(&mut self, context: &[TokenId]) -> Result<(), EngineError> {
        if self.model.cached_len() != self.fed.len() {
            self.reset();
        }
        let mut common = common_prefix(&self.fed, context);
        if common == context.len() && common == self.fed.len() && self.last_row.is_some() {
            return Ok(());
        }
        // A forward needs at least one token; re-feed the last one to get its logits.
        if common == context.len() {
            common -= 1;
        }
        self.model.truncate(common);
        self.fed.truncate(common);
        self.last_row = None;
        self.feed(&context[common..])
    }

    /// Appends `tokens` to the cache and keeps the logits after the last of them.
    fn feed(&mut self, tokens: &[TokenId]) -> Result<(), EngineError> {
        match self.model.forward(tokens, LogitsWanted::Last) {
            Ok(logits) => {
                self.fed.extend_from_slice(tokens);
                self.last_row = Some(logits.row(logits.rows - 1).to_vec());
                Ok(())
            }
            Err(e) => {
                // The cache may be half-written; forget it rather than trust it.
                self.reset();
                Err(EngineError::from_draft(e))
            }
        }
    }

    /// Tokens of `context` not yet in the cache.
    fn missing(&self, context: &[TokenId]) -> usize {
        if self.model.cached_len() != self.fed.len() {
            return context.len();
        }
        context.len() - common_prefix(&self.fed, context)
    }

    fn reset(&mut self) {
        self.model.truncate(0);
        self.fed.clear();
        self.last_row = None;
    }
}

impl<M: Model> Drafter for ModelDrafter<M> {
    fn kind(&self) -> DrafterKind {
        DrafterKind::Model
    }

    fn backlog(&mut self, context: &[TokenId]) -> usize {
        self.missing(context)
    }

    fn propose(
        &mut self,
        context: &[TokenId],
        k: usize,
        sampling: &SamplingParams,
        rng: &mut Rng,
    ) -> Result<Proposal, EngineError> {
        let max = self.model.max_context();
        if context.is_empty() || context.len() > max {
            return Ok(Proposal::empty());
        }
        // Drafting k tokens feeds the context plus the first k-1 of them.
        let k = k.min(max + 1 - context.len());
        if k == 0 {
            return Ok(Proposal::empty());
        }
        self.sync(context)?;
        let mut tokens = Vec::with_capacity(k);
        let mut dists = Vec::new();
        // The draft's estimate that every token proposed so far is accepted.
        let mut all_accepted = 1f32;
        for j in 0..k {
            let full = self.last_row.take().expect("sync and feed leave the logits after the cache");
            let row = &full[..self.vocab_limit];
            let (token, q) = if sampling.is_greedy() {
                let t = sampler::argmax(row)?;
                (t, None)
            } else {
                let q = sampler::distribution(row, sampling)?;
                (sampler::sample(&q, rng)?, Some(q))
            };
            if self.stop_below > 0.0 {
                let p = match &q {
                    Some(q) => q[token as usize],
                    None => softmax_at(row, token as usize),
                };
                all_accepted *= p;
                if j > 0 && all_accepted < self.stop_below {
                    // `fed` ends with the previous token and `full` is the row after it.
                    self.last_row = Some(full);
                    break;
                }
            }
            dists.extend(q);
            tokens.push(token);
            if j + 1 < k {
                self.feed(&[token])?;
            }
        }
        let dists = (!sampling.is_greedy()).then_some(dists);
        Ok(Proposal { tokens, dists })
    }

    fn prepare(&mut self, context: &[TokenId]) -> Result<(), EngineError> {
        if context.is_empty() || context.len() > self.model.max_context() {
            return Ok(());
        }
        self.sync(context)
    }
}

/// The probability of `index` under the softmax of `logits` (temperature 1).
fn softmax_at(logits: &[f32], index: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    (logits[index] - max).exp() / sum
}

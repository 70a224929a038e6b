//! Drafting with a small language model that keeps its own KV cache.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::drafter::{Drafter, DrafterKind, Proposal};
use crate::error::EngineError;
use crate::generate::PREFILL_PIECE;
use crate::hindsight::Hindsight;
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
///   be accepted falls below `stop_below` (that token is not proposed; the first always
///   is) or below `feed_above` (that token is proposed, but not fed to weigh the next).
///   `feed_above >= stop_below`.
pub struct ModelDrafter<M: Model> {
    model: M,
    fed: Vec<TokenId>,
    last_row: Option<Vec<f32>>,
    vocab_limit: usize,
    stop_below: f32,
    feed_above: f32,
}

impl<M: Model> ModelDrafter<M> {
    /// Wraps `model`, proposing only ids below `target_vocab` (the number of logit rows the
    /// target has): a draft vocabulary with extra tail ids must never propose them.
    pub fn new(mut model: M, target_vocab: usize) -> Self {
        // The cache may hold tokens we cannot name; start from a known-empty state.
        model.truncate(0);
        let vocab_limit = model.vocab_size().min(target_vocab);
        ModelDrafter { model, fed: Vec::new(), last_row: None, vocab_limit, stop_below: 0.0, feed_above: 0.0 }
    }

    /// Stops a draft early once the product of the draft's probabilities for its own
    /// tokens (its estimate that the target accepts all of them) would fall below
    /// `threshold`: a guess the draft itself doubts mostly costs a verification row for
    /// nothing. Drafting past a guess then also needs the estimate at `threshold` at least,
    /// unless [`ModelDrafter::feeding_above`] asks for more. The output cannot change; only
    /// how much is guessed.
    pub fn stopping_below(mut self, threshold: f32) -> Self {
        self.stop_below = threshold;
        self.feed_above = self.feed_above.max(threshold);
        self
    }

    /// Drafts past a guess only while the estimate with it is at least `threshold` (never
    /// less than the stopping threshold). The two differ in what they cost: a guess already
    /// weighed costs only its verification row, a small part of a target call, while the
    /// next costs a whole draft forward before its doubt is even known. So a guess worth
    /// proposing can still be one not worth drafting past.
    pub fn feeding_above(mut self, threshold: f32) -> Self {
        self.feed_above = threshold.max(self.stop_below);
        self
    }

    /// The wrapped model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Feeds whatever part of `context` the cache lacks (one batched forward) so that
    /// `fed == context` and `last_row` holds the logits after it, and returns how many
    /// forwards that took (0 or 1). `context` must be non-empty and fit the model's context.
    fn sync(&mut self, context: &[TokenId]) -> Result<usize, EngineError> {
        if self.model.cached_len() != self.fed.len() {
            self.reset();
        }
        let mut common = common_prefix(&self.fed, context);
        if common == context.len() && common == self.fed.len() && self.last_row.is_some() {
            return Ok(0);
        }
        // A forward needs at least one token; re-feed the last one to get its logits.
        if common == context.len() {
            common -= 1;
        }
        self.model.truncate(common);
        self.fed.truncate(common);
        self.last_row = None;
        self.feed(&context[common..])?;
        Ok(1)
    }

    /// Appends `tokens` to the cache and keeps the logits after the last of them.
    fn feed(&mut self, tokens: &[TokenId]) -> Result<(), EngineError> {
        match self.model.forward(tokens, LogitsWanted::Last) {
            Ok(mut logits) => {
                self.fed.extend_from_slice(tokens);
                // The last row, without copying a vocabulary's worth of floats per token.
                logits.data.drain(..(logits.rows - 1) * logits.vocab);
                self.last_row = Some(logits.data);
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

    fn model_stops_on_doubt(&self) -> bool {
        self.stop_below > 0.0
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
        let mut forwards = self.sync(context)?;
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
                // Below this, this token would take the estimate under the threshold.
                let floor = self.stop_below / all_accepted;
                let p = match &q {
                    Some(q) => Some(q[token as usize]).filter(|&p| p >= floor),
                    None => greedy_probability(row, row[token as usize], floor),
                };
                all_accepted = p.map_or(0.0, |p| all_accepted * p);
                if j > 0 && p.is_none() {
                    // `fed` ends with the previous token and `full` is the row after it.
                    self.last_row = Some(full);
                    break;
                }
            }
            dists.extend(q);
            tokens.push(token);
            if self.feed_above > 0.0 && all_accepted < self.feed_above {
                // Proposed, but too doubtful to be worth a forward that weighs the next.
                self.last_row = Some(full);
                break;
            }
            if j + 1 < k {
                self.feed(&[token])?;
                forwards += 1;
            }
        }
        let dists = (!sampling.is_greedy()).then_some(dists);
        Ok(Proposal { tokens, dists, forwards })
    }

    /// Reads what the cache lacks [`PREFILL_PIECE`] tokens at a time, checking `cancel`
    /// before each piece.
    fn prepare(&mut self, context: &[TokenId], cancel: &AtomicBool) -> Result<(), EngineError> {
        if context.is_empty() || context.len() > self.model.max_context() {
            return Ok(());
        }
        let mut end = context.len() - self.missing(context);
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Ok(());
            }
            end = (end + PREFILL_PIECE).min(context.len());
            self.sync(&context[..end])?;
            if end == context.len() {
                return Ok(());
            }
        }
    }

    /// The model's greedy choice after the prompt and every prefix of the answer, read in
    /// calls of [`HINDSIGHT_ROWS`] tokens rather than drafted position by position. A greedy
    /// draft is right exactly as long as each of these choices is, so the runs are the
    /// draft's with no doubt stop. Positions whose context would not fit get no guess, as
    /// `propose` gives none there.
    fn hindsight(&mut self, prompt: &[TokenId], answer: &[TokenId], k: usize) -> Result<Vec<Hindsight>, EngineError> {
        let mut next = vec![None; answer.len()];
        let max = self.model.max_context();
        if !prompt.is_empty() && prompt.len() <= max && !answer.is_empty() {
            self.sync(prompt)?;
            let first = self.last_row.as_ref().expect("sync leaves the logits after the context");
            next[0] = Some(sampler::argmax(&first[..self.vocab_limit])?);
            // Feeding the answer's first i tokens gives the guess at position i.
            let fed = (answer.len() - 1).min(max - prompt.len());
            for piece in answer[..fed].chunks(HINDSIGHT_ROWS) {
                let at = self.fed.len() - prompt.len();
                let logits = self.model.forward(piece, LogitsWanted::All).map_err(|e| {
                    self.reset();
                    EngineError::from_draft(e)
                })?;
                self.fed.extend_from_slice(piece);
                for r in 0..logits.rows {
                    next[at + r + 1] = Some(sampler::argmax(&logits.row(r)[..self.vocab_limit])?);
                }
                self.last_row = Some(logits.row(logits.rows - 1).to_vec());
            }
        }
        Ok(vec![Hindsight::from_next_tokens(DrafterKind::Model, answer, &next, k)])
    }
}

/// Answer tokens per call when [`ModelDrafter::hindsight`] reads an answer: every row's
/// logits are kept, a vocabulary's worth each (19 MiB for 32 rows of 152k).
const HINDSIGHT_ROWS: usize = 32;

/// Logits further than this below the row's maximum are left out of
/// [`greedy_probability`]'s sum: each would add less than e^-16 (about 1e-7) of the top
/// token's own term.
const NEGLIGIBLE_BELOW_MAX: f32 = 16.0;

/// The softmax probability (temperature 1) of the row's largest logit `max`, or `None` as
/// soon as the sum shows it is below `floor`.
///
/// It needs every logit within [`NEGLIGIBLE_BELOW_MAX`] of the maximum, and checks sixteen
/// at a time whether any is: a confident row of a 152k vocabulary (most logits far below
/// its maximum, or masked) then takes a few microseconds, where an `exp` of every logit took
/// half a millisecond for each drafted token. A flat row is where the sum passes `1 / floor`
/// early. The logits left out make the estimate high by at most 1e-7 each, far below what
/// decides a stop.
fn greedy_probability(row: &[f32], max: f32, floor: f32) -> Option<f32> {
    const LANES: usize = 16;
    let cut = max - NEGLIGIBLE_BELOW_MAX;
    let limit = 1.0 / floor;
    let term = |x: f32| if x > cut { (x - max).exp() } else { 0.0 };
    let chunks = row.chunks_exact(LANES);
    let mut sum: f32 = chunks.remainder().iter().map(|&x| term(x)).sum();
    for chunk in chunks {
        if chunk.iter().fold(false, |near, &x| near | (x > cut)) {
            sum += chunk.iter().map(|&x| term(x)).sum::<f32>();
            if sum > limit {
                return None;
            }
        }
    }
    (sum <= limit).then(|| 1.0 / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probability of the row's maximum, in f64 over every logit.
    fn exact(row: &[f32]) -> f64 {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        1.0 / row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>()
    }

    #[test]
    fn greedy_probability_is_the_softmax_of_the_maximum_or_none_below_the_floor() {
        let mut rng = Rng::new(11);
        for (len, spread) in [(1, 1.0), (15, 3.0), (17, 0.5), (1000, 8.0), (4099, 30.0), (4099, 0.1)] {
            let row: Vec<f32> = (0..len)
                .map(|_| match rng.next_f64() {
                    u if u < 0.2 => f32::NEG_INFINITY,
                    u => (u * spread) as f32,
                })
                .collect();
            let row = if row.iter().all(|x| x.is_infinite()) { vec![0.0] } else { row };
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let p = exact(&row);
            let got = greedy_probability(&row, max, 1e-9).expect("above a tiny floor");
            assert!((got as f64 - p).abs() <= 1e-5 * p, "{len} x {spread}: {got} against {p}");
            // Clearly on either side of the floor: a value, or none.
            assert!(greedy_probability(&row, max, (p * 0.99) as f32).is_some());
            assert_eq!(greedy_probability(&row, max, (p * 1.01) as f32), None, "{len} x {spread}");
        }
    }

    #[test]
    fn logits_far_below_the_maximum_are_left_out() {
        // 4096 logits 20 below the maximum hold 4096 * e^-20 ~ 8e-6 of the mass.
        let mut row = vec![-20f32; 4096];
        row[100] = 0.0;
        let got = greedy_probability(&row, 0.0, 0.5).unwrap();
        assert_eq!(got, 1.0);
        assert!((got as f64 - exact(&row)).abs() < 1e-5);
    }
}

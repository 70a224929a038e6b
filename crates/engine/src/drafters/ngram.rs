//! Prompt lookup: propose what followed the most recent earlier occurrence of the
//! context's longest matching suffix.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use crate::drafter::{Drafter, DrafterKind, Proposal};
use crate::error::EngineError;
use crate::model::TokenId;
use crate::prefix::common_prefix;
use crate::rng::Rng;
use crate::sampler::SamplingParams;

/// Settings of the n-gram drafter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NgramConfig {
    /// Shortest suffix that may match (at least 1).
    pub min_n: usize,
    /// Longest suffix tried first.
    pub max_n: usize,
}

impl NgramConfig {
    /// Prompt lookup beside a draft model ([`HybridDrafter`]): only suffixes of three tokens
    /// or more, because every step the lookup answers is a step the model does not. On the
    /// default pair (the bench prompts, four tokens drafted per step) the draft model had
    /// 59–100% of its tokens accepted per prompt, one-token matches 0–14% and two-token
    /// matches 0–50%; three and four tokens, 25–100%.
    ///
    /// [`HybridDrafter`]: crate::HybridDrafter
    pub const BESIDE_MODEL: NgramConfig = NgramConfig { min_n: 3, max_n: 4 };
}

impl Default for NgramConfig {
    /// Prompt lookup alone. Two tokens is the shortest suffix worth a draft: with four
    /// tokens drafted per step on the bench prompts, allowing one-token matches was slower
    /// on five prompts of six than requiring two, and requiring three was no faster.
    fn default() -> Self {
        NgramConfig { min_n: 2, max_n: 4 }
    }
}

/// A deterministic drafter over the prompt plus everything generated.
///
/// Invariants: `tokens` is the last context seen; `index` maps the hash of every n-gram
/// (`min_n <= n <= max_n`) of `tokens` to the end positions of its occurrences, ascending.
/// The index is updated incrementally (appends, and truncation when the context diverges),
/// so a step costs O(max_n²) plus the new tokens, not a rescan of the context.
pub struct NgramDrafter {
    cfg: NgramConfig,
    tokens: Vec<TokenId>,
    index: HashMap<u64, Vec<u32>>,
}

/// A hash of an n-gram; different lengths hash apart. Collisions are possible, so every
/// hit is confirmed against the tokens themselves.
fn gram_key(gram: &[TokenId]) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64 ^ gram.len() as u64;
    for &t in gram {
        h = (h ^ t as u64).wrapping_mul(0x0000_0100_0000_01B3);
        h ^= h >> 29;
    }
    h
}

impl NgramDrafter {
    /// A drafter with `cfg`, with `min_n` raised to 1 and `max_n` to `min_n` if lower.
    pub fn new(cfg: NgramConfig) -> Self {
        let min_n = cfg.min_n.max(1);
        let cfg = NgramConfig { min_n, max_n: cfg.max_n.max(min_n) };
        NgramDrafter { cfg, tokens: Vec::new(), index: HashMap::new() }
    }

    /// Makes `tokens` equal `context`, updating the index only where they differ.
    fn sync(&mut self, context: &[TokenId]) {
        let common = common_prefix(&self.tokens, context);
        for pos in (common..self.tokens.len()).rev() {
            self.unindex(pos);
        }
        self.tokens.truncate(common);
        for &t in &context[common..] {
            self.tokens.push(t);
            self.index_at(self.tokens.len() - 1);
        }
    }

    fn grams_ending_at(&self, pos: usize) -> impl Iterator<Item = u64> + '_ {
        (self.cfg.min_n..=self.cfg.max_n)
            .filter(move |&n| pos + 1 >= n)
            .map(move |n| gram_key(&self.tokens[pos + 1 - n..=pos]))
    }

    fn index_at(&mut self, pos: usize) {
        let keys: Vec<u64> = self.grams_ending_at(pos).collect();
        for key in keys {
            self.index.entry(key).or_default().push(pos as u32);
        }
    }

    /// Removes position `pos`, which must be the last indexed position.
    fn unindex(&mut self, pos: usize) {
        let keys: Vec<u64> = self.grams_ending_at(pos).collect();
        for key in keys {
            let list = self.index.get_mut(&key).expect("every indexed gram has a list");
            let last = list.pop();
            debug_assert_eq!(last, Some(pos as u32));
            if list.is_empty() {
                self.index.remove(&key);
            }
        }
    }

    /// Whether a proposal for `context` would find an earlier match.
    pub fn has_match(&mut self, context: &[TokenId]) -> bool {
        self.sync(context);
        self.find().is_some()
    }

    /// Where the continuation of the best earlier match starts, if there is one.
    fn find(&self) -> Option<usize> {
        let len = self.tokens.len();
        for n in (self.cfg.min_n..=self.cfg.max_n).rev() {
            if len < n + 1 {
                continue;
            }
            let suffix = &self.tokens[len - n..];
            let Some(list) = self.index.get(&gram_key(suffix)) else { continue };
            // Most recent first; the suffix itself (ending at len-1) is not an earlier match.
            let found =
                list.iter().rev().map(|&e| e as usize).find(|&e| e + 1 < len && &self.tokens[e + 1 - n..=e] == suffix);
            if let Some(end) = found {
                return Some(end + 1);
            }
        }
        None
    }
}

impl Drafter for NgramDrafter {
    fn kind(&self) -> DrafterKind {
        DrafterKind::Ngram
    }

    /// Proposes the `k` tokens that followed the match. When the match is so recent that
    /// its continuation runs into the present, the pattern is continued periodically
    /// (after "a b a b", matching "a b" proposes "a b a b ...").
    fn propose(
        &mut self,
        context: &[TokenId],
        k: usize,
        _sampling: &SamplingParams,
        _rng: &mut Rng,
    ) -> Result<Proposal, EngineError> {
        self.sync(context);
        let Some(start) = self.find().filter(|_| k > 0) else { return Ok(Proposal::empty()) };
        let len = self.tokens.len();
        let mut tokens: Vec<TokenId> = Vec::with_capacity(k);
        for j in 0..k {
            let i = start + j;
            // start < len, so i - len < j: the periodic continuation only reads proposed tokens.
            let t = if i < len { self.tokens[i] } else { tokens[i - len] };
            tokens.push(t);
        }
        Ok(Proposal { tokens, dists: None, forwards: 0 })
    }

    /// Indexing is cheap next to any model's reading, so it is never cut short.
    fn prepare(&mut self, context: &[TokenId], _cancel: &AtomicBool) -> Result<(), EngineError> {
        self.sync(context);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn propose(d: &mut NgramDrafter, ctx: &[TokenId], k: usize) -> Vec<TokenId> {
        d.propose(ctx, k, &SamplingParams::greedy(), &mut Rng::new(0)).unwrap().tokens
    }

    #[test]
    fn longest_suffix_wins_over_a_more_recent_shorter_match() {
        let mut d = NgramDrafter::new(NgramConfig::default());
        // "1 2 3" was followed by 4; "2 3" alone was more recently followed by 9.
        let ctx = [1, 2, 3, 4, 5, 2, 3, 9, 8, 1, 2, 3];
        assert_eq!(propose(&mut d, &ctx, 3), vec![4, 5, 2]);
    }

    #[test]
    fn most_recent_occurrence_of_the_same_gram_wins() {
        let mut d = NgramDrafter::new(NgramConfig::default());
        let ctx = [7, 8, 1, 7, 8, 2, 7, 8];
        assert_eq!(propose(&mut d, &ctx, 1), vec![2]);
    }

    #[test]
    fn no_match_gives_an_empty_proposal() {
        let mut d = NgramDrafter::new(NgramConfig::default());
        assert!(propose(&mut d, &[1, 2, 3, 4], 4).is_empty());
        assert!(propose(&mut d, &[], 4).is_empty());
        assert!(propose(&mut d, &[1, 2, 1], 0).is_empty());
    }

    #[test]
    fn periodic_patterns_continue_past_the_present() {
        let mut d = NgramDrafter::new(NgramConfig::default());
        assert_eq!(propose(&mut d, &[5, 1, 2, 1, 2], 5), vec![1, 2, 1, 2, 1]);
        assert_eq!(propose(&mut d, &[3, 3, 3], 3), vec![3, 3, 3]);
    }

    #[test]
    fn min_n_excludes_short_matches() {
        let mut d = NgramDrafter::new(NgramConfig { min_n: 2, max_n: 3 });
        assert!(propose(&mut d, &[1, 2, 1], 2).is_empty());
        assert_eq!(propose(&mut d, &[1, 2, 3, 1, 2], 1), vec![3]);
    }

    #[test]
    fn incremental_index_equals_a_fresh_one_after_divergence() {
        // Grow the context, then rewrite its tail (a new conversation turn): the
        // incrementally maintained drafter must answer exactly like a freshly built one.
        let mut inc = NgramDrafter::new(NgramConfig::default());
        let mut state = 12345u64;
        let mut ctx: Vec<TokenId> = Vec::new();
        for step in 0..400 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if step % 37 == 36 {
                let cut = ctx.len() - (state >> 60) as usize % ctx.len().max(1);
                ctx.truncate(cut);
            } else {
                ctx.push(((state >> 33) % 6) as TokenId);
            }
            let mut fresh = NgramDrafter::new(NgramConfig::default());
            assert_eq!(propose(&mut inc, &ctx, 4), propose(&mut fresh, &ctx, 4), "step {step}");
            assert_eq!(inc.index, fresh.index);
        }
    }
}

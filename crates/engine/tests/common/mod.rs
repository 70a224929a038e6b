//! Deterministic toy models for the engine's tests.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use tandem_engine::{Logits, LogitsWanted, Model, ModelError, TokenId};

/// A 64-bit mix (splitmix64 finaliser) used to derive pseudo-random logits.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A language model whose next-token logits are a hash of (seed, the last `order` tokens).
///
/// It has a real truncatable cache and honours row exactness trivially (every row depends
/// only on the cached tokens before it). Because the logits depend on a short window only,
/// greedy continuations eventually repeat, which gives prompt lookup something to find.
#[derive(Clone)]
pub struct ToyModel {
    pub seed: u64,
    pub vocab: usize,
    pub order: usize,
    pub max_context: usize,
    pub cache: Vec<TokenId>,
    /// Tokens passed to `forward` over the model's life.
    pub fed_total: usize,
    pub forward_calls: usize,
    /// What [`Model::exact_rows`] reports.
    pub exact_rows: usize,
}

impl ToyModel {
    pub fn new(seed: u64, vocab: usize) -> Self {
        ToyModel {
            seed,
            vocab,
            order: 2,
            max_context: 4096,
            cache: Vec::new(),
            fed_total: 0,
            forward_calls: 0,
            exact_rows: usize::MAX,
        }
    }

    /// The logits after the cached prefix `history` (non-empty).
    pub fn row_for(&self, history: &[TokenId]) -> Vec<f32> {
        let window = &history[history.len().saturating_sub(self.order)..];
        let mut h = mix(self.seed ^ 0xA5A5_0000);
        for &t in window {
            h = mix(h ^ t as u64);
        }
        (0..self.vocab).map(|i| (mix(h ^ (i as u64) << 32) >> 40) as f32 / (1u64 << 22) as f32).collect()
    }
}

impl Model for ToyModel {
    fn vocab_size(&self) -> usize {
        self.vocab
    }
    fn max_context(&self) -> usize {
        self.max_context
    }
    fn cached_len(&self) -> usize {
        self.cache.len()
    }
    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Result<Logits, ModelError> {
        assert!(!tokens.is_empty(), "forward needs tokens");
        if self.cache.len() + tokens.len() > self.max_context {
            return Err(ModelError::ContextFull { max: self.max_context });
        }
        if let Some(&t) = tokens.iter().find(|&&t| t as usize >= self.vocab) {
            return Err(ModelError::Other(format!("token {t} outside the vocabulary")));
        }
        self.forward_calls += 1;
        self.fed_total += tokens.len();
        let mut data = Vec::new();
        for (i, &t) in tokens.iter().enumerate() {
            self.cache.push(t);
            if wanted == LogitsWanted::All || i + 1 == tokens.len() {
                data.extend(self.row_for(&self.cache));
            }
        }
        let rows = data.len() / self.vocab;
        Ok(Logits { rows, vocab: self.vocab, data })
    }
    fn truncate(&mut self, len: usize) {
        self.cache.truncate(len);
    }
    fn exact_rows(&self) -> usize {
        self.exact_rows
    }
}

/// A fast draft for a [`ToyModel`]: at each position it has the target's logits with
/// probability `agree` (decided by a hash of the context, so it is itself a row-exact
/// model), and otherwise a boosted wrong token. Its vocabulary has `extra_vocab` tail ids
/// with the largest logits of all, which a drafter must never propose to the target.
#[derive(Clone)]
pub struct FakeDraft {
    pub inner: ToyModel,
    pub agree: f64,
    pub extra_vocab: usize,
}

impl FakeDraft {
    pub fn new(target: &ToyModel, agree: f64, extra_vocab: usize) -> Self {
        let mut inner = target.clone();
        inner.cache.clear();
        inner.fed_total = 0;
        inner.forward_calls = 0;
        FakeDraft { inner, agree, extra_vocab }
    }
}

impl Model for FakeDraft {
    fn vocab_size(&self) -> usize {
        self.inner.vocab + self.extra_vocab
    }
    fn max_context(&self) -> usize {
        self.inner.max_context
    }
    fn cached_len(&self) -> usize {
        self.inner.cache.len()
    }
    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Result<Logits, ModelError> {
        let start = self.inner.cache.len();
        let base = self.inner.forward(tokens, wanted)?;
        let v = self.vocab_size();
        let mut data = Vec::with_capacity(base.rows * v);
        for r in 0..base.rows {
            let pos = if wanted == LogitsWanted::All { start + r } else { start + tokens.len() - 1 };
            let history = &self.inner.cache[..=pos];
            let h = mix(0xD1FF ^ mix(history.len() as u64) ^ mix(history[pos] as u64 + 7));
            let mut row = base.row(r).to_vec();
            if (h >> 11) as f64 / (1u64 << 53) as f64 >= self.agree {
                row[(h % self.inner.vocab as u64) as usize] += 2.0;
            }
            row.extend((0..self.extra_vocab).map(|_| 100.0));
            data.extend(row);
        }
        Ok(Logits { rows: base.rows, vocab: v, data })
    }
    fn truncate(&mut self, len: usize) {
        self.inner.truncate(len);
    }
}

/// A prompt of `len` tokens below `vocab`, derived from `seed`; with `repeat` it contains a
/// repeated stretch (like code or a quoted document) so prompt lookup has matches.
pub fn prompt(seed: u64, len: usize, vocab: usize, repeat: bool) -> Vec<TokenId> {
    let mut p: Vec<TokenId> = (0..len).map(|i| (mix(seed * 1000 + i as u64) % vocab as u64) as TokenId).collect();
    if repeat && len >= 8 {
        let stretch: Vec<TokenId> = p[..len / 2].to_vec();
        p.extend(stretch);
    }
    p
}

//! Prompt lookup first, a draft model when the lookup has nothing.

use std::sync::atomic::AtomicBool;

use crate::drafter::{Drafter, DrafterKind, Proposal};
use crate::drafters::ngram::NgramDrafter;
use crate::error::EngineError;
use crate::hindsight::Hindsight;
use crate::model::TokenId;
use crate::rng::Rng;
use crate::sampler::SamplingParams;

/// Uses the n-gram drafter whenever it finds a match (free to run, and right often on
/// code and documents that repeat themselves), and the fallback drafter otherwise. Give it
/// a lookup that only trusts long matches ([`NgramConfig::BESIDE_MODEL`]): a short match
/// takes the step from a draft model that would have guessed better.
///
/// [`NgramConfig::BESIDE_MODEL`]: crate::NgramConfig::BESIDE_MODEL
pub struct HybridDrafter<D: Drafter> {
    ngram: NgramDrafter,
    fallback: D,
}

impl<D: Drafter> HybridDrafter<D> {
    pub fn new(ngram: NgramDrafter, fallback: D) -> Self {
        HybridDrafter { ngram, fallback }
    }
}

impl<D: Drafter> Drafter for HybridDrafter<D> {
    fn kind(&self) -> DrafterKind {
        DrafterKind::Hybrid
    }

    fn backlog(&mut self, context: &[TokenId]) -> usize {
        if self.ngram.has_match(context) {
            0
        } else {
            self.fallback.backlog(context)
        }
    }

    fn model_stops_on_doubt(&self) -> bool {
        self.fallback.model_stops_on_doubt()
    }

    fn source(&mut self, context: &[TokenId]) -> DrafterKind {
        if self.ngram.has_match(context) {
            DrafterKind::Ngram
        } else {
            self.fallback.source(context)
        }
    }

    fn propose(
        &mut self,
        context: &[TokenId],
        k: usize,
        sampling: &SamplingParams,
        rng: &mut Rng,
    ) -> Result<Proposal, EngineError> {
        let lookup = self.ngram.propose(context, k, sampling, rng)?;
        if !lookup.tokens.is_empty() {
            return Ok(lookup);
        }
        self.fallback.propose(context, k, sampling, rng)
    }

    fn prepare(&mut self, context: &[TokenId], cancel: &AtomicBool) -> Result<(), EngineError> {
        self.ngram.prepare(context, cancel)?;
        self.fallback.prepare(context, cancel)
    }

    /// Both sources apart, each at every position: the ceiling may take either.
    fn hindsight(&mut self, prompt: &[TokenId], answer: &[TokenId], k: usize) -> Result<Vec<Hindsight>, EngineError> {
        let mut sources = self.ngram.hindsight(prompt, answer, k)?;
        sources.extend(self.fallback.hindsight(prompt, answer, k)?);
        Ok(sources)
    }
}

//! The drafter interface: anything that can guess the next few tokens cheaply.

use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::hindsight::{self, Hindsight};
use crate::model::TokenId;
use crate::rng::Rng;
use crate::sampler::SamplingParams;

/// Which kind of drafter produced a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrafterKind {
    /// A small language model.
    Model,
    /// Prompt lookup: continuations of earlier n-gram matches.
    Ngram,
    /// N-gram lookup when it matches, a model otherwise.
    Hybrid,
}

impl DrafterKind {
    /// Every kind, in a fixed order (the policy indexes its per-drafter state with it).
    pub const ALL: [DrafterKind; 3] = [DrafterKind::Model, DrafterKind::Ngram, DrafterKind::Hybrid];

    /// The name used in stats, the CLI and the history store.
    pub fn as_str(self) -> &'static str {
        match self {
            DrafterKind::Model => "model",
            DrafterKind::Ngram => "ngram",
            DrafterKind::Hybrid => "hybrid",
        }
    }

    /// Position in [`DrafterKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Tokens a drafter guesses will follow the context.
///
/// Invariants: `tokens.len() <= k` of the request; when `dists` is `Some`, it has one entry
/// per token and `dists[j]` is the normalised draft distribution q (after the same
/// temperature / top-p as the target) that `tokens[j]` was sampled from, so
/// `dists[j][tokens[j]] > 0`. `dists` is `None` for greedy decoding and for deterministic
/// drafters, whose proposal the verifier treats as a point mass (q = one-hot).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proposal {
    pub tokens: Vec<TokenId>,
    pub dists: Option<Vec<Vec<f32>>>,
    /// Forward calls of a draft model that proposing took (0 for prompt lookup). It is not
    /// always `tokens.len()`: a draft that stops because the model doubts its next token has
    /// run one forward more than it proposes, and the draft-length policy learns the cost
    /// of drafting per forward.
    pub forwards: usize,
}

impl Proposal {
    /// No guess: the step becomes plain decoding.
    pub fn empty() -> Self {
        Proposal::default()
    }

    /// Checks the invariants above against a request for at most `k` tokens.
    pub fn validate(&self, k: usize) -> Result<(), EngineError> {
        if self.tokens.len() > k {
            return Err(EngineError::InvalidProposal(format!("{} tokens for a request of {k}", self.tokens.len())));
        }
        if let Some(d) = &self.dists {
            if d.len() != self.tokens.len() {
                return Err(EngineError::InvalidProposal(format!(
                    "{} distributions for {} tokens",
                    d.len(),
                    self.tokens.len()
                )));
            }
            for (j, (q, &t)) in d.iter().zip(&self.tokens).enumerate() {
                if q.get(t as usize).is_none_or(|&p| p <= 0.0) {
                    return Err(EngineError::InvalidProposal(format!("token {t} at {j} has no draft probability")));
                }
            }
        }
        Ok(())
    }
}

/// Something that proposes continuations of a token sequence.
pub trait Drafter: Send {
    /// What kind of drafter this is (for the policy's statistics and the UI).
    fn kind(&self) -> DrafterKind;

    /// Which kind of drafter will answer the next [`Drafter::propose`] for `context`. A
    /// hybrid answers with prompt lookup when it has a match and with its model otherwise;
    /// the two cost and score very differently, so the policy learns them apart and asks
    /// this before choosing a draft length.
    fn source(&mut self, _context: &[TokenId]) -> DrafterKind {
        self.kind()
    }

    /// Whether the drafts of its draft model (when [`Drafter::source`] names one) end by
    /// themselves where the model doubts its next guess. Such a drafter is asked for the
    /// longest draft the policy allows whenever the policy speculates with it.
    fn model_stops_on_doubt(&self) -> bool {
        false
    }

    /// How many tokens of `context` the drafter would have to process before it can
    /// propose (a draft model that sat out plain steps must catch up on them first). The
    /// policy does not start a trial of a drafter whose catch-up would cost more than the
    /// trial could tell it.
    fn backlog(&mut self, _context: &[TokenId]) -> usize {
        0
    }

    /// Guesses up to `k` tokens that follow `context` (the prompt plus every committed token).
    /// May return fewer than `k`, even none. Sampling drafters draw from `rng`.
    fn propose(
        &mut self,
        context: &[TokenId],
        k: usize,
        sampling: &SamplingParams,
        rng: &mut Rng,
    ) -> Result<Proposal, EngineError>;

    /// Brings internal state (a KV cache, an index) up to date with `context` ahead of the
    /// first `propose`, so that the prompt's cost is paid during prefill rather than being
    /// counted as drafting cost. `propose` must also work without it, or after a prepare
    /// that stopped early: a drafter that reads a long context in pieces returns as soon as
    /// it finds `cancel` set before one.
    fn prepare(&mut self, context: &[TokenId], cancel: &AtomicBool) -> Result<(), EngineError>;

    /// What each source of this drafter (a hybrid has two) would have guessed, greedily and
    /// at most `k` tokens at a time, at every position of `answer`, a known greedy answer to
    /// `prompt`. For the bench's ceiling ([`crate::hindsight`]), never for generation; the
    /// drafter may be left in any state, which `propose` and `prepare` start from anyway.
    ///
    /// By default it asks [`Drafter::propose`] at every position.
    fn hindsight(&mut self, prompt: &[TokenId], answer: &[TokenId], k: usize) -> Result<Vec<Hindsight>, EngineError> {
        Ok(vec![hindsight::by_proposing(self, prompt, answer, k)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_validation_catches_broken_invariants() {
        let p = Proposal { tokens: vec![1, 2], dists: None, forwards: 0 };
        assert!(p.validate(2).is_ok());
        assert_eq!(p.validate(1).unwrap_err().code(), "invalid_proposal");
        let p = Proposal { tokens: vec![1], dists: Some(vec![]), forwards: 0 };
        assert!(p.validate(4).is_err());
        let p = Proposal { tokens: vec![1], dists: Some(vec![vec![1.0, 0.0]]), forwards: 0 };
        assert!(p.validate(4).is_err());
        let p = Proposal { tokens: vec![1], dists: Some(vec![vec![0.5, 0.5]]), forwards: 0 };
        assert!(p.validate(4).is_ok());
    }

    #[test]
    fn kinds_have_stable_names_and_indices() {
        let names: Vec<&str> = DrafterKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["model", "ngram", "hybrid"]);
        for (i, k) in DrafterKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}

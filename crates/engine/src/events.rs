//! The event stream a generation emits, consumed by the UI, the CLI and the history store.

use serde::Serialize;

use crate::drafter::DrafterKind;
use crate::model::TokenId;

/// Why a generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The target produced an end-of-sequence token (not part of the output).
    Eos,
    /// `max_tokens` were generated.
    MaxTokens,
    /// The caller's stop check matched and cut the output.
    StopString,
    /// The cancel flag was raised.
    Cancelled,
    /// The target's context has no room for another position.
    ContextFull,
}

/// One verification step: the target checked `drafted` in a single forward call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepEvent {
    /// What the drafter proposed (empty for a plain step).
    pub drafted: Vec<TokenId>,
    /// How many of `drafted` the target accepted, from the front.
    pub accepted: usize,
    /// The target's own token after the accepted prefix.
    pub token: TokenId,
    /// Who drafted (for a hybrid, the part that answered: `ngram` or `model`); `None` for plain steps.
    pub drafter: Option<DrafterKind>,
    pub draft_ms: f64,
    pub verify_ms: f64,
    /// The tokens this step appended to the output: `drafted[..accepted]` then `token`,
    /// cut short where an end-of-sequence token or `max_tokens` ended the generation.
    /// A stop-string cut may also remove tokens of earlier steps; `Done` and the returned
    /// output carry the final count.
    pub committed: Vec<TokenId>,
}

/// Totals of one generation.
///
/// Invariants: `accepted <= drafted`; `generated` is the length of the final output.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Tokens in the output.
    pub generated: usize,
    /// Tokens proposed by the drafter over all steps.
    pub drafted: usize,
    /// Proposed tokens the target accepted.
    pub accepted: usize,
    /// `accepted / drafted` (0 when nothing was drafted).
    pub acceptance_rate: f64,
    /// Verification steps (target forward calls after prefill).
    pub steps: usize,
    /// Mean accepted draft tokens per step that drafted anything (0 if none did).
    pub mean_accepted: f64,
    pub prefill_ms: f64,
    /// Wall time of all steps.
    pub decode_ms: f64,
    /// Output tokens per second of decode time.
    pub tokens_per_second: f64,
    /// "model", "ngram", "hybrid", or "none" when there was no drafter.
    pub drafter: String,
}

/// Something that happened during a generation, in order: one `Prefill`, any number of
/// `Step`s, then exactly one `Done` unless the generation failed with an error.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The prompt was processed: all but its last token (which the first step feeds with
    /// the first draft) went through the target, and the drafter caught up with it.
    /// `ms` is the wall time of both.
    Prefill {
        prompt_tokens: usize,
        ms: f64,
    },
    Step(StepEvent),
    Done {
        stats: Stats,
        reason: StopReason,
    },
}

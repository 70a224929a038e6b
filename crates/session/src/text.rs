//! Engine events as the UI shows them: token ids turned into text, each piece marked with
//! where it came from (a draft guess the target accepted, the target's own token, a guess
//! it threw away).

use serde::Serialize;
use tandem_engine::{DrafterKind, Event, StepEvent, StopReason};
use tandem_models::{token_piece, TokenStream, Tokenizer};
use tandem_store::MessageStats;

/// One verification step in text. Invariant: the visible answer grows by exactly
/// `accepted.concat() + correction` (pieces are UTF-8 safe: a character split across
/// tokens appears whole in the piece of its last token).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepText {
    pub accepted: Vec<String>,
    pub correction: String,
    /// Rejected guesses, each decoded on its own (shown struck through, never kept).
    pub rejected: Vec<String>,
    pub drafter: Option<DrafterKind>,
    pub draft_ms: f64,
    pub verify_ms: f64,
}

/// An answer's statistics under the names the UI uses (live from the engine, or stored).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    pub generated: usize,
    pub drafted: usize,
    pub accepted: usize,
    pub acceptance_rate: f64,
    pub steps: usize,
    pub mean_accepted: f64,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub tokens_per_second: f64,
    pub drafter: String,
}

impl From<&MessageStats> for StatsView {
    fn from(s: &MessageStats) -> StatsView {
        StatsView {
            generated: s.generated,
            drafted: s.drafted,
            accepted: s.accepted,
            acceptance_rate: s.acceptance_rate,
            steps: s.steps,
            mean_accepted: s.mean_accepted,
            prefill_ms: s.prefill_ms,
            decode_ms: s.decode_ms,
            tokens_per_second: s.tokens_per_second,
            drafter: s.drafter.clone(),
        }
    }
}

/// What the UI receives while an answer is written.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum GenEvent {
    Prefill { prompt_tokens: usize, ms: f64 },
    Step(StepText),
    Done { stats: StatsView, reason: StopReason, message_id: Option<i64> },
}

/// Turns one answer's step events into text, keeping the UTF-8 state between steps.
pub struct TextStepper<'t> {
    tokenizer: &'t Tokenizer,
    stream: TokenStream<'t>,
}

impl<'t> TextStepper<'t> {
    pub fn new(tokenizer: &'t Tokenizer) -> TextStepper<'t> {
        TextStepper { tokenizer, stream: TokenStream::new(tokenizer) }
    }

    pub fn step(&mut self, step: &StepEvent) -> StepText {
        let n_draft = step.accepted.min(step.committed.len());
        let accepted = step.committed[..n_draft].iter().map(|&t| self.stream.push(t)).collect();
        let rejected = step.drafted[step.accepted.min(step.drafted.len())..]
            .iter()
            .map(|&t| token_piece(self.tokenizer, t))
            .collect();
        let correction = step.committed[n_draft..].iter().map(|&t| self.stream.push(t)).collect();
        StepText {
            accepted,
            correction,
            rejected,
            drafter: step.drafter,
            draft_ms: step.draft_ms,
            verify_ms: step.verify_ms,
        }
    }

    /// Any bytes still held back at the end (an unfinished character), as text.
    pub fn finish(&mut self) -> String {
        self.stream.flush()
    }

    /// The UI event for an engine event; `Done` gets `message_id` filled in by the caller.
    pub fn event(&mut self, event: &Event) -> GenEvent {
        match event {
            Event::Prefill { prompt_tokens, ms } => GenEvent::Prefill { prompt_tokens: *prompt_tokens, ms: *ms },
            Event::Step(step) => GenEvent::Step(self.step(step)),
            Event::Done { stats, reason } => GenEvent::Done {
                stats: StatsView::from(&MessageStats::from_engine(stats, *reason, None)),
                reason: *reason,
                message_id: None,
            },
        }
    }
}

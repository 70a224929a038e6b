//! The generation loop: prefill, then draft → verify → commit steps until a stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::commit::commit;
use crate::drafter::{Drafter, DrafterKind, Proposal};
use crate::error::EngineError;
use crate::events::{Event, Stats, StepEvent, StopReason};
use crate::model::{LogitsWanted, Model, TokenId};
use crate::policy::{DraftLength, Policy, StepTiming};
use crate::prefix::common_prefix;
use crate::rng::Rng;
use crate::sampler::SamplingParams;
use crate::simulated::SimulatedCosts;
use crate::verifier::verify;

/// Prompt tokens a model reads per call before checking for a cancel: about two seconds
/// of a 1.5B target's reading on a two-core CPU (and half a second of its 0.5B draft's).
pub(crate) const PREFILL_PIECE: usize = 256;

/// Given every generated id so far, returns how many to keep when a stop sequence
/// matched (the caller detokenises, so it owns stop strings), `None` to go on.
pub type StopCheck = Box<dyn FnMut(&[TokenId]) -> Option<usize> + Send>;

/// Settings of one generation.
pub struct GenerateConfig {
    /// Never output more tokens than this.
    pub max_tokens: usize,
    pub sampling: SamplingParams,
    pub draft_length: DraftLength,
    /// End-of-sequence ids: generation stops before any of them.
    pub eos: Vec<TokenId>,
    /// Called after every step that added tokens.
    pub stop: Option<StopCheck>,
    /// Only the first `vocab_limit` ids of the target's logits may be chosen (the target's
    /// rows may be padded beyond the tokenizer's vocabulary).
    pub vocab_limit: Option<usize>,
    /// Step times computed from these costs instead of measured: the policy learns from
    /// them, and the decode time is their sum. For comparing policies, never for the app.
    pub simulated_costs: Option<SimulatedCosts>,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            max_tokens: 256,
            sampling: SamplingParams::greedy(),
            draft_length: DraftLength::default(),
            eos: Vec::new(),
            stop: None,
            vocab_limit: None,
            simulated_costs: None,
        }
    }
}

/// The result of a generation that did not fail.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The generated ids, without end-of-sequence and after any stop-string cut.
    pub tokens: Vec<TokenId>,
    pub stats: Stats,
    pub reason: StopReason,
}

/// Runs generations on one target model, remembering what that model's KV cache holds so
/// that a follow-up prompt sharing a prefix (the next chat turn) is not processed again,
/// and keeping the draft-length policy's knowledge across generations.
///
/// Use one `Generator` per target model.
pub struct Generator {
    policy: Policy,
    /// Exactly the tokens in the target's KV cache, when it was last seen by this generator.
    fed: Vec<TokenId>,
}

impl Default for Generator {
    fn default() -> Self {
        Generator::new(DraftLength::default())
    }
}

/// Step totals accumulated by the loop.
#[derive(Default)]
struct Totals {
    steps: usize,
    speculative_steps: usize,
    drafted: usize,
    accepted: usize,
}

/// Milliseconds since `t`.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

impl Generator {
    pub fn new(draft_length: DraftLength) -> Self {
        Generator { policy: Policy::new(draft_length), fed: Vec::new() }
    }

    /// The draft-length policy as learned so far.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Replaces what the policy has learned, for example with a copy taken earlier.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// Generates a continuation of `prompt` with `target`, speculating with `drafter` when
    /// the policy says it pays. Emits `Prefill`, one `Step` per target call, and `Done`.
    ///
    /// Greedy output is identical to plain greedy decoding of `target` whatever the drafter,
    /// and sampled output has exactly the target's distribution: plain steps are the same
    /// code path with an empty draft.
    ///
    /// `cancel` is checked before every step and every piece of the prompt read; a cancelled
    /// generation returns what it has with reason `Cancelled`. On error the target's cache
    /// is cleared.
    pub fn generate(
        &mut self,
        target: &mut dyn Model,
        drafter: Option<&mut dyn Drafter>,
        prompt: &[TokenId],
        cfg: &mut GenerateConfig,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Output, EngineError> {
        cfg.sampling.validate()?;
        if prompt.is_empty() {
            return Err(EngineError::EmptyPrompt);
        }
        if self.policy.length() != cfg.draft_length {
            self.policy = Policy::new(cfg.draft_length);
        }
        self.policy.start_answer();
        let result = self.run(target, drafter, prompt, cfg, cancel, on_event);
        if result.is_err() {
            // The cache may be half-written: make the next generation start from scratch.
            target.truncate(0);
            self.fed.clear();
        }
        result
    }

    /// Brings the target's cache to `prompt` minus its last token, reusing the longest
    /// prefix it already holds. The last token is fed by the first step, together with the
    /// first draft, so even the first generated token can be speculated.
    ///
    /// The new tokens go in [`PREFILL_PIECE`] at a time, and `cancel` is checked before
    /// each piece: a long document takes the target tens of seconds to read on a CPU, and
    /// Stop must not wait for all of it. What was read stays cached, for the next request.
    fn prefill(&mut self, target: &mut dyn Model, prompt: &[TokenId], cancel: &AtomicBool) -> Result<(), EngineError> {
        if target.cached_len() != self.fed.len() {
            self.fed.clear();
        }
        let head = &prompt[..prompt.len() - 1];
        let common = common_prefix(&self.fed, head);
        target.truncate(common);
        self.fed.truncate(common);
        for piece in head[common..].chunks(PREFILL_PIECE) {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            target.forward(piece, LogitsWanted::Last)?;
            self.fed.extend_from_slice(piece);
        }
        Ok(())
    }

    fn run(
        &mut self,
        target: &mut dyn Model,
        mut drafter: Option<&mut dyn Drafter>,
        prompt: &[TokenId],
        cfg: &mut GenerateConfig,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Output, EngineError> {
        let max_ctx = target.max_context();
        if prompt.len() > max_ctx {
            return Err(EngineError::ContextFull { max: max_ctx });
        }
        let started = Instant::now();
        self.prefill(target, prompt, cancel)?;
        if cfg.draft_length != DraftLength::Fixed(0) {
            if let Some(d) = drafter.as_mut() {
                d.prepare(prompt, cancel)?;
            }
        }
        let prefill_ms = ms_since(started);
        on_event(&Event::Prefill { prompt_tokens: prompt.len(), ms: prefill_ms });

        let kind = drafter.as_ref().map(|d| d.kind());
        let target_vocab = target.vocab_size();
        let mut rng = Rng::new(cfg.sampling.seed);
        // Invariant: the target's cache holds `seq` minus its last token.
        let mut seq = prompt.to_vec();
        let mut out: Vec<TokenId> = Vec::new();
        let mut totals = Totals::default();
        let decode_started = Instant::now();
        let mut simulated_ms = 0.0;
        let reason = loop {
            if out.len() >= cfg.max_tokens {
                break StopReason::MaxTokens;
            }
            if cancel.load(Ordering::Relaxed) {
                break StopReason::Cancelled;
            }
            let pos = target.cached_len();
            if pos >= max_ctx {
                break StopReason::ContextFull;
            }
            // Who will draft decides how much drafting is worth (prompt lookup is free).
            let (source, backlog, own_length) = match drafter.as_mut() {
                Some(d) => {
                    let source = d.source(&seq);
                    (Some(source), d.backlog(&seq), source == DrafterKind::Model && d.model_stops_on_doubt())
                }
                None => (None, 0, false),
            };
            let k = self.policy.next_k(source, backlog);
            // A draft model that stops where it doubts its next guess judges each draft's
            // length guess by guess, which the policy's averages over past steps cannot: once
            // the policy speculates with it, it may draft as far as the policy allows.
            // Replayed at fixed costs (`tandem bench --simulate`, fast memory), the code
            // prompts went from 1.15-1.26x to 1.34-1.39x of plain speed.
            let k = match cfg.draft_length {
                DraftLength::Auto { max } if k > 0 && own_length => max,
                _ => k,
            };
            // Draft no more than can be output, nor than fits the context with `last`, nor
            // than the target checks exactly in one call (with `last`).
            let k =
                k.min(cfg.max_tokens - out.len() - 1).min(max_ctx - pos - 1).min(target.exact_rows().saturating_sub(1));
            let draft_started = Instant::now();
            let proposal = match drafter.as_mut() {
                Some(d) if k > 0 => d.propose(&seq, k, &cfg.sampling, &mut rng)?,
                _ => Proposal::empty(),
            };
            proposal.validate(k)?;
            if let Some(&bad) = proposal.tokens.iter().find(|&&t| t as usize >= target_vocab) {
                return Err(EngineError::InvalidProposal(format!("token {bad} is outside the target's vocabulary")));
            }
            let mut draft_ms = ms_since(draft_started);

            let last = *seq.last().expect("the prompt is not empty");
            let mut input = Vec::with_capacity(1 + proposal.tokens.len());
            input.push(last);
            input.extend_from_slice(&proposal.tokens);
            let verify_started = Instant::now();
            let logits = target.forward(&input, LogitsWanted::All)?;
            let verdict = verify(&logits, &proposal, &cfg.sampling, cfg.vocab_limit, &mut rng)?;
            // Forget the rejected drafts; the target's own token is fed by the next step.
            target.truncate(pos + 1 + verdict.accepted);
            self.fed.truncate(pos);
            self.fed.extend_from_slice(&input[..1 + verdict.accepted]);
            let mut verify_ms = ms_since(verify_started);

            let n = proposal.tokens.len();
            if let Some(costs) = &cfg.simulated_costs {
                draft_ms = costs.draft(proposal.forwards, backlog);
                verify_ms = costs.verify(1 + n);
                simulated_ms += draft_ms + verify_ms;
            }
            let step = proposal.tokens[..verdict.accepted].iter().copied().chain([verdict.next]);
            let committed = commit(&mut out, step, &cfg.eos, cfg.max_tokens);
            seq.extend_from_slice(&committed.tokens);
            totals.steps += 1;
            totals.speculative_steps += (n > 0) as usize;
            totals.drafted += n;
            totals.accepted += verdict.accepted;
            self.policy.observe(&StepTiming {
                drafter: source.filter(|_| k > 0),
                requested: k,
                drafted: n,
                accepted: verdict.accepted,
                forwards: proposal.forwards,
                backlog,
                draft_ms,
                verify_ms,
            });
            let added = !committed.tokens.is_empty();
            on_event(&Event::Step(StepEvent {
                drafted: proposal.tokens,
                accepted: verdict.accepted,
                token: verdict.next,
                drafter: source.filter(|_| n > 0),
                draft_ms,
                verify_ms,
                committed: committed.tokens,
            }));
            let mut stop = committed.stop;
            if let Some(check) = cfg.stop.as_mut().filter(|_| added) {
                if let Some(keep) = check(&out) {
                    out.truncate(keep);
                    stop = Some(StopReason::StopString);
                }
            }
            if let Some(reason) = stop {
                break reason;
            }
        };
        let decode_ms = if cfg.simulated_costs.is_some() { simulated_ms } else { ms_since(decode_started) };
        let stats = Stats {
            generated: out.len(),
            drafted: totals.drafted,
            accepted: totals.accepted,
            acceptance_rate: ratio(totals.accepted, totals.drafted),
            steps: totals.steps,
            mean_accepted: ratio(totals.accepted, totals.speculative_steps),
            prefill_ms,
            decode_ms,
            tokens_per_second: if decode_ms > 0.0 { out.len() as f64 / (decode_ms / 1e3) } else { 0.0 },
            drafter: kind.map_or("none", |k| k.as_str()).to_string(),
        };
        on_event(&Event::Done { stats: stats.clone(), reason });
        Ok(Output { tokens: out, stats, reason })
    }
}

/// `a / b`, or 0 when `b` is 0.
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// One generation with a fresh [`Generator`] (nothing reused from earlier generations).
pub fn generate(
    target: &mut dyn Model,
    drafter: Option<&mut dyn Drafter>,
    prompt: &[TokenId],
    cfg: &mut GenerateConfig,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Output, EngineError> {
    Generator::new(cfg.draft_length).generate(target, drafter, prompt, cfg, cancel, on_event)
}

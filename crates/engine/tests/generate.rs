//! The generation loop: stops (EOS, max_tokens, stop check, cancel, context), errors,
//! cache reuse across turns, vocabulary limits, sampling reproducibility and events.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{prompt, FakeDraft, ToyModel};
use tandem_engine::{
    generate, DraftLength, Drafter, Event, GenerateConfig, Generator, Logits, LogitsWanted, Model, ModelDrafter,
    ModelError, NgramConfig, NgramDrafter, Output, SamplingParams, SimulatedCosts, StopReason, TokenId,
};

const VOCAB: usize = 20;

fn cfg(max_tokens: usize, k: usize) -> GenerateConfig {
    GenerateConfig { max_tokens, draft_length: DraftLength::Fixed(k), ..GenerateConfig::default() }
}

fn quiet(target: &mut dyn Model, drafter: Option<&mut dyn Drafter>, p: &[TokenId], c: &mut GenerateConfig) -> Output {
    generate(target, drafter, p, c, &AtomicBool::new(false), &mut |_| {}).unwrap()
}

/// Plain greedy output of `target` for `p`, long enough to compare prefixes against.
fn reference(target: &ToyModel, p: &[TokenId], n: usize) -> Vec<TokenId> {
    quiet(&mut target.clone(), None, p, &mut cfg(n, 0)).tokens
}

#[test]
fn max_tokens_is_never_exceeded_even_mid_step() {
    let target = ToyModel::new(11, VOCAB);
    let p = prompt(11, 6, VOCAB, false);
    let full = reference(&target, &p, 40);
    for max in [0, 1, 2, 5, 13, 40] {
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 1.0, 0), VOCAB);
        let mut steps = 0;
        let mut c = cfg(max, 8);
        let out = generate(&mut target.clone(), Some(&mut d), &p, &mut c, &AtomicBool::new(false), &mut |e| {
            steps += matches!(e, Event::Step(_)) as usize
        })
        .unwrap();
        assert_eq!(out.tokens, full[..max]);
        assert_eq!(out.reason, StopReason::MaxTokens);
        // A perfect draft needs ceil(max / 9) steps with k = 8.
        assert_eq!(steps, max.div_ceil(9));
    }
}

#[test]
fn verification_is_never_wider_than_the_target_checks_exactly() {
    let p = prompt(13, 6, VOCAB, false);
    for exact in [1, 2, 4] {
        let mut target = ToyModel::new(13, VOCAB);
        let full = reference(&target, &p, 30);
        target.exact_rows = exact;
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 1.0, 0), VOCAB);
        // Prefill asks for the last row only, so only steps are limited.
        let mut widest_step = 0;
        let mut c = cfg(30, 8);
        let out = generate(&mut target, Some(&mut d), &p, &mut c, &AtomicBool::new(false), &mut |e| {
            if let Event::Step(s) = e {
                widest_step = widest_step.max(s.drafted.len() + 1);
            }
        })
        .unwrap();
        assert_eq!(out.tokens, full, "exact_rows {exact}");
        assert_eq!(widest_step, exact, "a perfect draft uses the whole allowed width");
    }
}

#[test]
fn eos_ends_the_output_before_itself() {
    let target = ToyModel::new(12, VOCAB);
    let p = prompt(12, 6, VOCAB, false);
    let full = reference(&target, &p, 40);
    let eos = full[9];
    let first = full.iter().position(|&t| t == eos).unwrap();
    for k in [0, 3, 8] {
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.8, 0), VOCAB);
        let mut c = GenerateConfig { eos: vec![eos], ..cfg(40, k) };
        let out = quiet(&mut target.clone(), Some(&mut d), &p, &mut c);
        assert_eq!(out.tokens, full[..first]);
        assert_eq!(out.reason, StopReason::Eos);
    }
}

#[test]
fn the_stop_check_cuts_the_output_where_it_says() {
    let target = ToyModel::new(13, VOCAB);
    let p = prompt(13, 6, VOCAB, false);
    let full = reference(&target, &p, 60);
    // Stop at the first occurrence of the pair full[20..22], keeping what precedes it.
    let pair = [full[20], full[21]];
    let at = full.windows(2).position(|w| w == pair).unwrap();
    for k in [0, 2, 7] {
        let mut calls = 0usize;
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = counter.clone();
        let mut c = GenerateConfig {
            stop: Some(Box::new(move |ids: &[TokenId]| {
                seen.fetch_add(1, Ordering::Relaxed);
                ids.windows(2).position(|w| w == pair)
            })),
            ..cfg(60, k)
        };
        let mut d = NgramDrafter::new(NgramConfig::default());
        let out = generate(&mut target.clone(), Some(&mut d), &p, &mut c, &AtomicBool::new(false), &mut |e| {
            calls += matches!(e, Event::Step(_)) as usize
        })
        .unwrap();
        assert_eq!(out.tokens, full[..at]);
        assert_eq!(out.reason, StopReason::StopString);
        assert_eq!(out.stats.generated, at);
        assert_eq!(counter.load(Ordering::Relaxed), calls, "checked once per step");
    }
}

#[test]
fn cancel_returns_what_was_generated_so_far() {
    let target = ToyModel::new(14, VOCAB);
    let p = prompt(14, 6, VOCAB, false);
    let full = reference(&target, &p, 100);
    let cancel = AtomicBool::new(false);
    let mut steps = 0;
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB);
    let out = generate(&mut target.clone(), Some(&mut d), &p, &mut cfg(100, 3), &cancel, &mut |e| {
        if matches!(e, Event::Step(_)) {
            steps += 1;
            if steps == 3 {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    })
    .unwrap();
    assert_eq!(out.reason, StopReason::Cancelled);
    assert_eq!(out.stats.steps, 3);
    assert!(out.tokens.len() >= 3 && out.tokens.len() <= 12);
    assert_eq!(out.tokens, full[..out.tokens.len()]);
    // Cancelled before it starts: no step at all.
    let out = generate(&mut target.clone(), None, &p, &mut cfg(100, 0), &AtomicBool::new(true), &mut |_| {}).unwrap();
    assert_eq!((out.tokens.len(), out.reason), (0, StopReason::Cancelled));
}

#[test]
fn stop_while_a_long_prompt_is_read_stops_at_the_next_piece_and_keeps_what_was_read() {
    let target = ToyModel::new(15, VOCAB);
    let p = prompt(15, 1000, VOCAB, false);
    let cancel = AtomicBool::new(false);
    let mut t = Scripted { cancel_after: Some((1, &cancel)), ..Scripted::new(&target) };
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB);
    let mut gen = Generator::new(DraftLength::Fixed(3));
    let out = gen.generate(&mut t, Some(&mut d), &p, &mut cfg(20, 3), &cancel, &mut |_| {}).unwrap();
    assert_eq!((out.tokens.len(), out.reason), (0, StopReason::Cancelled));
    // One piece read, well short of the prompt, and the draft model not fed at all.
    let read = t.inner.cached_len();
    assert!(read > 0 && read < 500, "{read} of 999 prompt tokens read");
    assert_eq!(t.inner.forward_calls, 1);
    assert_eq!(d.model().inner.fed_total, 0);
    // Asked again, it reads only the rest and answers as a fresh run would.
    cancel.store(false, Ordering::Relaxed);
    t.cancel_after = None;
    let out = gen.generate(&mut t, Some(&mut d), &p, &mut cfg(20, 3), &cancel, &mut |_| {}).unwrap();
    assert_eq!(out.tokens, reference(&target, &p, 20));
    assert_eq!(t.inner.fed_total - read, 999 - read + out.stats.steps + out.stats.drafted);
}

#[test]
fn stop_while_the_draft_model_reads_the_prompt_stops_it_at_the_next_piece() {
    let target = ToyModel::new(16, VOCAB);
    let p = prompt(16, 1000, VOCAB, false);
    let cancel = AtomicBool::new(false);
    let draft = Scripted { cancel_after: Some((1, &cancel)), ..Scripted::new(&FakeDraft::new(&target, 0.7, 0)) };
    let mut d = ModelDrafter::new(draft, VOCAB);
    let mut t = target.clone();
    let mut gen = Generator::new(DraftLength::Fixed(3));
    let out = gen.generate(&mut t, Some(&mut d), &p, &mut cfg(20, 3), &cancel, &mut |_| {}).unwrap();
    assert_eq!((out.tokens.len(), out.reason), (0, StopReason::Cancelled));
    // The target had read the whole prompt; the draft model read one piece of it.
    assert_eq!(t.cached_len(), 999);
    assert_eq!(d.model().calls, 1);
    let read = d.model().inner.inner.fed_total;
    assert!(read > 0 && read < 500, "{read} of 1000 prompt tokens read by the draft");
    // Asked again, the answer is the fresh one.
    cancel.store(false, Ordering::Relaxed);
    let out = gen.generate(&mut t, Some(&mut d), &p, &mut cfg(20, 3), &cancel, &mut |_| {}).unwrap();
    assert_eq!(out.tokens, reference(&target, &p, 20));
}

#[test]
fn a_full_context_stops_generation_and_a_too_long_prompt_is_an_error() {
    let mut target = ToyModel::new(15, VOCAB);
    target.max_context = 16;
    let p = prompt(15, 6, VOCAB, false);
    let mut roomy = target.clone();
    roomy.max_context = 4096;
    let full = reference(&roomy, &p, 40);
    for k in [0, 4] {
        let mut d = ModelDrafter::new(FakeDraft::new(&roomy, 0.9, 0), VOCAB);
        let out = quiet(&mut target.clone(), Some(&mut d), &p, &mut cfg(40, k));
        assert_eq!(out.reason, StopReason::ContextFull);
        // The cache holds every token but the last output one: 16 = 6 + 11 - 1.
        assert_eq!(out.tokens, full[..11]);
    }
    let long = prompt(15, 17, VOCAB, false);
    let err =
        generate(&mut target.clone(), None, &long, &mut cfg(5, 0), &AtomicBool::new(false), &mut |_| {}).unwrap_err();
    assert_eq!(err.code(), "context_full");
}

#[test]
fn bad_requests_are_errors_with_stable_codes() {
    let mut target = ToyModel::new(16, VOCAB);
    let no = AtomicBool::new(false);
    let e = generate(&mut target, None, &[], &mut cfg(5, 0), &no, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "empty_prompt");
    let mut c = GenerateConfig { sampling: SamplingParams { temperature: -1.0, top_p: 1.0, seed: 0 }, ..cfg(5, 0) };
    let e = generate(&mut target, None, &[1, 2], &mut c, &no, &mut |_| {}).unwrap_err();
    assert_eq!(e.code(), "invalid_config");
}

/// A toy model that fails its `fail_at`-th forward call, or raises a cancel flag once its
/// `n`-th call is done (`cancel_after`).
struct Scripted<'a, M> {
    inner: M,
    calls: usize,
    fail_at: Option<usize>,
    cancel_after: Option<(usize, &'a AtomicBool)>,
}

impl<M: Model + Clone> Scripted<'_, M> {
    fn new(model: &M) -> Self {
        Scripted { inner: model.clone(), calls: 0, fail_at: None, cancel_after: None }
    }
}

impl<M: Model> Model for Scripted<'_, M> {
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }
    fn max_context(&self) -> usize {
        self.inner.max_context()
    }
    fn cached_len(&self) -> usize {
        self.inner.cached_len()
    }
    fn forward(&mut self, tokens: &[TokenId], wanted: LogitsWanted) -> Result<Logits, ModelError> {
        self.calls += 1;
        if self.fail_at == Some(self.calls) {
            // Half-write the cache, as a real failure might.
            let _ = self.inner.forward(&tokens[..1], wanted);
            return Err(ModelError::Other("out of memory".into()));
        }
        let logits = self.inner.forward(tokens, wanted);
        if let Some((_, cancel)) = self.cancel_after.filter(|&(n, _)| n == self.calls) {
            cancel.store(true, Ordering::Relaxed);
        }
        logits
    }
    fn truncate(&mut self, len: usize) {
        self.inner.truncate(len)
    }
}

#[test]
fn a_model_failure_is_reported_and_the_next_generation_starts_clean() {
    let target = ToyModel::new(17, VOCAB);
    let p = prompt(17, 6, VOCAB, false);
    let full = reference(&target, &p, 20);
    let mut flaky = Scripted { fail_at: Some(4), ..Scripted::new(&target) };
    let mut gen = Generator::new(DraftLength::Fixed(0));
    let no = AtomicBool::new(false);
    let mut events = Vec::new();
    let e = gen.generate(&mut flaky, None, &p, &mut cfg(20, 0), &no, &mut |e| events.push(e.clone())).unwrap_err();
    assert_eq!(e.code(), "model_failed");
    assert!(e.to_string().contains("out of memory"));
    assert!(!events.iter().any(|e| matches!(e, Event::Done { .. })), "no Done after an error");
    assert_eq!(flaky.cached_len(), 0);
    let out = gen.generate(&mut flaky, None, &p, &mut cfg(20, 0), &no, &mut |_| {}).unwrap();
    assert_eq!(out.tokens, full);
}

#[test]
fn a_follow_up_turn_reuses_the_cached_prefix_and_matches_a_fresh_run() {
    let target = ToyModel::new(18, VOCAB);
    let p1 = prompt(18, 30, VOCAB, false);
    let mut t = target.clone();
    let mut gen = Generator::new(DraftLength::Fixed(3));
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB);
    let no = AtomicBool::new(false);
    let out1 = gen.generate(&mut t, Some(&mut d), &p1, &mut cfg(15, 3), &no, &mut |_| {}).unwrap();
    assert_eq!(out1.tokens, reference(&target, &p1, 15));
    // The next turn: the whole conversation so far plus a user message.
    let mut p2 = p1.clone();
    p2.extend_from_slice(&out1.tokens);
    p2.extend_from_slice(&[1, 2, 3, 4]);
    let fed_before = t.fed_total;
    let out2 = gen.generate(&mut t, Some(&mut d), &p2, &mut cfg(15, 3), &no, &mut |_| {}).unwrap();
    assert_eq!(out2.tokens, reference(&target, &p2, 15));
    // Fresh, the second turn would prefill all but one of its 49 prompt tokens first.
    let mut fresh = target.clone();
    quiet(&mut fresh, Some(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB)), &p2, &mut cfg(15, 3));
    assert!(t.fed_total - fed_before + 40 <= fresh.fed_total, "{} vs {}", t.fed_total - fed_before, fresh.fed_total);
    // A different conversation on the same generator is still exact.
    let p3 = prompt(19, 12, VOCAB, false);
    let out3 = gen.generate(&mut t, Some(&mut d), &p3, &mut cfg(15, 3), &no, &mut |_| {}).unwrap();
    assert_eq!(out3.tokens, reference(&target, &p3, 15));
}

#[test]
fn vocab_limit_keeps_padding_ids_out_of_the_output() {
    let target = ToyModel::new(20, VOCAB);
    let p = prompt(20, 6, 12, false);
    let limited = |k: usize| GenerateConfig { vocab_limit: Some(12), ..cfg(40, k) };
    let plain = quiet(&mut target.clone(), None, &p, &mut limited(0));
    assert!(plain.tokens.iter().all(|&t| t < 12));
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.9, 0), 12);
    let spec = quiet(&mut target.clone(), Some(&mut d), &p, &mut limited(4));
    assert_eq!(spec.tokens, plain.tokens);
    assert!(spec.stats.accepted > 0);
    // Without the limit the output does use the padding ids.
    assert!(reference(&target, &p, 40).iter().any(|&t| t >= 12));
}

#[test]
fn sampling_is_reproducible_per_seed_with_and_without_a_drafter() {
    let target = ToyModel::new(21, VOCAB);
    let p = prompt(21, 6, VOCAB, false);
    let sampled = |seed: u64, k: usize| {
        let mut c = GenerateConfig { sampling: SamplingParams { temperature: 0.9, top_p: 0.95, seed }, ..cfg(30, k) };
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.6, 2), VOCAB);
        quiet(&mut target.clone(), Some(&mut d), &p, &mut c).tokens
    };
    for k in [0, 4] {
        assert_eq!(sampled(5, k), sampled(5, k));
        assert_ne!(sampled(5, k), sampled(6, k));
    }
    // Sampling differs from greedy decoding.
    assert_ne!(sampled(5, 0), reference(&target, &p, 30));
}

#[test]
fn events_serialise_with_their_contract_names() {
    let target = ToyModel::new(22, VOCAB);
    let p = prompt(22, 6, VOCAB, false);
    let mut events = Vec::new();
    let mut d = NgramDrafter::new(NgramConfig::default());
    generate(&mut target.clone(), Some(&mut d), &p, &mut cfg(5, 2), &AtomicBool::new(false), &mut |e| {
        events.push(serde_json::to_value(e).unwrap())
    })
    .unwrap();
    assert_eq!(events[0]["type"], "prefill");
    assert_eq!(events[0]["prompt_tokens"], 6);
    assert_eq!(events[1]["type"], "step");
    for key in ["drafted", "accepted", "token", "drafter", "draft_ms", "verify_ms", "committed"] {
        assert!(events[1].get(key).is_some(), "step lacks {key}");
    }
    let done = events.last().unwrap();
    assert_eq!(done["type"], "done");
    assert_eq!(done["reason"], "max_tokens");
    let mut keys: Vec<&str> = done["stats"].as_object().unwrap().keys().map(|s| s.as_str()).collect();
    keys.sort_unstable();
    let mut expect = [
        "generated",
        "drafted",
        "accepted",
        "acceptance_rate",
        "steps",
        "mean_accepted",
        "prefill_ms",
        "decode_ms",
        "tokens_per_second",
        "drafter",
    ];
    expect.sort_unstable();
    assert_eq!(keys, expect);
    assert_eq!(done["stats"]["drafter"], "ngram");
    assert_eq!(done["stats"]["generated"], 5);
}

#[test]
fn simulated_costs_time_every_step_and_the_answer() {
    let target = ToyModel::new(31, VOCAB);
    let p = prompt(31, 8, VOCAB, false);
    let costs: SimulatedCosts = "draft=9,catch-up=2,verify=30:33:35:37".parse().unwrap();
    let run = || {
        let mut steps = Vec::new();
        let mut c = GenerateConfig {
            max_tokens: 80,
            draft_length: DraftLength::Auto { max: 6 },
            simulated_costs: Some(costs.clone()),
            ..GenerateConfig::default()
        };
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.8, 0), VOCAB);
        let out = generate(&mut target.clone(), Some(&mut d), &p, &mut c, &AtomicBool::new(false), &mut |e| {
            if let Event::Step(s) = e {
                steps.push(s.clone());
            }
        })
        .unwrap();
        (out, steps)
    };
    let (out, steps) = run();
    assert!(steps.iter().any(|s| !s.drafted.is_empty()), "it speculated");
    for s in &steps {
        assert_eq!(s.verify_ms, costs.verify(1 + s.drafted.len()));
    }
    let total: f64 = steps.iter().map(|s| s.draft_ms + s.verify_ms).sum();
    assert!((out.stats.decode_ms - total).abs() < 1e-9, "{} against {total}", out.stats.decode_ms);
    // Nothing measured decides anything: a second run takes the same steps and time.
    let (again, again_steps) = run();
    assert_eq!((again.tokens, again.stats.decode_ms), (out.tokens, out.stats.decode_ms));
    assert_eq!(again_steps, steps);
}

/// A drafter that notes every draft length it is asked for.
struct Asked<D: Drafter> {
    inner: D,
    ks: Vec<usize>,
}

impl<D: Drafter> Drafter for Asked<D> {
    fn kind(&self) -> tandem_engine::DrafterKind {
        self.inner.kind()
    }
    fn model_stops_on_doubt(&self) -> bool {
        self.inner.model_stops_on_doubt()
    }
    fn backlog(&mut self, context: &[TokenId]) -> usize {
        self.inner.backlog(context)
    }
    fn propose(
        &mut self,
        context: &[TokenId],
        k: usize,
        sampling: &SamplingParams,
        rng: &mut tandem_engine::Rng,
    ) -> Result<tandem_engine::Proposal, tandem_engine::EngineError> {
        self.ks.push(k);
        self.inner.propose(context, k, sampling, rng)
    }
    fn prepare(&mut self, context: &[TokenId], cancel: &AtomicBool) -> Result<(), tandem_engine::EngineError> {
        self.inner.prepare(context, cancel)
    }
}

#[test]
fn a_draft_model_that_stops_on_doubt_is_asked_for_the_longest_draft() {
    let target = ToyModel::new(32, VOCAB);
    let p = prompt(32, 8, VOCAB, false);
    let costs: SimulatedCosts = "draft=3,catch-up=1,verify=30:32:33:34".parse().unwrap();
    let asked = |drafter: ModelDrafter<FakeDraft>| {
        let mut d = Asked { inner: drafter, ks: Vec::new() };
        let mut c = GenerateConfig {
            max_tokens: 120,
            draft_length: DraftLength::Auto { max: 6 },
            simulated_costs: Some(costs.clone()),
            ..GenerateConfig::default()
        };
        let out = quiet(&mut target.clone(), Some(&mut d), &p, &mut c);
        assert_eq!(out.tokens, reference(&target, &p, 120));
        d.ks
    };
    // Blind to its doubt, the policy chooses each length from what it has learned.
    let blind = asked(ModelDrafter::new(FakeDraft::new(&target, 0.8, 0), VOCAB));
    assert!(blind.iter().any(|&k| k > 0 && k < 6), "{blind:?}");
    // A drafter that stops where it doubts is asked for six whenever the policy speculates,
    // but at the answer's end (no more than can still be output).
    let doubting = asked(ModelDrafter::new(FakeDraft::new(&target, 0.8, 0), VOCAB).stopping_below(1e-3));
    let speculative = &doubting[..doubting.len() - 6];
    assert!(speculative.len() > 10 && speculative.iter().all(|&k| k == 6), "{doubting:?}");
}

//! Property: greedy speculative decoding outputs exactly the tokens of plain greedy
//! decoding, for every drafter, draft length and seed, and its statistics add up.

mod common;

use std::sync::atomic::AtomicBool;

use common::{prompt, FakeDraft, ToyModel};
use tandem_engine::{
    generate, DraftLength, Drafter, Event, GenerateConfig, HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter,
    Output, StopReason, TokenId,
};

const VOCAB: usize = 24;

fn run(
    target: &mut ToyModel,
    drafter: Option<&mut dyn Drafter>,
    prompt: &[TokenId],
    cfg: &mut GenerateConfig,
) -> (Output, Vec<Event>) {
    let mut events = Vec::new();
    let out = generate(target, drafter, prompt, cfg, &AtomicBool::new(false), &mut |e| events.push(e.clone())).unwrap();
    (out, events)
}

/// Checks the event stream against the output: order, counts and committed tokens.
fn check_consistency(out: &Output, events: &[Event], max_tokens: usize) {
    assert!(matches!(events.first(), Some(Event::Prefill { .. })));
    let Some(Event::Done { stats, reason }) = events.last() else { panic!("no Done event") };
    assert_eq!(stats, &out.stats);
    assert_eq!(*reason, out.reason);
    let steps: Vec<_> = events.iter().filter_map(|e| if let Event::Step(s) = e { Some(s) } else { None }).collect();
    assert_eq!(steps.len(), out.stats.steps);
    let committed: Vec<TokenId> = steps.iter().flat_map(|s| s.committed.clone()).collect();
    assert_eq!(committed, out.tokens);
    let drafted: usize = steps.iter().map(|s| s.drafted.len()).sum();
    let accepted: usize = steps.iter().map(|s| s.accepted).sum();
    assert_eq!((drafted, accepted), (out.stats.drafted, out.stats.accepted));
    for s in &steps {
        assert!(s.accepted <= s.drafted.len());
        assert_eq!(s.drafter.is_some(), !s.drafted.is_empty());
        let mut full = s.drafted[..s.accepted].to_vec();
        full.push(s.token);
        assert!(full.starts_with(&s.committed), "committed tokens are a prefix of the step's tokens");
    }
    assert!(out.stats.accepted <= out.stats.drafted);
    assert_eq!(out.stats.generated, out.tokens.len());
    assert!(out.tokens.len() <= max_tokens);
}

fn config(max_tokens: usize, draft_length: DraftLength, eos: Vec<TokenId>) -> GenerateConfig {
    GenerateConfig { max_tokens, draft_length, eos, ..GenerateConfig::default() }
}

#[test]
fn every_drafter_and_length_reproduces_plain_greedy_output() {
    let mut speculative_steps = 0;
    let mut accepted_total = 0;
    for seed in 0..24u64 {
        let target = ToyModel::new(seed, VOCAB);
        let p = prompt(seed, 3 + (seed as usize % 17), VOCAB, seed % 2 == 0);
        // Every third seed has an end-of-sequence id, so generations also end early.
        let eos: Vec<TokenId> = if seed % 3 == 0 { vec![(seed % VOCAB as u64) as TokenId] } else { vec![] };
        let max_tokens = 20 + (seed as usize * 7) % 50;
        let mut plain_target = target.clone();
        let (plain, events) =
            run(&mut plain_target, None, &p, &mut config(max_tokens, DraftLength::Fixed(0), eos.clone()));
        check_consistency(&plain, &events, max_tokens);
        assert_eq!(plain.stats.drafted, 0);

        let lengths = (1..=8).map(DraftLength::Fixed).chain([DraftLength::Auto { max: 8 }]);
        for length in lengths {
            let agree = [0.0, 0.5, 0.9][seed as usize % 3];
            let mut model = ModelDrafter::new(FakeDraft::new(&target, agree, 3), VOCAB);
            let mut ngram = NgramDrafter::new(NgramConfig::default());
            let mut hybrid = HybridDrafter::new(
                NgramDrafter::new(NgramConfig::BESIDE_MODEL),
                ModelDrafter::new(FakeDraft::new(&target, agree, 0), VOCAB),
            );
            let drafters: [&mut dyn Drafter; 3] = [&mut model, &mut ngram, &mut hybrid];
            for d in drafters {
                let kind = d.kind();
                let mut t = target.clone();
                let mut cfg = config(max_tokens, length, eos.clone());
                let (out, events) = run(&mut t, Some(d), &p, &mut cfg);
                assert_eq!(out.tokens, plain.tokens, "seed {seed}, {length:?}, {kind:?}");
                assert_eq!(out.reason, plain.reason);
                check_consistency(&out, &events, max_tokens);
                assert_eq!(out.stats.drafter, kind.as_str());
                speculative_steps += out.stats.steps;
                accepted_total += out.stats.accepted;
            }
        }
    }
    // The property is only meaningful if drafts were actually accepted along the way.
    assert!(accepted_total > speculative_steps / 4, "{accepted_total} accepted in {speculative_steps} steps");
}

#[test]
fn a_perfect_draft_is_accepted_in_full() {
    let target = ToyModel::new(7, VOCAB);
    let p = prompt(7, 5, VOCAB, false);
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 1.0, 0), VOCAB);
    let (out, _) = run(&mut target.clone(), Some(&mut d), &p, &mut config(41, DraftLength::Fixed(4), vec![]));
    // 41 tokens = 8 steps of 4 accepted drafts + 1 target token, then a final step capped
    // by max_tokens (no drafting past the limit).
    assert_eq!(out.tokens.len(), 41);
    assert_eq!(out.stats.acceptance_rate, 1.0);
    assert_eq!(out.stats.steps, 9);
    assert_eq!(out.stats.mean_accepted, 4.0);
}

#[test]
fn a_useless_draft_still_gives_the_plain_output() {
    // With agreement 0 the draft's argmax is wrong almost always; output must not change.
    for seed in 0..6 {
        let target = ToyModel::new(100 + seed, VOCAB);
        let p = prompt(seed, 6, VOCAB, false);
        let (plain, _) = run(&mut target.clone(), None, &p, &mut config(30, DraftLength::Fixed(0), vec![]));
        let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.0, 0), VOCAB);
        let (out, _) = run(&mut target.clone(), Some(&mut d), &p, &mut config(30, DraftLength::Fixed(6), vec![]));
        assert_eq!(out.tokens, plain.tokens);
        assert!(out.stats.acceptance_rate < 0.5);
        assert_eq!(out.reason, StopReason::MaxTokens);
    }
}

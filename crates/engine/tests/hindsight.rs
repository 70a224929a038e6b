//! The ceiling of `tandem bench --simulate`: what each drafter would have guessed along a
//! known answer, and that no generation beats the fastest plan built from it.

mod common;

use std::sync::atomic::AtomicBool;

use common::{prompt, FakeDraft, ToyModel};
use tandem_engine::{
    fastest_decode_ms, generate, hindsight, DraftLength, Drafter, DrafterKind, Event, GenerateConfig, Hindsight,
    HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter, SimulatedCosts, TokenId,
};

const VOCAB: usize = 20;

/// The target's plain greedy answer, one token per step (the steps a plain run takes).
fn plain_answer(target: &ToyModel, p: &[TokenId], max_tokens: usize) -> Vec<TokenId> {
    let mut tokens = Vec::new();
    let mut c = GenerateConfig { max_tokens, draft_length: DraftLength::Fixed(0), ..GenerateConfig::default() };
    generate(&mut target.clone(), None, p, &mut c, &AtomicBool::new(false), &mut |e| {
        if let Event::Step(s) = e {
            tokens.push(s.token);
        }
    })
    .unwrap();
    tokens
}

#[test]
fn a_draft_models_hindsight_is_what_its_drafts_would_have_got_right() {
    for (seed, room) in [(41, 4096), (42, 4096), (43, 30)] {
        let target = ToyModel::new(seed, VOCAB);
        let p = prompt(seed, 12, VOCAB, false);
        let answer = plain_answer(&target, &p, 60);
        // Tail ids the target lacks get the largest logits: hindsight must mask them as
        // drafting does. A short context leaves the last positions without a guess.
        let mut draft = FakeDraft::new(&target, 0.75, 2);
        draft.inner.max_context = room;
        let k = 5;
        let seen = ModelDrafter::new(draft.clone(), VOCAB).hindsight(&p, &answer, k).unwrap();
        let want = hindsight::by_proposing(&mut ModelDrafter::new(draft, VOCAB), &p, &answer, k).unwrap().runs;
        assert_eq!(seen, [Hindsight { kind: DrafterKind::Model, k, runs: want.clone() }], "seed {seed}");
        assert!(want.contains(&k) && want.contains(&0), "seed {seed}: {want:?}");
        if room < 4096 {
            assert!(want[room - p.len() + 1..].iter().all(|&r| r == 0), "no guess past the context");
        }
    }
}

#[test]
fn a_hybrid_offers_lookup_and_its_model_apart() {
    let target = ToyModel::new(44, VOCAB);
    let p = prompt(44, 24, VOCAB, true);
    let answer = plain_answer(&target, &p, 50);
    let draft = FakeDraft::new(&target, 0.7, 0);
    let mut hybrid =
        HybridDrafter::new(NgramDrafter::new(NgramConfig::BESIDE_MODEL), ModelDrafter::new(draft.clone(), VOCAB));
    let sources = hybrid.hindsight(&p, &answer, 6).unwrap();
    let lookup =
        hindsight::by_proposing(&mut NgramDrafter::new(NgramConfig::BESIDE_MODEL), &p, &answer, 6).unwrap().runs;
    let model = ModelDrafter::new(draft, VOCAB).hindsight(&p, &answer, 6).unwrap();
    assert_eq!(sources[0], Hindsight { kind: DrafterKind::Ngram, k: 6, runs: lookup });
    assert_eq!(sources[1..], model[..]);
}

#[test]
fn no_generation_beats_the_fastest_plan() {
    // Costs like the default pair's on a CPU, and cheap forwards with dear catching up,
    // where a wrong guess can pay for keeping the draft model close.
    for (seed, costs) in (50..62)
        .zip(["draft=6,catch-up=2,verify=20:24:26:28:30:33:36", "draft=1,catch-up=8,verify=20:21:22"].iter().cycle())
    {
        let costs: SimulatedCosts = costs.parse().unwrap();
        let target = ToyModel::new(seed, VOCAB);
        let p = prompt(seed, 24, VOCAB, seed % 2 == 0);
        let answer = plain_answer(&target, &p, 90);
        let draft = FakeDraft::new(&target, 0.6 + 0.025 * (seed - 50) as f64, 0);
        let hybrid = || {
            HybridDrafter::new(
                NgramDrafter::new(NgramConfig::BESIDE_MODEL),
                ModelDrafter::new(draft.clone(), VOCAB).stopping_below(0.3),
            )
        };
        let sources = hybrid().hindsight(&p, &answer, 6).unwrap();
        let fastest = fastest_decode_ms(answer.len(), &sources, &costs);
        let plain = costs.verify(1) * answer.len() as f64;
        assert!(fastest < 0.9 * plain, "seed {seed}: the drafts are right often enough to pay");
        for length in
            [DraftLength::Auto { max: 6 }, DraftLength::Fixed(1), DraftLength::Fixed(3), DraftLength::Fixed(6)]
        {
            for drafter in [&mut hybrid() as &mut dyn Drafter, &mut ModelDrafter::new(draft.clone(), VOCAB)] {
                let mut c = GenerateConfig {
                    max_tokens: 90,
                    draft_length: length,
                    simulated_costs: Some(costs.clone()),
                    ..GenerateConfig::default()
                };
                let out =
                    generate(&mut target.clone(), Some(drafter), &p, &mut c, &AtomicBool::new(false), &mut |_| {})
                        .unwrap();
                assert_eq!(out.tokens, answer[..90], "seed {seed}, {length:?}");
                assert!(
                    out.stats.decode_ms >= fastest - 1e-9,
                    "seed {seed}, {length:?}: {} ms beat the fastest plan's {fastest}",
                    out.stats.decode_ms
                );
            }
        }
    }
}

#[test]
fn with_a_draft_that_is_always_right_the_fastest_plan_is_the_longest_drafts() {
    // Forwards so cheap that the longest draft always pays: seven tokens a step, the first
    // draft one forward short (it holds its first guess after reading the prompt).
    let costs: SimulatedCosts = "draft=1,catch-up=2,verify=20:21:22:23:24:25:26".parse().unwrap();
    let target = ToyModel::new(60, VOCAB);
    let p = prompt(60, 16, VOCAB, false);
    let answer = plain_answer(&target, &p, 91);
    let perfect = FakeDraft::new(&target, 1.0, 0);
    let sources = ModelDrafter::new(perfect.clone(), VOCAB).hindsight(&p, &answer, 6).unwrap();
    let fastest = fastest_decode_ms(answer.len(), &sources, &costs);
    assert_eq!(fastest, (5.0 + 26.0) + 12.0 * (6.0 + 26.0));
    let mut c = GenerateConfig {
        max_tokens: 91,
        draft_length: DraftLength::Fixed(6),
        simulated_costs: Some(costs),
        ..GenerateConfig::default()
    };
    let mut d = ModelDrafter::new(perfect, VOCAB);
    let out = generate(&mut target.clone(), Some(&mut d), &p, &mut c, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!((out.stats.steps, out.stats.decode_ms), (13, fastest));
}

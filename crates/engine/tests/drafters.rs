//! The model drafter (vocabulary masking, cache synchronisation, context limits) and the
//! hybrid drafter's choice between lookup and model.

mod common;

use std::sync::atomic::AtomicBool;

use common::{prompt, FakeDraft, ToyModel};
use tandem_engine::sampler::argmax;
use tandem_engine::{
    Drafter, DrafterKind, HybridDrafter, LogitsWanted, Model, ModelDrafter, NgramConfig, NgramDrafter, Proposal, Rng,
    SamplingParams, TokenId,
};

const VOCAB: usize = 16;

fn greedy(d: &mut ModelDrafter<FakeDraft>, ctx: &[TokenId], k: usize) -> Vec<TokenId> {
    d.propose(ctx, k, &SamplingParams::greedy(), &mut Rng::new(0)).unwrap().tokens
}

fn fed(d: &ModelDrafter<FakeDraft>) -> usize {
    d.model().inner.fed_total
}

#[test]
fn draft_tail_ids_the_target_lacks_are_never_proposed() {
    // The fake draft gives its 4 extra tail ids the highest logits of all.
    let target = ToyModel::new(1, VOCAB);
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.5, 4), VOCAB);
    let ctx = prompt(1, 10, VOCAB, false);
    let sampling = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
    let mut rng = Rng::new(9);
    for k in 1..8 {
        let g = greedy(&mut d, &ctx, k);
        assert_eq!(g.len(), k);
        assert!(g.iter().all(|&t| (t as usize) < VOCAB), "{g:?}");
        let s = d.propose(&ctx, k, &sampling, &mut rng).unwrap();
        assert!(s.tokens.iter().all(|&t| (t as usize) < VOCAB), "{:?}", s.tokens);
        let dists = s.dists.expect("sampling drafts carry their distributions");
        assert!(dists.iter().all(|q| q.len() == VOCAB && (q.iter().sum::<f32>() - 1.0).abs() < 1e-4));
    }
}

#[test]
fn greedy_drafts_are_the_draft_models_own_greedy_continuation() {
    let target = ToyModel::new(2, VOCAB);
    let draft = FakeDraft::new(&target, 0.6, 0);
    let ctx = prompt(2, 7, VOCAB, false);
    // Reference: decode the draft model plainly, one token at a time.
    let mut reference = draft.clone();
    let mut expect = Vec::new();
    let mut row = reference.forward(&ctx, LogitsWanted::Last).unwrap().data;
    for _ in 0..6 {
        let t = argmax(&row).unwrap();
        expect.push(t);
        row = reference.forward(&[t], LogitsWanted::Last).unwrap().data;
    }
    let mut d = ModelDrafter::new(draft, VOCAB);
    assert_eq!(greedy(&mut d, &ctx, 6), expect);
}

#[test]
fn only_the_missing_part_of_the_context_is_fed() {
    let target = ToyModel::new(3, VOCAB);
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.5, 0), VOCAB);
    let ctx = prompt(3, 12, VOCAB, false);
    d.prepare(&ctx, &AtomicBool::new(false)).unwrap();
    assert_eq!(fed(&d), 12);
    // The prepared logits serve the first draft: only the k-1 drafted tokens are fed.
    let draft = greedy(&mut d, &ctx, 4);
    assert_eq!(fed(&d), 12 + 3);
    // Two drafts accepted, then the target's own token: the cache already holds the two,
    // so one token is fed to catch up, plus three for the new drafts.
    let mut next = ctx.clone();
    next.extend_from_slice(&draft[..2]);
    next.push((draft[2] + 1) % VOCAB as TokenId);
    greedy(&mut d, &next, 4);
    assert_eq!(fed(&d), 12 + 3 + 1 + 3);
    assert_eq!(d.model().cached_len(), next.len() + 3);
    // A context that diverges early is re-fed from the divergence only.
    let mut other = ctx[..5].to_vec();
    other.push((ctx[5] + 1) % VOCAB as TokenId);
    let before = fed(&d);
    greedy(&mut d, &other, 1);
    assert_eq!(fed(&d) - before, 1);
    // Asking again for the same context re-feeds its last token to recover the logits.
    let before = fed(&d);
    greedy(&mut d, &other, 1);
    assert_eq!(fed(&d) - before, 1);
}

#[test]
fn the_draft_model_is_never_fed_past_its_context() {
    let mut target = ToyModel::new(4, VOCAB);
    target.max_context = 10;
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.5, 0), VOCAB);
    // 8 tokens of context leave room for feeding 2 drafts, so 3 can be proposed.
    let ctx = prompt(4, 8, VOCAB, false);
    assert_eq!(greedy(&mut d, &ctx, 6).len(), 3);
    assert!(d.model().cached_len() <= 10);
    let ctx = prompt(4, 10, VOCAB, false);
    assert_eq!(greedy(&mut d, &ctx, 6).len(), 1);
    // A context longer than the draft's is not drafted at all (and is no error).
    let ctx = prompt(4, 11, VOCAB, false);
    assert!(greedy(&mut d, &ctx, 6).is_empty());
    d.prepare(&ctx, &AtomicBool::new(false)).unwrap();
    assert!(d.model().cached_len() <= 10);
}

#[test]
fn hybrid_uses_the_lookup_when_it_matches_and_the_model_otherwise() {
    let target = ToyModel::new(5, VOCAB);
    let sampling = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
    let mut hybrid = HybridDrafter::new(
        NgramDrafter::new(NgramConfig::BESIDE_MODEL),
        ModelDrafter::new(FakeDraft::new(&target, 0.5, 0), VOCAB),
    );
    assert_eq!(hybrid.kind(), DrafterKind::Hybrid);
    // No earlier occurrence of any suffix: the model drafts, with its distributions.
    let fresh: Vec<TokenId> = (0..8).collect();
    let mut alone = ModelDrafter::new(FakeDraft::new(&target, 0.5, 0), VOCAB);
    let expect = alone.propose(&fresh, 3, &sampling, &mut Rng::new(1)).unwrap();
    let got = hybrid.propose(&fresh, 3, &sampling, &mut Rng::new(1)).unwrap();
    assert_eq!(got, expect);
    assert!(got.dists.is_some());
    assert_eq!(hybrid.source(&fresh), DrafterKind::Model, "the policy is told the model will answer");
    // "2 3 4" occurred before: the lookup's continuation, deterministic even when sampling.
    let mut repeated = fresh.clone();
    repeated.extend([2, 3, 4]);
    let got = hybrid.propose(&repeated, 3, &sampling, &mut Rng::new(1)).unwrap();
    assert_eq!(got, Proposal { tokens: vec![5, 6, 7], dists: None, forwards: 0 });
    assert_eq!(hybrid.source(&repeated), DrafterKind::Ngram, "the policy is told the lookup will answer");
    // Only "3 4" occurred before: too short a match beside a model, which drafts instead.
    let mut short = fresh.clone();
    short.extend([3, 4]);
    assert_eq!(hybrid.source(&short), DrafterKind::Model);
    let expect = alone.propose(&short, 3, &sampling, &mut Rng::new(1)).unwrap();
    assert_eq!(hybrid.propose(&short, 3, &sampling, &mut Rng::new(1)).unwrap(), expect);
}

#[test]
fn a_doubtful_draft_stops_early_and_keeps_its_cache_in_step() {
    let target = ToyModel::new(5, VOCAB);
    let ctx = prompt(5, 9, VOCAB, false);
    let full = greedy(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB), &ctx, 8);
    // The toy logits are nearly flat over 16 ids, so the draft doubts every guess: with any
    // threshold above its first guess's probability it proposes exactly one token.
    let mut doubtful = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(0.9);
    let short = greedy(&mut doubtful, &ctx, 8);
    assert_eq!(short, full[..1]);
    // A low threshold proposes a prefix of the same guesses, never other ones.
    let mut lenient = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(1e-3);
    let some = greedy(&mut lenient, &ctx, 8);
    assert!(!some.is_empty() && some.len() < full.len() && full.starts_with(&some), "{some:?} of {full:?}");
    // After stopping early the drafter continues correctly from a longer context.
    let longer = [ctx.clone(), short.clone(), vec![3]].concat();
    let reference = greedy(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB), &longer, 1);
    assert_eq!(greedy(&mut doubtful, &longer, 8), reference);
    // Sampled drafts stop the same way and keep one distribution per token.
    let sampling = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
    let s = doubtful.propose(&ctx, 8, &sampling, &mut Rng::new(3)).unwrap();
    assert_eq!(s.tokens.len(), 1);
    assert_eq!(s.dists.map(|d| d.len()), Some(1));
}

#[test]
fn a_first_guess_already_in_doubt_is_not_fed_to_the_draft() {
    let target = ToyModel::new(5, VOCAB);
    let ctx = prompt(5, 9, VOCAB, false);
    let mut doubtful = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(0.9);
    assert_eq!(greedy(&mut doubtful, &ctx, 8).len(), 1);
    // One forward over the context gave the guess; a second would only have given the
    // logits for a guess the threshold already ruled out.
    assert_eq!(fed(&doubtful), ctx.len());
    // The next step feeds the guess (accepted here) with the target's token, and drafts on.
    let next = [ctx.clone(), greedy(&mut doubtful, &ctx, 1), vec![3]].concat();
    let reference = greedy(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB), &next, 1);
    assert_eq!(greedy(&mut doubtful, &next, 8), reference);
    assert_eq!(fed(&doubtful), next.len());
}

#[test]
fn a_guess_worth_verifying_but_not_drafting_past_ends_the_draft_without_a_forward() {
    let target = ToyModel::new(6, VOCAB);
    let ctx = prompt(6, 9, VOCAB, false);
    // The draft's estimate that its first j + 1 guesses are all accepted, from its logits.
    let mut reference = FakeDraft::new(&target, 0.7, 0);
    let mut row = reference.forward(&ctx, LogitsWanted::Last).unwrap().data;
    let mut all_accepted = Vec::new();
    for _ in 0..4 {
        let t = argmax(&row).unwrap();
        let sum: f32 = row.iter().map(|&x| (x - row[t as usize]).exp()).sum();
        all_accepted.push(all_accepted.last().unwrap_or(&1.0) / sum);
        row = reference.forward(&[t], LogitsWanted::Last).unwrap().data;
    }
    // Guesses are proposed down to a tiny estimate, but drafted past only while it stays
    // above a level between the first and the second guess's: two guesses, and no forward
    // after the second (one over the context, one feeding the first guess).
    let feed_above = (all_accepted[0] + all_accepted[1]) / 2.0;
    let mut d =
        ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(1e-6).feeding_above(feed_above);
    let p = d.propose(&ctx, 8, &SamplingParams::greedy(), &mut Rng::new(0)).unwrap();
    let full = greedy(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB), &ctx, 8);
    assert_eq!((p.tokens.as_slice(), p.forwards), (&full[..2], 2), "{all_accepted:?}");
    // Stopping alone at that level pays the same forwards for one guess fewer.
    let mut stopping = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(feed_above);
    let p = stopping.propose(&ctx, 8, &SamplingParams::greedy(), &mut Rng::new(0)).unwrap();
    assert_eq!((p.tokens.as_slice(), p.forwards), (&full[..1], 2));
    // The drafter goes on from where it stopped.
    let next = [ctx.clone(), full[..2].to_vec(), vec![3]].concat();
    let expect = greedy(&mut ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB), &next, 1);
    assert_eq!(greedy(&mut d, &next, 1), expect);
}

#[test]
fn a_proposal_counts_the_draft_forwards_it_took() {
    let target = ToyModel::new(5, VOCAB);
    let ctx = prompt(5, 9, VOCAB, false);
    let sampling = SamplingParams::greedy();
    let calls = |d: &ModelDrafter<FakeDraft>| d.model().inner.forward_calls;
    let propose = |d: &mut ModelDrafter<FakeDraft>, ctx: &[TokenId], k: usize| {
        let before = calls(d);
        let p = d.propose(ctx, k, &sampling, &mut Rng::new(0)).unwrap();
        assert_eq!(p.forwards, calls(d) - before, "the count is the calls made");
        p
    };
    // A full draft of k: one forward over the context, then one per drafted token but the last.
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB);
    assert_eq!(propose(&mut d, &ctx, 4).forwards, 4);
    // Prepared, the context's logits are at hand.
    let mut d = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB);
    d.prepare(&ctx, &AtomicBool::new(false)).unwrap();
    assert_eq!(propose(&mut d, &ctx, 4).forwards, 3);
    // Stopped by doubt after its first guess: the guess was fed to learn that the next one
    // is in doubt, so the draft cost one forward more than it proposes.
    let mut lenient = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(1e-3);
    let p = propose(&mut lenient, &ctx, 8);
    assert!(p.tokens.len() < 8);
    assert_eq!(p.forwards, p.tokens.len() + 1);
    // A first guess already in doubt is proposed without feeding it.
    let mut doubtful = ModelDrafter::new(FakeDraft::new(&target, 0.7, 0), VOCAB).stopping_below(0.9);
    let p = propose(&mut doubtful, &ctx, 8);
    assert_eq!((p.tokens.len(), p.forwards), (1, 1));
    // Prompt lookup runs no model.
    let mut lookup = NgramDrafter::new(NgramConfig::default());
    let repeated: Vec<TokenId> = [0, 1, 2, 3, 0, 1, 2].to_vec();
    let p = lookup.propose(&repeated, 2, &sampling, &mut Rng::new(0)).unwrap();
    assert_eq!((p.tokens.len(), p.forwards), (2, 0));
}

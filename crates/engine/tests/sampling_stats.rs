//! Statistical check that speculative sampling emits tokens with exactly the target's
//! distribution p, whatever the draft distribution q, including with top-p < 1 and
//! temperature != 1; and a negative control showing the test detects a wrong distribution.

mod common;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use common::{FakeDraft, ToyModel};
use tandem_engine::sampler::{distribution, sample};
use tandem_engine::{
    generate, verify, DraftLength, Drafter, GenerateConfig, HybridDrafter, Logits, Model, ModelDrafter, NgramConfig,
    NgramDrafter, Proposal, Rng, SamplingParams, TokenId,
};

const TRIALS: usize = 40_000;

/// Chi-squared critical values at significance 0.001, by degrees of freedom (1..=7):
/// a correct sampler fails one of these checks with probability 1/1000 per seed.
const CRITICAL: [f64; 7] = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32];

const TARGET_LOGITS: [f32; 8] = [2.0, 1.5, 0.3, -0.5, 1.0, 0.0, -1.0, 0.8];
/// A deliberately different draft: it favours the tokens the target likes least.
const DRAFT_LOGITS: [f32; 8] = [-1.0, 0.0, 1.5, 2.0, -0.5, 1.0, 1.8, -2.0];

/// Whether `counts` are consistent with the distribution `p`: no token outside p's support
/// was observed, and Pearson's chi-squared statistic is below the 0.001 critical value.
/// Returns the verdict and the statistic (for messages).
fn consistent_with(counts: &[usize], p: &[f32]) -> (bool, f64) {
    if counts.iter().zip(p).any(|(&c, &pi)| pi == 0.0 && c > 0) {
        return (false, f64::INFINITY);
    }
    let n: usize = counts.iter().sum();
    let mut stat = 0.0;
    let mut bins = 0;
    for (&c, &pi) in counts.iter().zip(p).filter(|(_, &pi)| pi > 0.0) {
        let expected = n as f64 * pi as f64;
        stat += (c as f64 - expected).powi(2) / expected;
        bins += 1;
    }
    assert!(bins >= 2, "a single-token support makes the statistic meaningless");
    (stat < CRITICAL[bins - 2], stat)
}

/// Runs single-position speculative steps: draw x from the draft (or propose `fixed`
/// deterministically), verify it against the target row, and count the emitted token.
fn speculative_counts(params: &SamplingParams, fixed: Option<TokenId>, seed: u64) -> Vec<usize> {
    let q = distribution(&DRAFT_LOGITS, params).unwrap();
    let mut data = TARGET_LOGITS.to_vec();
    data.extend_from_slice(&TARGET_LOGITS);
    let logits = Logits { rows: 2, vocab: 8, data };
    let mut rng = Rng::new(seed);
    let mut counts = vec![0; 8];
    for _ in 0..TRIALS {
        let proposal = match fixed {
            Some(t) => Proposal { tokens: vec![t], dists: None, forwards: 0 },
            None => {
                let x = sample(&q, &mut rng).unwrap();
                Proposal { tokens: vec![x], dists: Some(vec![q.clone()]), forwards: 0 }
            }
        };
        let v = verify(&logits, &proposal, params, None, &mut rng).unwrap();
        let emitted = if v.accepted == 1 { proposal.tokens[0] } else { v.next };
        counts[emitted as usize] += 1;
    }
    counts
}

fn settings() -> [SamplingParams; 4] {
    [
        SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 },
        SamplingParams { temperature: 0.7, top_p: 1.0, seed: 0 },
        SamplingParams { temperature: 1.3, top_p: 0.85, seed: 0 },
        SamplingParams { temperature: 0.6, top_p: 0.8, seed: 0 },
    ]
}

#[test]
fn speculative_sampling_matches_the_target_distribution() {
    for (i, params) in settings().iter().enumerate() {
        let p = distribution(&TARGET_LOGITS, params).unwrap();
        let q = distribution(&DRAFT_LOGITS, params).unwrap();
        assert!(p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f32>() > 0.5, "q must differ from p");
        let counts = speculative_counts(params, None, 1000 + i as u64);
        let (ok, stat) = consistent_with(&counts, &p);
        assert!(ok, "{params:?}: chi2 {stat:.1}, counts {counts:?}");
    }
}

#[test]
fn a_deterministic_draft_is_verified_exactly_as_a_point_mass() {
    for (i, params) in settings().iter().enumerate() {
        let p = distribution(&TARGET_LOGITS, params).unwrap();
        // Token 3 is unlikely under the target (outside the nucleus when top_p < 1).
        for fixed in [0, 3] {
            let counts = speculative_counts(params, Some(fixed), 2000 + i as u64);
            let (ok, stat) = consistent_with(&counts, &p);
            assert!(ok, "{params:?} fixed {fixed}: chi2 {stat:.1}, counts {counts:?}");
        }
    }
}

#[test]
fn negative_control_the_test_rejects_the_draft_distribution() {
    // Emitting the draft's own samples (no verification) must fail the same test.
    for (i, params) in settings().iter().enumerate() {
        let p = distribution(&TARGET_LOGITS, params).unwrap();
        let q = distribution(&DRAFT_LOGITS, params).unwrap();
        let mut rng = Rng::new(3000 + i as u64);
        let mut counts = vec![0; 8];
        for _ in 0..TRIALS {
            counts[sample(&q, &mut rng).unwrap() as usize] += 1;
        }
        let (ok, stat) = consistent_with(&counts, &p);
        assert!(!ok, "{params:?}: chi2 {stat:.1} should reject the draft's distribution");
    }
}

#[test]
fn resampling_from_p_after_rejection_would_be_detected() {
    // A broken verifier that accepts with probability min(1, p/q) but then resamples from p
    // instead of the residual over-produces the draft's favourites; the test must see it.
    let params = SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 };
    let p = distribution(&TARGET_LOGITS, &params).unwrap();
    let q = distribution(&DRAFT_LOGITS, &params).unwrap();
    let mut rng = Rng::new(4000);
    let mut counts = vec![0; 8];
    for _ in 0..TRIALS {
        let x = sample(&q, &mut rng).unwrap() as usize;
        let emitted =
            if rng.next_f64() * (q[x] as f64) < p[x] as f64 { x } else { sample(&p, &mut rng).unwrap() as usize };
        counts[emitted] += 1;
    }
    let (ok, stat) = consistent_with(&counts, &p);
    assert!(!ok, "chi2 {stat:.1} should reject a verifier that resamples from p");
}

/// Upper 0.001 quantile of chi-squared with `dof` degrees of freedom (Wilson–Hilferty).
fn critical(dof: usize) -> f64 {
    let d = dof as f64;
    let h = 2.0 / (9.0 * d);
    d * (1.0 - h + 3.090 * h.sqrt()).powi(3)
}

/// Two-sample chi-squared homogeneity test on equally many draws: are `a` and `b` samples
/// of the same distribution? Outcomes seen fewer than 10 times in all are pooled so the
/// approximation holds. Returns the verdict and the statistic.
fn same_distribution(a: &HashMap<Vec<TokenId>, usize>, b: &HashMap<Vec<TokenId>, usize>) -> (bool, f64) {
    let mut keys: Vec<&Vec<TokenId>> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut cells: Vec<(f64, f64)> = Vec::new();
    let mut pooled = (0.0, 0.0);
    for k in keys {
        let (x, y) = (*a.get(k).unwrap_or(&0) as f64, *b.get(k).unwrap_or(&0) as f64);
        if x + y < 10.0 {
            pooled = (pooled.0 + x, pooled.1 + y);
        } else {
            cells.push((x, y));
        }
    }
    if pooled.0 + pooled.1 > 0.0 {
        cells.push(pooled);
    }
    let stat: f64 = cells.iter().map(|(x, y)| (x - y).powi(2) / (x + y)).sum();
    (stat < critical(cells.len() - 1), stat)
}

const SEQ_VOCAB: usize = 5;
const SEQ_TRIALS: u64 = 12_000;

/// Counts of the first three generated tokens over many seeds, with `drafter` built anew
/// for each generation (or plain decoding).
fn sequence_counts(
    target: &dyn Fn() -> Box<dyn Model>,
    drafter: &dyn Fn() -> Option<Box<dyn Drafter>>,
    k: usize,
    seed_base: u64,
) -> HashMap<Vec<TokenId>, usize> {
    let sampling = |seed| SamplingParams { temperature: 0.8, top_p: 0.9, seed };
    let mut counts = HashMap::new();
    for i in 0..SEQ_TRIALS {
        let mut t = target();
        let mut d = drafter();
        let mut cfg = GenerateConfig {
            max_tokens: 3,
            sampling: sampling(seed_base + i),
            draft_length: DraftLength::Fixed(k),
            ..GenerateConfig::default()
        };
        let d = d.as_deref_mut().map(|d| d as &mut dyn Drafter);
        let out = generate(t.as_mut(), d, &[1, 3], &mut cfg, &AtomicBool::new(false), &mut |_| {}).unwrap();
        *counts.entry(out.tokens).or_insert(0) += 1;
    }
    counts
}

#[test]
fn generated_sequences_have_the_plain_sampling_distribution() {
    let toy = ToyModel::new(77, SEQ_VOCAB);
    let target = || Box::new(toy.clone()) as Box<dyn Model>;
    let plain = sequence_counts(&target, &|| None, 0, 0);
    let model = || Some(Box::new(ModelDrafter::new(FakeDraft::new(&toy, 0.5, 1), SEQ_VOCAB)) as Box<dyn Drafter>);
    let spec = sequence_counts(&target, &model, 2, 1_000_000);
    let (ok, stat) = same_distribution(&plain, &spec);
    assert!(ok, "model drafter: chi2 {stat:.1}");
    let hybrid = || {
        let fallback = ModelDrafter::new(FakeDraft::new(&toy, 0.3, 0), SEQ_VOCAB);
        Some(Box::new(HybridDrafter::new(NgramDrafter::new(NgramConfig::default()), fallback)) as Box<dyn Drafter>)
    };
    let spec = sequence_counts(&target, &hybrid, 3, 2_000_000);
    let (ok, stat) = same_distribution(&plain, &spec);
    assert!(ok, "hybrid drafter: chi2 {stat:.1}");
    // Negative control: sampling the draft model itself is a different distribution.
    let draft_as_target = || Box::new(FakeDraft::new(&toy, 0.5, 0)) as Box<dyn Model>;
    let other = sequence_counts(&draft_as_target, &|| None, 0, 3_000_000);
    let (ok, stat) = same_distribution(&plain, &other);
    assert!(!ok, "the draft's own distribution should be rejected: chi2 {stat:.1}");
}

//! Speculative sampling on the real pair keeps the target's distribution.
//!
//! Running thousands of full generations would take hours on a CPU, so the statistical
//! test uses the real models' real distributions at one position: the draft's q and the
//! target's p for the same context (they differ, as real drafts do), and pushes 20,000
//! draft-then-verify steps through the engine's verifier. The emitted first token must be
//! distributed as p (chi-squared), and the same test must reject q itself.

use tandem_engine::sampler::{distribution, sample};
use tandem_engine::{verify, DraftLength, Logits, LogitsWanted, Model, Proposal, Rng, SamplingParams};
use tandem_models::{GgufFile, LoadedModel, Transformer};
use tandem_tests::{chat_prompt, model_path, run, DRAFT, TARGET};

/// Chi-squared statistic of `counts` against probabilities `p` over bins with expected
/// count >= 5 (the rest pooled), and its degrees of freedom.
fn chi_squared(counts: &[u64], p: &[f32], n: u64) -> (f64, usize) {
    let (mut stat, mut bins) = (0.0, 0usize);
    let (mut pool_obs, mut pool_exp) = (0.0, 0.0);
    for (c, &pi) in counts.iter().zip(p) {
        let e = pi as f64 * n as f64;
        if e >= 5.0 {
            stat += (*c as f64 - e).powi(2) / e;
            bins += 1;
        } else {
            pool_obs += *c as f64;
            pool_exp += e;
        }
    }
    if pool_exp >= 5.0 {
        stat += (pool_obs - pool_exp).powi(2) / pool_exp;
        bins += 1;
    }
    (stat, bins.saturating_sub(1))
}

/// Upper 0.001 critical value of chi-squared with `df` degrees of freedom
/// (Wilson–Hilferty approximation, accurate to a few percent for df >= 3).
fn critical_001(df: usize) -> f64 {
    let k = df as f64;
    let z = 3.090_232; // standard normal upper 0.001 quantile
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

#[test]
fn speculative_sampling_matches_the_target_distribution_on_real_logits() {
    let mut target = LoadedModel::load_path(&model_path(TARGET), None).unwrap();
    let mut draft = Transformer::load_as_draft(&GgufFile::open(&model_path(DRAFT)).unwrap(), None).unwrap();
    let vocab = target.tokenizer.vocab_size();
    // Plain text with many plausible continuations, so both distributions have real spread.
    let ids = target.tokenizer.encode("My grandmother's kitchen always smelled of", false).unwrap();
    let p_logits = target.transformer.forward(&ids, LogitsWanted::Last).unwrap();
    let q_logits = draft.forward(&ids, LogitsWanted::Last).unwrap();

    for params in [
        SamplingParams { temperature: 1.0, top_p: 1.0, seed: 0 },
        SamplingParams { temperature: 0.7, top_p: 0.9, seed: 0 },
    ] {
        let p = distribution(&p_logits.row(0)[..vocab], &params).unwrap();
        let q = distribution(&q_logits.row(0)[..vocab], &params).unwrap();
        let tv: f32 = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f32>() / 2.0;
        assert!(tv > 0.02, "draft and target distributions should differ (total variation {tv})");
        // One verification row for the drafted token plus the bonus row (unused here).
        let rows = Logits { rows: 2, vocab: p_logits.vocab, data: [p_logits.row(0), p_logits.row(0)].concat() };
        let n = 20_000u64;
        let mut rng = Rng::new(12345);
        let (mut counts, mut draft_counts) = (vec![0u64; vocab], vec![0u64; vocab]);
        let mut proposal = Proposal { tokens: vec![0], dists: Some(vec![q.clone()]), forwards: 0 };
        for _ in 0..n {
            let x = sample(&q, &mut rng).unwrap();
            draft_counts[x as usize] += 1;
            proposal.tokens[0] = x;
            let verdict = verify(&rows, &proposal, &params, Some(vocab), &mut rng).unwrap();
            let first = if verdict.accepted == 1 { x } else { verdict.next };
            counts[first as usize] += 1;
        }
        let (stat, df) = chi_squared(&counts, &p, n);
        assert!(df >= 3, "too few bins ({df}) for a meaningful test");
        assert!(stat < critical_001(df), "{params:?}: chi2 {stat:.1} >= {:.1} (df {df})", critical_001(df));
        let (stat_q, df_q) = chi_squared(&draft_counts, &p, n);
        assert!(stat_q > critical_001(df_q), "negative control: the draft's own samples passed as p ({stat_q:.1})");
    }
}

#[test]
fn sampled_generation_is_reproducible_per_seed() {
    let mut target = LoadedModel::load_path(&model_path(TARGET), None).unwrap();
    let vocab = target.transformer.vocab_size();
    let mut drafter = tandem_engine::ModelDrafter::new(
        Transformer::load_as_draft(&GgufFile::open(&model_path(DRAFT)).unwrap(), None).unwrap(),
        vocab,
    );
    let eos = target.tokenizer.stop_ids().to_vec();
    let ids = chat_prompt(&target, "Name three colours.");
    let params = |seed| SamplingParams { temperature: 0.9, top_p: 0.95, seed };
    let a = run(&mut target.transformer, Some(&mut drafter), &ids, 24, DraftLength::Fixed(3), params(7), &eos);
    let b = run(&mut target.transformer, Some(&mut drafter), &ids, 24, DraftLength::Fixed(3), params(7), &eos);
    assert_eq!(a.tokens, b.tokens, "same seed, same answer");
    assert!(a.stats.drafted > 0);
    let texts: std::collections::HashSet<Vec<u32>> = (1..6)
        .map(|s| {
            run(&mut target.transformer, Some(&mut drafter), &ids, 24, DraftLength::Fixed(3), params(s), &eos).tokens
        })
        .collect();
    assert!(texts.len() > 1, "different seeds should not all give the same sampled answer");
}

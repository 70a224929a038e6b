//! Property: on real GGUF files (tiny random models written by the test) greedy
//! speculative decoding gives exactly the tokens of plain decoding, for every drafter and
//! many seeds and draft lengths. The draft is the target's weights plus noise, so it agrees
//! often but not always and both the accept and the reject paths are exercised.

mod common;

use std::sync::atomic::AtomicBool;

use candle_core::quantized::GgmlDType;
use common::{tiny_model, TinySpec};
use tandem_engine::{
    generate, DraftLength, Drafter, GenerateConfig, HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter, Output,
    TokenId,
};
use tandem_models::{GgufFile, Transformer};

fn load(path: &std::path::Path) -> Transformer {
    Transformer::load(&GgufFile::open(path).unwrap(), None).unwrap()
}

fn run(target: &mut Transformer, drafter: Option<&mut dyn Drafter>, prompt: &[TokenId], k: Option<usize>) -> Output {
    let mut cfg = GenerateConfig {
        max_tokens: 40,
        draft_length: k.map_or(DraftLength::Auto { max: 6 }, DraftLength::Fixed),
        ..GenerateConfig::default()
    };
    generate(target, drafter, prompt, &mut cfg, &AtomicBool::new(false), &mut |_| {}).unwrap()
}

/// A prompt with repeats in it, so the n-gram drafter finds matches.
fn prompt(seed: u64, vocab: u32) -> Vec<TokenId> {
    let base: Vec<TokenId> = (0..9).map(|i| ((seed * 31 + i * 17 + 3) % vocab as u64) as TokenId).collect();
    [base.clone(), vec![(seed % 7) as TokenId], base].concat()
}

fn check(target_spec: TinySpec, draft_spec: TinySpec) {
    let dir = tempfile::tempdir().unwrap();
    let target_path = tiny_model(dir.path(), "target.gguf", &target_spec);
    let draft_path = tiny_model(dir.path(), "draft.gguf", &draft_spec);
    let vocab = target_spec.vocab;
    let mut target = load(&target_path);
    let (mut drafted, mut accepted, mut rejected_steps) = (0, 0, 0);
    for seed in 0..6u64 {
        let p = prompt(seed, vocab as u32);
        let plain = run(&mut target, None, &p, None);
        assert_eq!(plain.tokens.len(), 40, "no stop ids are configured, so plain decoding runs to max_tokens");
        for k in [None, Some(1), Some(3), Some(6)] {
            let mut model = ModelDrafter::new(load(&draft_path), vocab);
            let mut ngram = NgramDrafter::new(NgramConfig::default());
            let mut hybrid = HybridDrafter::new(
                NgramDrafter::new(NgramConfig::BESIDE_MODEL),
                ModelDrafter::new(load(&draft_path), vocab),
            );
            let drafters: [&mut dyn Drafter; 3] = [&mut model, &mut ngram, &mut hybrid];
            for d in drafters {
                let kind = d.kind();
                let spec = run(&mut target, Some(d), &p, k);
                assert_eq!(spec.tokens, plain.tokens, "seed {seed} k {k:?} drafter {kind:?}");
                drafted += spec.stats.drafted;
                accepted += spec.stats.accepted;
                rejected_steps += usize::from(spec.stats.accepted < spec.stats.drafted);
            }
        }
    }
    // The comparison means something only if drafts were both accepted and rejected.
    assert!(accepted > 100, "only {accepted} drafted tokens accepted");
    assert!(accepted < drafted && rejected_steps > 10, "drafts were never rejected ({accepted}/{drafted})");
}

#[test]
fn qwen2_speculative_equals_plain() {
    let target = TinySpec::qwen2();
    let draft =
        TinySpec { noise: 0.35, noise_seed: 5, matrix_type: GgmlDType::Q8_0, head_type: GgmlDType::Q8_0, ..target };
    check(target, draft);
}

#[test]
fn llama_speculative_equals_plain() {
    let target = TinySpec { matrix_type: GgmlDType::Q6K, head_type: GgmlDType::Q4K, ..TinySpec::llama() };
    let draft =
        TinySpec { noise: 0.35, noise_seed: 9, matrix_type: GgmlDType::Q5_0, head_type: GgmlDType::Q8_0, ..target };
    check(target, draft);
}

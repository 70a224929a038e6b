//! The promise to users, checked on the real default pair: speculative output is exactly
//! plain target output, token for token, for every drafter, on the shipped prompt set.

use tandem_engine::Model;
use tandem_engine::{
    hindsight, DraftLength, Drafter, HybridDrafter, ModelDrafter, NgramConfig, NgramDrafter, SamplingParams,
};
use tandem_models::{GgufFile, LoadedModel, Runner};
use tandem_tests::{bench_prompts, chat_prompt, model_path, run, test_device, DRAFT, TARGET};

const MAX_TOKENS: usize = 128;

#[test]
fn greedy_speculative_equals_plain_for_every_drafter() {
    let device = test_device();
    let (mut target, _) = LoadedModel::load_on(&model_path(TARGET), device, None).unwrap();
    let vocab = target.transformer.vocab_size();
    let exact = target.transformer.exact_rows();
    eprintln!("target on {}: rows exact up to {exact} tokens per call", target.transformer.device_name());
    let draft = || Runner::load_draft(&GgufFile::open(&model_path(DRAFT)).unwrap(), device, None).unwrap();
    let mut model = ModelDrafter::new(draft(), vocab);
    let mut ngram = NgramDrafter::new(NgramConfig::default());
    let mut hybrid =
        HybridDrafter::new(NgramDrafter::new(NgramConfig::BESIDE_MODEL), ModelDrafter::new(draft(), vocab));
    let eos = target.tokenizer.stop_ids().to_vec();
    let greedy = SamplingParams::greedy();
    let prompts = bench_prompts();
    assert!(prompts.len() >= 5);
    let (mut drafted, mut accepted) = ([0usize; 3], [0usize; 3]);
    for p in prompts.iter().take(5) {
        let ids = chat_prompt(&target, &p.prompt);
        let plain = run(&mut target.transformer, None, &ids, MAX_TOKENS, DraftLength::Fixed(0), greedy, &eos);
        assert!(plain.tokens.len() >= 32, "{}: plain answer suspiciously short", p.id);
        let drafters: [(&mut dyn Drafter, DraftLength); 3] = [
            (&mut model, DraftLength::Fixed(4)),
            (&mut ngram, DraftLength::Fixed(6)),
            (&mut hybrid, DraftLength::Auto { max: 8 }),
        ];
        for (i, (d, length)) in drafters.into_iter().enumerate() {
            let kind = d.kind();
            let spec = run(&mut target.transformer, Some(d), &ids, MAX_TOKENS, length, greedy, &eos);
            assert_eq!(
                target.tokenizer.decode(&spec.tokens),
                target.tokenizer.decode(&plain.tokens),
                "{}: {kind:?} drafter changed the text",
                p.id
            );
            assert_eq!(spec.tokens, plain.tokens, "{}: {kind:?} drafter changed the tokens", p.id);
            drafted[i] += spec.stats.drafted;
            accepted[i] += spec.stats.accepted;
        }
    }
    if exact == 1 {
        // A device whose kernels change with the call's width gets no speculation at all.
        assert_eq!(drafted, [0; 3], "nothing may be verified in calls wider than one token");
        return;
    }
    // The comparison is only meaningful if the target really had drafts to accept and reject.
    assert!(accepted[0] > 200 && accepted[0] < drafted[0], "model drafter: {}/{} accepted", accepted[0], drafted[0]);
    assert!(drafted[1] > 0, "the n-gram drafter never proposed anything");
}

/// `tandem bench --simulate`'s ceiling reads the draft model's guesses along a whole answer
/// in a few wide calls. On the real draft model they must be the guesses it drafts one
/// forward at a time, or the ceiling would plan with guesses the drafter never makes.
#[test]
fn the_draft_models_hindsight_is_what_it_drafts() {
    let device = test_device();
    let (mut target, _) = LoadedModel::load_on(&model_path(TARGET), device, None).unwrap();
    if target.transformer.exact_rows() == 1 {
        return; // Wide calls differ from narrow ones on this device: nothing to compare.
    }
    let vocab = target.transformer.vocab_size();
    let draft = || Runner::load_draft(&GgufFile::open(&model_path(DRAFT)).unwrap(), device, None).unwrap();
    let eos = target.tokenizer.stop_ids().to_vec();
    let p = &bench_prompts()[0];
    let ids = chat_prompt(&target, &p.prompt);
    let answer =
        run(&mut target.transformer, None, &ids, 48, DraftLength::Fixed(0), SamplingParams::greedy(), &eos).tokens;
    let k = 4;
    let seen = ModelDrafter::new(draft(), vocab).hindsight(&ids, &answer, k).unwrap();
    let runs = hindsight::by_proposing(&mut ModelDrafter::new(draft(), vocab), &ids, &answer, k).unwrap().runs;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].runs, runs, "{}", p.id);
    assert!(runs.contains(&k) && runs.iter().any(|&r| r < k), "{}: {runs:?}", p.id);
}

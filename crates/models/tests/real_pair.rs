//! Pair compatibility of the real catalog models.

mod real_models;

use std::path::Path;

use real_models::{real_model, QWEN_DRAFT, QWEN_TARGET, SMOLLM2};
use tandem_models::gguf_meta::read_header;
use tandem_models::{check_pair, ModelsError, PairReport, Tokenizer};

/// The tokenizer and the number of output rows (logits) of a model file; models without
/// an `output.weight` reuse the embedding.
fn load(path: &Path) -> (Tokenizer, usize) {
    let content = read_header(path).unwrap();
    let head = content.tensor_infos.get("output.weight").or_else(|| content.tensor_infos.get("token_embd.weight"));
    let rows = head.expect("an output or embedding tensor").shape.dims()[0];
    (Tokenizer::from_content(&content, &path.display().to_string()).unwrap(), rows)
}

#[test]
fn real_qwen_coder_pair_is_compatible() {
    let (target, target_rows) = load(&real_model(QWEN_TARGET));
    let (draft, draft_rows) = load(&real_model(QWEN_DRAFT));
    let report = check_pair(&target, target_rows, &draft, draft_rows).unwrap();
    assert_eq!(report, PairReport { shared_vocab: 151936, target_vocab: 151936, draft_vocab: 151936, masked_tail: 0 });
}

#[test]
fn real_smollm2_cannot_draft_for_qwen() {
    let (target, target_rows) = load(&real_model(QWEN_TARGET));
    let (draft, draft_rows) = load(&real_model(SMOLLM2));
    let err = check_pair(&target, target_rows, &draft, draft_rows).unwrap_err();
    assert_eq!(err.code(), "pair_incompatible");
    let ModelsError::Incompatible(reason) = err else { unreachable!() };
    assert_eq!(
        reason,
        "The draft model speaks a different vocabulary than the target: token 0 is '!' in the target and \
         '<|endoftext|>' in the draft. Pick a draft from the same model family."
    );
}

//! Pair compatibility rules on tiny vocabularies: what passes, and the plain-language
//! reason for each way a pair can fail.

mod tiny_vocab;

use candle_core::quantized::gguf_file::Value;
use tandem_models::pair::MAX_VOCAB_GAP;
use tandem_models::{check_pair, ModelsError, PairReport};
use tiny_vocab::*;

fn reason(err: ModelsError) -> String {
    match err {
        ModelsError::Incompatible(reason) => reason,
        other => panic!("expected an incompatible pair, got {other:?}"),
    }
}

#[test]
fn same_vocabulary_is_compatible_and_the_padded_tail_is_masked() {
    let target = load(&metadata());
    let draft = load(&metadata());
    let report = check_pair(&target, VOCAB + 64, &draft, VOCAB).unwrap();
    assert_eq!(
        report,
        PairReport { shared_vocab: VOCAB, target_vocab: VOCAB + 64, draft_vocab: VOCAB, masked_tail: 64 }
    );
}

#[test]
fn a_larger_vocabulary_within_the_gap_is_compatible() {
    let mut meta = metadata();
    append_tokens(&mut meta, (0..MAX_VOCAB_GAP).map(|i| format!("extra{i}")));
    let target = load(&meta);
    let draft = load(&metadata());
    let report = check_pair(&target, VOCAB + MAX_VOCAB_GAP, &draft, VOCAB).unwrap();
    assert_eq!((report.shared_vocab, report.masked_tail), (VOCAB, MAX_VOCAB_GAP));
}

#[test]
fn a_different_token_is_named_in_the_reason() {
    let target = load(&metadata());
    let mut meta = metadata();
    let Value::Array(tokens) = &mut meta.iter_mut().find(|(k, _)| k == "tokenizer.ggml.tokens").unwrap().1 else {
        unreachable!()
    };
    tokens[HELLO as usize] = Value::String("hola".into());
    set(&mut meta, "tokenizer.ggml.merges", Value::Array(vec![]));
    let draft = load(&meta);
    assert_eq!(
        reason(check_pair(&target, VOCAB, &draft, VOCAB).unwrap_err()),
        format!(
            "The draft model speaks a different vocabulary than the target: token {HELLO} is 'hello' in the target \
             and 'hola' in the draft. Pick a draft from the same model family."
        )
    );
}

#[test]
fn different_end_markers_are_incompatible() {
    let target = load(&metadata());
    let mut meta = metadata();
    set(&mut meta, "tokenizer.ggml.eos_token_id", Value::U32(IM_END));
    let draft = load(&meta);
    let why = reason(check_pair(&target, VOCAB, &draft, VOCAB).unwrap_err());
    assert!(why.contains("mark the end of a text differently"), "{why}");
    assert!(why.contains(&format!("token {ENDOFTEXT} in the target, {IM_END} in the draft")), "{why}");

    let mut meta = metadata();
    remove(&mut meta, "tokenizer.ggml.bos_token_id");
    let draft = load(&meta);
    let why = reason(check_pair(&target, VOCAB, &draft, VOCAB).unwrap_err());
    assert!(why.contains(&format!("start of a text differently (token {ENDOFTEXT} in the target, none in the draft)")));
}

#[test]
fn vocabularies_too_far_apart_are_incompatible() {
    let mut meta = metadata();
    append_tokens(&mut meta, (0..=MAX_VOCAB_GAP).map(|i| format!("extra{i}")));
    let target = load(&meta);
    let draft = load(&metadata());
    let big = VOCAB + MAX_VOCAB_GAP + 1;
    let why = reason(check_pair(&target, big, &draft, VOCAB).unwrap_err());
    assert_eq!(
        why,
        format!(
            "The draft and the target know different numbers of words ({big} tokens in the target, {VOCAB} in the draft), \
             more than {MAX_VOCAB_GAP} apart. Pick a draft from the same model family."
        )
    );
    // Output rows count too: the same tokenizer with a much larger output layer.
    let same = load(&metadata());
    assert!(check_pair(&same, VOCAB, &draft, big).is_err());
}

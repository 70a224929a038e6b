//! Bad input on the real files: a damaged model or an incompatible pair gives a clear
//! error, never a crash or a wrong answer.

use tandem_models::{LoadedPair, ModelsError, PairDevices};
use tandem_tests::{model_path, DRAFT, SMOL, TARGET};

#[test]
fn mismatched_pair_is_refused_in_plain_words() {
    let target = model_path(TARGET);
    let smol = model_path(SMOL);
    let err = LoadedPair::load(target.to_str().unwrap(), Some(smol.to_str().unwrap()), PairDevices::default(), None)
        .err()
        .expect("refused");
    assert_eq!(err.code(), "pair_incompatible");
    let msg = err.to_string();
    assert!(msg.contains("different vocabulary"), "{msg}");
    assert!(msg.contains("same model family"), "{msg}");
}

#[test]
fn compatible_pair_loads() {
    let pair = LoadedPair::load(TARGET, Some(DRAFT), PairDevices::default(), None).unwrap();
    let report = pair.report.expect("a pair has a report");
    assert!(report.shared_vocab > 150_000);
    assert!(pair.draft.is_some());
}

#[test]
fn truncated_real_model_is_a_clear_error() {
    let bytes = std::fs::read(model_path(SMOL)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    match LoadedPair::load(cut.to_str().unwrap(), None, PairDevices::default(), None) {
        Err(ModelsError::BadFile { reason, .. }) => assert!(reason.contains("incomplete"), "{reason}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a truncated model loaded"),
    }
}

#[test]
fn corrupt_real_model_is_a_clear_error() {
    let mut bytes = std::fs::read(model_path(SMOL)).unwrap();
    // Overwrite the start of the header (magic, version and counts) with garbage.
    for b in &mut bytes[..64] {
        *b = 0xA5;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, &bytes).unwrap();
    let err = LoadedPair::load(bad.to_str().unwrap(), None, PairDevices::default(), None).err().expect("refused");
    assert_eq!(err.code(), "bad_file", "{err}");
}

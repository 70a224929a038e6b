//! The transformer on tiny random models written as GGUF: row exactness, KV truncation,
//! and clear errors for damaged files.

mod common;

use common::{tiny_model, TinySpec};
use tandem_engine::{LogitsWanted, Model, ModelError};
use tandem_models::{GgufFile, ModelsError, Transformer};

fn load(path: &std::path::Path) -> Transformer {
    Transformer::load(&GgufFile::open(path).unwrap(), None).unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Row i of a k-token call must be bit-identical to feeding the same tokens one at a time.
fn assert_row_exact(spec: &TinySpec) {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_model(dir.path(), "m.gguf", spec);
    let prompt: Vec<u32> = (0..13).map(|i| (i * 37 + 5) % spec.vocab as u32).collect();
    let extra: Vec<u32> = vec![7, 300, 42, 42, 1, 250, 99, 3];
    for k in 1..=extra.len() {
        let mut batched = load(&path);
        batched.forward(&prompt, LogitsWanted::Last).unwrap();
        let all = batched.forward(&extra[..k], LogitsWanted::All).unwrap();
        assert_eq!(all.rows, k);

        let mut single = load(&path);
        single.forward(&prompt, LogitsWanted::Last).unwrap();
        for (i, &t) in extra[..k].iter().enumerate() {
            let one = single.forward(&[t], LogitsWanted::All).unwrap();
            assert_eq!(bits(one.row(0)), bits(all.row(i)), "{} k={k} row {i} differs", spec.arch);
        }
        assert_eq!(single.cached_len(), batched.cached_len());
    }
}

#[test]
fn qwen2_batched_rows_equal_single_token_rows() {
    assert_row_exact(&TinySpec::qwen2());
}

#[test]
fn llama_batched_rows_equal_single_token_rows() {
    assert_row_exact(&TinySpec::llama());
}

#[test]
fn prefill_chunking_does_not_change_logits() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::qwen2();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let tokens: Vec<u32> = (0..40).map(|i| (i * 11 + 3) % spec.vocab as u32).collect();
    let mut whole = load(&path);
    let a = whole.forward(&tokens, LogitsWanted::Last).unwrap();
    let mut chunked = load(&path);
    chunked.forward(&tokens[..17], LogitsWanted::Last).unwrap();
    chunked.forward(&tokens[17..30], LogitsWanted::All).unwrap();
    let b = chunked.forward(&tokens[30..], LogitsWanted::Last).unwrap();
    assert_eq!(bits(a.row(0)), bits(b.row(0)));
}

/// A call longer than the model reads in one pass (a document) returns every row it was
/// asked for, each the bits the same tokens give in short calls.
#[test]
fn a_long_call_gives_every_row_as_short_calls_do() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::qwen2();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let tokens: Vec<u32> = (0..300).map(|i| (i * 29 + 11) % spec.vocab as u32).collect();
    let mut long = load(&path);
    let all = long.forward(&tokens, LogitsWanted::All).unwrap();
    assert_eq!((all.rows, all.data.len()), (300, 300 * spec.vocab));
    let mut short = load(&path);
    for (c, piece) in tokens.chunks(70).enumerate() {
        let part = short.forward(piece, LogitsWanted::All).unwrap();
        for i in 0..piece.len() {
            assert_eq!(bits(part.row(i)), bits(all.row(70 * c + i)), "row {}", 70 * c + i);
        }
    }
    let mut last = load(&path);
    let only = last.forward(&tokens, LogitsWanted::Last).unwrap();
    assert_eq!(only.rows, 1);
    assert_eq!(bits(only.row(0)), bits(all.row(299)));
    assert_eq!(last.cached_len(), 300);
}

#[test]
fn truncate_forgets_rejected_tokens_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::qwen2();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let mut m = load(&path);
    m.forward(&[1, 2, 3, 4], LogitsWanted::Last).unwrap();
    let reference = m.forward(&[5], LogitsWanted::All).unwrap();
    m.truncate(4);
    assert_eq!(m.cached_len(), 4);
    // Feed a wrong continuation, roll it back, then the right one.
    m.forward(&[200, 201, 202], LogitsWanted::All).unwrap();
    m.truncate(4);
    let again = m.forward(&[5], LogitsWanted::All).unwrap();
    assert_eq!(bits(reference.row(0)), bits(again.row(0)));
    // And the logits really depend on the context (the test above could not pass vacuously).
    m.truncate(2);
    let other = m.forward(&[5], LogitsWanted::All).unwrap();
    assert_ne!(bits(reference.row(0)), bits(other.row(0)));
}

#[test]
fn context_limit_and_bad_ids_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::llama();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let mut m = Transformer::load(&GgufFile::open(&path).unwrap(), Some(8)).unwrap();
    assert_eq!(m.max_context(), 8);
    m.forward(&[1; 6], LogitsWanted::Last).unwrap();
    assert!(matches!(m.forward(&[1; 3], LogitsWanted::Last), Err(ModelError::ContextFull { max: 8 })));
    assert!(matches!(m.forward(&[spec.vocab as u32], LogitsWanted::Last), Err(ModelError::Other(_))));
}

#[test]
fn truncated_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_model(dir.path(), "m.gguf", &TinySpec::qwen2());
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    match GgufFile::open(&cut) {
        Err(ModelsError::BadFile { reason, .. }) => assert!(reason.contains("incomplete"), "{reason}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a truncated file opened"),
    }
    // Cut inside the header too.
    std::fs::write(&cut, &bytes[..100]).unwrap();
    assert!(matches!(GgufFile::open(&cut), Err(ModelsError::BadFile { .. })));
}

#[test]
fn foreign_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.gguf");
    std::fs::write(&path, "these are my notes, not a model\n".repeat(100)).unwrap();
    match GgufFile::open(&path) {
        Err(ModelsError::BadFile { reason, .. }) => assert!(reason.contains("not a readable GGUF"), "{reason}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a text file opened as a model"),
    }
}

/// Llama 3.1+ stores `rope_freqs.weight`, factors that divide the rotary frequencies.
/// Factors of one change nothing; larger ones change every position but the first.
#[test]
fn rope_frequency_factors_divide_the_rotary_frequencies() {
    let dir = tempfile::tempdir().unwrap();
    let logits = |rope_freqs: Option<f32>, name: &str| {
        let spec = TinySpec { rope_freqs, ..TinySpec::llama() };
        let mut m = load(&tiny_model(dir.path(), name, &spec));
        let out = m.forward(&[5, 17, 99, 3], LogitsWanted::All).unwrap();
        (0..4).map(|i| bits(out.row(i))).collect::<Vec<_>>()
    };
    let plain = logits(None, "plain.gguf");
    assert_eq!(logits(Some(1.0), "ones.gguf"), plain);
    let scaled = logits(Some(8.0), "eights.gguf");
    assert_eq!(scaled[0], plain[0], "position 0 has no rotation");
    assert!((1..4).all(|i| scaled[i] != plain[i]));

    let bad = TinySpec { rope_freqs: Some(-1.0), ..TinySpec::llama() };
    let err =
        Transformer::load(&GgufFile::open(&tiny_model(dir.path(), "bad.gguf", &bad)).unwrap(), None).err().unwrap();
    assert!(err.to_string().contains("rope_freqs.weight"), "{err}");
}

/// On AVX-512 VNNI, Q5_0 has a fast form of its own (every matrix of this model has whole
/// groups of sixteen rows), so a draft keeps its 5-bit weights; elsewhere its Q5_0 layers
/// are widened to Q8_0 (`draft_widening.rs` runs that path on any x86-64 CPU).
#[test]
fn a_q5_0_draft_computes_the_same_model() {
    let vnni = tandem_kernels::SimdLevel::active() == tandem_kernels::SimdLevel::Avx512Vnni;
    common::check_q5_0_draft(!vnni);
}

/// A draft's output head wider than Q4_0 is read as Q4_0: fewer bytes per drafted token.
/// The head's weights change by Q4_0's rounding, so the draft stays close to the model it
/// came from, and it is still row-exact.
#[test]
fn a_drafts_wide_output_head_is_read_as_q4_0() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec { head_type: candle_core::quantized::GgmlDType::Q8_0, ..TinySpec::qwen2() };
    let file = GgufFile::open(&tiny_model(dir.path(), "m.gguf", &spec)).unwrap();
    let mut target = Transformer::load(&file, None).unwrap();
    let mut draft = Transformer::load_as_draft(&file, None).unwrap();
    let head_values = spec.vocab * spec.n_embd;
    assert_eq!(
        draft.weight_bytes(),
        target.weight_bytes() - head_values / 32 * 34 + head_values / 32 * 18,
        "only the head changes, from 34 to 18 bytes per 32 weights"
    );
    let tokens: Vec<u32> = (0..24).map(|i| (i * 29 + 7) % spec.vocab as u32).collect();
    let (exact, close) =
        (target.forward(&tokens, LogitsWanted::All).unwrap(), draft.forward(&tokens, LogitsWanted::All).unwrap());
    for r in 0..tokens.len() {
        let (a, b) = (exact.row(r), close.row(r));
        let spread = a.iter().copied().fold(f32::MIN, f32::max) - a.iter().copied().fold(f32::MAX, f32::min);
        let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst > 0.0 && worst < 0.1 * spread, "row {r}: the head moved logits by {worst} of {spread}");
    }
    draft.truncate(0);
    let wide = draft.forward(&tokens[..5], LogitsWanted::All).unwrap();
    draft.truncate(0);
    for (i, &t) in tokens[..5].iter().enumerate() {
        assert_eq!(bits(wide.row(i)), bits(draft.forward(&[t], LogitsWanted::All).unwrap().row(0)), "row {i}");
    }
}

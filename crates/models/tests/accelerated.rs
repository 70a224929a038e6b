//! The accelerated (candle) code path, run on candle's CPU backend: the code that runs on
//! CUDA and Metal, minus the device kernels, checked on machines without a GPU. It must
//! agree with Tandem's own kernels up to rounding, roll back rejected drafts exactly, grow
//! its device KV cache correctly, and keep greedy speculative output identical to plain
//! decoding on the same device.

mod common;

use std::sync::atomic::AtomicBool;

use candle_core::quantized::GgmlDType;
use common::{tiny_model, TinySpec};
use tandem_engine::{generate, DraftLength, GenerateConfig, LogitsWanted, Model, ModelDrafter, Output, TokenId};
use tandem_models::{GgufFile, Runner, Transformer};

fn candle_cpu(path: &std::path::Path) -> Runner {
    Runner::load_candle_cpu(&GgufFile::open(path).unwrap(), None).unwrap()
}

fn own(path: &std::path::Path) -> Transformer {
    Transformer::load(&GgufFile::open(path).unwrap(), None).unwrap()
}

fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0
}

/// Largest difference between two rows, relative to the spread of the first.
fn relative_gap(a: &[f32], b: &[f32]) -> f32 {
    let spread = a.iter().copied().fold(f32::MIN, f32::max) - a.iter().copied().fold(f32::MAX, f32::min);
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / spread
}

fn agrees_with_own_kernels(spec: TinySpec, len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let tokens: Vec<u32> = (0..len as u32).map(|i| (i * 37 + 5) % spec.vocab as u32).collect();
    let mut a = candle_cpu(&path);
    let mut b = own(&path);
    // In pieces, so the device cache is written by several calls (and grows past its first
    // allocation when `len` is large).
    let (mut worst, mut same, mut rows) = (0f32, 0, 0);
    for chunk in tokens.chunks(97) {
        let x = a.forward(chunk, LogitsWanted::All).unwrap();
        let y = b.forward(chunk, LogitsWanted::All).unwrap();
        assert_eq!((x.rows, x.vocab), (y.rows, y.vocab));
        for r in 0..x.rows {
            worst = worst.max(relative_gap(y.row(r), x.row(r)));
            same += usize::from(argmax(x.row(r)) == argmax(y.row(r)));
            rows += 1;
        }
    }
    assert_eq!(a.cached_len(), len);
    // Both quantize activations to 8 bits, each in its own way, and a random model's logits
    // are nearly flat: close, and the same choice nearly always, but not bit-equal.
    eprintln!("{}: worst gap {worst}, same choice on {same}/{rows}", spec.arch);
    assert!(worst < 0.05, "{}: logits differ by {worst} of their spread", spec.arch);
    assert!(same * 10 >= rows * 9, "{}: same choice on only {same} of {rows} positions", spec.arch);
}

#[test]
fn qwen2_on_candle_agrees_with_own_kernels() {
    agrees_with_own_kernels(TinySpec::qwen2(), 40);
}

#[test]
fn llama_on_candle_agrees_with_own_kernels() {
    let spec = TinySpec { matrix_type: GgmlDType::Q8_0, rope_freqs: Some(2.0), ..TinySpec::llama() };
    agrees_with_own_kernels(spec, 40);
}

#[test]
fn device_cache_grows_past_its_first_allocation() {
    // 256 positions are allocated first; the tiny model allows 512.
    agrees_with_own_kernels(TinySpec::qwen2(), 500);
}

#[test]
fn truncate_forgets_rejected_tokens_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_model(dir.path(), "m.gguf", &TinySpec::qwen2());
    let mut m = candle_cpu(&path);
    m.forward(&[1, 2, 3, 4], LogitsWanted::Last).unwrap();
    let reference = m.forward(&[5], LogitsWanted::All).unwrap();
    m.truncate(4);
    m.forward(&[200, 201, 202], LogitsWanted::All).unwrap();
    m.truncate(4);
    let again = m.forward(&[5], LogitsWanted::All).unwrap();
    assert_eq!(reference.data, again.data);
    m.truncate(2);
    let other = m.forward(&[5], LogitsWanted::All).unwrap();
    assert_ne!(reference.data, other.data, "the logits depend on the context");
}

#[test]
fn the_widest_exact_call_is_measured_and_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::qwen2();
    let target_path = tiny_model(dir.path(), "t.gguf", &spec);
    let draft_spec = TinySpec { noise: 0.35, noise_seed: 5, matrix_type: GgmlDType::Q8_0, ..spec };
    let draft_path = tiny_model(dir.path(), "d.gguf", &draft_spec);
    let mut target = candle_cpu(&target_path);
    let exact = target.exact_rows();
    assert!((1..=8).contains(&exact), "measured {exact}");
    eprintln!("candle cpu: rows exact up to {exact} tokens per call");
    // Within that width, every row really is what a one-token call gives.
    let tokens: Vec<u32> = (0..=exact as u32).map(|i| 11 + i * 13).collect();
    target.forward(&tokens[..1], LogitsWanted::Last).unwrap();
    let wide = target.forward(&tokens[1..], LogitsWanted::All).unwrap();
    target.truncate(1);
    for (r, &t) in tokens[1..].iter().enumerate() {
        assert_eq!(wide.row(r), target.forward(&[t], LogitsWanted::All).unwrap().row(0), "row {r}");
    }
    target.truncate(0);

    let run = |target: &mut Runner, k: usize| -> Output {
        let mut drafter = ModelDrafter::new(own(&draft_path), spec.vocab);
        let mut cfg =
            GenerateConfig { max_tokens: 40, draft_length: DraftLength::Fixed(k), ..GenerateConfig::default() };
        let d: Option<&mut dyn tandem_engine::Drafter> = if k > 0 { Some(&mut drafter) } else { None };
        generate(target, d, &prompt(spec.vocab), &mut cfg, &AtomicBool::new(false), &mut |_| {}).unwrap()
    };
    let plain = run(&mut target, 0);
    for k in [1, 3, 6] {
        let spec_out = run(&mut target, k);
        assert_eq!(spec_out.tokens, plain.tokens, "k {k}");
        if exact > 1 {
            assert!(spec_out.stats.accepted > 0, "drafts were checked and some accepted");
        } else {
            assert_eq!(spec_out.stats.drafted, 0, "a device with no exact width decodes plainly");
        }
    }
}

fn prompt(vocab: usize) -> Vec<TokenId> {
    (0..12).map(|i| ((i * 29 + 7) % vocab) as TokenId).collect()
}

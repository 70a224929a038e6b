//! Test support: tiny transformer models with random weights, written as real GGUF files,
//! so the whole load → forward → speculative path runs in milliseconds.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use tandem_engine::{LogitsWanted, Model};
use tandem_models::{GgufFile, Transformer};

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct TinySpec {
    pub arch: &'static str,
    pub vocab: usize,
    pub n_embd: usize,
    pub n_ff: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub n_layer: usize,
    /// Type of the attention and feed-forward matrices.
    pub matrix_type: GgmlDType,
    /// Type of the output head (and embedding).
    pub head_type: GgmlDType,
    pub seed: u64,
    /// Scale of a random perturbation added to every weight; two specs that differ only
    /// here give related models (a "draft" that mostly agrees with its "target").
    pub noise: f32,
    pub noise_seed: u64,
    /// Writes a Llama-3-style `rope_freqs.weight` with every factor set to this.
    pub rope_freqs: Option<f32>,
}

impl TinySpec {
    pub fn qwen2() -> TinySpec {
        TinySpec {
            arch: "qwen2",
            vocab: 384,
            n_embd: 256,
            n_ff: 512,
            n_head: 4,
            n_kv_head: 2,
            n_layer: 2,
            matrix_type: GgmlDType::Q4K,
            head_type: GgmlDType::Q6K,
            seed: 1,
            noise: 0.0,
            noise_seed: 0,
            rope_freqs: None,
        }
    }

    pub fn llama() -> TinySpec {
        TinySpec { arch: "llama", matrix_type: GgmlDType::Q4_1, head_type: GgmlDType::Q8_0, ..TinySpec::qwen2() }
    }
}

/// A small deterministic generator (splitmix64) so test models are reproducible.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Roughly normal(0, 1): sum of uniforms.
    fn normal(&mut self) -> f32 {
        let s: f64 = (0..4).map(|_| (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64).sum();
        ((s - 2.0) * (3.0f64).sqrt()) as f32
    }
}

fn random(rng: &mut Rng, noise: &mut Rng, spec: &TinySpec, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| scale * (rng.normal() + spec.noise * noise.normal())).collect()
}

fn tensor(data: Vec<f32>, dims: &[usize], dtype: GgmlDType) -> QTensor {
    let t = Tensor::from_vec(data, dims, &Device::Cpu).unwrap();
    QTensor::quantize(&t, dtype).unwrap()
}

/// Writes a tiny model described by `spec` to `path`.
pub fn write_tiny_model(path: &Path, spec: &TinySpec) {
    let mut rng = Rng(spec.seed);
    let mut noise = Rng(spec.noise_seed.wrapping_mul(7919).wrapping_add(17));
    let d = spec.n_embd;
    let hd = d / spec.n_head;
    let kv = spec.n_kv_head * hd;
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    let w = 1.0 / (d as f32).sqrt();
    let mut push = |name: String, data: Vec<f32>, dims: &[usize], dtype: GgmlDType| {
        tensors.push((name, tensor(data, dims, dtype)))
    };
    push(
        "token_embd.weight".into(),
        random(&mut rng, &mut noise, spec, spec.vocab * d, 1.0),
        &[spec.vocab, d],
        spec.head_type,
    );
    push(
        "output.weight".into(),
        random(&mut rng, &mut noise, spec, spec.vocab * d, 2.0 * w),
        &[spec.vocab, d],
        spec.head_type,
    );
    push("output_norm.weight".into(), vec![1.0; d], &[d], GgmlDType::F32);
    for i in 0..spec.n_layer {
        let n = |t: &str| format!("blk.{i}.{t}");
        push(
            n("attn_norm.weight"),
            (0..d).map(|j| 1.0 + 0.1 * ((j % 7) as f32 - 3.0) / 3.0).collect(),
            &[d],
            GgmlDType::F32,
        );
        push(n("ffn_norm.weight"), vec![1.0; d], &[d], GgmlDType::F32);
        push(n("attn_q.weight"), random(&mut rng, &mut noise, spec, d * d, w), &[d, d], spec.matrix_type);
        push(n("attn_k.weight"), random(&mut rng, &mut noise, spec, kv * d, w), &[kv, d], spec.matrix_type);
        push(n("attn_v.weight"), random(&mut rng, &mut noise, spec, kv * d, w), &[kv, d], spec.matrix_type);
        push(n("attn_output.weight"), random(&mut rng, &mut noise, spec, d * d, w), &[d, d], spec.matrix_type);
        push(
            n("ffn_gate.weight"),
            random(&mut rng, &mut noise, spec, spec.n_ff * d, w),
            &[spec.n_ff, d],
            spec.matrix_type,
        );
        push(
            n("ffn_up.weight"),
            random(&mut rng, &mut noise, spec, spec.n_ff * d, w),
            &[spec.n_ff, d],
            spec.matrix_type,
        );
        let wd = 1.0 / (spec.n_ff as f32).sqrt();
        push(
            n("ffn_down.weight"),
            random(&mut rng, &mut noise, spec, d * spec.n_ff, wd),
            &[d, spec.n_ff],
            spec.matrix_type,
        );
        if spec.arch == "qwen2" {
            push(n("attn_q.bias"), random(&mut rng, &mut noise, spec, d, 0.1), &[d], GgmlDType::F32);
            push(n("attn_k.bias"), random(&mut rng, &mut noise, spec, kv, 0.1), &[kv], GgmlDType::F32);
            push(n("attn_v.bias"), random(&mut rng, &mut noise, spec, kv, 0.1), &[kv], GgmlDType::F32);
        }
    }
    if let Some(f) = spec.rope_freqs {
        push("rope_freqs.weight".into(), vec![f; hd / 2], &[hd / 2], GgmlDType::F32);
    }
    let a = spec.arch;
    let meta: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(a.into())),
        (format!("{a}.context_length"), Value::U32(512)),
        (format!("{a}.embedding_length"), Value::U32(d as u32)),
        (format!("{a}.feed_forward_length"), Value::U32(spec.n_ff as u32)),
        (format!("{a}.block_count"), Value::U32(spec.n_layer as u32)),
        (format!("{a}.attention.head_count"), Value::U32(spec.n_head as u32)),
        (format!("{a}.attention.head_count_kv"), Value::U32(spec.n_kv_head as u32)),
        (format!("{a}.rope.freq_base"), Value::F32(10_000.0)),
        (format!("{a}.attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
    ];
    let meta_refs: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut file, &meta_refs, &tensor_refs).unwrap();
}

/// Writes `spec` into `dir` under `name` and returns the path.
pub fn tiny_model(dir: &Path, name: &str, spec: &TinySpec) -> PathBuf {
    let path = dir.join(name);
    write_tiny_model(&path, spec);
    path
}

/// Loads a tiny Q5_0 model as a target and as a draft, checks that the draft's layers were
/// widened to Q8_0 exactly when `widened` says so, and that either way the draft computes
/// the same model (to the kernels' float rounding) and is row-exact.
pub fn check_q5_0_draft(widened: bool) {
    let dir = tempfile::tempdir().unwrap();
    // A Q4_0 head, which a draft keeps as it is, so that only the layers can differ.
    let spec = TinySpec { matrix_type: GgmlDType::Q5_0, head_type: GgmlDType::Q4_0, ..TinySpec::qwen2() };
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let file = GgufFile::open(&path).unwrap();
    let tokens: Vec<u32> = (0..24).map(|i| (i * 29 + 7) % spec.vocab as u32).collect();
    let mut original = Transformer::load(&file, None).unwrap();
    let exact = original.forward(&tokens, LogitsWanted::All).unwrap();
    let mut draft = Transformer::load_as_draft(&file, None).unwrap();
    // 34 bytes per 32 weights instead of 22 when widened.
    assert_eq!(draft.weight_bytes() > original.weight_bytes() * 5 / 4, widened, "widened");
    let close = draft.forward(&tokens, LogitsWanted::All).unwrap();
    let (mut worst, mut same) = (0f32, 0);
    for r in 0..tokens.len() {
        let (a, b) = (exact.row(r), close.row(r));
        let spread = a.iter().copied().fold(f32::MIN, f32::max) - a.iter().copied().fold(f32::MAX, f32::min);
        worst = worst.max(a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / spread);
        let top = |v: &[f32]| v.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).unwrap().0;
        same += usize::from(top(a) == top(b));
    }
    // The weights are the same; only the kernels' float rounding may differ.
    assert!(worst < 1e-4, "the draft's logits moved by {worst} of their spread");
    assert_eq!(same, tokens.len());
    // And the draft is a row-exact model.
    draft.truncate(0);
    let wide = draft.forward(&tokens[..5], LogitsWanted::All).unwrap();
    draft.truncate(0);
    for (i, &t) in tokens[..5].iter().enumerate() {
        let one = draft.forward(&[t], LogitsWanted::All).unwrap();
        assert!(wide.row(i).iter().zip(one.row(0)).all(|(a, b)| a.to_bits() == b.to_bits()), "row {i}");
    }
}

//! The kernels on real model weights: for each GGUF file in the models directory and each
//! quantization type it contains, decode its smallest weight matrix and compare with
//! candle, multiply it at every kernel family against the f64 reference, and check row
//! exactness.
//!
//! The models directory is `TANDEM_MODELS_DIR`, else `$XDG_CACHE_HOME/tandem/models`, else
//! `$HOME/.cache/tandem/models`. The test fails if the expected models are not there.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use candle_core::quantized::gguf_file::Content;
use candle_core::Device;
use common::{error_bound, reference_matmul, Rng};
use tandem_kernels::{Bytes, QMatrix, QType, SimdLevel};

const MODELS: [&str; 3] =
    ["qwen2.5-coder-1.5b-instruct.gguf", "qwen2.5-coder-0.5b-instruct.gguf", "smollm2-135m-instruct.gguf"];

fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TANDEM_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("neither TANDEM_MODELS_DIR, XDG_CACHE_HOME nor HOME is set");
    cache.join("tandem").join("models")
}

#[test]
fn real_weights_decode_multiply_and_stay_row_exact() {
    let dir = models_dir();
    let mut seen = std::collections::HashSet::new();
    for name in MODELS {
        let path = dir.join(name);
        let mut file = File::open(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; fetch the models (`tandem models fetch ...`) or set TANDEM_MODELS_DIR", path.display())
        });
        let content = Content::read(&mut file).expect("GGUF header");
        // The smallest 2-D tensor of each type this file holds.
        let mut smallest: BTreeMap<u32, (usize, String)> = BTreeMap::new();
        for (tname, info) in &content.tensor_infos {
            let dims = info.shape.dims();
            let Some(t) = candle_id(info.ggml_dtype).and_then(QType::from_ggml_id) else { continue };
            if dims.len() != 2 || t.block_size() == 1 {
                continue;
            }
            let n = info.shape.elem_count();
            let entry = smallest.entry(t.ggml_id()).or_insert((usize::MAX, String::new()));
            if n < entry.0 {
                *entry = (n, tname.clone());
            }
        }
        assert!(!smallest.is_empty(), "{name}: no quantized matrices");
        for (id, (_, tname)) in smallest {
            let t = QType::from_ggml_id(id).unwrap();
            seen.insert(t);
            let q = content.tensor(&mut file, &tname, &Device::Cpu).expect("tensor data");
            let (rows, cols) = q.shape().dims2().unwrap();
            let reference = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let bytes = q.data().unwrap().into_owned();
            let m = QMatrix::new(t, rows, cols, Bytes::Owned(bytes)).unwrap();
            check(name, &tname, &m, &reference);
        }
    }
    for t in [QType::Q4K, QType::Q6K, QType::Q5_0, QType::Q8_0, QType::Q4_1] {
        assert!(seen.contains(&t), "no {t} matrix found in the models");
    }
}

fn candle_id(d: candle_core::quantized::GgmlDType) -> Option<u32> {
    use candle_core::quantized::GgmlDType as G;
    Some(match d {
        G::Q4_0 => 2,
        G::Q4_1 => 3,
        G::Q5_0 => 6,
        G::Q5_1 => 7,
        G::Q8_0 => 8,
        G::Q4K => 12,
        G::Q5K => 13,
        G::Q6K => 14,
        _ => return None,
    })
}

fn check(model: &str, tensor: &str, m: &QMatrix, reference: &[f32]) {
    let (rows, cols, t) = (m.rows(), m.cols(), m.qtype());
    let what = format!("{model} {tensor} ({t}, {rows}x{cols})");
    let mut row = vec![0f32; cols];
    for r in 0..rows {
        m.dequantize_row(r, &mut row);
        for (c, (a, b)) in row.iter().zip(&reference[r * cols..(r + 1) * cols]).enumerate() {
            assert!(a == b || (a - b).abs() <= 1e-6 * b.abs(), "{what}: [{r}][{c}] = {a}, candle {b}");
        }
    }
    let k = 5;
    let xs = Rng::new(rows as u64).values(k * cols);
    let (exact, _) = reference_matmul(reference, rows, cols, &xs);
    for level in SimdLevel::supported() {
        let mut out = vec![0f32; k * rows];
        m.matmul_with(level, &xs, &mut out);
        for i in 0..k {
            for r in 0..rows {
                let bound = error_bound(t, &reference[r * cols..(r + 1) * cols], &xs[i * cols..(i + 1) * cols]);
                let (got, want) = (out[i * rows + r] as f64, exact[i * rows + r]);
                assert!((got - want).abs() <= bound, "{what} at {}: [{i}][{r}] {got} vs {want}", level.name());
            }
        }
        let mut single = vec![0f32; rows];
        m.matmul_with(level, &xs[3 * cols..4 * cols], &mut single);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(bits(&single) == bits(&out[3 * rows..4 * rows]), "{what} at {}: not row-exact", level.name());
    }
}

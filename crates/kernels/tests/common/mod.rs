//! Shared utilities for the kernel tests: deterministic random data, candle as the reference
//! encoder/decoder, and an f64 reference matmul.
#![allow(dead_code)] // each test binary uses a different subset

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use tandem_kernels::{Bytes, QMatrix, QType, SimdLevel};

/// splitmix64: small, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// Roughly normal (sum of four uniforms), with an occasional outlier as real weights and
    /// activations have.
    pub fn value(&mut self) -> f32 {
        let v = (self.unit() + self.unit() + self.unit() + self.unit()) * 0.5;
        if self.next_u64().is_multiple_of(97) {
            v * 8.0
        } else {
            v
        }
    }

    pub fn values(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

pub fn candle_dtype(t: QType) -> GgmlDType {
    match t {
        QType::F32 => GgmlDType::F32,
        QType::F16 => GgmlDType::F16,
        QType::BF16 => GgmlDType::BF16,
        QType::Q4_0 => GgmlDType::Q4_0,
        QType::Q4_1 => GgmlDType::Q4_1,
        QType::Q5_0 => GgmlDType::Q5_0,
        QType::Q5_1 => GgmlDType::Q5_1,
        QType::Q8_0 => GgmlDType::Q8_0,
        QType::Q4K => GgmlDType::Q4K,
        QType::Q5K => GgmlDType::Q5K,
        QType::Q6K => GgmlDType::Q6K,
    }
}

/// A `rows x cols` matrix of `values` encoded by candle: (raw blocks, candle's decoding).
pub fn candle_encode(t: QType, rows: usize, cols: usize, values: Vec<f32>) -> (Vec<u8>, Vec<f32>) {
    let dev = Device::Cpu;
    let tensor = Tensor::from_vec(values, (rows, cols), &dev).expect("tensor");
    let q = QTensor::quantize(&tensor, candle_dtype(t)).expect("quantize");
    let bytes = q.data().expect("data").into_owned();
    let decoded = q.dequantize(&dev).expect("dequantize").flatten_all().unwrap().to_vec1::<f32>().unwrap();
    (bytes, decoded)
}

/// A random `rows x cols` matrix of type `t` and candle's decoding of it.
pub fn random_matrix(t: QType, rows: usize, cols: usize, seed: u64) -> (QMatrix, Vec<f32>) {
    let values = Rng::new(seed).values(rows * cols);
    let (bytes, decoded) = candle_encode(t, rows, cols, values);
    (QMatrix::new(t, rows, cols, Bytes::Owned(bytes)).expect("valid matrix"), decoded)
}

/// The matrix decoded row by row with the kernels' own decoder.
pub fn dequantize_all(m: &QMatrix) -> Vec<f32> {
    let mut out = vec![0f32; m.rows() * m.cols()];
    for (r, row) in out.chunks_exact_mut(m.cols()).enumerate() {
        m.dequantize_row(r, row);
    }
    out
}

/// f64 reference: out[i * rows + r] = Σ_j w[r][j] * x[i][j], and the matching Σ |w x|.
pub fn reference_matmul(w: &[f32], rows: usize, cols: usize, xs: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let k = xs.len() / cols;
    let mut out = vec![0f64; k * rows];
    let mut mag = vec![0f64; k * rows];
    for i in 0..k {
        let x = &xs[i * cols..(i + 1) * cols];
        for r in 0..rows {
            let wr = &w[r * cols..(r + 1) * cols];
            out[i * rows + r] = wr.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum();
            mag[i * rows + r] = wr.iter().zip(x).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
        }
    }
    (out, mag)
}

/// The activation block size the kernels quantize `x` with for weights of type `t`
/// (0: activations stay f32).
pub fn act_block(t: QType) -> usize {
    match t {
        QType::F32 | QType::F16 | QType::BF16 => 0,
        QType::Q4K | QType::Q5K | QType::Q6K => 256,
        _ => 32,
    }
}

/// A sound bound on |kernel - exact| for one output element: int8 activation rounding
/// (half a step of amax/127 per element), the f16 rounding of the activation scale and sum
/// (2^-11 relative, taken as 1e-3 of |x|, and of the block's largest |w| to cover the
/// offset term of Q4_1/Q5_1), and f32 accumulation (1e-5 of Σ |w x|).
pub fn error_bound(t: QType, wr: &[f32], x: &[f32]) -> f64 {
    let block = act_block(t);
    let mut bound = 0f64;
    if block > 0 {
        for (wb, xb) in wr.chunks(block).zip(x.chunks(block)) {
            let amax = xb.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
            let wmax = wb.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
            let step = amax / 127.0;
            for (&w, &v) in wb.iter().zip(xb) {
                bound += (w as f64).abs() * 0.501 * step + ((w as f64).abs() + wmax) * 1e-3 * (v as f64).abs();
            }
        }
    }
    let mag: f64 = wr.iter().zip(x).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
    bound + 1e-5 * mag + 1e-6
}

/// The expected squared error of one output element from activation quantization, treating
/// each rounding error as uniform over a step (variance step²/12), plus the f16 rounding of
/// the scales (relative 2^-11) and, for the offset types, of the Q8_1 sum.
pub fn expected_sq_error(t: QType, wr: &[f32], x: &[f32]) -> f64 {
    let block = act_block(t);
    if block == 0 {
        return 0.0;
    }
    let f16_rel = 2f64.powi(-11);
    let mut var = 0f64;
    for (wb, xb) in wr.chunks(block).zip(x.chunks(block)) {
        let amax = xb.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
        let step = amax / 127.0;
        for (&w, &v) in wb.iter().zip(xb) {
            var += (w as f64).powi(2) * (step * step / 12.0 + (v as f64 * f16_rel).powi(2));
        }
        if matches!(t, QType::Q4_1 | QType::Q5_1) {
            let wmax = wb.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
            let xsum: f64 = xb.iter().map(|v| (*v as f64).abs()).sum();
            var += (wmax * xsum * f16_rel).powi(2);
        }
    }
    var
}

/// The bit patterns of `v`, for exact comparisons.
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Row `r` of `m` decoded, as bit patterns.
pub fn row_bits(m: &QMatrix, r: usize) -> Vec<u32> {
    let mut out = vec![0f32; m.cols()];
    m.dequantize_row(r, &mut out);
    bits(&out)
}

/// `m` times the activation rows `xs` on `level`'s kernels.
pub fn product(m: &QMatrix, level: SimdLevel, xs: &[f32]) -> Vec<f32> {
    let mut out = vec![f32::NAN; xs.len() / m.cols() * m.rows()];
    m.matmul_with(level, xs, &mut out);
    out
}

/// `m` times the activation rows `xs` on the AVX-512 VNNI kernels.
pub fn vnni_product(m: &QMatrix, xs: &[f32]) -> Vec<f32> {
    product(m, SimdLevel::Avx512Vnni, xs)
}

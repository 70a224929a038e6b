//! K-quant kernels on blocks of arbitrary bytes (every scale, min and quant pattern, Q6_K
//! scales of -128 included) against activations that quantize to ±127: the int8 sums reach
//! their largest magnitudes, where an overflowing or saturating step would show. Every SIMD
//! family must still agree with the scalar reference to float rounding.

mod common;

use common::Rng;
use tandem_kernels::{Bytes, QMatrix, QType, SimdLevel};

const ROWS: usize = 40;
const COLS: usize = 1024;

/// Random bytes with the f16 scale fields set to `scale` (random bits would include NaN).
fn raw_matrix(t: QType, seed: u64, scale: f32) -> QMatrix {
    let mut rng = Rng::new(seed);
    let mut bytes: Vec<u8> = (0..t.row_bytes(COLS).unwrap() * ROWS).map(|_| rng.next_u64() as u8).collect();
    let fields: &[usize] = if t == QType::Q6K { &[208] } else { &[0, 2] };
    for block in bytes.chunks_exact_mut(t.block_bytes()) {
        for &at in fields {
            block[at..at + 2].copy_from_slice(&half::f16::from_f32(scale).to_le_bytes());
        }
    }
    QMatrix::new(t, ROWS, COLS, Bytes::Owned(bytes)).unwrap()
}

#[test]
fn extreme_blocks_agree_with_scalar() {
    for (n, t) in [QType::Q4K, QType::Q5K, QType::Q6K].into_iter().enumerate() {
        let m = raw_matrix(t, 40 + n as u64, 0.01);
        let mut rng = Rng::new(50 + n as u64);
        // Rows of ±1 (every value quantizes to ±127), all +1, all -1, then mixed values.
        let mut xs: Vec<f32> = (0..COLS).map(|_| if rng.next_u64() & 1 == 1 { 1.0 } else { -1.0 }).collect();
        xs.extend(std::iter::repeat_n(1.0, COLS));
        xs.extend(std::iter::repeat_n(-1.0, COLS));
        xs.extend(rng.values(2 * COLS));
        let k = xs.len() / COLS;
        let mut dense = vec![0f32; ROWS * COLS];
        for (r, row) in dense.chunks_exact_mut(COLS).enumerate() {
            m.dequantize_row(r, row);
        }
        let mut scalar = vec![0f32; k * ROWS];
        m.matmul_with(SimdLevel::Scalar, &xs, &mut scalar);
        for level in SimdLevel::supported().into_iter().skip(1) {
            let mut out = vec![f32::NAN; k * ROWS];
            m.matmul_with(level, &xs, &mut out);
            for (j, (a, b)) in out.iter().zip(&scalar).enumerate() {
                let (i, r) = (j / ROWS, j % ROWS);
                let mag: f64 = dense[r * COLS..(r + 1) * COLS]
                    .iter()
                    .zip(&xs[i * COLS..(i + 1) * COLS])
                    .map(|(w, x)| (*w as f64 * *x as f64).abs())
                    .sum();
                assert!(
                    ((a - b) as f64).abs() <= 2e-6 * mag + 1e-6,
                    "{t} at {}: row {i}, weight row {r}: {a} vs scalar {b}",
                    level.name()
                );
            }
        }
    }
}

//! Re-encoding weights into another type.

mod common;

use common::{dequantize_all, random_matrix};
use tandem_kernels::{KernelError, QType};

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |a, x| a.max(x.abs()))
}

#[test]
fn q5_0_to_q8_0_keeps_every_value() {
    let (m, original) = random_matrix(QType::Q5_0, 40, 256, 11);
    let q8 = m.requantize(QType::Q8_0).unwrap();
    assert_eq!((q8.qtype(), q8.rows(), q8.cols()), (QType::Q8_0, 40, 256));
    assert_eq!(q8.byte_len(), 40 * 256 / 32 * 34);
    assert_eq!(dequantize_all(&q8), original, "the widening is exact");
}

#[test]
fn q4_0_to_q8_0_stays_close_to_the_original() {
    let (m, original) = random_matrix(QType::Q4_0, 40, 256, 13);
    let back = dequantize_all(&m.requantize(QType::Q8_0).unwrap());
    // Q8_0 rounds each value to half a step of its block's amax / 127 (plus f16 scale).
    for (blk, (a, b)) in back.chunks(32).zip(original.chunks(32)).enumerate() {
        let step = max_abs(b) / 127.0;
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 0.5 * step + 1e-3 * y.abs() + 1e-7, "block {blk}: {x} vs {y}");
        }
    }
}

#[test]
fn k_quants_re_encode_into_legacy_and_float_types() {
    let (m, original) = random_matrix(QType::Q6K, 8, 512, 12);
    let f32m = m.requantize(QType::F32).unwrap();
    assert_eq!(dequantize_all(&f32m), original, "F32 keeps every value");
    let f16m = m.requantize(QType::F16).unwrap();
    for (x, y) in dequantize_all(&f16m).iter().zip(&original) {
        assert!((x - y).abs() <= y.abs() * 1e-3 + 1e-7);
    }
    for to in [QType::Q4_0, QType::Q4_1, QType::Q5_0, QType::Q5_1, QType::Q8_0, QType::BF16] {
        let re = m.requantize(to).unwrap();
        let back = dequantize_all(&re);
        // Coarsest case, 4 bits: a step is at most (max - min) / 15 of the block.
        let scale = max_abs(&original);
        for (x, y) in back.iter().zip(&original) {
            assert!((x - y).abs() <= scale * 2.0 / 15.0, "{to}: {x} vs {y}");
        }
    }
}

#[test]
fn encoding_into_k_quants_is_refused() {
    let (m, _) = random_matrix(QType::Q8_0, 2, 256, 13);
    for to in [QType::Q4K, QType::Q5K, QType::Q6K] {
        assert_eq!(m.requantize(to).unwrap_err(), KernelError::CannotEncode(to));
    }
}

#[test]
fn rows_that_are_not_whole_target_blocks_are_refused() {
    let (m, _) = random_matrix(QType::F16, 2, 64, 14);
    assert_eq!(m.requantize(QType::Q8_0).unwrap().cols(), 64);
    let (m, _) = random_matrix(QType::F16, 2, 40, 14);
    assert_eq!(m.requantize(QType::Q8_0).unwrap_err(), KernelError::BadCols { qtype: QType::Q8_0, cols: 40 });
}

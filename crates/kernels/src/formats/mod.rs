//! GGUF block formats: decoding blocks to f32 and, for the types that can be targets of
//! [`crate::QMatrix::requantize`], encoding f32 into blocks.
//!
//! Blocks are read straight from (possibly unaligned) file bytes, little-endian, exactly as
//! ggml lays them out; nothing here assumes alignment.

mod float;
pub(crate) mod kquants;
pub(crate) mod lanes;
mod legacy;
pub(crate) mod rows16;

pub(crate) use kquants::unpack_scales_mins;

use crate::qtype::QK;
use crate::{KernelError, QType};

/// The f16 stored little-endian at `b[at..at + 2]`, widened to f32 (exact).
#[inline(always)]
pub(crate) fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Decode one row of `qtype` blocks (`bytes.len()` is whole blocks) into `out`.
pub(crate) fn dequantize_row(qtype: QType, bytes: &[u8], out: &mut [f32]) {
    let bb = qtype.block_bytes();
    debug_assert_eq!(bytes.len() / bb * qtype.block_size(), out.len());
    match qtype {
        QType::F32 => float::f32_to_f32(bytes, out),
        QType::F16 => float::f16_to_f32(bytes, out),
        QType::BF16 => float::bf16_to_f32(bytes, out),
        _ => {
            let decode: fn(&[u8], &mut [f32]) = match qtype {
                QType::Q4_0 => legacy::dequantize_q4_0,
                QType::Q4_1 => legacy::dequantize_q4_1,
                QType::Q5_0 => legacy::dequantize_q5_0,
                QType::Q5_1 => legacy::dequantize_q5_1,
                QType::Q8_0 => legacy::dequantize_q8_0,
                QType::Q4K => kquants::dequantize_q4k,
                QType::Q5K => kquants::dequantize_q5k,
                QType::Q6K => kquants::dequantize_q6k,
                QType::F32 | QType::F16 | QType::BF16 => unreachable!("handled above"),
            };
            for (block, ys) in bytes.chunks_exact(bb).zip(out.chunks_exact_mut(qtype.block_size())) {
                decode(block, ys);
            }
        }
    }
}

/// Encode one row of f32 (`xs.len()` is whole blocks) as `qtype` blocks into `out`.
///
/// The encoders follow ggml's reference quantizers, so a re-encoded model behaves like one
/// that llama.cpp's tools produced. K-quant encoders (an iterative scale search) are not
/// provided: re-encoding exists to move weights *to* the faster legacy kernels.
pub(crate) fn quantize_row(qtype: QType, xs: &[f32], out: &mut [u8]) -> Result<(), KernelError> {
    debug_assert_eq!(xs.len() / qtype.block_size() * qtype.block_bytes(), out.len());
    match qtype {
        QType::F32 => float::f32_from_f32(xs, out),
        QType::F16 => float::f16_from_f32(xs, out),
        QType::BF16 => float::bf16_from_f32(xs, out),
        QType::Q4K | QType::Q5K | QType::Q6K => return Err(KernelError::CannotEncode(qtype)),
        _ => {
            let encode: fn(&[f32; QK], &mut [u8]) = match qtype {
                QType::Q4_0 => legacy::quantize_q4_0,
                QType::Q4_1 => legacy::quantize_q4_1,
                QType::Q5_0 => legacy::quantize_q5_0,
                QType::Q5_1 => legacy::quantize_q5_1,
                _ => legacy::quantize_q8_0,
            };
            for (x, block) in xs.chunks_exact(QK).zip(out.chunks_exact_mut(qtype.block_bytes())) {
                encode(x.try_into().expect("chunks of QK"), block);
            }
        }
    }
    Ok(())
}

/// Re-encodes one block (`from`'s bytes) into another type's block (`to`'s bytes).
pub(crate) type BlockWidening = fn(&[u8], &mut [u8]);

/// An exact block-by-block re-encoding from `from` to `to`, where one exists.
pub(crate) fn widening(from: QType, to: QType) -> Option<BlockWidening> {
    match (from, to) {
        (QType::Q5_0, QType::Q8_0) => Some(legacy::widen_q5_0_to_q8_0),
        _ => None,
    }
}

/// Whether `quantize_row` can produce this type.
pub(crate) fn can_encode(qtype: QType) -> bool {
    !matches!(qtype, QType::Q4K | QType::Q5K | QType::Q6K)
}

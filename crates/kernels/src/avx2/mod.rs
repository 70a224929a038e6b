//! x86-64 kernels for CPUs with AVX2, FMA and F16C, and AVX-512 VNNI variants for the legacy
//! int8 dots, for Q4_K and Q6_K, for matrices in lane order (Q4_K, Q6_K and Q8_0, see
//! `formats::lanes`) and for Q4_K, Q6_K, Q4_0, Q5_0 and Q8_0 in rows16 form
//! (`formats::rows16`). Entry points carry `#[target_feature]` and are only handed out by
//! [`crate::kernel`] after run-time detection; everything they call is `#[inline(always)]`
//! so it is compiled with the entry point's features.
//!
//! Every `N`-row entry point computes each activation row with exactly the operation
//! sequence of the one-row form (the weight block is decoded once and then used for each
//! row), so a row's result does not depend on how many rows share the call.

mod float;
mod kquants;
mod kquants_vnni;
mod legacy;
mod q8_0_lanes;
mod round;
mod rows16;
mod silu;
mod softmax;

pub(crate) use float::{axpy_f32, axpy_f32_grouped, dot_bf16, dot_f16, dot_f32, dot_f32_grouped, dot_f32_weights};
pub(crate) use kquants::{dot_q4k, dot_q5k, dot_q6k};
pub(crate) use kquants_vnni::{
    dot_q4k_lanes_vnni, dot_q4k_vnni, dot_q6k_lanes_vnni, dot_q6k_vnni, q4k_to_lanes_vnni, q6k_to_lanes_vnni,
};
pub(crate) use legacy::*;
pub(crate) use q8_0_lanes::dot_q8_0_lanes_vnni;
pub(crate) use round::Avx2Rounder;
pub(crate) use rows16::{
    dot_q4_0_rows16_vnni, dot_q4k_rows16_vnni, dot_q5_0_rows16_vnni, dot_q6k_rows16_vnni, dot_q8_0_rows16_vnni,
};
pub(crate) use silu::silu_mul_f32;
pub(crate) use softmax::softmax_scaled_f32;

use std::arch::x86_64::*;

/// Sum of the eight lanes, in a fixed order.
#[inline(always)]
unsafe fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// [`hsum_ps`] of each accumulator (a loop, not a closure, so it inlines into the caller's
/// target features).
#[inline(always)]
unsafe fn hsums<const N: usize>(acc: [__m256; N]) -> [f32; N] {
    let mut out = [0f32; N];
    for n in 0..N {
        out[n] = hsum_ps(acc[n]);
    }
    out
}

/// The sum of each 512-bit accumulator's sixteen lanes, in a fixed order.
#[inline(always)]
unsafe fn hsums512<const N: usize>(acc: [__m512; N]) -> [f32; N] {
    let mut out = [0f32; N];
    for n in 0..N {
        out[n] = _mm512_reduce_add_ps(acc[n]);
    }
    out
}

/// The little-endian f16 at `p` (any alignment) as f32.
#[inline(always)]
unsafe fn f16_at(p: *const u8) -> f32 {
    let bits = (p as *const u16).read_unaligned();
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
}

#[inline(always)]
unsafe fn load(p: *const u8) -> __m256i {
    _mm256_loadu_si256(p as *const __m256i)
}

/// 16 packed bytes at `p` as 32 nibbles: bytes 0..16 hold the low nibbles, 16..32 the high.
#[inline(always)]
unsafe fn nibbles(p: *const u8) -> __m256i {
    let t = _mm_loadu_si128(p as *const __m128i);
    _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16::<4>(t), t), _mm256_set1_epi8(0x0F))
}

/// Byte `j` is 0xFF where bit `j` of `x` is set, else 0.
#[inline(always)]
unsafe fn bits_to_bytes(x: u32) -> __m256i {
    // Each 128-bit lane of the broadcast holds x in its first four bytes; byte j picks byte
    // j / 8 of x, then tests bit j % 8.
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(x as i32),
        _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, //
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        ),
    );
    let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit)
}

/// Unsigned-by-signed byte products summed in runs of four into i32 lanes. Both forms are
/// exact for the operands used here (no adjacent pair of products exceeds i16), so they
/// give identical integers.
pub(crate) trait I8Dot {
    unsafe fn dot4(u: __m256i, s: __m256i) -> __m256i;
}

/// AVX2: `pmaddubsw` then `pmaddwd` by ones.
pub(crate) struct Maddubs;

impl I8Dot for Maddubs {
    #[inline(always)]
    unsafe fn dot4(u: __m256i, s: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
    }
}

/// AVX-512 VNNI (256-bit form): one `vpdpbusd`.
pub(crate) struct Vnni;

impl I8Dot for Vnni {
    #[inline(always)]
    unsafe fn dot4(u: __m256i, s: __m256i) -> __m256i {
        _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
    }
}

/// Signed-by-signed byte products summed in runs of four: moves x's signs onto y so that
/// the unsigned operand is |x|. Exact when y has no -128 (activations are in ±127).
#[inline(always)]
unsafe fn signed_dot4<D: I8Dot>(x: __m256i, y: __m256i) -> __m256i {
    D::dot4(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimdLevel;

    #[test]
    fn bits_to_bytes_marks_each_set_bit() {
        if !SimdLevel::Avx2.is_supported() {
            return;
        }
        #[target_feature(enable = "avx2")]
        unsafe fn run(x: u32) -> [u8; 32] {
            std::mem::transmute(bits_to_bytes(x))
        }
        for x in [0u32, 1, 0x8000_0000, 0xDEAD_BEEF, u32::MAX, 0x0102_0408] {
            let bytes = unsafe { run(x) };
            for (j, b) in bytes.iter().enumerate() {
                assert_eq!(*b, if x >> j & 1 == 1 { 0xFF } else { 0 }, "x={x:#x} j={j}");
            }
        }
    }
}

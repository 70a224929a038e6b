//! K-quant weight rows (256-element super-blocks) against Q8_K activation rows.
//!
//! Per block and row: the sub-block scales are applied in i16 x i16 -> i32 multiplies
//! (`pmaddwd`), the block's i32 lanes are converted and fused-multiply-added with d_w * d_a
//! into eight f32 lanes, from which (Q4_K/Q5_K) the exact integer lanes of
//! min_s * (activation sum of sub-block s) are subtracted, scaled by dmin_w * d_a. All products stay inside i16 before `pmaddwd`:
//! unsigned quants ≤ 63 times |activations| ≤ 127, two per pair.

use std::arch::x86_64::*;

use super::{f16_at, hsums, load};
use crate::act::Q8KAct;
use crate::formats::kquants::at;
use crate::formats::unpack_scales_mins;

const Q4K_BYTES: usize = 144;
const Q5K_BYTES: usize = 176;
const Q6K_BYTES: usize = 210;

/// `u8 x i8` pairs summed to i16, then multiplied by the i16 `scales` and summed to i32.
#[inline(always)]
unsafe fn scaled_dot(q: __m256i, y: __m256i, scales: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), scales)
}

#[inline(always)]
unsafe fn act(y: &Q8KAct, at: usize) -> __m256i {
    load(y.qs.as_ptr().add(at) as *const u8)
}

/// `DUP_PAIRS` repeats bytes 0..8 as 0, 0, 1, 1, .., 7, 7: each sub-block's min for both
/// 16-element activation sums it covers.
const DUP_PAIRS: [u8; 16] = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7];

/// Shared body of Q4_K and Q5_K (`FIVE`: add the fifth bits from `qh`). `QS` is the offset
/// of the nibbles in the block.
#[inline(always)]
unsafe fn k45<const N: usize, const BYTES: usize, const QS: usize, const FIVE: bool>(
    w: &[u8],
    a: [&[Q8KAct]; N],
) -> [f32; N] {
    let nb = w.len() / BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * BYTES);
    let low4 = _mm256_set1_epi8(0x0F);
    let one = _mm256_set1_epi8(1);
    let dup_pairs = _mm_loadu_si128(DUP_PAIRS.as_ptr() as *const __m128i);
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * BYTES);
        let (d, dmin) = (f16_at(b.add(at::K_D)), f16_at(b.add(at::K_DMIN)));
        let (sc, mn) = unpack_scales_mins(std::slice::from_raw_parts(b.add(at::K_SCALES), 12));
        let mins = _mm_loadl_epi64(mn.as_ptr() as *const __m128i);
        let mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(mins, dup_pairs));
        let mut qh = if FIVE { load(b.add(at::Q5K_QH)) } else { _mm256_setzero_si256() };
        let mut sumi = [_mm256_setzero_si256(); N];
        for c in 0..4 {
            let q = load(b.add(QS + 32 * c));
            let mut lo = _mm256_and_si256(q, low4);
            let mut hi = _mm256_and_si256(_mm256_srli_epi16::<4>(q), low4);
            if FIVE {
                // Bit 2c (low half) and 2c + 1 (high half) of each qh byte, moved to bit 4.
                // 16-bit shifts leak bits across bytes only above bit 0, which is masked.
                lo = _mm256_or_si256(lo, _mm256_slli_epi16::<4>(_mm256_and_si256(qh, one)));
                let h1 = _mm256_and_si256(_mm256_srli_epi16::<1>(qh), one);
                hi = _mm256_or_si256(hi, _mm256_slli_epi16::<4>(h1));
                qh = _mm256_srli_epi16::<2>(qh);
            }
            let s_lo = _mm256_set1_epi16(sc[2 * c] as i16);
            let s_hi = _mm256_set1_epi16(sc[2 * c + 1] as i16);
            for n in 0..N {
                let y = a[n].get_unchecked(i);
                let p =
                    _mm256_add_epi32(scaled_dot(lo, act(y, 64 * c), s_lo), scaled_dot(hi, act(y, 64 * c + 32), s_hi));
                sumi[n] = _mm256_add_epi32(sumi[n], p);
            }
        }
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let min_sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bsums));
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi[n]), acc[n]);
            acc[n] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * y.d), min_sum, acc[n]);
        }
    }
    hsums(acc)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_q4k<const N: usize>(w: &[u8], a: [&[Q8KAct]; N]) -> [f32; N] {
    k45::<N, Q4K_BYTES, { at::Q4K_QS }, false>(w, a)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_q5k<const N: usize>(w: &[u8], a: [&[Q8KAct]; N]) -> [f32; N] {
    k45::<N, Q5K_BYTES, { at::Q5K_QS }, true>(w, a)
}

/// `SCALE_PICK[g]` spreads scale bytes 2g (to bytes 0..8) and 2g + 1 (to 8..16): the two
/// 16-element sub-blocks that make up 32-element group g.
const SCALE_PICK: [[u8; 16]; 8] = {
    let mut t = [[0u8; 16]; 8];
    let mut g = 0;
    while g < 8 {
        let mut j = 0;
        while j < 16 {
            t[g][j] = (2 * g + j / 8) as u8;
            j += 1;
        }
        g += 1;
    }
    t
};

/// Q6_K: quants are used unsigned (0..63); the -32 offset is applied once per block as
/// 32 * Σ_s scale_s * bsum_s, since the activation sums cover exactly the 16-element
/// sub-blocks that scales apply to.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_q6k<const N: usize>(w: &[u8], a: [&[Q8KAct]; N]) -> [f32; N] {
    let nb = w.len() / Q6K_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q6K_BYTES);
    let low4 = _mm256_set1_epi8(0x0F);
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * Q6K_BYTES);
        let d = f16_at(b.add(at::Q6K_D));
        let scales = _mm_loadu_si128(b.add(at::Q6K_SCALES) as *const __m128i);
        let mut sumi = [_mm256_setzero_si256(); N];
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales), bsums);
            sumi[n] = _mm256_sub_epi32(sumi[n], _mm256_slli_epi32::<5>(offset));
        }
        for h in 0..2 {
            let ql0 = load(b.add(at::Q6K_QL + 64 * h));
            let ql1 = load(b.add(at::Q6K_QL + 64 * h + 32));
            let qh = load(b.add(at::Q6K_QH + 32 * h));
            // Byte masks keep every 16-bit shift from moving bits across bytes.
            let q = [
                _mm256_or_si256(
                    _mm256_and_si256(ql0, low4),
                    _mm256_slli_epi16::<4>(_mm256_and_si256(qh, _mm256_set1_epi8(0x03))),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(ql1, low4),
                    _mm256_slli_epi16::<2>(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C))),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(ql0), low4),
                    _mm256_and_si256(qh, _mm256_set1_epi8(0x30)),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16::<4>(ql1), low4),
                    _mm256_srli_epi16::<2>(_mm256_and_si256(qh, _mm256_set1_epi8(0xC0u8 as i8))),
                ),
            ];
            for (g, q) in q.into_iter().enumerate() {
                let pick = _mm_loadu_si128(SCALE_PICK[4 * h + g].as_ptr() as *const __m128i);
                let sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, pick));
                for n in 0..N {
                    let y = a[n].get_unchecked(i);
                    let p = scaled_dot(q, act(y, 128 * h + 32 * g), sc);
                    sumi[n] = _mm256_add_epi32(sumi[n], p);
                }
            }
        }
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi[n]), acc[n]);
        }
    }
    hsums(acc)
}

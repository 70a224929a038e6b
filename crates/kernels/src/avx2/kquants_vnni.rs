//! Q4_K and Q6_K weight rows against Q8_K activation rows with AVX-512 VNNI.
//!
//! One 512-bit register holds 64 weights: two 32-element sub-blocks of Q4_K (a chunk's low
//! and high nibbles) or four 16-element sub-blocks of Q6_K, matching 64 consecutive
//! activations. `vpdpbusd` sums each run of four `u8 x i8` products into an i32 lane; a run
//! lies inside one sub-block and its sum fits in i16 (at most 4 * 63 * 127 = 32004 in
//! magnitude), so two such registers pack into i16 without saturating, and one `vpdpwssd`
//! multiplies each packed run sum by its sub-block scale and accumulates pairs of them.
//! That is two multiplies per 64 weights and row plus a pack per 128, where AVX2 needs four
//! (`pmaddubsw`, `pmaddwd` per 32). The integer sums are exact; per block they are folded to
//! eight lanes and scaled in f32 as in the AVX2 kernels, so the two agree to float rounding.
//!
//! Every N-row entry point repeats the one-row arithmetic per row (the weight block and its
//! scales are decoded once), so row results do not depend on N.

use std::arch::x86_64::*;

use super::{f16_at, hsums, load};
use crate::act::Q8KAct;
use crate::formats::kquants::at;
use crate::formats::unpack_scales_mins;

const Q4K_BYTES: usize = 144;
const Q6K_BYTES: usize = 210;

/// `DUP_PAIRS` repeats bytes 0..8 as 0, 0, 1, 1, .., 7, 7: each sub-block's min for both
/// 16-element activation sums it covers.
const DUP_PAIRS: [u8; 16] = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7];

/// Scale index of each i16 lane after `packs(d0, d1)` of two run-sum registers covering 128
/// elements, for `SUBS` sub-blocks per 64 elements (2 for Q4_K, 4 for Q6_K): 128-bit lane `k`
/// of the pack holds runs 4k..4k + 4 of `d0` then of `d1`, and run `r` of a register lies in
/// its sub-block `r * SUBS / 16`. `t[p]` serves the `p`-th 128 elements of the block.
const fn pair_scale_index<const SUBS: usize>() -> [[u16; 32]; 2] {
    let mut t = [[0u16; 32]; 2];
    let mut p = 0;
    while p < 2 {
        let mut j = 0;
        while j < 32 {
            let (k, reg, pos) = (j / 8, j % 8 / 4, j % 4);
            t[p][j] = ((2 * p + reg) * SUBS + (4 * k + pos) * SUBS / 16) as u16;
            j += 1;
        }
        p += 1;
    }
    t
}

const Q4K_PAIR_SCALE: [[u16; 32]; 2] = pair_scale_index::<2>();
const Q6K_PAIR_SCALE: [[u16; 32]; 2] = pair_scale_index::<4>();

#[inline(always)]
unsafe fn load_index(t: &[u16; 32]) -> __m512i {
    _mm512_loadu_si512(t.as_ptr() as *const __m512i)
}

/// `acc` plus the scaled dot of 128 weights (`w`, two registers) with the activations of `y`
/// from element `at`; `s` holds the scale of each packed i16 lane (see [`pair_scale_index`]).
#[inline(always)]
unsafe fn scaled_pair(acc: __m512i, w: &[__m512i; 2], y: &Q8KAct, at: usize, s: __m512i) -> __m512i {
    let act = |off: usize| _mm512_loadu_si512(y.qs.as_ptr().add(at + off) as *const __m512i);
    let d0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], act(0));
    let d1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], act(64));
    _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(d0, d1), s)
}

/// The sum of the two 256-bit halves of the i32 lanes (exact).
#[inline(always)]
unsafe fn fold(v: __m512i) -> __m256i {
    _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v))
}

/// Q4_K: chunk `c` of 32 bytes becomes one register, low nibbles (sub-block 2c) in the low
/// half and high nibbles (2c + 1) in the high half, as the activations lie. The mins are
/// applied as in the AVX2 kernel.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q4k_vnni<const N: usize>(w: &[u8], a: [&[Q8KAct]; N]) -> [f32; N] {
    let nb = w.len() / Q4K_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q4K_BYTES);
    let low4 = _mm512_set1_epi8(0x0F);
    let nibble_shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
    let dup_pairs = _mm_loadu_si128(DUP_PAIRS.as_ptr() as *const __m128i);
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * Q4K_BYTES);
        let (d, dmin) = (f16_at(b.add(at::K_D)), f16_at(b.add(at::K_DMIN)));
        let (sc, mn) = unpack_scales_mins(std::slice::from_raw_parts(b.add(at::K_SCALES), 12));
        let mins = _mm_loadl_epi64(mn.as_ptr() as *const __m128i);
        let mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(mins, dup_pairs));
        // The eight scales as i16 lanes 0..8 (the index tables pick no others).
        let scales = _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(_mm_loadl_epi64(sc.as_ptr() as *const __m128i)));
        let mut sumi = [_mm512_setzero_si512(); N];
        for (p, index) in Q4K_PAIR_SCALE.iter().enumerate() {
            let q = [2 * p, 2 * p + 1].map(|c| {
                let q = _mm512_broadcast_i64x4(load(b.add(at::Q4K_QS + 32 * c)));
                _mm512_and_si512(_mm512_srlv_epi64(q, nibble_shift), low4)
            });
            let s = _mm512_permutexvar_epi16(load_index(index), scales);
            for n in 0..N {
                sumi[n] = scaled_pair(sumi[n], &q, a[n].get_unchecked(i), 128 * p, s);
            }
        }
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let min_sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bsums));
            let sumi = _mm256_cvtepi32_ps(fold(sumi[n]));
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), sumi, acc[n]);
            acc[n] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * y.d), min_sum, acc[n]);
        }
    }
    hsums(acc)
}

/// Q6_K: quants are used unsigned (0..63) and the -32 offset is applied once per block as
/// -32 * Σ_s scale_s * bsum_s. Half `h` of a block yields two registers: groups 0 and 1
/// (low nibbles of its two 32-byte `ql` runs) and groups 2 and 3 (high nibbles), each with
/// its two `qh` bits moved to bits 4-5.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q6k_vnni<const N: usize>(w: &[u8], a: [&[Q8KAct]; N]) -> [f32; N] {
    let nb = w.len() / Q6K_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q6K_BYTES);
    let low4 = _mm512_set1_epi8(0x0F);
    let bits45 = _mm512_set1_epi8(0x30);
    // Per 64-bit lane shifts that bring the qh bits of group g to bits 4-5 of each byte:
    // groups 0 | 1 need bits 0-1 | 2-3 shifted up by 4 | 2, groups 2 | 3 bits 4-5 | 6-7
    // shifted down by 0 | 2. The 0x30 mask drops whatever crosses from a neighbouring byte.
    let up = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    let down = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * Q6K_BYTES);
        let d = f16_at(b.add(at::Q6K_D));
        let scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.add(at::Q6K_SCALES) as *const __m128i));
        // -32 * scale fits i16 (at most 4096 in magnitude).
        let offset_scales = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16::<5>(scales));
        let scales = _mm512_zextsi256_si512(scales);
        let mut sumi = [_mm512_setzero_si512(); N];
        for (h, index) in Q6K_PAIR_SCALE.iter().enumerate() {
            let ql = _mm512_loadu_si512(b.add(at::Q6K_QL + 64 * h) as *const __m512i);
            let qh = _mm512_broadcast_i64x4(load(b.add(at::Q6K_QH + 32 * h)));
            let q = [
                _mm512_or_si512(_mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_sllv_epi64(qh, up), bits45)),
                _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16::<4>(ql), low4),
                    _mm512_and_si512(_mm512_srlv_epi64(qh, down), bits45),
                ),
            ];
            let s = _mm512_permutexvar_epi16(load_index(index), scales);
            for n in 0..N {
                sumi[n] = scaled_pair(sumi[n], &q, a[n].get_unchecked(i), 128 * h, s);
            }
        }
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let sumi = _mm256_add_epi32(fold(sumi[n]), _mm256_madd_epi16(offset_scales, bsums));
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(d * y.d), _mm256_cvtepi32_ps(sumi), acc[n]);
        }
    }
    hsums(acc)
}

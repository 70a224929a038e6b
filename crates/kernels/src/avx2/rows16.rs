//! Q4_K, Q6_K, Q4_0, Q5_0 and Q8_0 in rows16 form (`formats::rows16`) against
//! [`Q8KRowsAct`] and [`Q8_0RowsAct`] rows with AVX-512 VNNI: sixteen weight rows per call,
//! one per 32-bit lane.
//!
//! Q4_K: per block and activation row, each 32-value sub-block is eight `vpdpbusd` of a weight
//! register (four values of each of the sixteen rows) against four activation values
//! broadcast to every lane, then one conversion and one multiply-add by the sixteen rows'
//! `d * scale`; the block ends with one multiply-add by the activation's `d`. The minimums
//! are summed in integers, four `vpdpwssd` of the rows' mins against the activation's
//! sub-block sums, and applied with one conversion and two f32 operations. The weight
//! registers, their masks and the rows' scales are made once per block and shared by every
//! activation row of the call.
//!
//! The high nibbles are used in place, as sixteen times the quant: their sums are exact
//! sixteenfold (at most 2^20), and their sub-blocks' scales carry the 1/16, so every
//! product is what the shifted quants would give, with one instruction less per register.
//!
//! Q6_K: each 16-value sub-block is four `vpdpbusd` of the unsigned quants, starting from
//! -32 times the activations' sum (which applies the offset of 32 exactly), then one
//! conversion and one multiply-add by the rows' `d * scale`. Its quants are decoded from
//! three registers per sub-block: the low six bits of each byte are three of the four
//! registers, and the fourth is gathered from their top two bits.
//!
//! Q8_0, Q5_0 and Q4_0: each 32-value block is eight `vpdpbusd` of the quants made unsigned
//! (Q8_0 stores them plus 128; Q5_0's are 0..31 for values -16..15, Q4_0's 0..15 for
//! -8..7), starting from minus the offset times the activations' sum, then a conversion and
//! a multiply-add by the rows' `d` times the activation's. Q5_0's fifth bits come as one
//! 64-bit mask per register and are added with one masked byte add.
//!
//! Every N-row entry point repeats the one-row arithmetic per row, so row results do not
//! depend on N. (Integer sums are exact, so how a row's `vpdpbusd` are split into partial
//! sums to hide their latency changes nothing.)

use std::arch::x86_64::*;

use crate::act::{Q8KRowsAct, Q8_0RowsAct};
use crate::formats::rows16::{
    D, DMIN, GROUP_BLOCK_BYTES, MINS, Q4_0_GROUP_BLOCK_BYTES, Q5_0_FIFTH_BITS, Q5_0_GROUP_BLOCK_BYTES, Q5_0_NIBBLES,
    Q6K_D, Q6K_GROUP_BLOCK_BYTES, Q6K_QUANTS, Q6K_SCALES, Q8_0_GROUP_BLOCK_BYTES, Q8_0_QUANTS, QUANTS, SCALES,
};

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q4k_rows16_vnni<const N: usize>(w: &[u8], a: [&[Q8KRowsAct]; N]) -> [[f32; 16]; N] {
    let nb = w.len() / GROUP_BLOCK_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * GROUP_BLOCK_BYTES);
    let (low4, high4) = (_mm512_set1_epi8(0x0F), _mm512_set1_epi8(0xF0u8 as i8));
    let mut acc = [_mm512_setzero_ps(); N];
    for b in 0..nb {
        let g = w.as_ptr().add(b * GROUP_BLOCK_BYTES);
        let d = _mm512_cvtph_ps(_mm256_loadu_si256(g.add(D) as *const __m256i));
        let dmin = _mm512_cvtph_ps(_mm256_loadu_si256(g.add(DMIN) as *const __m256i));
        let d16 = _mm512_mul_ps(d, _mm512_set1_ps(1.0 / 16.0));
        let mut blk = [_mm512_setzero_ps(); N];
        for p in 0..4 {
            if N > 1 {
                prefetch_ahead::<GROUP_BLOCK_BYTES, 4>(g, p);
            }
            let q = g.add(QUANTS + 512 * p) as *const __m512i;
            for h in 0..2 {
                let j = 2 * p + h;
                let sc = _mm512_cvtepu8_epi32(_mm_loadu_si128(g.add(SCALES + 16 * j) as *const __m128i));
                let ds = _mm512_mul_ps(_mm512_cvtepi32_ps(sc), if h == 0 { d } else { d16 });
                let mask = if h == 0 { low4 } else { high4 };
                let mut wt = [_mm512_setzero_si512(); 8];
                for (t, w) in wt.iter_mut().enumerate() {
                    *w = _mm512_and_si512(_mm512_loadu_si512(q.add(t)), mask);
                }
                for n in 0..N {
                    let x = a[n].get_unchecked(b).qs.as_ptr().add(32 * j) as *const i32;
                    let s = dot_registers::<N, 8>(_mm512_setzero_si512(), &wt, x);
                    blk[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), ds, blk[n]);
                }
            }
        }
        // Mins of sub-blocks 2p and 2p + 1 as a pair of i16 per row, against the pair of sums.
        let mut mins = [_mm512_setzero_si512(); 4];
        for (p, m) in mins.iter_mut().enumerate() {
            *m = _mm512_cvtepu8_epi16(_mm256_loadu_si256(g.add(MINS + 32 * p) as *const __m256i));
        }
        for n in 0..N {
            let y = a[n].get_unchecked(b);
            let sums = y.sums.as_ptr() as *const i32;
            let mut m = _mm512_setzero_si512();
            for (p, mp) in mins.iter().enumerate() {
                m = _mm512_dpwssd_epi32(m, *mp, _mm512_set1_epi32(sums.add(p).read_unaligned()));
            }
            let yd = _mm512_set1_ps(y.d);
            acc[n] = _mm512_fmadd_ps(blk[n], yd, acc[n]);
            acc[n] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_mul_ps(dmin, yd), acc[n]);
        }
    }
    lanes_out(acc)
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q6k_rows16_vnni<const N: usize>(w: &[u8], a: [&[Q8KRowsAct]; N]) -> [[f32; 16]; N] {
    let nb = w.len() / Q6K_GROUP_BLOCK_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q6K_GROUP_BLOCK_BYTES);
    let (low6, top2) = (_mm512_set1_epi8(0x3F), _mm512_set1_epi8(0xC0u8 as i8));
    let mut acc = [_mm512_setzero_ps(); N];
    for b in 0..nb {
        let g = w.as_ptr().add(b * Q6K_GROUP_BLOCK_BYTES);
        let d = _mm512_cvtph_ps(_mm256_loadu_si256(g.add(Q6K_D) as *const __m256i));
        let mut blk = [_mm512_setzero_ps(); N];
        for j in 0..16 {
            if N > 1 {
                prefetch_ahead::<Q6K_GROUP_BLOCK_BYTES, 16>(g, j);
            }
            let sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(g.add(Q6K_SCALES + 16 * j) as *const __m128i));
            let ds = _mm512_mul_ps(_mm512_cvtepi32_ps(sc), d);
            let q = g.add(Q6K_QUANTS + 192 * j) as *const __m512i;
            let abc = [_mm512_loadu_si512(q), _mm512_loadu_si512(q.add(1)), _mm512_loadu_si512(q.add(2))];
            // Each byte's top two bits, moved (within its byte: the others are masked off)
            // to bits 0-1, 2-3 and 4-5.
            let top = |v: __m512i| _mm512_and_si512(v, top2);
            let fourth = _mm512_ternarylogic_epi32::<0xFE>(
                _mm512_srli_epi16::<6>(top(abc[0])),
                _mm512_srli_epi16::<4>(top(abc[1])),
                _mm512_srli_epi16::<2>(top(abc[2])),
            );
            let wt = [
                _mm512_and_si512(abc[0], low6),
                _mm512_and_si512(abc[1], low6),
                _mm512_and_si512(abc[2], low6),
                fourth,
            ];
            for n in 0..N {
                let y = a[n].get_unchecked(b);
                let x = y.qs.as_ptr().add(16 * j) as *const i32;
                let s = dot_registers::<N, 4>(_mm512_set1_epi32(y.neg32_sums[j]), &wt, x);
                blk[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), ds, blk[n]);
            }
        }
        for n in 0..N {
            acc[n] = _mm512_fmadd_ps(blk[n], _mm512_set1_ps(a[n].get_unchecked(b).d), acc[n]);
        }
    }
    lanes_out(acc)
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q8_0_rows16_vnni<const N: usize>(w: &[u8], a: [&[Q8_0RowsAct]; N]) -> [[f32; 16]; N] {
    legacy::<N, Q8_0_GROUP_BLOCK_BYTES, 128>(w, a, |g| {
        let q = g.add(Q8_0_QUANTS) as *const __m512i;
        let mut wt = [_mm512_setzero_si512(); 8];
        for (t, w) in wt.iter_mut().enumerate() {
            *w = _mm512_loadu_si512(q.add(t));
        }
        wt
    })
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q5_0_rows16_vnni<const N: usize>(w: &[u8], a: [&[Q8_0RowsAct]; N]) -> [[f32; 16]; N] {
    legacy::<N, Q5_0_GROUP_BLOCK_BYTES, 16>(w, a, |g| {
        let fifth = _mm512_set1_epi8(0x10);
        let bits = g.add(Q5_0_FIFTH_BITS) as *const u64;
        let mut wt = nibble_registers(g);
        for (t, w) in wt.iter_mut().enumerate() {
            let k = _cvtu64_mask64(bits.add(t).read_unaligned());
            *w = _mm512_mask_add_epi8(*w, k, *w, fifth);
        }
        wt
    })
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q4_0_rows16_vnni<const N: usize>(w: &[u8], a: [&[Q8_0RowsAct]; N]) -> [[f32; 16]; N] {
    legacy::<N, Q4_0_GROUP_BLOCK_BYTES, 8>(w, a, |g| nibble_registers(g))
}

/// The eight registers of a Q4_0 or Q5_0 group block's low four bits: register `u` and
/// `u + 4` from the low and high nibbles of nibble register `u`.
#[inline(always)]
unsafe fn nibble_registers(g: *const u8) -> [__m512i; 8] {
    let low4 = _mm512_set1_epi8(0x0F);
    let q = g.add(Q5_0_NIBBLES) as *const __m512i;
    let mut wt = [_mm512_setzero_si512(); 8];
    for u in 0..4 {
        let x = _mm512_loadu_si512(q.add(u));
        wt[u] = _mm512_and_si512(x, low4);
        wt[u + 4] = _mm512_and_si512(_mm512_srli_epi16::<4>(x), low4);
    }
    wt
}

/// The 32-value legacy types: each block's quants, unsigned (the value plus `OFFSET`), as
/// eight registers from `quants`; eight `vpdpbusd` from -`OFFSET` times the activations'
/// sum, then a conversion and a multiply-add by the rows' `d` times the activation's.
#[inline(always)]
unsafe fn legacy<const N: usize, const BYTES: usize, const OFFSET: i32>(
    w: &[u8],
    a: [&[Q8_0RowsAct]; N],
    quants: impl Fn(*const u8) -> [__m512i; 8],
) -> [[f32; 16]; N] {
    let nb = w.len() / BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * BYTES);
    let mut acc = [_mm512_setzero_ps(); N];
    for b in 0..nb {
        let g = w.as_ptr().add(b * BYTES);
        if N > 1 {
            prefetch_ahead::<BYTES, 1>(g, 0);
        }
        let d = _mm512_cvtph_ps(_mm256_loadu_si256(g as *const __m256i));
        let wt = quants(g);
        for n in 0..N {
            let y = a[n].get_unchecked(b);
            let x = y.qs.as_ptr() as *const i32;
            let s = dot_registers::<N, 8>(_mm512_set1_epi32(-OFFSET * y.sum), &wt, x);
            acc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, _mm512_set1_ps(y.d)), acc[n]);
        }
    }
    lanes_out(acc)
}

/// Each accumulator's sixteen lanes: the results of the group's sixteen rows.
#[inline(always)]
unsafe fn lanes_out<const N: usize>(acc: [__m512; N]) -> [[f32; 16]; N] {
    let mut out = [[0f32; 16]; N];
    for n in 0..N {
        _mm512_storeu_ps(out[n].as_mut_ptr(), acc[n]);
    }
    out
}

/// Blocks ahead of the one being multiplied that a call with several activation rows asks
/// the CPU to fetch into L1: such a call computes long enough per block for memory to fall
/// behind the hardware prefetcher. (A one-row call is left to the hardware: measured. One
/// block ahead measured 2-7% faster than three at k = 2..8, and eight slower than both.)
const AHEAD_BLOCKS: usize = 1;

/// Blocks ahead that the same calls also ask to have fetched into L2 only. Streaming
/// model-sized layers at k = 4 this took 27 ms where L1 requests alone took 29-30 ms
/// (whose memory stream fell to 27 GB/s while a one-row call drew 34 GB/s), and the 1.5B
/// model's four-token forward from 40 to 36 ms; six, eight and twelve blocks measured the
/// same as four. Into L2, where the requests wait without crowding L1.
const L2_AHEAD_BLOCKS: usize = 4;

/// Prefetches part `p` of `PARTS` of the `BYTES`-byte blocks `AHEAD_BLOCKS` (into L1) and
/// `L2_AHEAD_BLOCKS` (into L2) after the one at `g`; a kernel asks for one part at the start
/// of each of its steps through a block, so that requests are spread over the block's work
/// instead of arriving at once. Addresses past the matrix are harmless: a prefetch never
/// faults.
#[inline(always)]
unsafe fn prefetch_ahead<const BYTES: usize, const PARTS: usize>(g: *const u8, p: usize) {
    let lines = BYTES.div_ceil(64);
    let (l1, l2) = (g.wrapping_add(AHEAD_BLOCKS * BYTES), g.wrapping_add(L2_AHEAD_BLOCKS * BYTES));
    for line in (p * lines / PARTS)..((p + 1) * lines / PARTS) {
        _mm_prefetch::<_MM_HINT_T0>(l1.wrapping_add(64 * line) as *const i8);
        _mm_prefetch::<_MM_HINT_T1>(l2.wrapping_add(64 * line) as *const i8);
    }
}

/// `init` plus the exact integer dot, per row, of the weight registers `wt` with the
/// activation values at `x`, four per register, broadcast to every lane. With few
/// activation rows (`N`) the `vpdpbusd` are split over independent sums so that their
/// latency overlaps.
#[inline(always)]
unsafe fn dot_registers<const N: usize, const M: usize>(init: __m512i, wt: &[__m512i; M], x: *const i32) -> __m512i {
    let chains = match N {
        1 | 2 => 4,
        3 | 4 => 2,
        _ => 1,
    };
    let zero = _mm512_setzero_si512();
    let mut s = [init, zero, zero, zero];
    for (t, w) in wt.iter().enumerate() {
        s[t % chains] = _mm512_dpbusd_epi32(s[t % chains], *w, _mm512_set1_epi32(x.add(t).read_unaligned()));
    }
    let s01 = _mm512_add_epi32(s[0], s[1]);
    let s23 = _mm512_add_epi32(s[2], s[3]);
    _mm512_add_epi32(s01, s23)
}

//! Q4_K and Q6_K weight rows against activation rows with AVX-512 VNNI.
//!
//! A block of 256 weights is decoded into four 512-bit registers of 64 consecutive values
//! and then transposed in 4-byte words within each 128-bit lane, so that each of the
//! sixteen 32-bit lanes holds one run of sixteen consecutive values spread over the four
//! registers (the activations are stored in the same order, [`Q8KLanesAct`]). Four chained
//! `vpdpbusd` then leave in each lane the exact integer dot of one run, and every run lies
//! inside one sub-block, so a lane needs one scale: the block is finished with a
//! conversion and a multiply-add in f32 per activation row. Q4_K's 32-value sub-blocks
//! span two lanes, `l` and `l + 8`, so its lanes are first added in halves (exact) and
//! finished eight at a time; Q6_K's 16-value sub-blocks need all sixteen.
//!
//! Per block and activation row that is four `vpdpbusd`, four activation loads and three
//! f32 operations (a fourth for Q4_K's minimums); the multiplies share their execution
//! units, so every f32 operation saved counts. The decoding, the transpose and the
//! per-lane scales are done once per block and shared by every activation row of the call.
//!
//! A matrix rearranged into lane order at load ([`crate::formats::lanes`]) skips the
//! decoding and the transpose: its registers come from a load, a mask and a shift. Both
//! forms compute the same registers and then run the same code, so they agree bit for bit.
//!
//! Every N-row entry point repeats the one-row arithmetic per row, so row results do not
//! depend on N.

use std::arch::x86_64::*;

use super::{f16_at, hsums, hsums512, load};
use crate::act::Q8KLanesAct;
use crate::formats::kquants::at;
use crate::formats::lanes::lane_run;
use crate::formats::unpack_scales_mins;

const Q4K_BYTES: usize = 144;
const Q6K_BYTES: usize = 210;

/// The scale of each of the first `L` lanes: lane `l` covers run `lane_run(l)` of sixteen
/// values, which lies in sub-block `lane_run(l) * 16 / values_per_scale`.
const fn lane_scale_index<const L: usize>(values_per_scale: usize) -> [i32; L] {
    let mut t = [0i32; L];
    let mut l = 0;
    while l < L {
        t[l] = (lane_run(l) * 16 / values_per_scale) as i32;
        l += 1;
    }
    t
}

/// Q4_K has eight sub-blocks of 32 values (one per lane once the halves are added), Q6_K
/// sixteen of 16.
const Q4K_LANE_SCALE: [i32; 8] = lane_scale_index(32);
const Q6K_LANE_SCALE: [i32; 16] = lane_scale_index(16);

/// Four registers whose 128-bit lane `q` holds, for register `c`, run `lane_run(4q + c)`
/// of sixteen values, in the lane order of [`Q8KLanesAct`]: a 4 x 4 transpose of 4-byte
/// words in each 128-bit lane. Lane `4q + c` of result `t` is word `4q + t` of register `c`.
#[inline(always)]
unsafe fn transpose_to_lanes(n: [__m512i; 4]) -> [__m512i; 4] {
    let t0 = _mm512_unpacklo_epi32(n[0], n[1]);
    let t1 = _mm512_unpackhi_epi32(n[0], n[1]);
    let t2 = _mm512_unpacklo_epi32(n[2], n[3]);
    let t3 = _mm512_unpackhi_epi32(n[2], n[3]);
    [
        _mm512_unpacklo_epi64(t0, t2),
        _mm512_unpackhi_epi64(t0, t2),
        _mm512_unpacklo_epi64(t1, t3),
        _mm512_unpackhi_epi64(t1, t3),
    ]
}

/// `d` times the scale of each lane; `scales` holds the block's scales in its i32 lanes.
#[inline(always)]
unsafe fn lane_scales(index: __m512i, scales: __m512i, d: f32) -> __m512 {
    _mm512_mul_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(_mm512_permutexvar_epi32(index, scales)))
}

/// `init` plus the exact integer dot of each lane's sixteen weights (`w`) and activations.
#[inline(always)]
unsafe fn lane_dot(init: __m512i, w: &[__m512i; 4], y: &Q8KLanesAct) -> __m512i {
    let q = y.qs.as_ptr() as *const __m512i;
    let mut s = init;
    for (t, w) in w.iter().enumerate() {
        s = _mm512_dpbusd_epi32(s, *w, _mm512_loadu_si512(q.add(t)));
    }
    s
}

/// Q4_K's quants of block `b` as four lane-order registers. In GGUF order, chunk `c` of 32
/// bytes becomes one register of its runs `4c`, `4c + 2`, `4c + 1` and `4c + 3` (bytes 0-15
/// and then 16-31, each as low and then high nibbles), which [`transpose_to_lanes`] transposes.
#[inline(always)]
unsafe fn q4k_quants<const LANES: bool>(b: *const u8) -> [__m512i; 4] {
    let low4 = _mm512_set1_epi8(0x0F);
    if LANES {
        let z0 = _mm512_loadu_si512(b.add(at::Q4K_QS) as *const __m512i);
        let z1 = _mm512_loadu_si512(b.add(at::Q4K_QS + 64) as *const __m512i);
        let high = |z: __m512i| _mm512_and_si512(_mm512_srli_epi16::<4>(z), low4);
        return [_mm512_and_si512(z0, low4), high(z0), _mm512_and_si512(z1, low4), high(z1)];
    }
    let nibble_shift = _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4);
    // 128-bit lanes: bytes 0-15, 0-15, 16-31, 16-31 of chunk c; then low, high, low, high
    // nibbles. (Plain calls, not `array::map`: a closure there may not inline, and would
    // then run without this function's target features.)
    let chunk = |c: usize| {
        let q = _mm512_castsi256_si512(load(b.add(at::Q4K_QS + 32 * c)));
        let q = _mm512_shuffle_i64x2::<0b01_01_00_00>(q, q);
        _mm512_and_si512(_mm512_srlv_epi64(q, nibble_shift), low4)
    };
    transpose_to_lanes([chunk(0), chunk(1), chunk(2), chunk(3)])
}

/// Q4_K: each sub-block's minimum is applied as `dmin * min` times its activation sum.
#[inline(always)]
unsafe fn q4k<const N: usize, const LANES: bool>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    let nb = w.len() / Q4K_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q4K_BYTES);
    let index = _mm256_loadu_si256(Q4K_LANE_SCALE.as_ptr() as *const __m256i);
    // `d` times the scale of each of the eight folded lanes (see `lane_scales` for Q6_K's 16).
    let scales8 = |v: &[u8; 8], d: f32| {
        let v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(v.as_ptr() as *const __m128i));
        _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_permutevar8x32_epi32(v, index)))
    };
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * Q4K_BYTES);
        let (d, dmin) = (f16_at(b.add(at::K_D)), f16_at(b.add(at::K_DMIN)));
        let (sc, mn) = unpack_scales_mins(std::slice::from_raw_parts(b.add(at::K_SCALES), 12));
        let (ds, dm) = (scales8(&sc, d), scales8(&mn, dmin));
        let q = q4k_quants::<LANES>(b);
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let s = lane_dot(_mm512_setzero_si512(), &q, y);
            let s = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64::<1>(s));
            acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(ds, _mm256_set1_ps(y.d)), acc[n]);
            acc[n] = _mm256_fnmadd_ps(dm, _mm256_loadu_ps(y.d_sums.as_ptr()), acc[n]);
        }
    }
    hsums(acc)
}

/// Q4_K blocks in GGUF order.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q4k_vnni<const N: usize>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    q4k::<N, false>(w, a)
}

/// Q4_K blocks in lane order.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q4k_lanes_vnni<const N: usize>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    q4k::<N, true>(w, a)
}

/// Q6_K's quants of block `b` (0..63) as four lane-order registers. In GGUF order, half
/// `h` of a block yields values `128h ..` (low nibbles of its 64 `ql` bytes) and
/// `128h + 64 ..` (high nibbles), each with its two `qh` bits moved to bits 4-5 and its
/// middle 128-bit lanes swapped into the order of [`lane_run`], which [`transpose_to_lanes`]
/// transposes.
#[inline(always)]
unsafe fn q6k_quants<const LANES: bool>(b: *const u8) -> [__m512i; 4] {
    let low4 = _mm512_set1_epi8(0x0F);
    let bits45 = _mm512_set1_epi8(0x30);
    let with_top = |low: __m512i, top: __m512i| _mm512_or_si512(low, _mm512_and_si512(top, bits45));
    if LANES {
        let z0 = _mm512_loadu_si512(b.add(at::Q6K_QL) as *const __m512i);
        let z1 = _mm512_loadu_si512(b.add(at::Q6K_QL + 64) as *const __m512i);
        let qh = _mm512_loadu_si512(b.add(at::Q6K_QH) as *const __m512i);
        let high = |z: __m512i| _mm512_and_si512(_mm512_srli_epi16::<4>(z), low4);
        // Register t's top bits sit at bits 2t..2t + 2 of qh and move to bits 4-5.
        return [
            with_top(_mm512_and_si512(z0, low4), _mm512_slli_epi16::<4>(qh)),
            with_top(high(z0), _mm512_slli_epi16::<2>(qh)),
            with_top(_mm512_and_si512(z1, low4), qh),
            with_top(high(z1), _mm512_srli_epi16::<2>(qh)),
        ];
    }
    // Per 64-bit lane shifts that bring the qh bits of group g to bits 4-5 of each byte:
    // groups 0 | 1 need bits 0-1 | 2-3 shifted up by 4 | 2, groups 2 | 3 bits 4-5 | 6-7
    // shifted down by 0 | 2. The 0x30 mask drops whatever crosses from a neighbouring byte.
    let up = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    let down = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    let half = |h: usize| {
        let ql = _mm512_loadu_si512(b.add(at::Q6K_QL + 64 * h) as *const __m512i);
        let qh = _mm512_broadcast_i64x4(load(b.add(at::Q6K_QH + 32 * h)));
        [
            with_top(_mm512_and_si512(ql, low4), _mm512_sllv_epi64(qh, up)),
            with_top(_mm512_and_si512(_mm512_srli_epi16::<4>(ql), low4), _mm512_srlv_epi64(qh, down)),
        ]
    };
    let ([n0, n1], [n2, n3]) = (half(0), half(1));
    let swap = |n: __m512i| _mm512_shuffle_i64x2::<0b11_01_10_00>(n, n);
    transpose_to_lanes([swap(n0), swap(n1), swap(n2), swap(n3)])
}

/// Q6_K: quants are used unsigned (0..63); a lane's sum starts from -32 times its
/// activation sum, which applies the offset of 32 exactly.
#[inline(always)]
unsafe fn q6k<const N: usize, const LANES: bool>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    let nb = w.len() / Q6K_BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * Q6K_BYTES);
    let index = _mm512_loadu_si512(Q6K_LANE_SCALE.as_ptr() as *const __m512i);
    let mut acc = [_mm512_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * Q6K_BYTES);
        let d = f16_at(b.add(at::Q6K_D));
        let scales = _mm512_cvtepi8_epi32(_mm_loadu_si128(b.add(at::Q6K_SCALES) as *const __m128i));
        let ds = lane_scales(index, scales, d);
        let q = q6k_quants::<LANES>(b);
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let s = lane_dot(_mm512_loadu_si512(y.neg32_sums.as_ptr() as *const __m512i), &q, y);
            acc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(ds, _mm512_set1_ps(y.d)), acc[n]);
        }
    }
    hsums512(acc)
}

/// Q6_K blocks in GGUF order.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q6k_vnni<const N: usize>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    q6k::<N, false>(w, a)
}

/// Q6_K blocks in lane order.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q6k_lanes_vnni<const N: usize>(w: &[u8], a: [&[Q8KLanesAct]; N]) -> [f32; N] {
    q6k::<N, true>(w, a)
}

/// Rearranges whole Q4_K blocks from GGUF order into lane order (`formats::lanes`): the
/// kernel's own decoding, stored.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn q4k_to_lanes_vnni(src: &[u8], dst: &mut [u8]) {
    assert!(src.len() == dst.len() && src.len().is_multiple_of(Q4K_BYTES));
    for (s, d) in src.chunks_exact(Q4K_BYTES).zip(dst.chunks_exact_mut(Q4K_BYTES)) {
        let q = q4k_quants::<false>(s.as_ptr());
        d[..at::Q4K_QS].copy_from_slice(&s[..at::Q4K_QS]);
        // Quants are at most 15, so the 16-bit shifts move nothing across bytes.
        let out = d.as_mut_ptr().add(at::Q4K_QS) as *mut __m512i;
        _mm512_storeu_si512(out, _mm512_or_si512(q[0], _mm512_slli_epi16::<4>(q[1])));
        _mm512_storeu_si512(out.add(1), _mm512_or_si512(q[2], _mm512_slli_epi16::<4>(q[3])));
    }
}

/// Rearranges whole Q6_K blocks from GGUF order into lane order (`formats::lanes`).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn q6k_to_lanes_vnni(src: &[u8], dst: &mut [u8]) {
    assert!(src.len() == dst.len() && src.len().is_multiple_of(Q6K_BYTES));
    let (low4, low2) = (_mm512_set1_epi8(0x0F), _mm512_set1_epi8(0x03));
    let low = |w: __m512i| _mm512_and_si512(w, low4);
    // Bits 4-5 of each quant as 0..3; the 16-bit shifts below then stay inside each byte.
    let top = |w: __m512i| _mm512_and_si512(_mm512_srli_epi16::<4>(w), low2);
    for (s, d) in src.chunks_exact(Q6K_BYTES).zip(dst.chunks_exact_mut(Q6K_BYTES)) {
        let q = q6k_quants::<false>(s.as_ptr());
        d[at::Q6K_SCALES..].copy_from_slice(&s[at::Q6K_SCALES..]);
        let ql = d.as_mut_ptr().add(at::Q6K_QL) as *mut __m512i;
        _mm512_storeu_si512(ql, _mm512_or_si512(low(q[0]), _mm512_slli_epi16::<4>(low(q[1]))));
        _mm512_storeu_si512(ql.add(1), _mm512_or_si512(low(q[2]), _mm512_slli_epi16::<4>(low(q[3]))));
        let qh = _mm512_or_si512(
            _mm512_or_si512(top(q[0]), _mm512_slli_epi16::<2>(top(q[1]))),
            _mm512_or_si512(_mm512_slli_epi16::<4>(top(q[2])), _mm512_slli_epi16::<6>(top(q[3]))),
        );
        _mm512_storeu_si512(d.as_mut_ptr().add(at::Q6K_QH) as *mut __m512i, qh);
    }
}

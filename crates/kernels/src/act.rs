//! Activation rows quantized to int8, in the block formats ggml pairs with each weight type:
//! Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1 and Q8_K for the K-quants.
//!
//! Each activation row is quantized once per matmul call, independently of every other row,
//! so a row's blocks never depend on how many rows share the call. Scales are rounded to f16
//! where ggml stores them as f16, but kept as f32 here so kernels need no conversion.

use crate::formats::lanes::{lane_run, q8_0_value_at};
use crate::qtype::{QK, QK_K};
use crate::SimdLevel;

/// An int8 activation block type with its quantizer.
pub(crate) trait ActBlock: Copy + Send + Sync {
    /// Elements per block.
    const LEN: usize;
    const ZERO: Self;
    /// Quantize `x` (exactly `LEN` values) into one block, rounding with `R`; every rounder
    /// gives the same bits. Implementations are `#[inline(always)]`, so that they compile
    /// into [`quantize_rows`]'s AVX2 form.
    ///
    /// # Safety
    /// The CPU must support what `R` uses.
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self;

    /// [`ActBlock::quantize_with`] the portable rounder (what the tests check).
    #[cfg(test)]
    fn quantize(x: &[f32]) -> Self {
        // SAFETY: the portable rounder runs anywhere.
        unsafe { Self::quantize_with::<Portable>(x) }
    }
}

/// How a block's scaled values become int8. The two roundings are ggml's: Q8_K rounds
/// halves to even and caps at 127, Q8_0 and Q8_1 round halves away from zero. Every
/// implementation gives the portable bits.
pub(crate) trait Rounder {
    /// `qs[i] = round_half_even(scale * x[i]).min(127.0)`.
    ///
    /// Both convert to i8 as `as` does: saturating, and NaN as 0. Only a block whose
    /// largest value is subnormal, whose scale overflows, ever reaches those cases.
    ///
    /// # Safety
    /// The CPU must support the instructions the rounder uses.
    unsafe fn half_even(scale: f32, x: &[f32], qs: &mut [i8]);
    /// `qs[i] = (x[i] * scale).round()` (halves away from zero).
    ///
    /// # Safety
    /// As for [`Rounder::half_even`].
    unsafe fn half_away(scale: f32, x: &[f32], qs: &mut [i8]);
}

/// The reference rounding, element by element.
pub(crate) struct Portable;

impl Rounder for Portable {
    #[inline(always)]
    unsafe fn half_even(scale: f32, x: &[f32], qs: &mut [i8]) {
        for (q, v) in qs.iter_mut().zip(x) {
            *q = round_half_even(scale * v).min(127.0) as i8;
        }
    }

    #[inline(always)]
    unsafe fn half_away(scale: f32, x: &[f32], qs: &mut [i8]) {
        for (q, v) in qs.iter_mut().zip(x) {
            *q = (v * scale).round() as i8;
        }
    }
}

/// 32 int8 values with scale `d` (an f16 value): x ≈ d * q.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Q8_0Act {
    pub qs: [i8; QK],
    pub d: f32,
}

/// As [`Q8_0Act`] plus `s` = d * sum(q) (an f16 value), which lets weight formats with an
/// offset `m` add `m * s` instead of touching every element.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Q8_1Act {
    pub qs: [i8; QK],
    pub d: f32,
    pub s: f32,
}

/// 256 int8 values with an f32 scale `d` and the sums of each run of 16 values, which the
/// K-quant kernels use to apply per-sub-block minimums and offsets in one multiply.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub(crate) struct Q8KAct {
    pub qs: [i8; QK_K],
    pub bsums: [i16; QK_K / 16],
    pub d: f32,
}

/// [`Q8KAct`] laid out for the AVX-512 K-quant kernels, which keep sixteen i32 lanes per
/// block and want every lane to sum one run of sixteen consecutive values, so that one
/// weight scale applies to the whole lane.
///
/// The 256 values are four 64-byte registers of sixteen 4-byte lanes; over the four
/// registers, lane `l` covers run [`lane_run`]`(l)` (values `16 * lane_run(l) .. + 16`),
/// four values per register: the order of Q4_K and Q6_K weights in lane order
/// (`formats::lanes`). It puts the two runs of each 32-value sub-block in lanes `l`
/// and `l + 8`, so one add of the two register halves leaves one lane per sub-block.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct Q8KLanesAct {
    pub qs: [i8; QK_K],
    /// -32 * the sum of each lane's sixteen values (Q6_K's offset of 32, applied once).
    pub neg32_sums: [i32; 16],
    /// `d` * the sum of the 32 values of each lane of the folded halves: lane `l < 8`
    /// covers runs `lane_run(l)` and `lane_run(l + 8)` (for Q4_K's minimums).
    pub d_sums: [f32; 8],
    pub d: f32,
}

/// [`Q8KAct`] for the rows16 kernels (`formats::rows16`), which broadcast four values at a
/// time to sixteen weight rows: the values in their natural order, with the sum of each
/// 32-value sub-block (at most 32 * 127 in size, so an i16), which Q4_K's minimums multiply,
/// and -32 times the sum of each 16-value one (Q6_K's offset of 32, applied once).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct Q8KRowsAct {
    pub qs: [i8; QK_K],
    pub neg32_sums: [i32; 16],
    pub sums: [i16; 8],
    pub d: f32,
}

/// [`Q8_0Act`] for the rows16 kernels (`formats::rows16`): the values with their sum, which
/// cancels the offset that makes the weights unsigned.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Q8_0RowsAct {
    pub qs: [i8; QK],
    pub sum: i32,
    pub d: f32,
}

/// Four [`Q8_0Act`] blocks (128 values) laid out for the AVX-512 Q8_0 kernel, in the lane
/// order of Q8_0 weights (`formats::lanes`): lane `l` of register `t` holds values
/// `8 * (l % 4) + 4t ..+ 4` of block `l / 4`.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct Q8_0LanesAct {
    pub qs: [i8; 4 * QK],
    /// -128 * the sum of each lane's eight values (the weights' offset of 128, applied once).
    pub neg128_sums: [i32; 16],
    /// The scale of each lane's block.
    pub d: [f32; 16],
}

impl ActBlock for Q8_0LanesAct {
    const LEN: usize = 4 * QK;
    const ZERO: Self = Q8_0LanesAct { qs: [0; 4 * QK], neg128_sums: [0; 16], d: [0.0; 16] };

    /// The same values and scales as four [`Q8_0Act`] blocks, rearranged.
    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let blocks: [Q8_0Act; 4] = std::array::from_fn(|j| Q8_0Act::quantize_with::<R>(&x[QK * j..QK * (j + 1)]));
        let mut b = Self::ZERO;
        for t in 0..2 {
            for j in 0..64 {
                let (blk, v) = q8_0_value_at(t, j);
                b.qs[64 * t + j] = blocks[blk].qs[v];
                b.neg128_sums[j / 4] -= 128 * blocks[blk].qs[v] as i32;
            }
        }
        for l in 0..16 {
            b.d[l] = blocks[l / 4].d;
        }
        b
    }
}

impl ActBlock for Q8_0RowsAct {
    const LEN: usize = QK;
    const ZERO: Self = Q8_0RowsAct { qs: [0; QK], sum: 0, d: 0.0 };

    /// The same values and scale as [`Q8_0Act`].
    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let b = Q8_0Act::quantize_with::<R>(x);
        Q8_0RowsAct { qs: b.qs, sum: b.qs.iter().map(|&q| q as i32).sum(), d: b.d }
    }
}

impl ActBlock for Q8KLanesAct {
    const LEN: usize = QK_K;
    const ZERO: Self = Q8KLanesAct { qs: [0; QK_K], neg32_sums: [0; 16], d_sums: [0.0; 8], d: 0.0 };

    /// The same values and scale as [`Q8KAct`], rearranged.
    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let natural = Q8KAct::quantize_with::<R>(x);
        let mut b = Self::ZERO;
        for t in 0..4 {
            for l in 0..16 {
                let from = 16 * lane_run(l) + 4 * t;
                b.qs[64 * t + 4 * l..64 * t + 4 * l + 4].copy_from_slice(&natural.qs[from..from + 4]);
            }
        }
        let sum = |l: usize| natural.bsums[lane_run(l)] as i32;
        for l in 0..16 {
            b.neg32_sums[l] = -32 * sum(l);
        }
        for l in 0..8 {
            b.d_sums[l] = natural.d * (sum(l) + sum(l + 8)) as f32;
        }
        b.d = natural.d;
        b
    }
}

impl ActBlock for Q8KRowsAct {
    const LEN: usize = QK_K;
    const ZERO: Self = Q8KRowsAct { qs: [0; QK_K], neg32_sums: [0; 16], sums: [0; 8], d: 0.0 };

    /// The same values and scale as [`Q8KAct`].
    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let natural = Q8KAct::quantize_with::<R>(x);
        let neg32_sums = std::array::from_fn(|j| -32 * natural.bsums[j] as i32);
        let sums = std::array::from_fn(|j| natural.bsums[2 * j] + natural.bsums[2 * j + 1]);
        Q8KRowsAct { qs: natural.qs, neg32_sums, sums, d: natural.d }
    }
}

#[inline(always)]
fn f16_round(v: f32) -> f32 {
    half::f16::from_f32(v).to_f32()
}

/// Symmetric 8-bit quantization of one block: scale amax/127, round half away from zero
/// (ggml's reference `roundf`). Returns the unrounded scale.
/// `R` must be usable on this CPU.
#[inline(always)]
unsafe fn quantize_amax<R: Rounder>(x: &[f32], qs: &mut [i8]) -> f32 {
    let amax = max_magnitude(x);
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    R::half_away(id, x, qs);
    d
}

/// The largest `|x[i]|`, NaN ignored, in sixteen lanes so that it vectorizes (a maximum is
/// exact in any order).
#[inline(always)]
fn max_magnitude(x: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let runs = x.chunks_exact(16);
    let tail = runs.remainder();
    for run in runs {
        for (l, v) in lanes.iter_mut().zip(run) {
            *l = l.max(v.abs());
        }
    }
    lanes.iter().chain(tail).fold(0f32, |a, &l| a.max(l.abs()))
}

impl ActBlock for Q8_0Act {
    const LEN: usize = QK;
    const ZERO: Self = Q8_0Act { qs: [0; QK], d: 0.0 };

    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let mut b = Self::ZERO;
        b.d = f16_round(quantize_amax::<R>(x, &mut b.qs));
        b
    }
}

impl ActBlock for Q8_1Act {
    const LEN: usize = QK;
    const ZERO: Self = Q8_1Act { qs: [0; QK], d: 0.0, s: 0.0 };

    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let mut b = Self::ZERO;
        let d = quantize_amax::<R>(x, &mut b.qs);
        let sum: i32 = b.qs.iter().map(|&q| q as i32).sum();
        b.d = f16_round(d);
        b.s = f16_round(d * sum as f32);
        b
    }
}

impl ActBlock for Q8KAct {
    const LEN: usize = QK_K;
    const ZERO: Self = Q8KAct { qs: [0; QK_K], bsums: [0; QK_K / 16], d: 0.0 };

    /// ggml's Q8_K: the element of largest magnitude maps to exactly -127 (so d carries the
    /// opposite sign), values round half to even, and an all-zero block has d = 0.
    #[inline(always)]
    unsafe fn quantize_with<R: Rounder>(x: &[f32]) -> Self {
        let mut b = Self::ZERO;
        // The largest magnitude, then the first element that has it: a pass that vectorizes
        // and a short search, where tracking both in one loop runs element by element.
        let amax = max_magnitude(x);
        if amax == 0.0 {
            return b;
        }
        let max = *x.iter().find(|v| v.abs() == amax).expect("the maximum is some element's magnitude");
        let iscale = -127.0 / max;
        R::half_even(iscale, x, &mut b.qs);
        for (s, run) in b.bsums.iter_mut().zip(b.qs.chunks_exact(16)) {
            *s = run.iter().map(|&q| q as i16).sum();
        }
        b.d = 1.0 / iscale;
        b
    }
}

/// `v` rounded to the nearest integer, ties to even: equal to `round_ties_even` for
/// |v| < 2^22 and for infinities (a negative value that rounds to zero gives +0.0 rather than
/// -0.0, the same integer), and NaN for NaN; the range covers the scaled activations (|v| ≤ 127
/// up to one rounding). Adding 1.5 * 2^23 leaves no fraction bits, so the f32 addition
/// rounds (to nearest even, Rust's fixed float environment) and the subtraction is exact.
/// Baseline x86-64 has no rounding instruction, so `round_ties_even` costs a libm call per
/// element; this is two additions and vectorizes.
#[inline(always)]
fn round_half_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    (v + MAGIC) - MAGIC
}

/// Quantize `k` rows of `cols` values (`xs.len() == k * cols`, `cols % A::LEN == 0`) into
/// `k * cols / A::LEN` blocks, row after row. At the SIMD levels the quantizers are compiled
/// with AVX2 and round eight values at a time: the same blocks, bit for bit.
pub(crate) fn quantize_rows<A: ActBlock>(level: SimdLevel, xs: &[f32]) -> Vec<A> {
    debug_assert_eq!(xs.len() % A::LEN, 0);
    match level {
        // SAFETY: the portable rounder runs anywhere.
        SimdLevel::Scalar => unsafe { quantize_blocks::<A, Portable>(xs) },
        // SAFETY: the SIMD levels are only used where the CPU has AVX2.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { quantize_blocks_avx2(xs) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

/// A plain loop rather than `map` and `collect`, whose iterator code would be compiled
/// outside the AVX2 function and run the quantizer without its features. `R` must be
/// usable on this CPU.
#[inline(always)]
unsafe fn quantize_blocks<A: ActBlock, R: Rounder>(xs: &[f32]) -> Vec<A> {
    let mut blocks = Vec::with_capacity(xs.len() / A::LEN);
    for x in xs.chunks_exact(A::LEN) {
        blocks.push(A::quantize_with::<R>(x));
    }
    blocks
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_blocks_avx2<A: ActBlock>(xs: &[f32]) -> Vec<A> {
    quantize_blocks::<A, crate::avx2::Avx2Rounder>(xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) * scale).collect()
    }

    /// Every block type's rows from `xs` at every supported level, which must be the portable
    /// blocks bit for bit (compared through `Debug`, which prints every field and tells
    /// -0.0 from 0.0).
    fn assert_levels_agree<A: ActBlock + std::fmt::Debug>(xs: &[f32]) {
        let portable = format!("{:?}", quantize_rows::<A>(SimdLevel::Scalar, xs));
        for level in SimdLevel::supported() {
            assert_eq!(format!("{:?}", quantize_rows::<A>(level, xs)), portable, "{}", level.name());
        }
    }

    #[test]
    fn every_level_quantizes_to_the_portable_blocks() {
        let mut xs: Vec<f32> = Vec::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..6 * QK_K {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            xs.push(((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 6.0);
        }
        // Ties for both roundings: with -127 first in each block of 32 the scale is 1, so
        // the halves fall exactly between two integers (Q8_K rounds them to even, Q8_0 away
        // from zero), each beside the floats just above and below it.
        for i in 0..4 * QK_K {
            let half = (i / 3 % 256) as f32 - 127.5;
            xs.push(match (i % 32, i % 3) {
                (0, _) => -127.0,
                (_, 0) => half,
                (_, 1) => half.next_up(),
                _ => half.next_down(),
            });
        }
        xs.extend([0.0f32; QK_K]);
        let mut specials = vec![-0.0f32; QK_K];
        specials[3] = f32::NAN;
        specials[70] = 1e-40;
        specials[100] = -2.5;
        specials[200] = f32::INFINITY;
        xs.extend(specials);
        assert_levels_agree::<Q8_0Act>(&xs);
        assert_levels_agree::<Q8_1Act>(&xs);
        assert_levels_agree::<Q8KAct>(&xs);
        assert_levels_agree::<Q8KLanesAct>(&xs);
        assert_levels_agree::<Q8KRowsAct>(&xs);
        assert_levels_agree::<Q8_0RowsAct>(&xs);
        assert_levels_agree::<Q8_0LanesAct>(&xs);
    }

    #[test]
    fn q8_0_reconstructs_within_half_a_step() {
        let x = ramp(QK, 0.013);
        let b = Q8_0Act::quantize(&x);
        let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
        assert!(b.qs.iter().any(|&q| q.unsigned_abs() == 127));
        for (q, v) in b.qs.iter().zip(&x) {
            // Half a step plus the f16 rounding of d.
            assert!((*q as f32 * b.d - v).abs() <= amax / 127.0 * 0.5 + amax * 1e-3, "{q} {v}");
        }
    }

    #[test]
    fn q8_1_sum_matches_its_values() {
        let x = ramp(QK, 0.7);
        let b = Q8_1Act::quantize(&x);
        let sum: i32 = b.qs.iter().map(|&q| q as i32).sum();
        assert!((b.s - b.d * sum as f32).abs() <= b.s.abs() * 2e-3 + 1e-3);
    }

    #[test]
    fn q8k_maps_the_extreme_to_minus_127_and_sums_runs() {
        let mut x = ramp(QK_K, 0.01);
        x[200] = 3.0;
        let b = Q8KAct::quantize(&x);
        assert_eq!(b.qs[200], -127);
        assert!(b.d < 0.0);
        for (j, s) in b.bsums.iter().enumerate() {
            assert_eq!(*s as i32, b.qs[16 * j..16 * j + 16].iter().map(|&q| q as i32).sum::<i32>());
        }
        for (q, v) in b.qs.iter().zip(&x) {
            assert!((*q as f32 * b.d - v).abs() <= 3.0 / 127.0 * 0.5 + 1e-6);
        }
    }

    #[test]
    fn q8k_takes_the_sign_of_the_first_largest_magnitude() {
        // ggml keeps the first element of largest magnitude, which maps to -127: with -3
        // before +3 the scale is positive, with +3 first it is negative. NaN is passed over.
        let mut x = ramp(QK_K, 0.01);
        x[40] = -3.0;
        x[41] = f32::NAN;
        x[200] = 3.0;
        let b = Q8KAct::quantize(&x);
        assert!(b.d > 0.0);
        assert_eq!((b.qs[40], b.qs[200]), (-127, 127));
        x.swap(40, 200);
        let b = Q8KAct::quantize(&x);
        assert!(b.d < 0.0);
        assert_eq!((b.qs[40], b.qs[200]), (-127, 127));
    }

    #[test]
    fn q8k_lanes_hold_the_q8k_values_run_by_run() {
        let x = ramp(QK_K, 0.02);
        let (natural, lanes) = (Q8KAct::quantize(&x), Q8KLanesAct::quantize(&x));
        assert_eq!(lanes.d, natural.d);
        for l in 0..16 {
            let run = lane_run(l);
            let mut values: Vec<i8> = Vec::new();
            for t in 0..4 {
                values.extend_from_slice(&lanes.qs[64 * t + 4 * l..64 * t + 4 * l + 4]);
            }
            assert_eq!(values, natural.qs[16 * run..16 * run + 16], "lane {l}");
            assert_eq!(lanes.neg32_sums[l], -32 * natural.bsums[run] as i32);
        }
        for l in 0..8 {
            let (a, b) = (lane_run(l), lane_run(l + 8));
            assert_eq!(a / 2, b / 2, "lanes {l} and {} share a 32-value sub-block", l + 8);
            let sum = natural.bsums[a] as i32 + natural.bsums[b] as i32;
            assert_eq!(lanes.d_sums[l], natural.d * sum as f32);
        }
        let mut runs: Vec<usize> = (0..16).map(lane_run).collect();
        runs.sort();
        assert_eq!(runs, (0..16).collect::<Vec<_>>(), "every run has one lane");
    }

    #[test]
    fn inline_rounding_equals_round_ties_even() {
        let ties = [0.5f32, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 127.5, -127.5, 0.49999997, -0.0];
        let sweep = (0..0x4A80_0000u32).step_by(997).map(f32::from_bits);
        for v in ties.into_iter().chain(sweep.flat_map(|v| [v, -v])) {
            assert_eq!(round_half_even(v), v.round_ties_even(), "{v}");
        }
        for v in [f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(round_half_even(v), v);
        }
        assert!(round_half_even(f32::NAN).is_nan());
    }

    #[test]
    fn zero_rows_quantize_to_zero() {
        let b = Q8KAct::quantize(&[0.0; QK_K]);
        assert_eq!(b.d, 0.0);
        assert!(b.qs.iter().all(|&q| q == 0));
        let b = Q8_0Act::quantize(&[0.0; QK]);
        assert_eq!(b.d, 0.0);
        assert!(b.qs.iter().all(|&q| q == 0));
    }
}

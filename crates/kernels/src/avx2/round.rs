//! Activation rounding to int8 eight values at a time ([`crate::act::Rounder`]), with the
//! portable rounder's arithmetic: the same products, the same roundings, the same bits.
//! Used from the AVX2 form of the quantizers, into which it is inlined.

use std::arch::x86_64::*;

use crate::act::Rounder;

pub(crate) struct Avx2Rounder;

/// Stores eight integer-valued lanes of `v` as i8 the way `as i8` converts a float: beyond
/// the range it saturates, and NaN gives 0. (`max` and `min` return their second operand
/// when either is NaN, so NaN passes through both to `cvttps`, which makes it `i32::MIN`,
/// whose low byte is 0.)
#[inline(always)]
unsafe fn store_i8(v: __m256, out: *mut i8) {
    let v = _mm256_min_ps(_mm256_set1_ps(127.0), _mm256_max_ps(_mm256_set1_ps(-128.0), v));
    let i = _mm256_cvttps_epi32(v);
    let low_bytes = _mm256_setr_epi8(
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, //
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    );
    let b = _mm256_shuffle_epi8(i, low_bytes);
    let packed = _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256::<1>(b));
    _mm_storel_epi64(out as *mut __m128i, packed);
}

/// Applies `f` to each eight values of `x` and stores them in `qs`; a partial last group
/// goes through a padded copy with the same instructions.
#[inline(always)]
unsafe fn each_eight(x: &[f32], qs: &mut [i8], f: impl Fn(__m256) -> __m256) {
    debug_assert_eq!(x.len(), qs.len());
    let n = x.len();
    let mut i = 0;
    while i + 8 <= n {
        store_i8(f(_mm256_loadu_ps(x.as_ptr().add(i))), qs.as_mut_ptr().add(i));
        i += 8;
    }
    if i < n {
        let mut pad = [0f32; 8];
        pad[..n - i].copy_from_slice(&x[i..]);
        let mut out = [0i8; 8];
        store_i8(f(_mm256_loadu_ps(pad.as_ptr())), out.as_mut_ptr());
        qs[i..].copy_from_slice(&out[..n - i]);
    }
}

impl Rounder for Avx2Rounder {
    /// `(p + 1.5 * 2^23) - 1.5 * 2^23` as in the portable `round_half_even`, then `min`
    /// with its operands so ordered that NaN gives 127, as `f32::min(NaN, 127.0)` does.
    #[inline(always)]
    unsafe fn half_even(scale: f32, x: &[f32], qs: &mut [i8]) {
        let (s, magic, cap) = (_mm256_set1_ps(scale), _mm256_set1_ps(12_582_912.0), _mm256_set1_ps(127.0));
        each_eight(x, qs, |v| {
            let r = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(s, v), magic), magic);
            _mm256_min_ps(r, cap)
        });
    }

    /// `round` (halves away from zero) as `trunc(p + copysign(0.49999997, p))`: exact for
    /// |p| < 2^23, since the sum is then rounded to a float whose integer part is the
    /// rounded value (0.49999997 rather than 0.5, so that the largest float below one half
    /// does not round up); anything larger saturates at the store either way.
    #[inline(always)]
    unsafe fn half_away(scale: f32, x: &[f32], qs: &mut [i8]) {
        let s = _mm256_set1_ps(scale);
        let sign = _mm256_set1_ps(-0.0);
        let almost_half = _mm256_set1_ps(0.499_999_97);
        each_eight(x, qs, |v| {
            let p = _mm256_mul_ps(v, s);
            let bias = _mm256_or_ps(almost_half, _mm256_and_ps(p, sign));
            _mm256_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(_mm256_add_ps(p, bias))
        });
    }
}

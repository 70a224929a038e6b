//! SiLU-gated products for the feed-forward layers, eight lanes at a time: `gate[i] =
//! silu(gate[i]) * up[i]` with `silu(v) = v / (1 + e^-v)`.
//!
//! `e^x` is the classic single-precision reduction (`x = n ln 2 + r`, `|r| <= ln 2 / 2`, with
//! `ln 2` split in two so that `r` is exact), a degree-6 polynomial for `e^r`, and `2^n` built
//! in the exponent bits: within a few units in the last place of the true value. The
//! argument is clamped to where `2^n` stays a normal number; past either end `silu` is
//! already `v` or a negligible negative number, so the clamp only bounds those values.
//!
//! A partial last vector is computed in a padded copy with the same instructions, so every
//! element's result depends on its own inputs only, never on its position or the length:
//! feed-forward rows stay exact however many share a call.

use std::arch::x86_64::*;

/// Largest argument whose power of two (`n <= 127`) is still finite.
const EXP_HI: f32 = 88.376_26;
/// Smallest argument whose power of two (`n >= -126`) is still normal.
const EXP_LO: f32 = -87.336_55;

/// `e^x` per lane, for `x` in `[EXP_LO, EXP_HI]` after clamping.
#[inline(always)]
pub(super) unsafe fn exp8(x: __m256) -> __m256 {
    let x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LO)), _mm256_set1_ps(EXP_HI));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    // r = x - n ln 2, with ln 2 = 0.693359375 (exact in 9 bits) - 2.12194440e-4.
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.987_569_1e-4);
    for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    // e^r = 1 + r + r^2 p(r)
    let er = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(r, r), p, r), _mm256_set1_ps(1.0));
    let two_n = _mm256_slli_epi32::<23>(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)));
    _mm256_mul_ps(er, _mm256_castsi256_ps(two_n))
}

#[inline(always)]
unsafe fn silu_mul8(g: __m256, u: __m256) -> __m256 {
    let minus = _mm256_sub_ps(_mm256_setzero_ps(), g);
    let silu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0), exp8(minus)));
    _mm256_mul_ps(silu, u)
}

/// `gate.len() == up.len()` is the caller's to check.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn silu_mul_f32(gate: &mut [f32], up: &[f32]) {
    debug_assert_eq!(gate.len(), up.len());
    let mut g = gate.chunks_exact_mut(8);
    let mut u = up.chunks_exact(8);
    for (g, u) in (&mut g).zip(&mut u) {
        let v = silu_mul8(_mm256_loadu_ps(g.as_ptr()), _mm256_loadu_ps(u.as_ptr()));
        _mm256_storeu_ps(g.as_mut_ptr(), v);
    }
    let (g, u) = (g.into_remainder(), u.remainder());
    if !g.is_empty() {
        let (mut gp, mut up) = ([0f32; 8], [0f32; 8]);
        gp[..g.len()].copy_from_slice(g);
        up[..u.len()].copy_from_slice(u);
        _mm256_storeu_ps(gp.as_mut_ptr(), silu_mul8(_mm256_loadu_ps(gp.as_ptr()), _mm256_loadu_ps(up.as_ptr())));
        g.copy_from_slice(&gp[..g.len()]);
    }
}

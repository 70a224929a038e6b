//! f32 dot products and axpy: float weight rows (F32, F16, BF16) against f32 activations,
//! and the f32 vector operations. Four eight-lane accumulators over 32 elements at a time, then eight
//! at a time into the first, then a scalar tail; the order depends only on the length.

use std::arch::x86_64::*;

use super::hsum_ps;

/// How eight weights are widened to f32.
trait Widen {
    const BYTES: usize;
    unsafe fn eight(p: *const u8) -> __m256;
    unsafe fn one(p: *const u8) -> f32;
}

struct F32;
struct F16;
struct BF16;

impl Widen for F32 {
    const BYTES: usize = 4;
    #[inline(always)]
    unsafe fn eight(p: *const u8) -> __m256 {
        _mm256_loadu_ps(p as *const f32)
    }
    #[inline(always)]
    unsafe fn one(p: *const u8) -> f32 {
        (p as *const f32).read_unaligned()
    }
}

impl Widen for F16 {
    const BYTES: usize = 2;
    #[inline(always)]
    unsafe fn eight(p: *const u8) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }
    #[inline(always)]
    unsafe fn one(p: *const u8) -> f32 {
        super::f16_at(p)
    }
}

impl Widen for BF16 {
    const BYTES: usize = 2;
    /// bf16 is the top half of an f32.
    #[inline(always)]
    unsafe fn eight(p: *const u8) -> __m256 {
        let wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(p as *const __m128i));
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(wide))
    }
    #[inline(always)]
    unsafe fn one(p: *const u8) -> f32 {
        f32::from_bits(((p as *const u16).read_unaligned() as u32) << 16)
    }
}

/// Σ w[i] * x[i] for `x.len()` weights of type `W` at `w`.
#[inline(always)]
unsafe fn dot<W: Widen>(w: *const u8, x: &[f32]) -> f32 {
    let n = x.len();
    let xp = x.as_ptr();
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (j, a) in acc.iter_mut().enumerate() {
            let k = i + 8 * j;
            *a = _mm256_fmadd_ps(W::eight(w.add(k * W::BYTES)), _mm256_loadu_ps(xp.add(k)), *a);
        }
        i += 32;
    }
    while i + 8 <= n {
        acc[0] = _mm256_fmadd_ps(W::eight(w.add(i * W::BYTES)), _mm256_loadu_ps(xp.add(i)), acc[0]);
        i += 8;
    }
    let mut sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    while i < n {
        sum += W::one(w.add(i * W::BYTES)) * *xp.add(i);
        i += 1;
    }
    sum
}

#[inline(always)]
unsafe fn rows<W: Widen, const N: usize>(w: &[u8], a: [&[f32]; N]) -> [f32; N] {
    assert!(a.iter().all(|a| a.len() * W::BYTES == w.len()));
    let mut out = [0f32; N];
    for n in 0..N {
        out[n] = dot::<W>(w.as_ptr(), a[n]);
    }
    out
}

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_f32_weights<const N: usize>(w: &[u8], a: [&[f32]; N]) -> [f32; N] {
    rows::<F32, N>(w, a)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_f16<const N: usize>(w: &[u8], a: [&[f32]; N]) -> [f32; N] {
    rows::<F16, N>(w, a)
}

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_bf16<const N: usize>(w: &[u8], a: [&[f32]; N]) -> [f32; N] {
    rows::<BF16, N>(w, a)
}

/// `a.len() == b.len()` is the caller's to check.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    dot::<F32>(a.as_ptr() as *const u8, b)
}

/// y += alpha * x (fused); `x.len() == y.len()` is the caller's to check.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
    debug_assert_eq!(x.len(), y.len());
    let n = y.len();
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    let va = _mm256_set1_ps(alpha);
    let mut i = 0;
    while i + 8 <= n {
        _mm256_storeu_ps(yp.add(i), _mm256_fmadd_ps(va, _mm256_loadu_ps(xp.add(i)), _mm256_loadu_ps(yp.add(i))));
        i += 8;
    }
    while i < n {
        *yp.add(i) += alpha * *xp.add(i);
        i += 1;
    }
}

/// `out[g * count + j]` = the dot of query `g` (`qs[g * len..][..len]`) and row `j`
/// (`rows[j * stride..][..len]`), each exactly as [`dot_f32`] gives it; shapes and bounds are
/// the caller's to check.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_f32_grouped(qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    let groups = qs.len() / len;
    let count = out.len() / groups;
    for j in 0..count {
        // One row, read once, against every query.
        let row = rows.as_ptr().add(j * stride) as *const u8;
        for (g, q) in qs.chunks_exact(len).enumerate() {
            *out.get_unchecked_mut(g * count + j) = dot::<F32>(row, q);
        }
    }
}

/// `ys[g * len..][..len] += weights[g * count + j] * rows[j * stride..][..len]` for j = 0, 1,
/// ... in order, each step exactly as [`axpy_f32`] takes it; shapes and bounds are the
/// caller's to check.
///
/// Each output is built 64 values (eight registers) at a time over all the rows, so that it
/// stays in registers instead of going through memory once per row: every element still
/// takes the same fused steps in the same order, and the elements past the last whole
/// eight the same unfused ones.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn axpy_f32_grouped(weights: &[f32], rows: &[f32], stride: usize, ys: &mut [f32], len: usize) {
    let groups = ys.len() / len;
    let count = weights.len() / groups;
    for (y, w) in ys.chunks_exact_mut(len).zip(weights.chunks_exact(count)) {
        let yp = y.as_mut_ptr();
        let mut i = 0;
        while i + 64 <= len {
            accumulate::<8>(yp.add(i), w, rows.as_ptr().add(i), stride);
            i += 64;
        }
        while i + 8 <= len {
            accumulate::<1>(yp.add(i), w, rows.as_ptr().add(i), stride);
            i += 8;
        }
        for (j, &alpha) in w.iter().enumerate() {
            let row = rows.as_ptr().add(j * stride);
            for t in i..len {
                *yp.add(t) += alpha * *row.add(t);
            }
        }
    }
}

/// `R` registers of `y` plus `w[j]` times the matching values of each row `j` (`stride`
/// apart from `rows`), fused, in row order.
#[inline(always)]
unsafe fn accumulate<const R: usize>(y: *mut f32, w: &[f32], rows: *const f32, stride: usize) {
    let mut acc = [_mm256_setzero_ps(); R];
    for (t, a) in acc.iter_mut().enumerate() {
        *a = _mm256_loadu_ps(y.add(8 * t));
    }
    for (j, &alpha) in w.iter().enumerate() {
        let (va, row) = (_mm256_set1_ps(alpha), rows.add(j * stride));
        for (t, a) in acc.iter_mut().enumerate() {
            *a = _mm256_fmadd_ps(va, _mm256_loadu_ps(row.add(8 * t)), *a);
        }
    }
    for (t, a) in acc.iter().enumerate() {
        _mm256_storeu_ps(y.add(8 * t), *a);
    }
}

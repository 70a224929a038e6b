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
/// (`rows[j * stride..][..len]`); shapes and bounds are the caller's to check.
///
/// Four rows meet two queries at a time. Each score is one chain of fused multiply-adds over
/// the eight-value chunks in order, its lanes are then summed as `((l0 + l1) + (l2 + l3)) +
/// ((l4 + l5) + (l6 + l7))` by one transposing reduction for all eight scores, and the
/// values past the last whole chunk are added in order. A last block of fewer than four
/// rows is filled up by repeating its last row, and an odd query count by repeating the
/// last query, so every score takes exactly the same steps wherever it falls: it depends
/// only on its query and its row. Against [`dot_f32`]'s horizontal sum per score, this
/// keeps eight independent chains in flight, loads each chunk of a row once for two
/// queries, and sums eight scores' lanes with nine instructions instead of forty.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn dot_f32_grouped(qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    let groups = qs.len() / len;
    let count = out.len() / groups;
    let chunks = len / 8;
    for first in (0..count).step_by(4) {
        let real = (count - first).min(4);
        let row: [*const f32; 4] = std::array::from_fn(|t| rows.as_ptr().add((first + t.min(real - 1)) * stride));
        for pair in (0..groups).step_by(2) {
            // Two queries at a time (the second repeats the first when the group is odd).
            let query = [pair, (pair + 1).min(groups - 1)].map(|g| qs.as_ptr().add(g * len));
            let mut acc = [_mm256_setzero_ps(); 8];
            for c in 0..chunks {
                let qv = query.map(|q| _mm256_loadu_ps(q.add(8 * c)));
                for (t, r) in row.iter().enumerate() {
                    let kv = _mm256_loadu_ps(r.add(8 * c));
                    acc[t] = _mm256_fmadd_ps(kv, qv[0], acc[t]);
                    acc[4 + t] = _mm256_fmadd_ps(kv, qv[1], acc[4 + t]);
                }
            }
            let mut sums = [0f32; 8];
            _mm256_storeu_ps(sums.as_mut_ptr(), lane_sums(acc));
            for (h, &q) in query.iter().enumerate().take(groups - pair) {
                for (t, r) in row.iter().enumerate().take(real) {
                    let mut v = sums[4 * h + t];
                    for i in 8 * chunks..len {
                        v += *r.add(i) * *q.add(i);
                    }
                    *out.get_unchecked_mut((pair + h) * count + first + t) = v;
                }
            }
        }
    }
}

/// Lane `t` of the result is the sum of `acc[t]`'s lanes, `((l0 + l1) + (l2 + l3)) + ((l4 +
/// l5) + (l6 + l7))` for each.
#[inline(always)]
unsafe fn lane_sums(acc: [__m256; 8]) -> __m256 {
    // Pairs, then quads, each within 128-bit halves: [t0 t1 t2 t3 | t0 t1 t2 t3] of the
    // low four lanes' sums and of the high four's, for rows 0-3 and 4-7.
    let q0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    let q1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
    let low = _mm256_permute2f128_ps::<0x20>(q0, q1);
    let high = _mm256_permute2f128_ps::<0x31>(q0, q1);
    _mm256_add_ps(low, high)
}

/// `ys[g * len..][..len] += weights[g * count + j] * rows[j * stride..][..len]` for j = 0, 1,
/// ... in order, each step exactly as [`axpy_f32`] takes it; shapes and bounds are the
/// caller's to check.
///
/// Outputs are built two at a time, 32 values (four registers) of each over all the rows,
/// so that they stay in registers instead of going through memory once per row and each
/// loaded value serves both; an odd last output is built 64 values at a time. Every
/// element still takes the same fused steps in the same order, and the elements past the
/// last whole eight the same unfused ones.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn axpy_f32_grouped(weights: &[f32], rows: &[f32], stride: usize, ys: &mut [f32], len: usize) {
    let groups = ys.len() / len;
    let count = weights.len() / groups;
    let mut g = 0;
    // Two outputs at a time, 32 values each: each value chunk loaded once for both.
    while g + 2 <= groups {
        let (y, w) = (ys.as_mut_ptr().add(g * len), weights.as_ptr().add(g * count));
        let (w0, w1) = (std::slice::from_raw_parts(w, count), std::slice::from_raw_parts(w.add(count), count));
        let mut i = 0;
        while i + 32 <= len {
            accumulate_pair(y.add(i), y.add(len + i), w0, w1, rows.as_ptr().add(i), stride);
            i += 32;
        }
        axpy_rest(std::slice::from_raw_parts_mut(y, len), w0, rows, stride, i);
        axpy_rest(std::slice::from_raw_parts_mut(y.add(len), len), w1, rows, stride, i);
        g += 2;
    }
    if g < groups {
        let (y, w) = (&mut ys[g * len..(g + 1) * len], &weights[g * count..(g + 1) * count]);
        let yp = y.as_mut_ptr();
        let mut i = 0;
        while i + 64 <= len {
            accumulate::<8>(yp.add(i), w, rows.as_ptr().add(i), stride);
            i += 64;
        }
        axpy_rest(y, w, rows, stride, i);
    }
}

/// Values `from..` of one output: eight at a time, then one at a time (unfused).
#[inline(always)]
unsafe fn axpy_rest(y: &mut [f32], w: &[f32], rows: &[f32], stride: usize, from: usize) {
    let (len, yp) = (y.len(), y.as_mut_ptr());
    let mut i = from;
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

/// 32 values of two outputs, `y0` and `y1`, plus `w0[j]` and `w1[j]` times the matching
/// values of each row `j`, fused, in row order: each element takes the steps
/// [`accumulate`] would give it.
#[inline(always)]
unsafe fn accumulate_pair(y0: *mut f32, y1: *mut f32, w0: &[f32], w1: &[f32], rows: *const f32, stride: usize) {
    let mut a0 = [_mm256_setzero_ps(); 4];
    let mut a1 = [_mm256_setzero_ps(); 4];
    for t in 0..4 {
        a0[t] = _mm256_loadu_ps(y0.add(8 * t));
        a1[t] = _mm256_loadu_ps(y1.add(8 * t));
    }
    for (j, (&x0, &x1)) in w0.iter().zip(w1).enumerate() {
        let (v0, v1, row) = (_mm256_set1_ps(x0), _mm256_set1_ps(x1), rows.add(j * stride));
        for t in 0..4 {
            let v = _mm256_loadu_ps(row.add(8 * t));
            a0[t] = _mm256_fmadd_ps(v0, v, a0[t]);
            a1[t] = _mm256_fmadd_ps(v1, v, a1[t]);
        }
    }
    for t in 0..4 {
        _mm256_storeu_ps(y0.add(8 * t), a0[t]);
        _mm256_storeu_ps(y1.add(8 * t), a1[t]);
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

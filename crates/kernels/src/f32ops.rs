//! f32 vector operations for attention and the feed-forward gate, dispatched like the matmul
//! kernels. For a given level and length the summation order is fixed, so equal inputs give
//! bit-equal outputs; the gate is elementwise, and each element's result depends only on
//! its own inputs (not on its position or the length).

use crate::{scalar, SimdLevel};

/// Σ a[i] * b[i]. Panics if the lengths differ.
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    dot_at(SimdLevel::active(), a, b)
}

/// y += alpha * x. Panics if the lengths differ.
pub fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
    axpy_at(SimdLevel::active(), alpha, x, y)
}

/// Attention scores for a group of queries sharing their keys: `out[g * count + j]` is the
/// dot of query `g` (`qs[g * len..][..len]`) and key `j` (`rows[j * stride..][..len]`);
/// each key is read once for the whole group. Each score depends only on its query and key,
/// never on the other keys or their number (the SIMD levels sum in another order than
/// [`dot_f32`], built for many keys at once; the scalar level sums as [`dot_f32`]). Panics
/// unless `qs` holds whole queries, `out` a whole number of keys per query, and the last key
/// lies inside `rows`.
pub fn dot_f32_grouped(qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    dot_grouped_at(SimdLevel::active(), qs, len, rows, stride, out)
}

/// [`dot_f32_grouped`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn dot_f32_grouped_with(level: SimdLevel, qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    level.assert_supported();
    dot_grouped_at(level, qs, len, rows, stride, out)
}

/// Attention outputs for a group of queries sharing their values: `ys[g * len..][..len] +=
/// weights[g * count + j] * rows[j * stride..][..len]` for j = 0, 1, ... in order, each step
/// exactly as [`axpy_f32`] takes it; each value is read once for the whole group. Panics
/// unless `ys` holds whole outputs, `weights` a whole number per output, and the last value
/// lies inside `rows`.
pub fn axpy_f32_grouped(weights: &[f32], rows: &[f32], stride: usize, ys: &mut [f32], len: usize) {
    axpy_grouped_at(SimdLevel::active(), weights, rows, stride, ys, len)
}

/// [`axpy_f32_grouped`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn axpy_f32_grouped_with(
    level: SimdLevel,
    weights: &[f32],
    rows: &[f32],
    stride: usize,
    ys: &mut [f32],
    len: usize,
) {
    level.assert_supported();
    axpy_grouped_at(level, weights, rows, stride, ys, len)
}

fn dot_grouped_at(level: SimdLevel, qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    let count = grouped_rows("dot_f32_grouped", qs.len(), len, out.len(), rows.len(), stride);
    if count == 0 {
        return;
    }
    match level {
        SimdLevel::Scalar => scalar::dot_f32_grouped(qs, len, rows, stride, out),
        // SAFETY: as in `dot_at`; the shapes were checked above.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { crate::avx2::dot_f32_grouped(qs, len, rows, stride, out) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

fn axpy_grouped_at(level: SimdLevel, weights: &[f32], rows: &[f32], stride: usize, ys: &mut [f32], len: usize) {
    let count = grouped_rows("axpy_f32_grouped", ys.len(), len, weights.len(), rows.len(), stride);
    if count == 0 {
        return;
    }
    match level {
        SimdLevel::Scalar => scalar::axpy_f32_grouped(weights, rows, stride, ys, len),
        // SAFETY: as in `dot_at`; the shapes were checked above.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe {
            crate::avx2::axpy_f32_grouped(weights, rows, stride, ys, len)
        },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

/// The rows per query of a grouped call whose queries (or outputs) take `vectors` values of
/// `len` each and whose `per_row` values hold one entry per query and row; panics unless the
/// shapes divide and `count` rows `stride` apart fit in `available`.
fn grouped_rows(what: &str, vectors: usize, len: usize, per_row: usize, available: usize, stride: usize) -> usize {
    assert!(len > 0 && vectors.is_multiple_of(len), "{what}: {vectors} values are not whole vectors of {len}");
    let groups = vectors / len;
    if groups == 0 {
        assert_eq!(per_row, 0, "{what}: {per_row} entries for no vectors");
        return 0;
    }
    assert!(per_row.is_multiple_of(groups), "{what}: {per_row} entries do not split over {groups} vectors");
    let count = per_row / groups;
    if count > 0 {
        let end = (count - 1).checked_mul(stride).and_then(|s| s.checked_add(len));
        assert!(
            end.is_some_and(|end| end <= available),
            "{what}: {count} rows of {len} values {stride} apart do not fit in {available}"
        );
    }
    count
}

/// Attention weights from scores: each score times `scale`, then their softmax, in place.
/// At the SIMD levels the exponentials are a polynomial within a few units in the last
/// place (as for [`silu_mul_f32`]), and a score more than 87 below the largest counts as
/// e^-87 instead of less; every result depends only on the scores and their number.
pub fn softmax_scaled_f32(scores: &mut [f32], scale: f32) {
    softmax_at(SimdLevel::active(), scores, scale)
}

/// [`softmax_scaled_f32`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn softmax_scaled_f32_with(level: SimdLevel, scores: &mut [f32], scale: f32) {
    level.assert_supported();
    softmax_at(level, scores, scale)
}

fn softmax_at(level: SimdLevel, scores: &mut [f32], scale: f32) {
    if scores.is_empty() {
        return;
    }
    match level {
        SimdLevel::Scalar => scalar::softmax_scaled_f32(scores, scale),
        // SAFETY: as in `dot_at`.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { crate::avx2::softmax_scaled_f32(scores, scale) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

/// gate[i] = silu(gate[i]) * up[i], where silu(v) = v / (1 + e^-v). Panics if the lengths differ.
pub fn silu_mul_f32(gate: &mut [f32], up: &[f32]) {
    silu_mul_at(SimdLevel::active(), gate, up)
}

/// [`silu_mul_f32`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn silu_mul_f32_with(level: SimdLevel, gate: &mut [f32], up: &[f32]) {
    level.assert_supported();
    silu_mul_at(level, gate, up)
}

/// [`dot_f32`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn dot_f32_with(level: SimdLevel, a: &[f32], b: &[f32]) -> f32 {
    level.assert_supported();
    dot_at(level, a, b)
}

/// [`axpy_f32`] with an explicit kernel family. Panics if the CPU does not support it.
pub fn axpy_f32_with(level: SimdLevel, alpha: f32, x: &[f32], y: &mut [f32]) {
    level.assert_supported();
    axpy_at(level, alpha, x, y)
}

/// `level` must be supported (the active level always is).
fn dot_at(level: SimdLevel, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot_f32: lengths differ");
    match level {
        SimdLevel::Scalar => scalar::dot_f32(a, b),
        // SAFETY: the level is supported, so AVX2/FMA/F16C are available.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { crate::avx2::dot_f32(a, b) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

fn axpy_at(level: SimdLevel, alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "axpy_f32: lengths differ");
    match level {
        SimdLevel::Scalar => scalar::axpy_f32(alpha, x, y),
        // SAFETY: as in `dot_at`.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { crate::avx2::axpy_f32(alpha, x, y) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

fn silu_mul_at(level: SimdLevel, gate: &mut [f32], up: &[f32]) {
    assert_eq!(gate.len(), up.len(), "silu_mul_f32: lengths differ");
    match level {
        SimdLevel::Scalar => scalar::silu_mul_f32(gate, up),
        // SAFETY: as in `dot_at`.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 | SimdLevel::Avx512Vnni => unsafe { crate::avx2::silu_mul_f32(gate, up) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

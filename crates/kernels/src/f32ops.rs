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

//! The dot-product kernel for a (level, weight type) pair, chosen once per matmul call.

use crate::act::{Q8KAct, Q8KLanesAct, Q8KRowsAct, Q8_0Act, Q8_0LanesAct, Q8_0RowsAct, Q8_1Act};
use crate::{scalar, Layout, QType, SimdLevel};

/// Dot products of one weight unit (a row, giving an `f32` per activation row, or a group
/// of sixteen interleaved rows, giving `[f32; 16]`) with `N` activation rows.
///
/// Safety contract: only [`kernel`] builds these, and only for a level the CPU supports, so
/// calling them is sound whenever `w` holds whole blocks and each activation row holds one
/// activation block per weight block (one f32 per weight for float types).
pub(crate) type RowsFn<A, O, const N: usize> = unsafe fn(&[u8], [&[A]; N]) -> [O; N];

/// A kernel in its one- to four-row forms (and eight, for wide register files); row `i` of
/// every form is bit-identical to the one-row form on that row.
pub(crate) struct RowDot<A: 'static, O: 'static = f32> {
    pub one: RowsFn<A, O, 1>,
    pub two: RowsFn<A, O, 2>,
    pub three: RowsFn<A, O, 3>,
    pub four: RowsFn<A, O, 4>,
    pub eight: RowsFn<A, O, 8>,
}

/// A kernel together with the activation format it consumes.
pub(crate) enum Kernel {
    Q8K(RowDot<Q8KAct>),
    Q8KLanes(RowDot<Q8KLanesAct>),
    /// Sixteen weight rows per call (`formats::rows16`).
    Q8KRows16(RowDot<Q8KRowsAct, [f32; 16]>),
    Q8_0Rows16(RowDot<Q8_0RowsAct, [f32; 16]>),
    Q8_0(RowDot<Q8_0Act>),
    Q8_0Lanes(RowDot<Q8_0LanesAct>),
    Q8_1(RowDot<Q8_1Act>),
    F32(RowDot<f32>),
}

macro_rules! pick {
    ($variant:ident, $($f:ident)::+) => {
        Kernel::$variant(RowDot {
            one: $($f)::+::<1>,
            two: $($f)::+::<2>,
            three: $($f)::+::<3>,
            four: $($f)::+::<4>,
            eight: $($f)::+::<8>,
        })
    };
}

/// The kernel for `qtype` blocks in `layout` at `level`. Panics if the CPU does not
/// support `level`, or if `level` cannot read `layout` (lane order and rows16 are AVX-512
/// VNNI's).
pub(crate) fn kernel(level: SimdLevel, qtype: QType, layout: Layout) -> Kernel {
    level.assert_supported();
    match layout {
        Layout::Gguf => {}
        Layout::Lanes => return lanes_kernel(level, qtype),
        Layout::Rows16 => return rows16_kernel(level, qtype),
    }
    match level {
        SimdLevel::Scalar => scalar_kernel(qtype),
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => avx2_kernel(qtype),
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512Vnni => vnni_kernel(qtype),
        #[cfg(not(target_arch = "x86_64"))]
        _ => unreachable!("x86 levels are never supported elsewhere"),
    }
}

fn lanes_kernel(level: SimdLevel, qtype: QType) -> Kernel {
    match (level, qtype) {
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q4K) => pick!(Q8KLanes, crate::avx2::dot_q4k_lanes_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q6K) => pick!(Q8KLanes, crate::avx2::dot_q6k_lanes_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q8_0) => pick!(Q8_0Lanes, crate::avx2::dot_q8_0_lanes_vnni),
        _ => panic!("{qtype} in lane order runs only on the avx512vnni kernels, not on {}", level.name()),
    }
}

fn rows16_kernel(level: SimdLevel, qtype: QType) -> Kernel {
    match (level, qtype) {
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q4K) => pick!(Q8KRows16, crate::avx2::dot_q4k_rows16_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q6K) => pick!(Q8KRows16, crate::avx2::dot_q6k_rows16_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q8_0) => pick!(Q8_0Rows16, crate::avx2::dot_q8_0_rows16_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q5_0) => pick!(Q8_0Rows16, crate::avx2::dot_q5_0_rows16_vnni),
        #[cfg(target_arch = "x86_64")]
        (SimdLevel::Avx512Vnni, QType::Q4_0) => pick!(Q8_0Rows16, crate::avx2::dot_q4_0_rows16_vnni),
        _ => panic!("{qtype} in rows16 order runs only on the avx512vnni kernels, not on {}", level.name()),
    }
}

fn scalar_kernel(qtype: QType) -> Kernel {
    match qtype {
        QType::F32 => pick!(F32, scalar::dot_f32_weights),
        QType::F16 => pick!(F32, scalar::dot_f16),
        QType::BF16 => pick!(F32, scalar::dot_bf16),
        QType::Q4_0 => pick!(Q8_0, scalar::dot_q4_0),
        QType::Q5_0 => pick!(Q8_0, scalar::dot_q5_0),
        QType::Q8_0 => pick!(Q8_0, scalar::dot_q8_0),
        QType::Q4_1 => pick!(Q8_1, scalar::dot_q4_1),
        QType::Q5_1 => pick!(Q8_1, scalar::dot_q5_1),
        QType::Q4K => pick!(Q8K, scalar::dot_q4k),
        QType::Q5K => pick!(Q8K, scalar::dot_q5k),
        QType::Q6K => pick!(Q8K, scalar::dot_q6k),
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2_kernel(qtype: QType) -> Kernel {
    use crate::avx2;
    match qtype {
        QType::F32 => pick!(F32, avx2::dot_f32_weights),
        QType::F16 => pick!(F32, avx2::dot_f16),
        QType::BF16 => pick!(F32, avx2::dot_bf16),
        QType::Q4_0 => pick!(Q8_0, avx2::dot_q4_0),
        QType::Q5_0 => pick!(Q8_0, avx2::dot_q5_0),
        QType::Q8_0 => pick!(Q8_0, avx2::dot_q8_0),
        QType::Q4_1 => pick!(Q8_1, avx2::dot_q4_1),
        QType::Q5_1 => pick!(Q8_1, avx2::dot_q5_1),
        QType::Q4K => pick!(Q8K, avx2::dot_q4k),
        QType::Q5K => pick!(Q8K, avx2::dot_q5k),
        QType::Q6K => pick!(Q8K, avx2::dot_q6k),
    }
}

/// VNNI replaces the two-instruction int8 dot of the legacy formats; Q4_K and Q6_K get
/// 512-bit kernels that keep one sub-block per 32-bit lane (activations in
/// [`Q8KLanesAct`] order). Q5_K stays AVX2.
#[cfg(target_arch = "x86_64")]
fn vnni_kernel(qtype: QType) -> Kernel {
    use crate::avx2;
    match qtype {
        QType::Q4_0 => pick!(Q8_0, avx2::dot_q4_0_vnni),
        QType::Q5_0 => pick!(Q8_0, avx2::dot_q5_0_vnni),
        QType::Q8_0 => pick!(Q8_0, avx2::dot_q8_0_vnni),
        QType::Q4_1 => pick!(Q8_1, avx2::dot_q4_1_vnni),
        QType::Q5_1 => pick!(Q8_1, avx2::dot_q5_1_vnni),
        QType::Q4K => pick!(Q8KLanes, avx2::dot_q4k_vnni),
        QType::Q6K => pick!(Q8KLanes, avx2::dot_q6k_vnni),
        _ => avx2_kernel(qtype),
    }
}

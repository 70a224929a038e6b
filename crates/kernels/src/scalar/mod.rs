//! Portable kernels: the reference semantics of every dot product, and the fallback on CPUs
//! without the SIMD features (or with `TANDEM_KERNELS=scalar`).
//!
//! Integer parts are exact; float accumulation runs in a fixed order, so results depend only
//! on the inputs. Loops keep independent lanes so the compiler can vectorize them without
//! reassociating any float sum.

/// The `N`-row form of a one-row kernel, with the SIMD kernels' signature. Every row is
/// computed by exactly the one-row kernel, so results do not depend on `N`.
macro_rules! n_rows {
    ($name:ident, $one:ident, $act:ty) => {
        pub(crate) fn $name<const N: usize>(w: &[u8], a: [&[$act]; N]) -> [f32; N] {
            a.map(|a| $one(w, a))
        }
    };
}

mod float;
mod kquants;
mod legacy;

pub(crate) use float::{
    axpy_f32, axpy_f32_grouped, dot_bf16, dot_f16, dot_f32, dot_f32_grouped, dot_f32_weights, silu_mul_f32,
    softmax_scaled_f32,
};
pub(crate) use kquants::{dot_q4k, dot_q5k, dot_q6k};
pub(crate) use legacy::{dot_q4_0, dot_q4_1, dot_q5_0, dot_q5_1, dot_q8_0};

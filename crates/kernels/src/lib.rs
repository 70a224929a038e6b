//! Quantized CPU kernels for GGUF weights.
//!
//! A [`QMatrix`] wraps the raw blocks of a GGUF weight matrix (often a window into a
//! memory-mapped file, see [`Bytes`]) and multiplies it with f32 activations. Activations are
//! quantized to int8 the way ggml pairs them with each weight type (Q8_0, Q8_1 or Q8_K), and
//! the dot products run on the best kernel family the CPU offers ([`SimdLevel`]), chosen
//! once at run time.
//!
//! The key invariant is **row exactness**: in a [`QMatrix::matmul`] with `k` activation rows,
//! output row `i` is bit-identical to a call with only that row, for any `k` and any thread
//! count. Speculative decoding relies on it so that verifying several drafted tokens in one
//! pass gives exactly the logits of plain one-token decoding.

mod act;
#[cfg(target_arch = "x86_64")]
mod avx2;
mod bytes;
mod error;
mod f32ops;
mod formats;
mod kernel;
mod level;
mod matmul;
mod pages;
mod qmatrix;
mod qtype;
mod scalar;

pub use bytes::Bytes;
pub use error::KernelError;
pub use f32ops::{
    axpy_f32, axpy_f32_grouped, axpy_f32_grouped_with, axpy_f32_with, dot_f32, dot_f32_grouped, dot_f32_grouped_with,
    dot_f32_with, silu_mul_f32, silu_mul_f32_with, softmax_scaled_f32, softmax_scaled_f32_with,
};
pub use level::{simd_level, SimdLevel, LEVEL_ENV};
pub use qmatrix::{Layout, QMatrix};
pub use qtype::QType;

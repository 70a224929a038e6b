//! Causal grouped-query attention over the KV cache, one (row, head) task at a time.
//!
//! Each query row is computed by the same loop whether it arrives alone or in a batch of k
//! (same positions visited in the same order, same summation), which keeps batched
//! verification bit-identical to one-token decoding. Query heads read their shared KV
//! head in place: no repeated copies of K and V are made.

use rayon::prelude::*;
use tandem_kernels::{axpy_f32, dot_f32};

use super::kv_cache::LayerCache;

/// Shape of the attention computation.
pub struct AttentionShape {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
}

/// `q` holds `rows` query rows (`n_head * head_dim` each) for positions
/// `first_pos .. first_pos + rows`; the cache already holds keys/values up to the last of
/// them. Writes the attention output (same shape as `q`) into `out`.
pub fn attend(shape: &AttentionShape, cache: &LayerCache, q: &[f32], first_pos: usize, out: &mut [f32]) {
    let hd = shape.head_dim;
    let group = shape.n_head / shape.n_kv_head;
    let scale = 1.0 / (hd as f32).sqrt();
    out.par_chunks_mut(hd).enumerate().for_each(|(task, out_head)| {
        let row = task / shape.n_head;
        let head = task % shape.n_head;
        let kv_head = head / group;
        let pos = first_pos + row;
        let q_head = &q[task * hd..(task + 1) * hd];
        let mut scores: Vec<f32> = (0..=pos).map(|j| dot_f32(q_head, cache.key(j, kv_head, hd)) * scale).collect();
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0f32;
        for s in scores.iter_mut() {
            *s = (*s - max).exp();
            sum += *s;
        }
        out_head.fill(0.0);
        let inv = 1.0 / sum;
        for (j, s) in scores.iter().enumerate() {
            axpy_f32(s * inv, cache.value(j, kv_head, hd), out_head);
        }
    });
}

//! Causal grouped-query attention over the KV cache, one (row, KV head) task at a time.
//!
//! Each query row is computed by the same loop whether it arrives alone or in a batch of k
//! (same positions visited in the same order, same summation), which keeps batched
//! verification bit-identical to one-token decoding. Query heads read their shared KV
//! head in place: no repeated copies of K and V are made.

use rayon::prelude::*;
use tandem_kernels::{axpy_f32_grouped, dot_f32_grouped, softmax_scaled_f32};

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
    // One task per (row, KV head): the query heads that share a KV head are adjacent in a
    // row, and each key and value is read once for all of them.
    out.par_chunks_mut(group * hd).enumerate().for_each(|(task, out_group)| {
        let row = task / shape.n_kv_head;
        let kv_head = task % shape.n_kv_head;
        let positions = first_pos + row + 1;
        let q_group = &q[task * group * hd..(task + 1) * group * hd];
        let (keys, values) = cache.head(kv_head, positions);
        let mut weights = vec![0f32; group * positions];
        dot_f32_grouped(q_group, hd, keys, hd, &mut weights);
        for head in weights.chunks_exact_mut(positions) {
            softmax_scaled_f32(head, scale);
        }
        out_group.fill(0.0);
        axpy_f32_grouped(&weights, values, hd, out_group, hd);
    });
}

//! Causal grouped-query attention over the KV cache, a few query rows and one KV head per task.
//!
//! Each query row is computed with the same steps whether it arrives alone or in a batch of
//! k (same scores, the same softmax over the same count, the same fused steps per output in
//! position order), which keeps batched verification bit-identical to one-token decoding.
//! Query heads read their shared KV head in place: no repeated copies of K and V are made.
//!
//! Why several rows per task: a long prompt's prefill runs thousands of rows, and each row
//! alone read its KV head's keys and values once more; beyond a few thousand positions they
//! outgrow the core's L2, so every row fetched them again from further away (attention was a
//! quarter of a 2,500-token prefill). A task now walks the cache in blocks of [`BLOCK`]
//! positions and serves each block, while it sits in L2, to all of its rows.

use std::borrow::Cow;

use rayon::prelude::*;
use tandem_kernels::{axpy_f32_grouped, dot_f32_grouped, softmax_scaled_f32};

use super::kv_cache::LayerCache;

/// Shape of the attention computation.
pub struct AttentionShape {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
}

/// Most query rows one task takes.
const ROWS: usize = 8;

/// Cache positions a task's rows go through together: 128 KiB of keys and as much of values
/// at a head width of 128, well inside L2.
const BLOCK: usize = 256;

/// `q` holds `rows` query rows (`n_head * head_dim` each) for positions
/// `first_pos .. first_pos + rows`; the cache already holds keys/values up to the last of
/// them. Writes the attention output (same shape as `q`) into `out`.
pub fn attend(shape: &AttentionShape, cache: &LayerCache, q: &[f32], first_pos: usize, out: &mut [f32]) {
    let width = shape.n_head / shape.n_kv_head * shape.head_dim;
    let n_kv = shape.n_kv_head;
    let rows = out.len() / (n_kv * width);
    // As many rows per task (up to ROWS) as still leaves two tasks per thread.
    let per_task = (rows * n_kv / (2 * rayon::current_num_threads().max(1))).clamp(1, ROWS);
    // Task (b, h) owns the outputs of KV head h's query heads in rows b * per_task.. .
    let mut tasks: Vec<Vec<&mut [f32]>> =
        (0..rows.div_ceil(per_task) * n_kv).map(|_| Vec::with_capacity(per_task)).collect();
    for (i, piece) in out.chunks_exact_mut(width).enumerate() {
        let (row, kv_head) = (i / n_kv, i % n_kv);
        tasks[row / per_task * n_kv + kv_head].push(piece);
    }
    tasks.into_par_iter().enumerate().for_each(|(task, mut outs)| {
        let (first_row, kv_head) = (task / n_kv * per_task, task % n_kv);
        let group_of = |row: usize| &q[(row * n_kv + kv_head) * width..][..width];
        // One row's query heads are already contiguous (every one-token call); several
        // rows' are gathered.
        let qs: Cow<[f32]> = match outs.len() {
            1 => Cow::Borrowed(group_of(first_row)),
            n => Cow::Owned((first_row..first_row + n).flat_map(group_of).copied().collect()),
        };
        attend_rows(shape, cache, kv_head, &qs, first_pos + first_row, &mut outs);
    });
}

/// Attention of consecutive rows for one KV head: `qs` holds each row's query heads for
/// `kv_head` (`group * head_dim` values per row), the first row at position `first`; row r's
/// output goes to `outs[r]`, which it sees positions `0..=first + r` for.
fn attend_rows(
    shape: &AttentionShape,
    cache: &LayerCache,
    kv_head: usize,
    qs: &[f32],
    first: usize,
    outs: &mut [&mut [f32]],
) {
    let hd = shape.head_dim;
    let group = shape.n_head / shape.n_kv_head;
    let seen = |r: usize| first + r + 1;
    let total = seen(outs.len() - 1);
    let (keys, values) = cache.head(kv_head, total);
    // Scores of query i (row i / group) against every position, `total` apart. A row's
    // scores past its own positions are computed with the rest and never used.
    let queries = qs.len() / hd;
    let mut scores = vec![0f32; queries * total];
    if outs.len() == 1 {
        dot_f32_grouped(qs, hd, keys, hd, &mut scores);
    } else {
        let mut part = vec![0f32; queries * BLOCK.min(total)];
        for start in (0..total).step_by(BLOCK) {
            let len = BLOCK.min(total - start);
            let part = &mut part[..queries * len];
            dot_f32_grouped(qs, hd, &keys[start * hd..(start + len) * hd], hd, part);
            for (i, s) in part.chunks_exact(len).enumerate() {
                scores[i * total + start..][..len].copy_from_slice(s);
            }
        }
    }
    let scale = 1.0 / (hd as f32).sqrt();
    for (i, row) in scores.chunks_exact_mut(total).enumerate() {
        softmax_scaled_f32(&mut row[..seen(i / group)], scale);
    }
    for out in outs.iter_mut() {
        out.fill(0.0);
    }
    if let [out] = outs {
        axpy_f32_grouped(&scores, values, hd, out, hd);
        return;
    }
    // Each output adds its positions in order, block after block, exactly as in one call.
    let mut weights = vec![0f32; group * BLOCK.min(total)];
    for start in (0..total).step_by(BLOCK) {
        for (r, out) in outs.iter_mut().enumerate() {
            let end = seen(r).min(start + BLOCK);
            if end <= start {
                continue;
            }
            let len = end - start;
            let weights = &mut weights[..group * len];
            for (h, w) in weights.chunks_exact_mut(len).enumerate() {
                w.copy_from_slice(&scores[(r * group + h) * total + start..][..len]);
            }
            axpy_f32_grouped(weights, &values[start * hd..end * hd], hd, out, hd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of values in [-1, 1).
    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Attention in f64, straight from its definition.
    fn reference(shape: &AttentionShape, cache: &LayerCache, q: &[f32], pos: usize) -> Vec<f64> {
        let hd = shape.head_dim;
        let group = shape.n_head / shape.n_kv_head;
        let mut out = vec![0f64; shape.n_head * hd];
        for head in 0..shape.n_head {
            let (keys, values) = cache.head(head / group, pos + 1);
            let qh = &q[head * hd..(head + 1) * hd];
            let scores: Vec<f64> = keys
                .chunks_exact(hd)
                .map(|k| k.iter().zip(qh).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() / (hd as f64).sqrt())
                .collect();
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            for (w, v) in e.iter().zip(values.chunks_exact(hd)) {
                for (o, &x) in out[head * hd..(head + 1) * hd].iter_mut().zip(v) {
                    *o += w / sum * x as f64;
                }
            }
        }
        out
    }

    /// Rows attended together, in any number and crossing several blocks of positions, give
    /// bit for bit what each gives alone, and that is attention.
    #[test]
    fn rows_together_give_the_bits_of_rows_alone() {
        for (n_head, n_kv_head, head_dim) in [(6, 2, 16), (7, 1, 12), (4, 4, 8)] {
            let shape = AttentionShape { n_head, n_kv_head, head_dim };
            let kv = n_kv_head * head_dim;
            let d = n_head * head_dim;
            for (first_pos, rows) in [(0, 1), (0, 9), (3, 20), (BLOCK - 5, 11), (2 * BLOCK + 7, 17)] {
                let mut cache = LayerCache::new(n_kv_head, head_dim);
                let len = first_pos + rows;
                let seed = (first_pos * 100 + rows) as u64;
                cache.push(&noise(seed, len * kv), &noise(seed + 1, len * kv));
                let q: Vec<f32> = noise(seed + 2, rows * d).iter().map(|x| 4.0 * x).collect();
                let mut together = vec![f32::NAN; rows * d];
                attend(&shape, &cache, &q, first_pos, &mut together);
                for r in 0..rows {
                    let row = &q[r * d..(r + 1) * d];
                    let mut alone = vec![f32::NAN; d];
                    attend(&shape, &cache, row, first_pos + r, &mut alone);
                    let got = &together[r * d..(r + 1) * d];
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(got),
                        bits(&alone),
                        "shape {n_head}/{n_kv_head}/{head_dim}, row {r} of {rows} at {first_pos}"
                    );
                    for (g, want) in got.iter().zip(reference(&shape, &cache, row, first_pos + r)) {
                        assert!((*g as f64 - want).abs() < 1e-5, "{g} against {want}");
                    }
                }
            }
        }
    }
}

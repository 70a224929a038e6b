//! The kernels streaming a model from memory: the layer matrices of a 1.5B model (28 layers
//! of Q4_K query/key/value, output and gate/up, and a down projection alternating Q6_K and
//! Q4_K: about 0.8 GB, far beyond the caches) multiplied in order against k activation rows,
//! as one forward pass reads them.
//! `cargo run --release -p tandem-kernels --example layers [k ...]` (default 1 4 8)
//!
//! The row counts are timed in turn, round after round, and each one's fastest pass is kept:
//! on a machine whose memory rate drifts, the ratios to k = 1 compare passes made minutes
//! apart at most. Set against the `ceiling` example's overlap table, they show how much of
//! an extra row's arithmetic the kernels hide behind the weight stream; single matrices (the
//! `bench` example) mostly sit in cache and cannot show it.

use std::time::Instant;

use tandem_kernels::{QMatrix, QType, SimdLevel};

mod common;
use common::random_matrix;

fn main() {
    let level = SimdLevel::active();
    let ks: Vec<usize> = match std::env::args().skip(1).map(|a| a.parse()).collect::<Result<Vec<usize>, _>>() {
        Ok(ks) if ks.is_empty() => vec![1, 4, 8],
        Ok(ks) if ks.iter().all(|&k| k > 0) => ks,
        _ => panic!("usage: layers [k ...], with each k a positive number of rows"),
    };
    let (d, ff) = (1536, 8960);
    // Stacked as the model loads them: q, k and v (1536 + 2 x 256 rows), the output, gate
    // and up (2 x 8960 rows), then down.
    let layers: Vec<QMatrix> = (0..28u64)
        .flat_map(|l| {
            let down = if l % 2 == 0 { QType::Q6K } else { QType::Q4K };
            [
                random_matrix(QType::Q4K, d + 512, d, 4 * l).repacked(level),
                random_matrix(QType::Q4K, d, d, 4 * l + 1).repacked(level),
                random_matrix(QType::Q4K, 2 * ff, d, 4 * l + 2).repacked(level),
                random_matrix(down, d, ff, 4 * l + 3).repacked(level),
            ]
        })
        .collect();
    let bytes: usize = layers.iter().map(QMatrix::byte_len).sum();
    let kmax = *ks.iter().max().expect("at least one k");
    let xs: Vec<f32> = (0..kmax * ff).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 250.0).collect();
    let mut out = vec![0f32; kmax * 2 * ff];
    let mut fastest = vec![f64::INFINITY; ks.len()];
    for _ in 0..10 {
        for (slot, &k) in fastest.iter_mut().zip(&ks) {
            let started = Instant::now();
            // Inside the pool, as the model runs its forward pass.
            rayon::scope(|_| {
                for m in &layers {
                    m.matmul_with(level, &xs[..k * m.cols()], &mut out[..k * m.rows()]);
                }
            });
            *slot = slot.min(started.elapsed().as_secs_f64());
        }
    }
    println!("{} layer matrices, {:.0} MB, {} kernels:", layers.len(), bytes as f64 / 1e6, level.name());
    for (&k, &secs) in ks.iter().zip(&fastest) {
        println!(
            "  k={k:<3} {:7.2} ms  {:.2}x k={}  ({:.1} GB/s)",
            secs * 1e3,
            secs / fastest[0],
            ks[0],
            bytes as f64 / secs / 1e9
        );
    }
}

//! Row exactness: in a k-row matmul, each output row is bit-identical to the one-row call,
//! for every k in 1..=16, every type, every kernel family, and across thread counts.

mod common;

use common::{bits, product, random_matrix, Rng};
use tandem_kernels::{QType, SimdLevel};

// Enough rows that the matmul splits them over several parallel tasks.
const ROWS: usize = 700;
const COLS: usize = 512;
const MAX_K: usize = 16;

#[test]
fn each_row_of_a_k_row_call_equals_the_one_row_call() {
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 300 + n as u64);
        let xs = Rng::new(400 + n as u64).values(MAX_K * COLS);
        for level in SimdLevel::supported() {
            let singles: Vec<Vec<u32>> =
                (0..MAX_K).map(|i| bits(&product(&m, level, &xs[i * COLS..(i + 1) * COLS]))).collect();
            for k in 1..=MAX_K {
                let out = product(&m, level, &xs[..k * COLS]);
                for (i, single) in singles.iter().enumerate().take(k) {
                    assert!(
                        bits(&out[i * ROWS..(i + 1) * ROWS]) == *single,
                        "{t} at {}: row {i} of a {k}-row call differs from the one-row call",
                        level.name()
                    );
                }
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let pools: Vec<rayon::ThreadPool> =
        [1, 2, 3].iter().map(|&n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()).collect();
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 500 + n as u64);
        let xs = Rng::new(600 + n as u64).values(MAX_K * COLS);
        for level in SimdLevel::supported() {
            let results: Vec<Vec<u32>> = pools.iter().map(|p| p.install(|| bits(&product(&m, level, &xs)))).collect();
            for (p, r) in results.iter().enumerate().skip(1) {
                assert!(*r == results[0], "{t} at {}: {} threads differ from 1 thread", level.name(), p + 1);
            }
            // And a single row under 2 threads equals its row in the 16-row call under 1.
            let one = pools[1].install(|| bits(&product(&m, level, &xs[5 * COLS..6 * COLS])));
            assert!(one == results[0][5 * ROWS..6 * ROWS], "{t} at {}: row 5 alone differs", level.name());
        }
    }
}

//! Matmul timings on model-sized random matrices:
//! `cargo run --release -p tandem-kernels --example bench [level ...]`
//! (levels: scalar, avx2, avx512vnni; default: the active one).
//!
//! For k = 1, 2, 4, 8, 16 activation rows on Q4_K 256x1536 and 8960x1536 matrices (the key
//! and an FFN projection of a 1.5B model) and a Q6_K 151936x1536 one (its output
//! projection), each arranged as a model loads it for the level, prints the fastest
//! wall-clock time per call and, on Linux, the CPU time per call summed over threads (the
//! latter is robust against other work competing for the cores), with the effective weight
//! bandwidth of the one-row call.

use std::time::Instant;

use tandem_kernels::{QMatrix, QType, SimdLevel};

mod common;
use common::random_matrix;

/// CPU seconds used by this process so far (all threads), from /proc on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// (fastest wall-clock ms, CPU ms per call) over at least half a second of calls.
fn time_ms(m: &QMatrix, level: SimdLevel, k: usize) -> (f64, Option<f64>) {
    let xs: Vec<f32> = (0..k * m.cols()).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 250.0).collect();
    let mut out = vec![0f32; k * m.rows()];
    m.matmul_with(level, &xs, &mut out);
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let (mut fastest, mut calls) = (f64::INFINITY, 0);
    while calls < 5 || start.elapsed().as_secs_f64() < 0.5 {
        let t = Instant::now();
        m.matmul_with(level, &xs, &mut out);
        fastest = fastest.min(t.elapsed().as_secs_f64() * 1e3);
        calls += 1;
    }
    std::hint::black_box(&out);
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| (b - a) * 1e3 / calls as f64);
    (fastest, cpu)
}

fn main() {
    let levels: Vec<SimdLevel> = match std::env::args().skip(1).collect::<Vec<_>>() {
        names if names.is_empty() => vec![SimdLevel::active()],
        names => names
            .iter()
            .map(|n| SimdLevel::from_name(n).unwrap_or_else(|| panic!("unknown level `{n}`")))
            .filter(|l| {
                l.is_supported() || {
                    eprintln!("{} is not supported here", l.name());
                    false
                }
            })
            .collect(),
    };
    println!("threads: {}", rayon::current_num_threads());
    let matrices = [
        random_matrix(QType::Q4K, 256, 1536, 0),
        random_matrix(QType::Q4K, 8960, 1536, 0),
        random_matrix(QType::Q6K, 151936, 1536, 0),
    ];
    for level in levels {
        for m in &matrices {
            // As a model loads them: arranged the way this level's kernels read fastest.
            let m = &m.repacked(level);
            let name = format!("{} {}x{}", m.qtype(), m.rows(), m.cols());
            let cells: Vec<(usize, (f64, Option<f64>))> =
                [1, 2, 4, 8, 16].iter().map(|&k| (k, time_ms(m, level, k))).collect();
            let wall: Vec<String> = cells.iter().map(|(k, (ms, _))| format!("k={k}: {ms:6.2}")).collect();
            let gbs = m.byte_len() as f64 / (cells[0].1 .0 * 1e-3) / 1e9;
            println!("{:<10} {name:<18} wall ms {}  ({gbs:.1} GB/s at k=1)", level.name(), wall.join("  "));
            if cells.iter().all(|(_, (_, cpu))| cpu.is_some()) {
                let cpu: Vec<String> =
                    cells.iter().map(|(k, (_, cpu))| format!("k={k}: {:6.2}", cpu.unwrap())).collect();
                println!("{:<10} {name:<18} cpu ms  {}", level.name(), cpu.join("  "));
            }
        }
    }
}

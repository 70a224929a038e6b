//! The two ceilings of a verification call on this machine, measured with no model at all:
//! `cargo run --release -p tandem-kernels --example ceiling`
//!
//! - **int8 arithmetic**: the rate of `vpdpbusd` (64 int8 multiply-adds per 512-bit
//!   instruction, the widest int8 dot product x86 has without AMX) on every core at once,
//!   with twelve independent accumulators per thread so that only throughput counts.
//! - **memory**: the rate at which every core together streams a buffer larger than the
//!   caches (1 GiB), the way one token's forward pass reads the weights.
//!
//! Each extra token in a verification call needs its own multiply-adds over every weight,
//! so `MACs per token / int8 rate` is the least an extra token can add to a call, however
//! good the kernel; comparing it with the measured one-token time says how flat the
//! verification curve can possibly be.

use std::hint::black_box;
use std::time::Instant;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Multiply-adds per second by all threads, or None without AVX-512 VNNI.
fn int8_rate() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if !(is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vnni")) {
            return None;
        }
        const ITERS: u64 = 20_000_000;
        let started = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads() {
                // SAFETY: the features were detected above.
                s.spawn(move || unsafe { vnni_loop(ITERS, t as i32) });
            }
        });
        let secs = started.elapsed().as_secs_f64();
        Some((threads() as u64 * ITERS * 12 * 64) as f64 / secs)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn vnni_loop(iters: u64, seed: i32) -> i32 {
    use std::arch::x86_64::*;
    // Opaque inputs, so the compiler cannot fold the loop.
    let a = black_box(_mm512_set1_epi32(0x0102_0304 ^ seed));
    let b = black_box(_mm512_set1_epi32(0x0504_0302));
    let mut acc = [_mm512_setzero_si512(); 12];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_dpbusd_epi32(*v, a, b);
        }
    }
    acc.iter().fold(0, |s, v| s ^ _mm512_reduce_add_epi32(*v))
}

/// Bytes per second streamed by all threads together from a 1 GiB buffer.
fn memory_rate() -> f64 {
    let len = 1usize << 30;
    let buf: Vec<u64> = (0..len / 8).map(|i| i as u64).collect();
    let chunk = buf.len().div_ceil(threads());
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        std::thread::scope(|s| {
            for part in buf.chunks(chunk) {
                s.spawn(move || black_box(part.iter().fold(0u64, |a, &v| a.wrapping_add(v))));
            }
        });
        best = best.min(started.elapsed().as_secs_f64());
    }
    len as f64 / best
}

fn main() {
    println!("threads: {}", threads());
    match int8_rate() {
        Some(r) => println!("int8 multiply-adds (vpdpbusd, 512-bit): {:.0} G/s", r / 1e9),
        None => println!("int8 multiply-adds: this CPU has no AVX-512 VNNI"),
    }
    println!("memory stream: {:.1} GB/s", memory_rate() / 1e9);
}

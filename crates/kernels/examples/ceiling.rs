//! The two ceilings of a verification call on this machine, measured with no model at all:
//! `cargo run --release -p tandem-kernels --example ceiling`
//!
//! - **int8 arithmetic**: the rate of `vpdpbusd` (64 int8 multiply-adds per 512-bit
//!   instruction, the widest int8 dot product x86 has without AMX) on every core at once,
//!   with twelve independent accumulators per thread so that only throughput counts.
//! - **memory**: the rate at which every core together streams a buffer larger than the
//!   caches (1 GiB), the way one token's forward pass reads the weights. On a shared or
//!   virtual machine this rate can change by half within minutes, so measure it beside
//!   whatever it is compared with.
//! - **overlap**: the same stream multiplied as an ideal 4-bit matrix would be, against
//!   k = 0, 1, 2, 4 and 8 activation rows. Each 64-byte line becomes two registers of 128
//!   weights (a mask, and a shift and a mask) and each row adds two `vpdpbusd` per line;
//!   there are no scales and nothing else, so no real kernel does less per byte.
//!
//! Each extra token in a verification call needs its own multiply-adds over every weight,
//! so `MACs per token / int8 rate` is what an extra token adds to a call if its arithmetic
//! cannot overlap the memory stream. The overlap table says whether it can on this machine:
//! where time stays flat as k grows, the arithmetic hides behind memory and a verification
//! call can cost what one token costs; where it rises, the cores are busy computing.

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

/// The fastest of five runs of `work` over equal parts of `buf`, one per thread, in seconds.
fn fastest_split<T: Sync>(buf: &[T], work: impl Fn(&[T]) + Sync) -> f64 {
    let chunk = buf.len().div_ceil(threads());
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        std::thread::scope(|s| {
            for part in buf.chunks(chunk) {
                let work = &work;
                s.spawn(move || work(part));
            }
        });
        best = best.min(started.elapsed().as_secs_f64());
    }
    best
}

/// Bytes per second streamed by all threads together from `buf` (larger than the caches).
fn memory_rate(buf: &[u64]) -> f64 {
    let secs = fastest_split(buf, |part| {
        black_box(part.iter().fold(0u64, |a, &v| a.wrapping_add(v)));
    });
    std::mem::size_of_val(buf) as f64 / secs
}

/// Seconds for all threads to stream `buf` as an ideal 4-bit matrix multiplied against
/// `K` activation rows, or None without AVX-512 VNNI.
fn ideal_q4_secs<const K: usize>(buf: &[u64]) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if !(is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni"))
        {
            return None;
        }
        // SAFETY: the features were detected above.
        Some(fastest_split(buf, |part| {
            black_box(unsafe { ideal_q4_stream::<K>(part) });
        }))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = buf;
        None
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn ideal_q4_stream<const K: usize>(part: &[u64]) -> i32 {
    use std::arch::x86_64::*;
    let low4 = _mm512_set1_epi8(0x0F);
    // Activation rows (opaque, so nothing folds), read as the kernels read them: four
    // bytes broadcast to every lane per `vpdpbusd`.
    let act: [i32; 64] = black_box([0x0102_0304; 64]);
    let mut acc = [_mm512_setzero_si512(); 8];
    let lines = part.len() / 8;
    let p = part.as_ptr() as *const __m512i;
    for i in 0..lines {
        let z = _mm512_loadu_si512(p.add(i));
        let w = [_mm512_and_si512(z, low4), _mm512_and_si512(_mm512_srli_epi16::<4>(z), low4)];
        if K == 0 {
            acc[0] = _mm512_xor_si512(acc[0], _mm512_xor_si512(w[0], w[1]));
        }
        for r in 0..K {
            for (h, w) in w.iter().enumerate() {
                let x = _mm512_set1_epi32(*act.get_unchecked((4 * r + 2 * h + i) & 63));
                acc[(2 * r + h) % 8] = _mm512_dpbusd_epi32(acc[(2 * r + h) % 8], *w, x);
            }
        }
    }
    acc.iter().fold(0, |s, v| s ^ _mm512_reduce_add_epi32(*v))
}

fn main() {
    println!("threads: {}", threads());
    match int8_rate() {
        Some(r) => println!("int8 multiply-adds (vpdpbusd, 512-bit): {:.0} G/s", r / 1e9),
        None => println!("int8 multiply-adds: this CPU has no AVX-512 VNNI"),
    }
    let buf: Vec<u64> = (0..(1u64 << 27)).collect();
    println!("memory stream: {:.1} GB/s", memory_rate(&buf) / 1e9);
    let ideal = [
        (0, ideal_q4_secs::<0>(&buf)),
        (1, ideal_q4_secs::<1>(&buf)),
        (2, ideal_q4_secs::<2>(&buf)),
        (4, ideal_q4_secs::<4>(&buf)),
        (8, ideal_q4_secs::<8>(&buf)),
    ];
    let Some(one) = ideal[1].1 else {
        println!("overlap: this CPU has no AVX-512 VNNI");
        return;
    };
    println!("overlap, an ideal 4-bit matrix streamed against k activation rows:");
    for (k, secs) in ideal {
        let secs = secs.expect("measured like k = 1");
        let gbs = std::mem::size_of_val(buf.as_slice()) as f64 / secs / 1e9;
        println!("  k={k}  {:6.1} ms  {:.2}x k=1  ({gbs:.1} GB/s)", secs * 1e3, secs / one);
    }
}

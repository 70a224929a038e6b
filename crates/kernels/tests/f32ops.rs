//! The f32 vector operations at every kernel family, against f64 references.

mod common;

use common::Rng;
use tandem_kernels::{
    axpy_f32, axpy_f32_grouped, axpy_f32_grouped_with, axpy_f32_with, dot_f32, dot_f32_grouped, dot_f32_grouped_with,
    dot_f32_with, silu_mul_f32, silu_mul_f32_with, SimdLevel,
};

#[test]
fn dot_matches_f64_for_all_lengths() {
    let mut rng = Rng::new(21);
    for len in [0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 128, 1000] {
        let (a, b) = (rng.values(len), rng.values(len));
        let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
        let mag: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum();
        for level in SimdLevel::supported() {
            let got = dot_f32_with(level, &a, &b) as f64;
            assert!((got - exact).abs() <= 1e-6 * mag + 1e-9, "{} len {len}: {got} vs {exact}", level.name());
        }
        assert_eq!(dot_f32(&a, &b).to_bits(), dot_f32_with(SimdLevel::active(), &a, &b).to_bits());
    }
}

#[test]
fn axpy_matches_f64_for_all_lengths() {
    let mut rng = Rng::new(22);
    for len in [0, 1, 7, 8, 9, 33, 128, 257] {
        let (x, y0) = (rng.values(len), rng.values(len));
        let alpha = rng.value();
        for level in SimdLevel::supported() {
            let mut y = y0.clone();
            axpy_f32_with(level, alpha, &x, &mut y);
            for i in 0..len {
                let exact = y0[i] as f64 + alpha as f64 * x[i] as f64;
                let tol = 1e-6 * (y0[i].abs() as f64 + (alpha * x[i]).abs() as f64) + 1e-12;
                assert!((y[i] as f64 - exact).abs() <= tol, "{} len {len} at {i}", level.name());
            }
        }
        let mut y = y0.clone();
        axpy_f32(alpha, &x, &mut y);
        let mut z = y0.clone();
        axpy_f32_with(SimdLevel::active(), alpha, &x, &mut z);
        assert_eq!(y, z);
    }
}

/// (query or output length, row stride, queries per group, rows): attention's shapes (a
/// head of 64 or 128 values in a cache row of two heads) and odd ones with partial vectors.
const GROUPED: [(usize, usize, usize, usize); 6] =
    [(128, 256, 6, 17), (64, 128, 7, 9), (13, 13, 3, 5), (7, 40, 1, 1), (33, 70, 2, 4), (128, 256, 6, 0)];

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn grouped_dots_are_each_exactly_a_dot() {
    // Attention reads a KV head's keys a cache row apart for all the query heads that share
    // it; every score must be the bits a lone dot gives, or rows verified together would
    // differ from rows decoded alone.
    let mut rng = Rng::new(24);
    for (len, stride, groups, count) in GROUPED {
        let qs = rng.values(groups * len);
        let rows = rng.values(if count == 0 { 0 } else { (count - 1) * stride + len });
        for level in SimdLevel::supported() {
            let mut out = vec![0f32; groups * count];
            dot_f32_grouped_with(level, &qs, len, &rows, stride, &mut out);
            let mut lone = Vec::new();
            for q in qs.chunks_exact(len) {
                for j in 0..count {
                    lone.push(dot_f32_with(level, q, &rows[j * stride..j * stride + len]));
                }
            }
            assert_eq!(bits(&out), bits(&lone), "{} len {len} x {groups}", level.name());
        }
        let (mut a, mut b) = (vec![0f32; groups * count], vec![0f32; groups * count]);
        dot_f32_grouped(&qs, len, &rows, stride, &mut a);
        dot_f32_grouped_with(SimdLevel::active(), &qs, len, &rows, stride, &mut b);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn grouped_axpys_are_each_exactly_the_axpys_in_order() {
    let mut rng = Rng::new(25);
    for (len, stride, groups, count) in GROUPED {
        let weights = rng.values(groups * count);
        let rows = rng.values(if count == 0 { 0 } else { (count - 1) * stride + len });
        let ys0 = rng.values(groups * len);
        for level in SimdLevel::supported() {
            let mut got = ys0.clone();
            axpy_f32_grouped_with(level, &weights, &rows, stride, &mut got, len);
            let mut one_by_one = ys0.clone();
            for (g, y) in one_by_one.chunks_exact_mut(len).enumerate() {
                for j in 0..count {
                    axpy_f32_with(level, weights[g * count + j], &rows[j * stride..j * stride + len], y);
                }
            }
            assert_eq!(bits(&got), bits(&one_by_one), "{} len {len} x {groups}", level.name());
        }
        let (mut a, mut b) = (ys0.clone(), ys0.clone());
        axpy_f32_grouped(&weights, &rows, stride, &mut a, len);
        axpy_f32_grouped_with(SimdLevel::active(), &weights, &rows, stride, &mut b, len);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
#[should_panic(expected = "do not fit")]
fn grouped_rows_must_fit() {
    // Two queries of 4 values against three keys 10 apart need 24 values of keys.
    dot_f32_grouped(&[1.0; 8], 4, &[1.0; 23], 10, &mut [0.0; 6]);
}

#[test]
#[should_panic(expected = "do not split")]
fn grouped_outputs_must_split_over_the_queries() {
    dot_f32_grouped(&[1.0; 8], 4, &[1.0; 40], 10, &mut [0.0; 5]);
}

/// silu(g) * u in f64.
fn silu_mul_exact(g: f32, u: f32) -> f64 {
    let g = g as f64;
    g / (1.0 + (-g).exp()) * u as f64
}

#[test]
fn silu_mul_matches_f64_over_the_whole_range() {
    // Every 0.001 from -100 to 100: past +-88 the exponential saturates, which is where a
    // clamped one could go wrong; near 0 the result is tiny and must stay accurate.
    let gate: Vec<f32> = (-100_000..=100_000).map(|i| i as f32 * 1e-3).collect();
    let up: Vec<f32> = (0..gate.len()).map(|i| [1.0, -0.37, 3.5][i % 3]).collect();
    for level in SimdLevel::supported() {
        let mut got = gate.clone();
        silu_mul_f32_with(level, &mut got, &up);
        for i in 0..gate.len() {
            let exact = silu_mul_exact(gate[i], up[i]);
            // A few units in the last place of the result, or a value too small to matter
            // (silu of a large negative number is below 1e-36 in magnitude).
            let tol = 4.0 * f32::EPSILON as f64 * exact.abs() + 1e-35;
            assert!(
                (got[i] as f64 - exact).abs() <= tol,
                "{}: silu({}) * {} = {} but exactly {exact}",
                level.name(),
                gate[i],
                up[i],
                got[i]
            );
        }
    }
}

#[test]
fn silu_mul_gives_each_element_the_same_bits_at_any_length_or_offset() {
    // Feed-forward rows are exact only if an element's result does not depend on where it
    // sits in the call: at the start, in the middle, or in a partial last vector.
    let mut rng = Rng::new(23);
    let (gate, up) = (rng.values(67), rng.values(67));
    for level in SimdLevel::supported() {
        let mut whole = gate.clone();
        silu_mul_f32_with(level, &mut whole, &up);
        for start in 0..gate.len() {
            for end in start..=gate.len().min(start + 19) {
                let mut part = gate[start..end].to_vec();
                silu_mul_f32_with(level, &mut part, &up[start..end]);
                assert_eq!(bits(&part), bits(&whole[start..end]), "{} at {start}..{end}", level.name());
            }
        }
    }
    let (mut a, mut b) = (gate.clone(), gate.clone());
    silu_mul_f32(&mut a, &up);
    silu_mul_f32_with(SimdLevel::active(), &mut b, &up);
    assert_eq!(a, b);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn silu_mul_rejects_mismatched_lengths() {
    silu_mul_f32(&mut [1.0, 2.0], &[1.0]);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn dot_rejects_mismatched_lengths() {
    dot_f32(&[1.0, 2.0], &[1.0]);
}

//! The f32 vector operations at every kernel family, against f64 references.

mod common;

use common::Rng;
use tandem_kernels::{axpy_f32, axpy_f32_with, dot_f32, dot_f32_with, silu_mul_f32, silu_mul_f32_with, SimdLevel};

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
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
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

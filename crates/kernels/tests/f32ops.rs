//! The f32 vector operations at every kernel family, against f64 references.

mod common;

use common::Rng;
use tandem_kernels::{axpy_f32, axpy_f32_with, dot_f32, dot_f32_with, SimdLevel};

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

#[test]
#[should_panic(expected = "lengths differ")]
fn dot_rejects_mismatched_lengths() {
    dot_f32(&[1.0, 2.0], &[1.0]);
}

//! Matmul accuracy: every type at every kernel family this CPU supports, against an f64
//! reference on the decoded weights, with a bound derived from int8 activation rounding;
//! and the SIMD families against the scalar reference kernels.

mod common;

use common::{act_block, error_bound, expected_sq_error, random_matrix, reference_matmul, Rng};
use tandem_kernels::{QType, SimdLevel};

const ROWS: usize = 67;
const COLS: usize = 768;
const K: usize = 5;

#[test]
fn every_type_and_level_matches_the_f32_reference() {
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let (m, w) = random_matrix(t, ROWS, COLS, 7 + n as u64);
        let xs = Rng::new(1000 + n as u64).values(K * COLS);
        let (exact, _) = reference_matmul(&w, ROWS, COLS, &xs);
        for level in SimdLevel::supported() {
            let mut out = vec![f32::NAN; K * ROWS];
            m.matmul_with(level, &xs, &mut out);
            let (mut sq_err, mut expected) = (0f64, 0f64);
            for i in 0..K {
                for r in 0..ROWS {
                    let got = out[i * ROWS + r] as f64;
                    let want = exact[i * ROWS + r];
                    let (wr, x) = (&w[r * COLS..(r + 1) * COLS], &xs[i * COLS..(i + 1) * COLS]);
                    let bound = error_bound(t, wr, x);
                    sq_err += (got - want).powi(2);
                    expected += expected_sq_error(t, wr, x);
                    assert!(
                        (got - want).abs() <= bound,
                        "{t} at {}: out[{i}][{r}] = {got}, reference {want}, bound {bound}",
                        level.name()
                    );
                }
            }
            // The worst-case bound above is loose; on average the error must also look like
            // plain rounding noise (K * ROWS samples keep the ratio near 1; a wrong scale or
            // offset anywhere pushes it far above). Float weights see f32 rounding only.
            assert!(
                act_block(t) == 0 || sq_err <= 2.0 * expected,
                "{t} at {}: mean squared error {} exceeds twice the rounding noise {}",
                level.name(),
                sq_err / (K * ROWS) as f64,
                expected / (K * ROWS) as f64
            );
        }
    }
}

#[test]
fn simd_kernels_agree_with_scalar_to_float_rounding() {
    let simd: Vec<SimdLevel> = SimdLevel::supported().into_iter().filter(|l| *l != SimdLevel::Scalar).collect();
    if simd.is_empty() {
        eprintln!("no SIMD kernel family on this CPU; only the scalar kernels are in use");
    }
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let (m, w) = random_matrix(t, ROWS, COLS, 70 + n as u64);
        let xs = Rng::new(2000 + n as u64).values(K * COLS);
        let (_, mag) = reference_matmul(&w, ROWS, COLS, &xs);
        let mut scalar = vec![0f32; K * ROWS];
        m.matmul_with(SimdLevel::Scalar, &xs, &mut scalar);
        for &level in &simd {
            let mut out = vec![0f32; K * ROWS];
            m.matmul_with(level, &xs, &mut out);
            for (j, (a, b)) in out.iter().zip(&scalar).enumerate() {
                // Both see identical quantized activations; only the order of the f32
                // accumulation differs.
                assert!(
                    ((a - b) as f64).abs() <= 2e-6 * mag[j] + 1e-6,
                    "{t} at {}: element {j}: {a} vs scalar {b}",
                    level.name()
                );
            }
        }
    }
}

#[test]
fn matmul_uses_the_active_level() {
    let (m, _) = random_matrix(QType::Q4K, 8, 256, 3);
    let xs = Rng::new(4).values(3 * 256);
    let (mut a, mut b) = (vec![0f32; 24], vec![0f32; 24]);
    m.matmul(&xs, &mut a);
    m.matmul_with(SimdLevel::active(), &xs, &mut b);
    assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
}

#[test]
fn zero_activation_rows_give_an_empty_result() {
    let (m, _) = random_matrix(QType::Q8_0, 4, 64, 5);
    let mut out: Vec<f32> = Vec::new();
    m.matmul(&[], &mut out);
}

#[test]
#[should_panic(expected = "not whole rows")]
fn partial_activation_rows_are_rejected() {
    let (m, _) = random_matrix(QType::Q8_0, 4, 64, 5);
    let mut out = vec![0f32; 4];
    m.matmul(&[0.0; 65], &mut out);
}

#[test]
#[should_panic(expected = "output must hold")]
fn a_wrong_output_size_is_rejected() {
    let (m, _) = random_matrix(QType::Q8_0, 4, 64, 5);
    let mut out = vec![0f32; 5];
    m.matmul(&[0.0; 64], &mut out);
}

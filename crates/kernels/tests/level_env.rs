//! `TANDEM_KERNELS` caps the kernel family for the whole process. This file is its own test
//! process with a single test, so setting the variable first decides the level.

use tandem_kernels::{simd_level, QMatrix, QType, SimdLevel, LEVEL_ENV};

#[test]
fn the_environment_variable_forces_the_scalar_kernels() {
    std::env::set_var(LEVEL_ENV, "scalar");
    assert_eq!(simd_level(), "scalar");
    assert_eq!(SimdLevel::active(), SimdLevel::Scalar);
    // And matmul then runs the scalar kernels: bit-identical to asking for them explicitly.
    let bytes: Vec<u8> = (0..4 * 34).map(|i| if i % 34 == 1 { 0x2C } else { (i * 37 % 251) as u8 }).collect();
    let m = QMatrix::new(QType::Q8_0, 1, 128, tandem_kernels::Bytes::Owned(bytes)).unwrap();
    let xs: Vec<f32> = (0..128).map(|i| (i as f32 * 0.37).sin()).collect();
    let (mut a, mut b) = ([0f32], [0f32]);
    m.matmul(&xs, &mut a);
    m.matmul_with(SimdLevel::Scalar, &xs, &mut b);
    assert_eq!(a[0].to_bits(), b[0].to_bits());
}

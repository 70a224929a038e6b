//! Lane order: a Q4_K or Q6_K matrix repacked for the AVX-512 VNNI kernels multiplies and
//! decodes bit for bit as the file's order does; a Q8_0 one decodes bit for bit and
//! multiplies to float rounding; every repacked matrix is row-exact and converts back to
//! the file's bytes.

mod common;

use common::{bits, random_matrix, row_bits as row, vnni_product as values, Rng};
use tandem_kernels::{Layout, QMatrix, QType, SimdLevel};

const ROWS: usize = 300;
const COLS: usize = 512;

fn product(m: &QMatrix, xs: &[f32]) -> Vec<u32> {
    bits(&values(m, xs))
}

#[test]
fn repacked_matrices_compute_exactly_what_the_files_order_computes() {
    for (n, t) in [QType::Q4K, QType::Q6K].into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 900 + n as u64);
        let lanes = m.repacked(SimdLevel::Avx512Vnni);
        assert_eq!((m.layout(), lanes.layout()), (Layout::Gguf, Layout::Lanes), "{t}");
        assert_eq!(lanes.byte_len(), m.byte_len(), "{t}: rearranging keeps the size");
        assert_ne!(lanes.data(), m.data(), "{t}: the quants move");
        for r in [0, 1, ROWS / 2, ROWS - 1] {
            assert!(row(&lanes, r) == row(&m, r), "{t}: row {r} decodes differently");
        }
        if SimdLevel::Avx512Vnni.is_supported() {
            let xs = Rng::new(950 + n as u64).values(16 * COLS);
            for k in [1, 2, 3, 4, 5, 8, 9, 16] {
                let xs = &xs[..k * COLS];
                assert!(product(&lanes, xs) == product(&m, xs), "{t}: a {k}-row product differs");
            }
        }
        let back = lanes.repacked(SimdLevel::Avx2);
        assert_eq!(back.layout(), Layout::Gguf, "{t}");
        assert_eq!(back.data(), m.data(), "{t}: back to the file's bytes");
        assert_eq!(lanes.repacked(SimdLevel::Avx512Vnni).data(), lanes.data(), "{t}: repacking twice is once");
    }
}

#[test]
fn q8_0_in_lane_order_decodes_exactly_and_multiplies_to_rounding() {
    let (m, _) = random_matrix(QType::Q8_0, ROWS, COLS, 990);
    let lanes = m.repacked(SimdLevel::Avx512Vnni);
    assert_eq!(lanes.layout(), Layout::Lanes);
    for r in [0, 1, ROWS / 2, ROWS - 1] {
        assert!(row(&lanes, r) == row(&m, r), "row {r} decodes differently");
    }
    assert_eq!(lanes.repacked(SimdLevel::Avx2).data(), m.data(), "back to the file's bytes");
    if SimdLevel::Avx512Vnni.is_supported() {
        let xs = Rng::new(991).values(3 * COLS);
        for (a, b) in values(&lanes, &xs).iter().zip(values(&m, &xs)) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} against {b} in the file's order");
        }
    }
}

#[test]
fn repacked_matrices_are_row_exact() {
    if !SimdLevel::Avx512Vnni.is_supported() {
        return;
    }
    for (n, t) in [QType::Q4K, QType::Q6K, QType::Q8_0].into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 970 + n as u64);
        let lanes = m.repacked(SimdLevel::Avx512Vnni);
        let xs = Rng::new(980 + n as u64).values(16 * COLS);
        let singles: Vec<Vec<u32>> = (0..16).map(|i| product(&lanes, &xs[i * COLS..(i + 1) * COLS])).collect();
        for k in 1..=16 {
            let out = product(&lanes, &xs[..k * COLS]);
            for (i, single) in singles.iter().enumerate().take(k) {
                assert!(out[i * ROWS..(i + 1) * ROWS] == single[..], "{t}: row {i} of a {k}-row call differs");
            }
        }
    }
}

#[test]
fn other_types_and_levels_keep_the_files_order() {
    let (odd, _) = random_matrix(QType::Q8_0, 8, 96, 5);
    assert_eq!(odd.repacked(SimdLevel::Avx512Vnni).layout(), Layout::Gguf, "Q8_0 rows of 96 values stay");
    for t in QType::ALL {
        let (m, _) = random_matrix(t, 8, 256, 7);
        for level in SimdLevel::ALL {
            let lanes = level == SimdLevel::Avx512Vnni && matches!(t, QType::Q4K | QType::Q6K | QType::Q8_0);
            let r = m.repacked(level);
            assert_eq!(r.layout() == Layout::Lanes, lanes, "{t} for {}", level.name());
            if !lanes {
                assert_eq!(r.data(), m.data(), "{t} for {}", level.name());
            }
        }
    }
}

#[test]
#[should_panic(expected = "lane order")]
fn a_repacked_matrix_refuses_kernels_that_cannot_read_it() {
    let (m, _) = random_matrix(QType::Q4K, 8, 256, 3);
    let mut out = vec![0f32; 8];
    m.repacked(SimdLevel::Avx512Vnni).matmul_with(SimdLevel::Scalar, &[0.5; 256], &mut out);
}

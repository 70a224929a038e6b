//! Rows16: a Q4_K, Q6_K, Q4_0, Q5_0 or Q8_0 matrix of a multiple of sixteen rows, repacked
//! for the AVX-512 VNNI kernels, decodes bit for bit as the file's order does, multiplies to
//! float rounding of it, is row-exact whatever the row count, and converts back to the
//! file's bytes.

mod common;

use common::{bits, random_matrix, row_bits as row, vnni_product as values, Rng};
use tandem_kernels::{Layout, QType, SimdLevel};

const ROWS: usize = 160;
const COLS: usize = 768;

/// Each type with its bytes per row and 256 values in rows16 form.
const TYPES: [(QType, usize); 5] =
    [(QType::Q4K, 148), (QType::Q6K, 210), (QType::Q4_0, 144), (QType::Q5_0, 176), (QType::Q8_0, 272)];

#[test]
fn rows16_decodes_exactly_and_goes_back_to_the_files_bytes() {
    for (n, (t, block_bytes)) in TYPES.into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 1600 + n as u64);
        let r16 = m.repacked(SimdLevel::Avx512Vnni);
        assert_eq!(r16.layout(), Layout::Rows16, "{t}");
        assert_eq!(r16.row_bytes(), COLS / 256 * block_bytes, "{t}: bytes per row");
        assert_eq!(r16.byte_len(), ROWS * r16.row_bytes(), "{t}");
        assert_ne!(r16.data(), m.data(), "{t}: the quants move");
        for r in [0, 1, 15, 16, 17, ROWS / 2, ROWS - 1] {
            assert!(row(&r16, r) == row(&m, r), "{t}: row {r} decodes differently");
        }
        let back = r16.repacked(SimdLevel::Avx2);
        assert_eq!(back.layout(), Layout::Gguf, "{t}");
        assert_eq!(back.data(), m.data(), "{t}: back to the file's bytes");
        assert_eq!(r16.repacked(SimdLevel::Avx512Vnni).data(), r16.data(), "{t}: repacking twice is once");
    }
}

#[test]
fn rows16_multiplies_as_the_files_order_does_to_rounding() {
    if !SimdLevel::Avx512Vnni.is_supported() {
        return;
    }
    for (n, (t, _)) in TYPES.into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 1610 + n as u64);
        let r16 = m.repacked(SimdLevel::Avx512Vnni);
        let xs = Rng::new(1611 + n as u64).values(9 * COLS);
        let (fast, file) = (values(&r16, &xs), values(&m, &xs));
        let scale = file.iter().fold(0f32, |a, v| a.max(v.abs()));
        for (i, (a, b)) in fast.iter().zip(&file).enumerate() {
            assert!((a - b).abs() <= 1e-5 * scale, "{t} output {i}: {a} against {b} in the file's order");
        }
    }
}

#[test]
fn rows16_is_row_exact() {
    if !SimdLevel::Avx512Vnni.is_supported() {
        return;
    }
    for (n, (t, _)) in TYPES.into_iter().enumerate() {
        let (m, _) = random_matrix(t, ROWS, COLS, 1620 + n as u64);
        let r16 = m.repacked(SimdLevel::Avx512Vnni);
        let xs = Rng::new(1621 + n as u64).values(16 * COLS);
        let singles: Vec<Vec<u32>> = (0..16).map(|i| bits(&values(&r16, &xs[i * COLS..(i + 1) * COLS]))).collect();
        for k in 1..=16 {
            let out = bits(&values(&r16, &xs[..k * COLS]));
            for (i, single) in singles.iter().enumerate().take(k) {
                assert!(out[i * ROWS..(i + 1) * ROWS] == single[..], "{t}: row {i} of a {k}-row call differs");
            }
        }
    }
}

#[test]
fn only_whole_groups_of_rows_take_rows16() {
    for (t, rows, expected) in [
        (QType::Q4K, 32, Layout::Rows16),
        (QType::Q4K, 24, Layout::Lanes),
        (QType::Q6K, 32, Layout::Rows16),
        (QType::Q6K, 40, Layout::Lanes),
        (QType::Q8_0, 32, Layout::Rows16),
        (QType::Q8_0, 40, Layout::Lanes),
        (QType::Q5_0, 32, Layout::Rows16),
        (QType::Q5_0, 40, Layout::Gguf),
        (QType::Q4_0, 32, Layout::Rows16),
        (QType::Q4_1, 32, Layout::Gguf),
    ] {
        let (m, _) = random_matrix(t, rows, 256, 9);
        assert_eq!(m.repacked(SimdLevel::Avx512Vnni).layout(), expected, "{t} with {rows} rows");
        assert_eq!(m.repacked(SimdLevel::Avx2).layout(), Layout::Gguf, "{t} with {rows} rows for avx2");
    }
}

#[test]
#[should_panic(expected = "rows16")]
fn a_rows16_matrix_refuses_kernels_that_cannot_read_it() {
    let (m, _) = random_matrix(QType::Q4K, 16, 256, 3);
    let mut out = vec![0f32; 16];
    m.repacked(SimdLevel::Avx512Vnni).matmul_with(SimdLevel::Avx2, &[0.5; 256], &mut out);
}

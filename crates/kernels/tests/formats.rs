//! Block decoding checked against candle's `dequantize` for every type, and the geometry
//! the kernels report.

mod common;

use common::{candle_encode, dequantize_all, Rng};
use tandem_kernels::{Bytes, QMatrix, QType};

#[test]
fn every_type_decodes_exactly_like_candle() {
    for (n, t) in QType::ALL.into_iter().enumerate() {
        let (rows, cols) = (5, 512);
        let values = Rng::new(100 + n as u64).values(rows * cols);
        let (bytes, reference) = candle_encode(t, rows, cols, values);
        assert_eq!(bytes.len(), rows * cols / t.block_size() * t.block_bytes(), "{t}: block size");
        let m = QMatrix::new(t, rows, cols, Bytes::Owned(bytes)).unwrap();
        let ours = dequantize_all(&m);
        for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
            assert!(
                a == b || (a - b).abs() <= 1e-6 * b.abs(),
                "{t}: element {i} (row {}, col {}) is {a}, candle says {b}",
                i / cols,
                i % cols
            );
        }
    }
}

/// Hand-built blocks pin down the field order independently of candle.
#[test]
fn hand_built_blocks_decode_as_documented() {
    // Q8_0: d = 0.5, qs = 0, 1, -1, 2, -2, ...
    let mut b = half::f16::from_f32(0.5).to_le_bytes().to_vec();
    b.extend((0..32).map(|j: i32| ((if j % 2 == 1 { 1 } else { -1 }) * (j + 1) / 2) as i8 as u8));
    let m = QMatrix::new(QType::Q8_0, 1, 32, Bytes::Owned(b)).unwrap();
    let mut y = vec![0f32; 32];
    m.dequantize_row(0, &mut y);
    assert_eq!(&y[..5], &[0.0, 0.5, -0.5, 1.0, -1.0]);

    // Q4_1: d = 1, m = -8, byte j = (hi << 4) | lo with lo = j % 16, hi = 15 - j % 16.
    let mut b = half::f16::from_f32(1.0).to_le_bytes().to_vec();
    b.extend(half::f16::from_f32(-8.0).to_le_bytes());
    b.extend((0..16u8).map(|j| (15 - j) << 4 | j));
    let m = QMatrix::new(QType::Q4_1, 1, 32, Bytes::Owned(b)).unwrap();
    m.dequantize_row(0, &mut y);
    for j in 0..16 {
        assert_eq!(y[j], j as f32 - 8.0);
        assert_eq!(y[j + 16], (15 - j) as f32 - 8.0);
    }

    // Q5_0: d = 1, all nibbles 0, qh bit 0 and bit 16 set -> elements 0 and 16 are 0, rest -16.
    let mut b = half::f16::from_f32(1.0).to_le_bytes().to_vec();
    b.extend((1u32 | 1 << 16).to_le_bytes());
    b.extend([0u8; 16]);
    let m = QMatrix::new(QType::Q5_0, 1, 32, Bytes::Owned(b)).unwrap();
    m.dequantize_row(0, &mut y);
    for (j, v) in y.iter().enumerate() {
        assert_eq!(*v, if j == 0 || j == 16 { 0.0 } else { -16.0 }, "element {j}");
    }
}

#[test]
fn float_rows_decode_exactly() {
    let xs = [1.5f32, -2.25, 65504.0, 1e-3];
    let f32b: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
    let m = QMatrix::new(QType::F32, 1, 4, Bytes::Owned(f32b)).unwrap();
    let mut y = [0f32; 4];
    m.dequantize_row(0, &mut y);
    assert_eq!(y, xs);
    let bf: Vec<u8> = xs.iter().flat_map(|x| half::bf16::from_f32(*x).to_le_bytes()).collect();
    let m = QMatrix::new(QType::BF16, 1, 4, Bytes::Owned(bf)).unwrap();
    m.dequantize_row(0, &mut y);
    assert_eq!(y[0], 1.5);
    assert_eq!(y[1], -2.25);
}

#[test]
fn geometry_matches_ggml() {
    let expect = [
        (QType::F32, 0, 1, 4, "F32"),
        (QType::F16, 1, 1, 2, "F16"),
        (QType::Q4_0, 2, 32, 18, "Q4_0"),
        (QType::Q4_1, 3, 32, 20, "Q4_1"),
        (QType::Q5_0, 6, 32, 22, "Q5_0"),
        (QType::Q5_1, 7, 32, 24, "Q5_1"),
        (QType::Q8_0, 8, 32, 34, "Q8_0"),
        (QType::Q4K, 12, 256, 144, "Q4_K"),
        (QType::Q5K, 13, 256, 176, "Q5_K"),
        (QType::Q6K, 14, 256, 210, "Q6_K"),
        (QType::BF16, 30, 1, 2, "BF16"),
    ];
    for (t, id, bs, bb, name) in expect {
        assert_eq!(QType::from_ggml_id(id), Some(t));
        assert_eq!((t.block_size(), t.block_bytes(), t.name()), (bs, bb, name));
    }
}

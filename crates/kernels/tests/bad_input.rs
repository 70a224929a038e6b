//! Matrices over bytes that cannot hold them are refused with an error, never a panic.

use std::sync::Arc;

use tandem_kernels::{Bytes, KernelError, QMatrix, QType};

#[test]
fn a_wrong_byte_length_is_an_error() {
    let err = QMatrix::new(QType::Q4K, 2, 256, Bytes::Owned(vec![0; 287])).unwrap_err();
    assert_eq!(err, KernelError::BadLength { qtype: QType::Q4K, rows: 2, cols: 256, expected: 288, actual: 287 });
    assert!(err.to_string().contains("288"), "{err}");
    assert!(QMatrix::new(QType::Q8_0, 3, 64, Bytes::Owned(vec![0; 3 * 68 + 1])).is_err());
    assert!(QMatrix::new(QType::F32, 3, 5, Bytes::Owned(vec![0; 60])).is_ok());
}

#[test]
fn columns_must_be_whole_blocks() {
    for (t, cols) in [(QType::Q4K, 255), (QType::Q6K, 128), (QType::Q5_0, 33), (QType::Q8_0, 0), (QType::F16, 0)] {
        let err = QMatrix::new(t, 1, cols, Bytes::Owned(vec![])).unwrap_err();
        assert_eq!(err, KernelError::BadCols { qtype: t, cols });
    }
}

#[test]
fn a_shared_window_must_lie_inside_its_buffer() {
    let buf: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(vec![0u8; 100]);
    let at = |offset, len| Bytes::Shared { buf: buf.clone(), offset, len };
    assert!(QMatrix::new(QType::Q8_0, 2, 32, at(32, 68)).is_ok());
    assert_eq!(
        QMatrix::new(QType::Q8_0, 2, 32, at(33, 68)).unwrap_err(),
        KernelError::OutOfBounds { offset: 33, len: 68, buf_len: 100 }
    );
    assert!(matches!(QMatrix::new(QType::Q8_0, 2, 32, at(usize::MAX, 68)), Err(KernelError::OutOfBounds { .. })));
}

#[test]
fn sizes_that_overflow_are_an_error() {
    let err = QMatrix::new(QType::F32, usize::MAX / 2, 4, Bytes::Owned(vec![])).unwrap_err();
    assert_eq!(err, KernelError::TooLarge { rows: usize::MAX / 2, cols: 4 });
}

#[test]
fn a_shared_window_reads_the_right_bytes() {
    let mut raw = vec![0xAAu8; 10];
    raw.extend(half::f16::from_f32(2.0).to_le_bytes());
    raw.extend((0..32).map(|j| j as u8));
    raw.extend([0xAA; 7]);
    let buf: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(raw);
    let m = QMatrix::new(QType::Q8_0, 1, 32, Bytes::Shared { buf, offset: 10, len: 34 }).unwrap();
    let mut y = vec![0f32; 32];
    m.dequantize_row(0, &mut y);
    assert_eq!(y[31], 62.0);
    let mut out = [0f32];
    m.matmul(&[1.0; 32], &mut out);
    // Σ 2j for j < 32 = 992, with activations exactly representable (all 1.0 -> q = 127).
    assert!((out[0] - 992.0).abs() < 0.5, "{}", out[0]);
}

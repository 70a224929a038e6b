//! What the kernel examples share: model-sized matrices of random blocks.

use tandem_kernels::{Bytes, QMatrix, QType};

/// Random blocks with sane f16 scales (random scale bits would include NaN/Inf/subnormals);
/// each `seed` gives different blocks, so that matrices do not share cache lines' contents.
pub fn random_matrix(qtype: QType, rows: usize, cols: usize, seed: u64) -> QMatrix {
    let mut state = 0x2545_F491_4F6C_DD1Du64 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let len = qtype.row_bytes(cols).expect("whole blocks") * rows;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let scale = half::f16::from_f32(0.01).to_le_bytes();
    let scale_fields: &[usize] = match qtype {
        QType::Q4K | QType::Q5K => &[0, 2],
        QType::Q6K => &[208],
        _ => &[0],
    };
    for block in bytes.chunks_exact_mut(qtype.block_bytes()) {
        for &at in scale_fields {
            block[at..at + 2].copy_from_slice(&scale);
        }
    }
    QMatrix::new(qtype, rows, cols, Bytes::Owned(bytes)).expect("valid matrix")
}

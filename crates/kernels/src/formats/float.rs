//! The float "formats": F32, F16 and BF16 rows, little-endian.

pub(super) fn f32_to_f32(bytes: &[u8], out: &mut [f32]) {
    for (b, y) in bytes.chunks_exact(4).zip(out) {
        *y = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

pub(super) fn f16_to_f32(bytes: &[u8], out: &mut [f32]) {
    for (b, y) in bytes.chunks_exact(2).zip(out) {
        *y = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
    }
}

pub(super) fn bf16_to_f32(bytes: &[u8], out: &mut [f32]) {
    for (b, y) in bytes.chunks_exact(2).zip(out) {
        *y = half::bf16::from_le_bytes([b[0], b[1]]).to_f32();
    }
}

pub(super) fn f32_from_f32(xs: &[f32], out: &mut [u8]) {
    for (x, b) in xs.iter().zip(out.chunks_exact_mut(4)) {
        b.copy_from_slice(&x.to_le_bytes());
    }
}

pub(super) fn f16_from_f32(xs: &[f32], out: &mut [u8]) {
    for (x, b) in xs.iter().zip(out.chunks_exact_mut(2)) {
        b.copy_from_slice(&half::f16::from_f32(*x).to_le_bytes());
    }
}

pub(super) fn bf16_from_f32(xs: &[f32], out: &mut [u8]) {
    for (x, b) in xs.iter().zip(out.chunks_exact_mut(2)) {
        b.copy_from_slice(&half::bf16::from_f32(*x).to_le_bytes());
    }
}

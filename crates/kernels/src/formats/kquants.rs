//! The K-quant 256-element super-block types. Layouts (bytes, little-endian, packed):
//!
//! | type | layout                                                        | size |
//! |------|---------------------------------------------------------------|------|
//! | Q4_K | d: f16, dmin: f16, scales: [u8; 12], qs: [u8; 128]            | 144  |
//! | Q5_K | d: f16, dmin: f16, scales: [u8; 12], qh: [u8; 32], qs: [u8; 128] | 176 |
//! | Q6_K | ql: [u8; 128], qh: [u8; 64], scales: [i8; 16], d: f16        | 210  |
//!
//! Q4_K/Q5_K: eight sub-blocks of 32 with 6-bit scale and min each (packed into 12 bytes, see
//! [`unpack_scales_mins`]); value = d * scale * q - dmin * min. Each 64-element chunk `c`
//! takes the low nibbles of `qs[32c..32c + 32]` for sub-block `2c` and the high nibbles for
//! `2c + 1`; Q5_K adds bit `2c` (resp. `2c + 1`) of `qh[l]` as the fifth bit.
//!
//! Q6_K: sixteen sub-blocks of 16 with an i8 scale each; value = d * scale * (q - 32). Each
//! 128-element half `h` takes 4 bits from `ql[64h..64h + 64]` and 2 bits from
//! `qh[32h..32h + 32]`; see [`dequantize_q6k`] for the interleaving.

use super::f16_at;

/// Offsets of the fields inside the blocks.
pub(crate) mod at {
    pub const K_D: usize = 0;
    pub const K_DMIN: usize = 2;
    pub const K_SCALES: usize = 4;
    pub const Q4K_QS: usize = 16;
    pub const Q5K_QH: usize = 16;
    pub const Q5K_QS: usize = 48;
    pub const Q6K_QL: usize = 0;
    pub const Q6K_QH: usize = 128;
    pub const Q6K_SCALES: usize = 192;
    pub const Q6K_D: usize = 208;
}

/// The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K block from its 12 packed
/// bytes: sub-blocks 0..4 keep their values in the low 6 bits of bytes 0..4 (scales) and
/// 4..8 (mins); sub-blocks 4..8 take their low 4 bits from bytes 8..12 (low nibbles for
/// scales, high for mins) and their top 2 bits from the spare top bits of bytes 0..4
/// (scales) and 4..8 (mins).
///
/// Kernels call this once per weight block, so it works on the three little-endian words at
/// once (byte-wise masks keep every shift from mixing bytes) and always inlines.
#[inline(always)]
pub(crate) fn unpack_scales_mins(q: &[u8]) -> ([u8; 8], [u8; 8]) {
    const LOW6: u32 = 0x3F3F_3F3F;
    const LOW4: u32 = 0x0F0F_0F0F;
    const TOP2: u32 = 0x0303_0303;
    let q: &[u8; 12] = q.try_into().expect("12 packed scale bytes");
    let word = |i: usize| u32::from_le_bytes([q[4 * i], q[4 * i + 1], q[4 * i + 2], q[4 * i + 3]]);
    let (a, b, c) = (word(0), word(1), word(2));
    let sc_hi = (c & LOW4) | ((a >> 6) & TOP2) << 4;
    let mn_hi = ((c >> 4) & LOW4) | ((b >> 6) & TOP2) << 4;
    let sc = (a & LOW6) as u64 | (sc_hi as u64) << 32;
    let mn = (b & LOW6) as u64 | (mn_hi as u64) << 32;
    (sc.to_le_bytes(), mn.to_le_bytes())
}

pub(super) fn dequantize_q4k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (f16_at(b, at::K_D), f16_at(b, at::K_DMIN));
    let (sc, mn) = unpack_scales_mins(&b[at::K_SCALES..at::K_SCALES + 12]);
    for c in 0..4 {
        let qs = &b[at::Q4K_QS + 32 * c..at::Q4K_QS + 32 * c + 32];
        let (d1, m1) = (d * sc[2 * c] as f32, dmin * mn[2 * c] as f32);
        let (d2, m2) = (d * sc[2 * c + 1] as f32, dmin * mn[2 * c + 1] as f32);
        for l in 0..32 {
            y[64 * c + l] = d1 * (qs[l] & 0x0F) as f32 - m1;
            y[64 * c + 32 + l] = d2 * (qs[l] >> 4) as f32 - m2;
        }
    }
}

pub(super) fn dequantize_q5k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (f16_at(b, at::K_D), f16_at(b, at::K_DMIN));
    let (sc, mn) = unpack_scales_mins(&b[at::K_SCALES..at::K_SCALES + 12]);
    let qh = &b[at::Q5K_QH..at::Q5K_QH + 32];
    for c in 0..4 {
        let qs = &b[at::Q5K_QS + 32 * c..at::Q5K_QS + 32 * c + 32];
        let (d1, m1) = (d * sc[2 * c] as f32, dmin * mn[2 * c] as f32);
        let (d2, m2) = (d * sc[2 * c + 1] as f32, dmin * mn[2 * c + 1] as f32);
        for l in 0..32 {
            let lo = (qs[l] & 0x0F) | ((qh[l] >> (2 * c)) & 1) << 4;
            let hi = (qs[l] >> 4) | ((qh[l] >> (2 * c + 1)) & 1) << 4;
            y[64 * c + l] = d1 * lo as f32 - m1;
            y[64 * c + 32 + l] = d2 * hi as f32 - m2;
        }
    }
}

/// Within half `h`, for `l` in 0..32 with `qh = qh[32h + l]`:
/// element `l` = low nibble of `ql[l]` | bits 0-1 of qh, `l + 32` = low nibble of `ql[l + 32]`
/// | bits 2-3, `l + 64` = high nibble of `ql[l]` | bits 4-5, `l + 96` = high nibble of
/// `ql[l + 32]` | bits 6-7; each minus 32.
pub(super) fn dequantize_q6k(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, at::Q6K_D);
    for h in 0..2 {
        let ql = &b[at::Q6K_QL + 64 * h..at::Q6K_QL + 64 * h + 64];
        let qh = &b[at::Q6K_QH + 32 * h..at::Q6K_QH + 32 * h + 32];
        let sc = &b[at::Q6K_SCALES + 8 * h..at::Q6K_SCALES + 8 * h + 8];
        let y = &mut y[128 * h..128 * h + 128];
        for l in 0..32 {
            let s = l / 16;
            let q = [
                (ql[l] & 0x0F) | (qh[l] & 3) << 4,
                (ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4,
                (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4,
                (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4,
            ];
            for (g, q) in q.into_iter().enumerate() {
                y[l + 32 * g] = d * (sc[s + 2 * g] as i8) as f32 * (q as i32 - 32) as f32;
            }
        }
    }
}

/// A Q6_K block's 256 quants (0..63, before the offset of 32) in value order, from the
/// interleaving described at [`dequantize_q6k`].
pub(crate) fn q6k_quants(blk: &[u8]) -> [u8; 256] {
    let mut q = [0u8; 256];
    for h in 0..2 {
        let ql = &blk[at::Q6K_QL + 64 * h..at::Q6K_QL + 64 * h + 64];
        let qh = &blk[at::Q6K_QH + 32 * h..at::Q6K_QH + 32 * h + 32];
        for l in 0..32 {
            q[128 * h + l] = ql[l] & 0x0F | (qh[l] & 3) << 4;
            q[128 * h + 32 + l] = ql[l + 32] & 0x0F | (qh[l] >> 2 & 3) << 4;
            q[128 * h + 64 + l] = ql[l] >> 4 | (qh[l] >> 4 & 3) << 4;
            q[128 * h + 96 + l] = ql[l + 32] >> 4 | (qh[l] >> 6) << 4;
        }
    }
    q
}

/// Stores 256 quants in value order into a Q6_K block's `ql` and `qh`: the inverse of
/// [`q6k_quants`].
pub(crate) fn set_q6k_quants(q: &[u8; 256], blk: &mut [u8]) {
    for h in 0..2 {
        let q = &q[128 * h..128 * h + 128];
        for l in 0..32 {
            blk[at::Q6K_QL + 64 * h + l] = q[l] & 0x0F | (q[64 + l] & 0x0F) << 4;
            blk[at::Q6K_QL + 64 * h + 32 + l] = q[32 + l] & 0x0F | (q[96 + l] & 0x0F) << 4;
            blk[at::Q6K_QH + 32 * h + l] =
                q[l] >> 4 | (q[32 + l] >> 4) << 2 | (q[64 + l] >> 4) << 4 | (q[96 + l] >> 4) << 6;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout read one sub-block at a time, as documented.
    fn unpack_bytewise(q: &[u8; 12]) -> ([u8; 8], [u8; 8]) {
        let (mut sc, mut mn) = ([0u8; 8], [0u8; 8]);
        for j in 0..4 {
            sc[j] = q[j] & 63;
            mn[j] = q[j + 4] & 63;
        }
        for j in 4..8 {
            sc[j] = (q[j + 4] & 0x0F) | (q[j - 4] >> 6) << 4;
            mn[j] = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
        }
        (sc, mn)
    }

    #[test]
    fn word_wise_unpacking_matches_the_bytewise_layout() {
        let mut state = 0x9E37_79B9u32;
        for n in 0..4096 {
            let mut q = [0u8; 12];
            for b in q.iter_mut() {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *b = (state >> 24) as u8;
            }
            if n < 2 {
                q = [[0x00; 12], [0xFF; 12]][n];
            }
            assert_eq!(unpack_scales_mins(&q), unpack_bytewise(&q), "{q:?}");
        }
    }
}

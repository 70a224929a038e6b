//! Tandem's own arrangement of Q4_K, Q6_K and Q8_0 blocks for the AVX-512 kernels: "lanes".
//!
//! A block keeps its size, its scales and `d` where GGUF puts them; only the quants move,
//! so that the kernels load the four registers of the lane order (see
//! [`crate::act::Q8KLanesAct`]) with a load, a mask and a shift each, instead of decoding
//! the GGUF order and transposing it for every block of every call. Byte `j` of register
//! `t` is the quant of value [`value_at`]`(t, j)`:
//!
//! | type | quants as stored                                                              |
//! |------|-------------------------------------------------------------------------------|
//! | Q4_K | `qs[64h + j]`: register `2h` in the low nibble, `2h + 1` in the high nibble   |
//! | Q6_K | `ql[64h + j]`: low four bits of registers `2h` and `2h + 1`, as for Q4_K;     |
//! |      | `qh[j]`: the top two bits of register `t` at bits `2t .. 2t + 2`              |
//!
//! Q8_0 goes four blocks (128 values) at a time: a group keeps the four `d` first, then
//! the quants plus 128 (as unsigned bytes, for `vpdpbusd`) as two registers in which lane
//! `l` holds eight values of block `l / 4` (see [`q8_0_value_at`]). This needs rows of
//! whole groups, so Q8_0 has a lane form only where the row length is a multiple of 128.
//!
//! Matrices whose rows come in whole groups of sixteen take the rows16 form instead
//! ([`super::rows16`]), which does less work per weight; lane order serves the rest.
//!
//! Rearranging is exact both ways ([`to_lanes`], [`from_lanes`]).

use super::kquants::{self, at};
use crate::QType;

/// The run of sixteen values that lane `l` of a lane-order register covers: lane `4q + c`
/// holds run `4c + [0, 2, 1, 3][q]`, which puts the two runs of a 32-value sub-block in
/// lanes `l` and `l + 8`.
pub(crate) const fn lane_run(l: usize) -> usize {
    4 * (l % 4) + [0, 2, 1, 3][l / 4]
}

/// The value (0..256) whose quant is byte `j` of register `t`: lane `j / 4` holds four
/// values of its run from each register.
pub(crate) const fn value_at(t: usize, j: usize) -> usize {
    16 * lane_run(j / 4) + 4 * t + j % 4
}

/// Q8_0 blocks per group in lane order.
pub(crate) const Q8_0_GROUP: usize = 4;

/// The (block, value) of a Q8_0 group whose quant is byte `j` of register `t`.
pub(crate) const fn q8_0_value_at(t: usize, j: usize) -> (usize, usize) {
    let l = j / 4;
    (l / 4, 8 * (l % 4) + 4 * t + j % 4)
}

/// Whether rows of `cols` values of `qtype` have a lane form.
pub(crate) fn has_lanes(qtype: QType, cols: usize) -> bool {
    match qtype {
        QType::Q4K | QType::Q6K => true,
        QType::Q8_0 => cols.is_multiple_of(Q8_0_GROUP * qtype.block_size()),
        _ => false,
    }
}

/// Bytes rearranged as a unit: a block, or a group of Q8_0 blocks.
fn unit_bytes(qtype: QType) -> usize {
    match qtype {
        QType::Q8_0 => Q8_0_GROUP * qtype.block_bytes(),
        _ => qtype.block_bytes(),
    }
}

/// Rearrange whole blocks of `qtype` from GGUF order into lane order, with the AVX-512
/// kernels' own decoding where the CPU has it (a model's worth in a fraction of a second).
/// Panics if the type has no lane form.
pub(crate) fn to_lanes(qtype: QType, src: &[u8], dst: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if crate::SimdLevel::Avx512Vnni.is_supported() && matches!(qtype, QType::Q4K | QType::Q6K) {
        // SAFETY: the CPU has the features; the functions check that the lengths match.
        unsafe {
            match qtype {
                QType::Q4K => crate::avx2::q4k_to_lanes_vnni(src, dst),
                _ => crate::avx2::q6k_to_lanes_vnni(src, dst),
            }
        }
        return;
    }
    convert(qtype, src, dst, true)
}

/// The inverse of [`to_lanes`].
pub(crate) fn from_lanes(qtype: QType, src: &[u8], dst: &mut [u8]) {
    convert(qtype, src, dst, false)
}

fn convert(qtype: QType, src: &[u8], dst: &mut [u8], into_lanes: bool) {
    assert_eq!(src.len(), dst.len(), "rearranging keeps the size");
    let f: fn(&[u8], &mut [u8]) = match (qtype, into_lanes) {
        (QType::Q4K, true) => q4k_to_lanes,
        (QType::Q4K, false) => q4k_from_lanes,
        (QType::Q6K, true) => q6k_to_lanes,
        (QType::Q6K, false) => q6k_from_lanes,
        (QType::Q8_0, true) => q8_0_to_lanes,
        (QType::Q8_0, false) => q8_0_from_lanes,
        _ => panic!("{qtype} has no lane form"),
    };
    let size = unit_bytes(qtype);
    assert!(src.len().is_multiple_of(size), "{qtype} in lane order goes {size} bytes at a time");
    for (s, d) in src.chunks_exact(size).zip(dst.chunks_exact_mut(size)) {
        f(s, d);
    }
}

/// Q4_K's quants in value order: chunk `c` holds values `64c .. 64c + 32` in its low
/// nibbles and `64c + 32 .. 64c + 64` in its high nibbles.
fn q4k_to_lanes(src: &[u8], dst: &mut [u8]) {
    let mut q = [0u8; 256];
    let qs = &src[at::Q4K_QS..at::Q4K_QS + 128];
    for c in 0..4 {
        for l in 0..32 {
            q[64 * c + l] = qs[32 * c + l] & 0x0F;
            q[64 * c + 32 + l] = qs[32 * c + l] >> 4;
        }
    }
    dst[..at::Q4K_QS].copy_from_slice(&src[..at::Q4K_QS]);
    let out = &mut dst[at::Q4K_QS..at::Q4K_QS + 128];
    for h in 0..2 {
        for j in 0..64 {
            out[64 * h + j] = q[value_at(2 * h, j)] | q[value_at(2 * h + 1, j)] << 4;
        }
    }
}

fn q4k_from_lanes(src: &[u8], dst: &mut [u8]) {
    let mut q = [0u8; 256];
    let packed = &src[at::Q4K_QS..at::Q4K_QS + 128];
    for h in 0..2 {
        for j in 0..64 {
            q[value_at(2 * h, j)] = packed[64 * h + j] & 0x0F;
            q[value_at(2 * h + 1, j)] = packed[64 * h + j] >> 4;
        }
    }
    dst[..at::Q4K_QS].copy_from_slice(&src[..at::Q4K_QS]);
    let qs = &mut dst[at::Q4K_QS..at::Q4K_QS + 128];
    for c in 0..4 {
        for l in 0..32 {
            qs[32 * c + l] = q[64 * c + l] | q[64 * c + 32 + l] << 4;
        }
    }
}

fn q6k_to_lanes(src: &[u8], dst: &mut [u8]) {
    let q = kquants::q6k_quants(src);
    dst[at::Q6K_SCALES..].copy_from_slice(&src[at::Q6K_SCALES..]);
    let (ql, qh) = dst[..at::Q6K_SCALES].split_at_mut(at::Q6K_QH);
    for j in 0..64 {
        let r = [0, 1, 2, 3].map(|t| q[value_at(t, j)]);
        ql[j] = r[0] & 0x0F | (r[1] & 0x0F) << 4;
        ql[64 + j] = r[2] & 0x0F | (r[3] & 0x0F) << 4;
        qh[j] = r[0] >> 4 | (r[1] >> 4) << 2 | (r[2] >> 4) << 4 | (r[3] >> 4) << 6;
    }
}

fn q6k_from_lanes(src: &[u8], dst: &mut [u8]) {
    let mut q = [0u8; 256];
    for j in 0..64 {
        let (lo, hi, top) = (src[at::Q6K_QL + j], src[at::Q6K_QL + 64 + j], src[at::Q6K_QH + j]);
        let low = [lo & 0x0F, lo >> 4, hi & 0x0F, hi >> 4];
        for t in 0..4 {
            q[value_at(t, j)] = low[t] | (top >> (2 * t) & 3) << 4;
        }
    }
    dst[at::Q6K_SCALES..].copy_from_slice(&src[at::Q6K_SCALES..]);
    kquants::set_q6k_quants(&q, dst);
}

/// Q8_0: `d` of the four blocks, then the quants (offset by 128) in lane order.
fn q8_0_to_lanes(src: &[u8], dst: &mut [u8]) {
    for blk in 0..Q8_0_GROUP {
        dst[2 * blk..2 * blk + 2].copy_from_slice(&src[34 * blk..34 * blk + 2]);
    }
    for t in 0..2 {
        for j in 0..64 {
            let (blk, v) = q8_0_value_at(t, j);
            dst[8 + 64 * t + j] = src[34 * blk + 2 + v] ^ 0x80;
        }
    }
}

fn q8_0_from_lanes(src: &[u8], dst: &mut [u8]) {
    for blk in 0..Q8_0_GROUP {
        dst[34 * blk..34 * blk + 2].copy_from_slice(&src[2 * blk..2 * blk + 2]);
    }
    for t in 0..2 {
        for j in 0..64 {
            let (blk, v) = q8_0_value_at(t, j);
            dst[34 * blk + 2 + v] = src[8 + 64 * t + j] ^ 0x80;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn every_q8_0_value_has_one_place() {
        let mut seen = [[false; 32]; Q8_0_GROUP];
        for t in 0..2 {
            for j in 0..64 {
                let (blk, v) = q8_0_value_at(t, j);
                assert!(!seen[blk][v], "block {blk} value {v} twice");
                seen[blk][v] = true;
            }
        }
        assert!(has_lanes(QType::Q8_0, 896) && !has_lanes(QType::Q8_0, 864));
    }

    #[test]
    fn every_value_has_one_place() {
        let mut seen = [false; 256];
        for t in 0..4 {
            for j in 0..64 {
                assert!(!seen[value_at(t, j)], "value {} twice", value_at(t, j));
                seen[value_at(t, j)] = true;
            }
        }
        for l in 0..8 {
            assert_eq!(lane_run(l) / 2, lane_run(l + 8) / 2, "lanes {l} and {} share a sub-block", l + 8);
        }
    }

    /// `n` pseudo-random bytes (xorshift64) from `seed`.
    pub(in crate::formats) fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn simd_and_portable_rearranging_agree() {
        for qtype in [QType::Q4K, QType::Q6K] {
            let src = random_bytes(5 * qtype.block_bytes(), 0x2545_F491_4F6C_DD1D);
            let (mut fast, mut portable) = (vec![0u8; src.len()], vec![0u8; src.len()]);
            to_lanes(qtype, &src, &mut fast);
            convert(qtype, &src, &mut portable, true);
            assert_eq!(fast, portable, "{qtype}");
        }
    }

    #[test]
    fn rearranging_is_exact_both_ways() {
        for qtype in [QType::Q4K, QType::Q6K, QType::Q8_0] {
            let src = random_bytes(3 * unit_bytes(qtype), 0x9E37_79B9_7F4A_7C15);
            let (mut lanes, mut back) = (vec![0u8; src.len()], vec![0u8; src.len()]);
            to_lanes(qtype, &src, &mut lanes);
            assert_ne!(lanes, src, "{qtype}: the quants move");
            from_lanes(qtype, &lanes, &mut back);
            assert_eq!(back, src, "{qtype}");
        }
    }
}

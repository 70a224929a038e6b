//! Tandem's arrangement of Q4_K, Q6_K, Q4_0, Q5_0 and Q8_0 matrices for the AVX-512 VNNI
//! kernels: "rows16", sixteen weight rows interleaved block by block.
//!
//! In lane order ([`super::lanes`]) the sixteen 32-bit lanes of a register hold sixteen runs
//! of one row, so every block of every activation row ends in f32 work on all sixteen lanes
//! (a conversion and three multiply-adds per four `vpdpbusd`), and those f32 operations
//! share the one 512-bit multiply port with `vpdpbusd`. Here the lanes hold sixteen *rows*
//! instead: lane `r` of every register belongs to weight row `r` of the group, each
//! activation value is broadcast to all lanes, and the sixteen results of a call are the
//! sixteen lanes of one accumulator, with no horizontal sum. A 32-value sub-block then takes
//! eight `vpdpbusd` and is finished with one conversion and one multiply-add for all sixteen
//! rows at once: a third of the finishing work per `vpdpbusd`.
//!
//! A group of sixteen rows is stored block column by block column. For Q4_K, block `b` of
//! the group takes [`GROUP_BLOCK_BYTES`] bytes:
//!
//! | bytes       | what                                                                     |
//! |-------------|--------------------------------------------------------------------------|
//! | 0..32       | `d` of rows 0..16 (f16)                                                  |
//! | 32..64      | `dmin` of rows 0..16 (f16)                                               |
//! | 64..192     | the 6-bit scales, unpacked: byte `64 + 16j + r` is sub-block `j` of row `r` |
//! | 192..320    | the 6-bit mins in pairs: byte `192 + 32p + 2r + h` is sub-block `2p + h` of row `r`, so that widened to 16 bits they pair up with an activation's two sub-block sums for one `vpdpwssd` |
//! | 320..2368   | quants: for sub-block pair `p`, 512 bytes as eight registers `t`; byte `4r + i` of register `t` holds values `64p + 4t + i` (low nibble, sub-block `2p`) and `64p + 32 + 4t + i` (high nibble, sub-block `2p + 1`) of row `r` |
//!
//! Unpacked scales cost 4 bytes per row and block over the file's 144 (2.8%); they save
//! the kernels the bit-picking of the packed form for every block of every call.
//!
//! For Q6_K, block `b` of the group takes [`Q6K_GROUP_BLOCK_BYTES`] (16 x 210, the file's
//! size):
//!
//! | bytes       | what                                                                     |
//! |-------------|--------------------------------------------------------------------------|
//! | 0..32       | `d` of rows 0..16 (f16)                                                  |
//! | 32..288     | scales (i8): byte `32 + 16j + r` is sub-block `j` of row `r`             |
//! | 288..3360   | quants (6 bits, 0..63): sub-block `j` (values `16j .. 16j + 16`) as three registers `A`, `B`, `C` of 64 bytes at `288 + 192j`. Byte `4r + i` of `A`, `B` and `C` holds, in its low six bits, value `16j + 4c + i` of row `r` for `c` = 0, 1, 2; its top two bits hold bits `0-1`, `2-3` and `4-5` of value `16j + 12 + i` |
//!
//! For Q8_0, block `b` of the group takes [`Q8_0_GROUP_BLOCK_BYTES`] (16 x 34): `d` of the
//! sixteen rows (f16), then eight registers `t` in which byte `4r + i` holds value
//! `4t + i` of row `r` plus 128, unsigned, as `vpdpbusd` wants its first operand.
//!
//! For Q5_0, block `b` of the group takes [`Q5_0_GROUP_BLOCK_BYTES`] (16 x 22): `d` of the
//! sixteen rows (f16); four registers `u` whose byte `4r + i` holds the low four bits of
//! value `4u + i` of row `r` in its low nibble and of value `16 + 4u + i` in its high
//! nibble; then, for each register `t` of values `4t ..` (`t` = 0..8), a 64-bit mask whose
//! bit `4r + i` is the fifth bit of value `4t + i` of row `r`. Q4_0 is Q5_0 without the
//! masks (16 x 18 bytes).
//!
//! Rearranging is exact both ways ([`to_rows16`], [`from_rows16`]).

use super::kquants::{self, at};
use super::unpack_scales_mins;
use crate::QType;

/// Rows per group.
pub(crate) const GROUP: usize = 16;

/// Bytes of one block of a sixteen-row group.
pub(crate) const GROUP_BLOCK_BYTES: usize = 2368;

/// Offsets inside a group's block.
pub(crate) const D: usize = 0;
pub(crate) const DMIN: usize = 32;
pub(crate) const SCALES: usize = 64;
pub(crate) const MINS: usize = 192;
pub(crate) const QUANTS: usize = 320;

/// Bytes per row and block in this arrangement (a group's block shared out over its rows).
pub(crate) const ROW_BLOCK_BYTES: usize = GROUP_BLOCK_BYTES / GROUP;

/// Q6_K: bytes of one block of a sixteen-row group, and the offsets inside it.
pub(crate) const Q6K_GROUP_BLOCK_BYTES: usize = 3360;
pub(crate) const Q6K_D: usize = 0;
pub(crate) const Q6K_SCALES: usize = 32;
pub(crate) const Q6K_QUANTS: usize = 288;

/// Q8_0: bytes of one block of a sixteen-row group, and the offset of its quants.
pub(crate) const Q8_0_GROUP_BLOCK_BYTES: usize = 544;
pub(crate) const Q8_0_QUANTS: usize = 32;

/// Q5_0: bytes of one block of a sixteen-row group, and the offsets inside it.
pub(crate) const Q5_0_GROUP_BLOCK_BYTES: usize = 352;
pub(crate) const Q5_0_NIBBLES: usize = 32;
pub(crate) const Q5_0_FIFTH_BITS: usize = 288;

/// Q4_0: bytes of one block of a sixteen-row group (its nibbles sit as Q5_0's do).
pub(crate) const Q4_0_GROUP_BLOCK_BYTES: usize = 288;

/// Whether a `qtype` matrix of `rows` rows has a rows16 form.
pub(crate) fn has_rows16(qtype: QType, rows: usize) -> bool {
    matches!(qtype, QType::Q4K | QType::Q6K | QType::Q4_0 | QType::Q5_0 | QType::Q8_0) && rows.is_multiple_of(GROUP)
}

/// Bytes per row and block of `qtype` in rows16 form.
pub(crate) fn row_block_bytes(qtype: QType) -> usize {
    match qtype {
        QType::Q4K => ROW_BLOCK_BYTES,
        QType::Q6K => Q6K_GROUP_BLOCK_BYTES / GROUP,
        QType::Q4_0 => Q4_0_GROUP_BLOCK_BYTES / GROUP,
        QType::Q5_0 => Q5_0_GROUP_BLOCK_BYTES / GROUP,
        QType::Q8_0 => Q8_0_GROUP_BLOCK_BYTES / GROUP,
        _ => panic!("{qtype} has no rows16 form"),
    }
}

/// The offset, inside a group's block, of the quant byte that holds value `v` (0..256) of
/// row `r`, and whether it sits in the high nibble.
const fn quant_at(r: usize, v: usize) -> (usize, bool) {
    let (p, within) = (v / 64, v % 64);
    let (high, i) = (within >= 32, within % 32);
    (QUANTS + 512 * p + 64 * (i / 4) + 4 * r + i % 4, high)
}

/// The offset, inside a group's block, of the min of sub-block `j` of row `r`.
const fn min_at(r: usize, j: usize) -> usize {
    MINS + 32 * (j / 2) + 2 * r + j % 2
}

/// Rearrange one group of sixteen GGUF rows of `qtype` (`src`, row after row, `nb` blocks
/// each) into rows16 form (`dst`).
pub(crate) fn to_rows16(qtype: QType, src: &[u8], dst: &mut [u8], nb: usize) {
    let (gb, bb) = (row_block_bytes(qtype) * GROUP, qtype.block_bytes());
    let rb = nb * bb;
    assert!(src.len() == GROUP * rb && dst.len() == nb * gb, "one group of whole rows");
    for (b, group) in dst.chunks_exact_mut(gb).enumerate() {
        group.fill(0);
        for r in 0..GROUP {
            let blk = &src[r * rb + b * bb..r * rb + (b + 1) * bb];
            match qtype {
                QType::Q4K => q4k_block_to_group(blk, r, group),
                QType::Q6K => q6k_block_to_group(blk, r, group),
                QType::Q4_0 | QType::Q5_0 => q4_0_q5_0_block_to_group(qtype, blk, r, group),
                QType::Q8_0 => q8_0_block_to_group(blk, r, group),
                _ => panic!("{qtype} has no rows16 form"),
            }
        }
    }
}

/// The inverse of [`to_rows16`].
pub(crate) fn from_rows16(qtype: QType, src: &[u8], dst: &mut [u8], nb: usize) {
    let (gb, bb) = (row_block_bytes(qtype) * GROUP, qtype.block_bytes());
    assert!(dst.len() == GROUP * nb * bb && src.len() == nb * gb, "one group of whole rows");
    for (b, group) in src.chunks_exact(gb).enumerate() {
        for r in 0..GROUP {
            let at = r * nb * bb + b * bb;
            block_of_row(qtype, group, r, &mut dst[at..at + bb]);
        }
    }
}

/// GGUF row `r` (`dst`, whole blocks) of a `qtype` matrix in rows16 form whose row `r` lies
/// in `group` (the group's bytes).
pub(crate) fn row_from_rows16(qtype: QType, group: &[u8], r: usize, dst: &mut [u8]) {
    let (gb, bb) = (row_block_bytes(qtype) * GROUP, qtype.block_bytes());
    assert!(r < GROUP && group.len() / gb * bb == dst.len());
    for (g, blk) in group.chunks_exact(gb).zip(dst.chunks_exact_mut(bb)) {
        block_of_row(qtype, g, r, blk);
    }
}

/// Row `r`'s GGUF block from a group's block.
fn block_of_row(qtype: QType, group: &[u8], r: usize, blk: &mut [u8]) {
    match qtype {
        QType::Q4K => q4k_block_of_row(group, r, blk),
        QType::Q6K => q6k_block_of_row(group, r, blk),
        QType::Q4_0 | QType::Q5_0 => q4_0_q5_0_block_of_row(qtype, group, r, blk),
        _ => q8_0_block_of_row(group, r, blk),
    }
}

/// Row `r`'s GGUF block into a group's block (zeroed beforehand): the inverse of
/// [`block_of_row`]. So are the other `*_block_to_group`.
fn q4k_block_to_group(blk: &[u8], r: usize, out: &mut [u8]) {
    out[D + 2 * r..D + 2 * r + 2].copy_from_slice(&blk[at::K_D..at::K_D + 2]);
    out[DMIN + 2 * r..DMIN + 2 * r + 2].copy_from_slice(&blk[at::K_DMIN..at::K_DMIN + 2]);
    let (sc, mn) = unpack_scales_mins(&blk[at::K_SCALES..at::K_SCALES + 12]);
    for j in 0..8 {
        out[SCALES + 16 * j + r] = sc[j];
        out[min_at(r, j)] = mn[j];
    }
    let qs = &blk[at::Q4K_QS..at::Q4K_QS + 128];
    for p in 0..4 {
        for i in 0..32 {
            let (lo, _) = quant_at(r, 64 * p + i);
            out[lo] = qs[32 * p + i];
        }
    }
}

fn q4k_block_of_row(group: &[u8], r: usize, blk: &mut [u8]) {
    blk[at::K_D..at::K_D + 2].copy_from_slice(&group[D + 2 * r..D + 2 * r + 2]);
    blk[at::K_DMIN..at::K_DMIN + 2].copy_from_slice(&group[DMIN + 2 * r..DMIN + 2 * r + 2]);
    let sc: [u8; 8] = std::array::from_fn(|j| group[SCALES + 16 * j + r]);
    let mn: [u8; 8] = std::array::from_fn(|j| group[min_at(r, j)]);
    blk[at::K_SCALES..at::K_SCALES + 12].copy_from_slice(&pack_scales_mins(&sc, &mn));
    for p in 0..4 {
        for i in 0..32 {
            let (lo, _) = quant_at(r, 64 * p + i);
            blk[at::Q4K_QS + 32 * p + i] = group[lo];
        }
    }
}

/// The offset, inside a Q6_K group's block, of the byte that holds value `v` (0..256,
/// with `v % 16 < 12`) of row `r` in its low six bits.
const fn q6k_at(r: usize, v: usize) -> usize {
    let (j, c, i) = (v / 16, v % 16 / 4, v % 4);
    Q6K_QUANTS + 192 * j + 64 * c + 4 * r + i
}

fn q6k_block_to_group(blk: &[u8], r: usize, out: &mut [u8]) {
    out[Q6K_D + 2 * r..Q6K_D + 2 * r + 2].copy_from_slice(&blk[at::Q6K_D..at::Q6K_D + 2]);
    for j in 0..16 {
        out[Q6K_SCALES + 16 * j + r] = blk[at::Q6K_SCALES + j];
    }
    let q = kquants::q6k_quants(blk);
    for (v, &q) in q.iter().enumerate() {
        if v % 16 < 12 {
            out[q6k_at(r, v)] |= q;
        } else {
            // Bits 2c..2c + 2 go to the top of register c's byte.
            for c in 0..3 {
                out[q6k_at(r, v - 12 + 4 * c)] |= (q >> (2 * c) & 3) << 6;
            }
        }
    }
}

fn q6k_block_of_row(group: &[u8], r: usize, blk: &mut [u8]) {
    blk[at::Q6K_D..at::Q6K_D + 2].copy_from_slice(&group[Q6K_D + 2 * r..Q6K_D + 2 * r + 2]);
    for j in 0..16 {
        blk[at::Q6K_SCALES + j] = group[Q6K_SCALES + 16 * j + r];
    }
    let q: [u8; 256] = std::array::from_fn(|v| {
        if v % 16 < 12 {
            group[q6k_at(r, v)] & 0x3F
        } else {
            (0..3).map(|c| (group[q6k_at(r, v - 12 + 4 * c)] >> 6) << (2 * c)).fold(0, |a, b| a | b)
        }
    });
    kquants::set_q6k_quants(&q, blk);
}

/// Q4_0 (d, 16 bytes of nibbles) and Q5_0 (d, 32 fifth bits, the nibbles) blocks.
fn q4_0_q5_0_block_to_group(qtype: QType, blk: &[u8], r: usize, out: &mut [u8]) {
    let nibbles = qtype.block_bytes() - 16;
    out[2 * r..2 * r + 2].copy_from_slice(&blk[..2]);
    let qh = match qtype {
        QType::Q5_0 => u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]),
        _ => 0,
    };
    for v in 0..32 {
        let (nibble, bit) = (blk[nibbles + v % 16] >> (4 * (v / 16)) & 0x0F, qh >> v & 1);
        let (at, shift) = q5_0_nibble_at(r, v);
        out[at] |= nibble << shift;
        let (at, mask) = q5_0_bit_at(r, v);
        if bit == 1 {
            out[at] |= mask;
        }
    }
}

fn q4_0_q5_0_block_of_row(qtype: QType, group: &[u8], r: usize, blk: &mut [u8]) {
    let nibbles = qtype.block_bytes() - 16;
    blk[..2].copy_from_slice(&group[2 * r..2 * r + 2]);
    let mut qh = 0u32;
    blk[nibbles..].fill(0);
    for v in 0..32 {
        let (at, shift) = q5_0_nibble_at(r, v);
        blk[nibbles + v % 16] |= (group[at] >> shift & 0x0F) << (4 * (v / 16));
        if qtype == QType::Q5_0 {
            let (at, mask) = q5_0_bit_at(r, v);
            qh |= ((group[at] & mask != 0) as u32) << v;
        }
    }
    if qtype == QType::Q5_0 {
        blk[2..6].copy_from_slice(&qh.to_le_bytes());
    }
}

/// The byte, inside a Q5_0 group's block, of the low four bits of value `v` (0..32) of row
/// `r`, and their shift in it.
const fn q5_0_nibble_at(r: usize, v: usize) -> (usize, u32) {
    (Q5_0_NIBBLES + 64 * (v % 16 / 4) + 4 * r + v % 4, 4 * (v / 16) as u32)
}

/// The byte, inside a Q5_0 group's block, of the fifth bit of value `v` (0..32) of row `r`,
/// and the bit's mask in it: bit `4r + i` of register `v / 4`'s little-endian 64-bit mask.
const fn q5_0_bit_at(r: usize, v: usize) -> (usize, u8) {
    let bit = 4 * r + v % 4;
    (Q5_0_FIFTH_BITS + 8 * (v / 4) + bit / 8, 1 << (bit % 8))
}

fn q8_0_block_to_group(blk: &[u8], r: usize, out: &mut [u8]) {
    out[2 * r..2 * r + 2].copy_from_slice(&blk[..2]);
    for v in 0..32 {
        out[q8_0_at(r, v)] = blk[2 + v] ^ 0x80;
    }
}

fn q8_0_block_of_row(group: &[u8], r: usize, blk: &mut [u8]) {
    blk[..2].copy_from_slice(&group[2 * r..2 * r + 2]);
    for v in 0..32 {
        blk[2 + v] = group[q8_0_at(r, v)] ^ 0x80;
    }
}

/// The offset, inside a Q8_0 group's block, of value `v` (0..32) of row `r`.
const fn q8_0_at(r: usize, v: usize) -> usize {
    Q8_0_QUANTS + 64 * (v / 4) + 4 * r + v % 4
}

/// The 12 packed bytes of eight 6-bit scales and mins: the inverse of [`unpack_scales_mins`].
fn pack_scales_mins(sc: &[u8; 8], mn: &[u8; 8]) -> [u8; 12] {
    let mut q = [0u8; 12];
    for j in 0..4 {
        q[j] = sc[j] & 0x3F | (sc[j + 4] >> 4) << 6;
        q[j + 4] = mn[j] & 0x3F | (mn[j + 4] >> 4) << 6;
        q[j + 8] = sc[j + 4] & 0x0F | (mn[j + 4] & 0x0F) << 4;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quant_has_one_place() {
        let mut seen = vec![[false; 2]; GROUP_BLOCK_BYTES];
        for r in 0..GROUP {
            for v in 0..256 {
                let (at, high) = quant_at(r, v);
                assert!((QUANTS..GROUP_BLOCK_BYTES).contains(&at));
                assert!(!seen[at][high as usize], "row {r} value {v} shares a nibble");
                seen[at][high as usize] = true;
            }
        }
        assert_eq!(QUANTS + 16 * 128, GROUP_BLOCK_BYTES);
    }

    #[test]
    fn scales_pack_back_to_their_bytes() {
        let bytes = crate::formats::lanes::tests::random_bytes(200 * 12, 0x2545_F491_4F6C_DD1D);
        for q in bytes.chunks_exact(12) {
            let (sc, mn) = unpack_scales_mins(q);
            assert_eq!(pack_scales_mins(&sc, &mn)[..], *q);
        }
    }
}

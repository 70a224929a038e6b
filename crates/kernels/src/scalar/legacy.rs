//! Scalar dot products of legacy-format weight rows with Q8_0/Q8_1 activation rows.
//! Per block: an exact i32 sum of products, scaled by d_w * d_a and added to one f32.

use crate::act::{Q8_0Act, Q8_1Act};
use crate::formats::f16_at;

fn fifth_bits(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Σ w·a over one block given signed weights `lo[j]` (element j) and `hi[j]` (j + 16).
fn block_sum(lo: impl Fn(usize) -> i32, hi: impl Fn(usize) -> i32, a: &[i8; 32]) -> i32 {
    (0..16).map(|j| lo(j) * a[j] as i32 + hi(j) * a[j + 16] as i32).sum()
}

fn q4_0_row(w: &[u8], a: &[Q8_0Act]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(18).zip(a) {
        let qs = &b[2..18];
        let sumi = block_sum(|j| (qs[j] & 0x0F) as i32 - 8, |j| (qs[j] >> 4) as i32 - 8, &y.qs);
        sum += sumi as f32 * (f16_at(b, 0) * y.d);
    }
    sum
}

fn q4_1_row(w: &[u8], a: &[Q8_1Act]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(20).zip(a) {
        let qs = &b[4..20];
        let sumi = block_sum(|j| (qs[j] & 0x0F) as i32, |j| (qs[j] >> 4) as i32, &y.qs);
        sum += sumi as f32 * (f16_at(b, 0) * y.d) + f16_at(b, 2) * y.s;
    }
    sum
}

fn q5_0_row(w: &[u8], a: &[Q8_0Act]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(22).zip(a) {
        let qh = fifth_bits(b, 2);
        let qs = &b[6..22];
        let lo = |j: usize| ((qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4) as i32 - 16;
        let hi = |j: usize| ((qs[j] >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4) as i32 - 16;
        sum += block_sum(lo, hi, &y.qs) as f32 * (f16_at(b, 0) * y.d);
    }
    sum
}

fn q5_1_row(w: &[u8], a: &[Q8_1Act]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(24).zip(a) {
        let qh = fifth_bits(b, 4);
        let qs = &b[8..24];
        let lo = |j: usize| ((qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4) as i32;
        let hi = |j: usize| ((qs[j] >> 4) as u32 | ((qh >> (j + 16)) & 1) << 4) as i32;
        sum += block_sum(lo, hi, &y.qs) as f32 * (f16_at(b, 0) * y.d) + f16_at(b, 2) * y.s;
    }
    sum
}

fn q8_0_row(w: &[u8], a: &[Q8_0Act]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(34).zip(a) {
        let sumi: i32 = b[2..34].iter().zip(&y.qs).map(|(&q, &v)| q as i8 as i32 * v as i32).sum();
        sum += sumi as f32 * (f16_at(b, 0) * y.d);
    }
    sum
}

n_rows!(dot_q4_0, q4_0_row, Q8_0Act);
n_rows!(dot_q4_1, q4_1_row, Q8_1Act);
n_rows!(dot_q5_0, q5_0_row, Q8_0Act);
n_rows!(dot_q5_1, q5_1_row, Q8_1Act);
n_rows!(dot_q8_0, q8_0_row, Q8_0Act);

//! The legacy 32-element block types. Layouts (bytes, little-endian, packed):
//!
//! | type | layout                                   | size |
//! |------|------------------------------------------|------|
//! | Q4_0 | d: f16, qs: [u8; 16]                     | 18   |
//! | Q4_1 | d: f16, m: f16, qs: [u8; 16]             | 20   |
//! | Q5_0 | d: f16, qh: u32, qs: [u8; 16]            | 22   |
//! | Q5_1 | d: f16, m: f16, qh: u32, qs: [u8; 16]    | 24   |
//! | Q8_0 | d: f16, qs: [i8; 32]                     | 34   |
//!
//! Nibble packing: element `j < 16` is the low nibble of `qs[j]`, element `j + 16` its high
//! nibble. For the 5-bit types bit `j` of `qh` is the fifth bit of element `j`.

use super::f16_at;
use crate::qtype::QK;

const HALF: usize = QK / 2;

fn fifth_bits(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(super) fn dequantize_q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qs = &b[2..2 + HALF];
    for j in 0..HALF {
        y[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
        y[j + HALF] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}

pub(super) fn dequantize_q4_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let qs = &b[4..4 + HALF];
    for j in 0..HALF {
        y[j] = (qs[j] & 0x0F) as f32 * d + m;
        y[j + HALF] = (qs[j] >> 4) as f32 * d + m;
    }
}

pub(super) fn dequantize_q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = fifth_bits(b, 2);
    let qs = &b[6..6 + HALF];
    for j in 0..HALF {
        let lo = (qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4;
        let hi = (qs[j] >> 4) as u32 | ((qh >> (j + HALF)) & 1) << 4;
        y[j] = (lo as i32 - 16) as f32 * d;
        y[j + HALF] = (hi as i32 - 16) as f32 * d;
    }
}

/// Re-encodes a Q5_0 block as Q8_0 exactly: the same scale, and each 5-bit value minus 16
/// (-16..=15) as an int8, so every weight keeps its value.
pub(super) fn widen_q5_0_to_q8_0(b: &[u8], out: &mut [u8]) {
    out[..2].copy_from_slice(&b[..2]);
    let qh = fifth_bits(b, 2);
    let qs = &b[6..6 + HALF];
    for j in 0..HALF {
        let lo = (qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4;
        let hi = (qs[j] >> 4) as u32 | ((qh >> (j + HALF)) & 1) << 4;
        out[2 + j] = (lo as i32 - 16) as i8 as u8;
        out[2 + j + HALF] = (hi as i32 - 16) as i8 as u8;
    }
}

pub(super) fn dequantize_q5_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    let qh = fifth_bits(b, 4);
    let qs = &b[8..8 + HALF];
    for j in 0..HALF {
        let lo = (qs[j] & 0x0F) as u32 | ((qh >> j) & 1) << 4;
        let hi = (qs[j] >> 4) as u32 | ((qh >> (j + HALF)) & 1) << 4;
        y[j] = lo as f32 * d + m;
        y[j + HALF] = hi as f32 * d + m;
    }
}

pub(super) fn dequantize_q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for (j, y) in y.iter_mut().enumerate().take(QK) {
        *y = b[2 + j] as i8 as f32 * d;
    }
}

fn put_f16(out: &mut [u8], at: usize, v: f32) {
    out[at..at + 2].copy_from_slice(&half::f16::from_f32(v).to_le_bytes());
}

/// The element of largest magnitude, keeping its sign (first one wins ties), as ggml's
/// symmetric quantizers use it so that it maps exactly onto the most negative level.
fn signed_absmax(x: &[f32]) -> f32 {
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    max
}

fn min_max(x: &[f32]) -> (f32, f32) {
    x.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

fn inverse(d: f32) -> f32 {
    if d != 0.0 {
        1.0 / d
    } else {
        0.0
    }
}

pub(super) fn quantize_q4_0(x: &[f32; QK], out: &mut [u8]) {
    let d = signed_absmax(x) / -8.0;
    let id = inverse(d);
    put_f16(out, 0, d);
    for j in 0..HALF {
        // `as u8` saturates; the values are in [0.5, 16.5] anyway.
        let lo = ((x[j] * id + 8.5) as u8).min(15);
        let hi = ((x[j + HALF] * id + 8.5) as u8).min(15);
        out[2 + j] = lo | hi << 4;
    }
}

pub(super) fn quantize_q4_1(x: &[f32; QK], out: &mut [u8]) {
    let (min, max) = min_max(x);
    let d = (max - min) / 15.0;
    let id = inverse(d);
    put_f16(out, 0, d);
    put_f16(out, 2, min);
    for j in 0..HALF {
        let lo = (((x[j] - min) * id + 0.5) as u8).min(15);
        let hi = (((x[j + HALF] - min) * id + 0.5) as u8).min(15);
        out[4 + j] = lo | hi << 4;
    }
}

pub(super) fn quantize_q5_0(x: &[f32; QK], out: &mut [u8]) {
    let d = signed_absmax(x) / -16.0;
    let id = inverse(d);
    put_f16(out, 0, d);
    let mut qh = 0u32;
    for j in 0..HALF {
        let lo = ((x[j] * id + 16.5) as u8).min(31);
        let hi = ((x[j + HALF] * id + 16.5) as u8).min(31);
        out[6 + j] = (lo & 0x0F) | (hi & 0x0F) << 4;
        qh |= ((lo as u32) >> 4) << j | ((hi as u32) >> 4) << (j + HALF);
    }
    out[2..6].copy_from_slice(&qh.to_le_bytes());
}

pub(super) fn quantize_q5_1(x: &[f32; QK], out: &mut [u8]) {
    let (min, max) = min_max(x);
    let d = (max - min) / 31.0;
    let id = inverse(d);
    put_f16(out, 0, d);
    put_f16(out, 2, min);
    let mut qh = 0u32;
    for j in 0..HALF {
        let lo = (((x[j] - min) * id + 0.5) as u8).min(31);
        let hi = (((x[j + HALF] - min) * id + 0.5) as u8).min(31);
        out[8 + j] = (lo & 0x0F) | (hi & 0x0F) << 4;
        qh |= ((lo as u32) >> 4) << j | ((hi as u32) >> 4) << (j + HALF);
    }
    out[4..8].copy_from_slice(&qh.to_le_bytes());
}

pub(super) fn quantize_q8_0(x: &[f32; QK], out: &mut [u8]) {
    let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = inverse(d);
    put_f16(out, 0, d);
    for j in 0..QK {
        out[2 + j] = (x[j] * id).round() as i8 as u8;
    }
}

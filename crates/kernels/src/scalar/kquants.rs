//! Scalar dot products of K-quant weight rows with Q8_K activation rows. Per block the
//! scaled integer sums are exact; the block then adds d_w * d_a * Σ and, for Q4_K/Q5_K,
//! subtracts dmin_w * d_a * Σ min_s * (sum of the activations in sub-block s).

use crate::act::Q8KAct;
use crate::formats::f16_at;
use crate::formats::kquants::at;
use crate::formats::unpack_scales_mins;

/// Σ_s min_s · (activation sum of sub-block s), from the 16-element activation sums.
fn mins_sum(mn: &[u8; 8], y: &Q8KAct) -> i32 {
    (0..8).map(|s| mn[s] as i32 * (y.bsums[2 * s] as i32 + y.bsums[2 * s + 1] as i32)).sum()
}

/// Σ nibble(q[l]) * a[l] over a 32-element sub-block, where the quant is the low (`HIGH ==
/// false`) or high nibble of `q[l]` plus 16 times bit `bit` of `qh[l]` (Q5_K; `qh` is zeros
/// for Q4_K).
#[inline(always)]
fn sub_block<const HIGH: bool>(q: &[u8; 32], qh: &[u8; 32], bit: u32, a: &[i8]) -> i32 {
    let a: &[i8; 32] = a.try_into().expect("32 activations");
    let mut sum = 0i32;
    for l in 0..32 {
        let nibble = if HIGH { q[l] >> 4 } else { q[l] & 0x0F };
        let v = nibble | ((qh[l] >> bit) & 1) << 4;
        sum += v as i32 * a[l] as i32;
    }
    sum
}

/// Shared body of Q4_K and Q5_K: `BYTES` per block, nibbles at offset `QS`, and (when
/// `FIVE`) fifth bits from the block's `qh`.
fn k45_row<const BYTES: usize, const QS: usize, const FIVE: bool>(w: &[u8], a: &[Q8KAct]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(BYTES).zip(a) {
        let (sc, mn) = unpack_scales_mins(&b[at::K_SCALES..at::K_SCALES + 12]);
        let qh: &[u8; 32] = if FIVE { b[at::Q5K_QH..at::Q5K_QH + 32].try_into().expect("32 bytes") } else { &[0; 32] };
        let mut sumi = 0i32;
        for c in 0..4 {
            let q: &[u8; 32] = b[QS + 32 * c..QS + 32 * c + 32].try_into().expect("32 bytes");
            let bit = 2 * c as u32;
            let lo = sub_block::<false>(q, qh, bit, &y.qs[64 * c..64 * c + 32]);
            let hi = sub_block::<true>(q, qh, bit + 1, &y.qs[64 * c + 32..64 * c + 64]);
            sumi += sc[2 * c] as i32 * lo + sc[2 * c + 1] as i32 * hi;
        }
        let d = f16_at(b, at::K_D) * y.d;
        let dmin = f16_at(b, at::K_DMIN) * y.d;
        sum += d * sumi as f32 - dmin * mins_sum(&mn, y) as f32;
    }
    sum
}

fn q4k_row(w: &[u8], a: &[Q8KAct]) -> f32 {
    k45_row::<144, { at::Q4K_QS }, false>(w, a)
}

fn q5k_row(w: &[u8], a: &[Q8KAct]) -> f32 {
    k45_row::<176, { at::Q5K_QS }, true>(w, a)
}

/// Σ q[l] * a[l] over the 32 elements of group `G` (0..4) of a Q6_K half, with the
/// quants unsigned (0..63); `ql` is the half's 64 low-bit bytes, `qh` its 32 high-bit bytes.
/// Returns the sums of the two 16-element sub-blocks separately.
#[inline(always)]
fn q6_group<const G: usize>(ql: &[u8; 64], qh: &[u8; 32], a: &[i8]) -> [i32; 2] {
    let a: &[i8; 32] = a.try_into().expect("32 activations");
    let mut sums = [0i32; 2];
    for (half, sum) in sums.iter_mut().enumerate() {
        for l in 16 * half..16 * half + 16 {
            let src = ql[l + 32 * (G & 1)];
            let low = if G >= 2 { src >> 4 } else { src & 0x0F };
            let q = low | ((qh[l] >> (2 * G)) & 3) << 4;
            *sum += q as i32 * a[l] as i32;
        }
    }
    sums
}

/// Q6_K with the -32 offset applied once per block as 32 * Σ_s scale_s * bsum_s (exactly
/// equal to subtracting 32 from every quant, since bsums cover the 16-element sub-blocks).
fn q6k_row(w: &[u8], a: &[Q8KAct]) -> f32 {
    let mut sum = 0f32;
    for (b, y) in w.chunks_exact(210).zip(a) {
        let scale = |s: usize| b[at::Q6K_SCALES + s] as i8 as i32;
        let mut sumi = -32 * (0..16).map(|s| scale(s) * y.bsums[s] as i32).sum::<i32>();
        for h in 0..2 {
            let ql: &[u8; 64] = b[at::Q6K_QL + 64 * h..at::Q6K_QL + 64 * h + 64].try_into().expect("64 bytes");
            let qh: &[u8; 32] = b[at::Q6K_QH + 32 * h..at::Q6K_QH + 32 * h + 32].try_into().expect("32 bytes");
            let ya = &y.qs[128 * h..128 * h + 128];
            let groups = [
                q6_group::<0>(ql, qh, &ya[0..32]),
                q6_group::<1>(ql, qh, &ya[32..64]),
                q6_group::<2>(ql, qh, &ya[64..96]),
                q6_group::<3>(ql, qh, &ya[96..128]),
            ];
            for (g, [s0, s1]) in groups.into_iter().enumerate() {
                let s = 8 * h + 2 * g;
                sumi += scale(s) * s0 + scale(s + 1) * s1;
            }
        }
        sum += f16_at(b, at::Q6K_D) * y.d * sumi as f32;
    }
    sum
}

n_rows!(dot_q4k, q4k_row, Q8KAct);
n_rows!(dot_q5k, q5k_row, Q8KAct);
n_rows!(dot_q6k, q6k_row, Q8KAct);

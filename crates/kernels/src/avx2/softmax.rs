//! Attention weights: scores scaled, then their softmax, eight lanes at a time.
//!
//! The maximum is exact whatever the order; each exponential is [`exp8`] of the element's
//! own value less the maximum (a partial last vector goes through a padded copy, its padding
//! left out of the sum), and the exponentials are summed in eight lanes over the vectors in
//! order, then across the lanes in a fixed order: the result depends only on the scores
//! and their number, so a row of attention is the same whichever call computes it.

use std::arch::x86_64::*;

use super::hsum_ps;
use super::silu::exp8;

#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn softmax_scaled_f32(scores: &mut [f32], scale: f32) {
    let (n, p) = (scores.len(), scores.as_mut_ptr());
    let body = n / 8 * 8;
    let vscale = _mm256_set1_ps(scale);
    let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
    for i in (0..body).step_by(8) {
        let v = _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), vscale);
        _mm256_storeu_ps(p.add(i), v);
        vmax = _mm256_max_ps(vmax, v);
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), vmax);
    let mut max = lanes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for s in &mut scores[body..] {
        *s *= scale;
        max = max.max(*s);
    }
    let vm = _mm256_set1_ps(max);
    let mut vsum = _mm256_setzero_ps();
    for i in (0..body).step_by(8) {
        let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p.add(i)), vm));
        _mm256_storeu_ps(p.add(i), e);
        vsum = _mm256_add_ps(vsum, e);
    }
    if body < n {
        let tail = &mut scores[body..];
        let mut pad = [max; 8];
        pad[..tail.len()].copy_from_slice(tail);
        let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(pad.as_ptr()), vm));
        _mm256_storeu_ps(pad.as_mut_ptr(), e);
        tail.copy_from_slice(&pad[..tail.len()]);
        // Only the tail's lanes join the sum.
        let keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail.len() as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        vsum = _mm256_add_ps(vsum, _mm256_and_ps(e, _mm256_castsi256_ps(keep)));
    }
    let inv = 1.0 / hsum_ps(vsum);
    let vinv = _mm256_set1_ps(inv);
    for i in (0..body).step_by(8) {
        _mm256_storeu_ps(p.add(i), _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), vinv));
    }
    for s in &mut scores[body..] {
        *s *= inv;
    }
}

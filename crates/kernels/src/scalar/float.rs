//! Scalar f32 dot products: float weight rows against f32 activations, and the f32 vector operations.
//! Eight interleaved partial sums, combined pairwise at the end, then the tail in order.

const LANES: usize = 8;

/// Σ w(i)·x[i] with the lane structure described above.
#[inline(always)]
fn dot_lanes(n: usize, w: impl Fn(usize) -> f32, x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let body = n / LANES * LANES;
    for i in (0..body).step_by(LANES) {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += w(i + l) * x[i + l];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (i, v) in x.iter().enumerate().take(n).skip(body) {
        sum += w(i) * v;
    }
    sum
}

pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes(a.len(), |i| a[i], b)
}

pub(crate) fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

pub(crate) fn dot_f32_grouped(qs: &[f32], len: usize, rows: &[f32], stride: usize, out: &mut [f32]) {
    let count = out.len() / (qs.len() / len);
    for (g, q) in qs.chunks_exact(len).enumerate() {
        for j in 0..count {
            out[g * count + j] = dot_f32(q, &rows[j * stride..j * stride + len]);
        }
    }
}

pub(crate) fn axpy_f32_grouped(weights: &[f32], rows: &[f32], stride: usize, ys: &mut [f32], len: usize) {
    let count = weights.len() / (ys.len() / len);
    for (g, y) in ys.chunks_exact_mut(len).enumerate() {
        for j in 0..count {
            axpy_f32(weights[g * count + j], &rows[j * stride..j * stride + len], y);
        }
    }
}

pub(crate) fn softmax_scaled_f32(scores: &mut [f32], scale: f32) {
    let mut max = f32::NEG_INFINITY;
    for s in scores.iter_mut() {
        *s *= scale;
        max = max.max(*s);
    }
    let mut sum = 0f32;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    let inv = 1.0 / sum;
    for s in scores.iter_mut() {
        *s *= inv;
    }
}

pub(crate) fn silu_mul_f32(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

fn f32_row(w: &[u8], x: &[f32]) -> f32 {
    dot_lanes(x.len(), |i| f32::from_le_bytes([w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]]), x)
}

fn f16_row(w: &[u8], x: &[f32]) -> f32 {
    dot_lanes(x.len(), |i| half::f16::from_le_bytes([w[2 * i], w[2 * i + 1]]).to_f32(), x)
}

fn bf16_row(w: &[u8], x: &[f32]) -> f32 {
    dot_lanes(x.len(), |i| half::bf16::from_le_bytes([w[2 * i], w[2 * i + 1]]).to_f32(), x)
}

n_rows!(dot_f32_weights, f32_row, f32);
n_rows!(dot_f16, f16_row, f32);
n_rows!(dot_bf16, bf16_row, f32);

//! The f32 vector operations at every kernel family, against f64 references.

mod common;

use common::{bits, Rng};
use tandem_kernels::{
    axpy_f32, axpy_f32_grouped, axpy_f32_grouped_with, axpy_f32_with, dot_f32, dot_f32_grouped, dot_f32_grouped_with,
    dot_f32_with, silu_mul_f32, silu_mul_f32_with, softmax_scaled_f32, softmax_scaled_f32_with, SimdLevel,
};

#[test]
fn dot_matches_f64_for_all_lengths() {
    let mut rng = Rng::new(21);
    for len in [0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 128, 1000] {
        let (a, b) = (rng.values(len), rng.values(len));
        let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
        let mag: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum();
        for level in SimdLevel::supported() {
            let got = dot_f32_with(level, &a, &b) as f64;
            assert!((got - exact).abs() <= 1e-6 * mag + 1e-9, "{} len {len}: {got} vs {exact}", level.name());
        }
        assert_eq!(dot_f32(&a, &b).to_bits(), dot_f32_with(SimdLevel::active(), &a, &b).to_bits());
    }
}

#[test]
fn axpy_matches_f64_for_all_lengths() {
    let mut rng = Rng::new(22);
    for len in [0, 1, 7, 8, 9, 33, 128, 257] {
        let (x, y0) = (rng.values(len), rng.values(len));
        let alpha = rng.value();
        for level in SimdLevel::supported() {
            let mut y = y0.clone();
            axpy_f32_with(level, alpha, &x, &mut y);
            for i in 0..len {
                let exact = y0[i] as f64 + alpha as f64 * x[i] as f64;
                let tol = 1e-6 * (y0[i].abs() as f64 + (alpha * x[i]).abs() as f64) + 1e-12;
                assert!((y[i] as f64 - exact).abs() <= tol, "{} len {len} at {i}", level.name());
            }
        }
        let mut y = y0.clone();
        axpy_f32(alpha, &x, &mut y);
        let mut z = y0.clone();
        axpy_f32_with(SimdLevel::active(), alpha, &x, &mut z);
        assert_eq!(y, z);
    }
}

/// (query or output length, row stride, queries per group, rows): heads of 64 or 128 values
/// with rows further apart than their length, contiguous rows, and odd shapes with partial
/// vectors.
const GROUPED: [(usize, usize, usize, usize); 6] =
    [(128, 256, 6, 17), (64, 128, 7, 9), (13, 13, 3, 5), (7, 40, 1, 1), (33, 70, 2, 4), (128, 256, 6, 0)];

/// A score as the SIMD levels' grouped dot sums it: one fused chain per lane over the
/// eight-value chunks, the lanes as `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))`, then
/// the values past the last whole chunk, unfused, in order.
fn chunked_dot(q: &[f32], key: &[f32]) -> f32 {
    let body = q.len() / 8 * 8;
    let mut l = [0f32; 8];
    for c in (0..body).step_by(8) {
        for (t, lane) in l.iter_mut().enumerate() {
            *lane = key[c + t].mul_add(q[c + t], *lane);
        }
    }
    let mut sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    for i in body..q.len() {
        sum += key[i] * q[i];
    }
    sum
}

#[test]
fn grouped_scores_depend_only_on_their_query_and_key() {
    // Attention scores the keys of a KV head for all the query heads that share it; a
    // score must be the same bits whichever keys come with it and however many, or rows
    // verified together (each with its own number of keys) would differ from rows decoded
    // alone.
    let mut rng = Rng::new(24);
    for (len, stride, groups, count) in GROUPED {
        let qs = rng.values(groups * len);
        let rows = rng.values(if count == 0 { 0 } else { (count - 1) * stride + len });
        for level in SimdLevel::supported() {
            let mut out = vec![0f32; groups * count];
            dot_f32_grouped_with(level, &qs, len, &rows, stride, &mut out);
            let mut expect = Vec::new();
            for (g, q) in qs.chunks_exact(len).enumerate() {
                for j in 0..count {
                    let key = &rows[j * stride..j * stride + len];
                    let score = match level {
                        SimdLevel::Scalar => dot_f32_with(level, q, key),
                        _ => chunked_dot(q, key),
                    };
                    expect.push(score);
                    // The same key alone, and with only the keys before it.
                    for keys in [1, j + 1] {
                        let start = (j + 1 - keys) * stride;
                        let mut few = vec![0f32; groups * keys];
                        dot_f32_grouped_with(level, &qs, len, &rows[start..j * stride + len], stride, &mut few);
                        assert_eq!(
                            few[g * keys + keys - 1].to_bits(),
                            score.to_bits(),
                            "{} key {j} of {keys}",
                            level.name()
                        );
                    }
                }
            }
            assert_eq!(bits(&out), bits(&expect), "{} len {len} x {groups}", level.name());
            for (got, q) in out.chunks(count.max(1)).zip(qs.chunks_exact(len)) {
                for (j, &v) in got.iter().enumerate() {
                    let key = &rows[j * stride..j * stride + len];
                    let exact: f64 = q.iter().zip(key).map(|(&a, &b)| a as f64 * b as f64).sum();
                    let mag: f64 = q.iter().zip(key).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
                    assert!((v as f64 - exact).abs() <= 1e-6 * mag, "{} len {len}: {v} vs {exact}", level.name());
                }
            }
        }
        let (mut a, mut b) = (vec![0f32; groups * count], vec![0f32; groups * count]);
        dot_f32_grouped(&qs, len, &rows, stride, &mut a);
        dot_f32_grouped_with(SimdLevel::active(), &qs, len, &rows, stride, &mut b);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn softmax_matches_f64_and_each_weight_depends_only_on_the_scores() {
    let mut rng = Rng::new(26);
    for len in [1, 2, 7, 8, 9, 16, 17, 100, 129, 2048] {
        // Scores as attention makes them, and some far apart (weights that underflow).
        let scores: Vec<f32> = (0..len).map(|i| rng.value() * if i % 5 == 0 { 60.0 } else { 8.0 }).collect();
        let scale = 0.088_388_35;
        let max = scores.iter().map(|&s| s as f64 * scale as f64).fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = scores.iter().map(|&s| (s as f64 * scale as f64 - max).exp()).sum();
        for level in SimdLevel::supported() {
            let mut w = scores.clone();
            softmax_scaled_f32_with(level, &mut w, scale);
            for (i, (&got, &s)) in w.iter().zip(&scores).enumerate() {
                let exact = (s as f64 * scale as f64 - max).exp() / sum;
                assert!(
                    (got as f64 - exact).abs() <= 2e-5 * exact + 1e-30,
                    "{} len {len} at {i}: {got} vs {exact}",
                    level.name()
                );
            }
            // The same scores in another order give the same weights, each to its score
            // (up to the sum's rounding, which the order may change).
            let mut reversed: Vec<f32> = scores.iter().rev().copied().collect();
            softmax_scaled_f32_with(level, &mut reversed, scale);
            for (a, b) in w.iter().zip(reversed.iter().rev()) {
                assert!((a - b).abs() <= 2e-5 * a.abs().max(1e-30));
            }
        }
        let (mut a, mut b) = (scores.clone(), scores.clone());
        softmax_scaled_f32(&mut a, scale);
        softmax_scaled_f32_with(SimdLevel::active(), &mut b, scale);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn softmax_of_a_row_is_the_same_bits_in_every_call() {
    // A row's weights depend on its scores and their number only: the tail lanes of a
    // partial last vector never see the neighbouring memory.
    let mut rng = Rng::new(27);
    let scores = rng.values(21);
    for level in SimdLevel::supported() {
        let mut alone = scores.clone();
        softmax_scaled_f32_with(level, &mut alone, 0.5);
        let mut padded: Vec<f32> = scores.iter().copied().chain([1e30, f32::NAN, -1e30]).collect();
        softmax_scaled_f32_with(level, &mut padded[..21], 0.5);
        assert_eq!(bits(&alone), bits(&padded[..21]), "{}", level.name());
    }
}

#[test]
fn grouped_axpys_are_each_exactly_the_axpys_in_order() {
    let mut rng = Rng::new(25);
    for (len, stride, groups, count) in GROUPED {
        let weights = rng.values(groups * count);
        let rows = rng.values(if count == 0 { 0 } else { (count - 1) * stride + len });
        let ys0 = rng.values(groups * len);
        for level in SimdLevel::supported() {
            let mut got = ys0.clone();
            axpy_f32_grouped_with(level, &weights, &rows, stride, &mut got, len);
            let mut one_by_one = ys0.clone();
            for (g, y) in one_by_one.chunks_exact_mut(len).enumerate() {
                for j in 0..count {
                    axpy_f32_with(level, weights[g * count + j], &rows[j * stride..j * stride + len], y);
                }
            }
            assert_eq!(bits(&got), bits(&one_by_one), "{} len {len} x {groups}", level.name());
        }
        let (mut a, mut b) = (ys0.clone(), ys0.clone());
        axpy_f32_grouped(&weights, &rows, stride, &mut a, len);
        axpy_f32_grouped_with(SimdLevel::active(), &weights, &rows, stride, &mut b, len);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
#[should_panic(expected = "do not fit")]
fn grouped_rows_must_fit() {
    // Two queries of 4 values against three keys 10 apart need 24 values of keys.
    dot_f32_grouped(&[1.0; 8], 4, &[1.0; 23], 10, &mut [0.0; 6]);
}

#[test]
#[should_panic(expected = "do not split")]
fn grouped_outputs_must_split_over_the_queries() {
    dot_f32_grouped(&[1.0; 8], 4, &[1.0; 40], 10, &mut [0.0; 5]);
}

/// silu(g) * u in f64.
fn silu_mul_exact(g: f32, u: f32) -> f64 {
    let g = g as f64;
    g / (1.0 + (-g).exp()) * u as f64
}

#[test]
fn silu_mul_matches_f64_over_the_whole_range() {
    // Every 0.001 from -100 to 100: past +-88 the exponential saturates, which is where a
    // clamped one could go wrong; near 0 the result is tiny and must stay accurate.
    let gate: Vec<f32> = (-100_000..=100_000).map(|i| i as f32 * 1e-3).collect();
    let up: Vec<f32> = (0..gate.len()).map(|i| [1.0, -0.37, 3.5][i % 3]).collect();
    for level in SimdLevel::supported() {
        let mut got = gate.clone();
        silu_mul_f32_with(level, &mut got, &up);
        for i in 0..gate.len() {
            let exact = silu_mul_exact(gate[i], up[i]);
            // A few units in the last place of the result, or a value too small to matter
            // (silu of a large negative number is below 1e-36 in magnitude).
            let tol = 4.0 * f32::EPSILON as f64 * exact.abs() + 1e-35;
            assert!(
                (got[i] as f64 - exact).abs() <= tol,
                "{}: silu({}) * {} = {} but exactly {exact}",
                level.name(),
                gate[i],
                up[i],
                got[i]
            );
        }
    }
}

#[test]
fn silu_mul_gives_each_element_the_same_bits_at_any_length_or_offset() {
    // Feed-forward rows are exact only if an element's result does not depend on where it
    // sits in the call: at the start, in the middle, or in a partial last vector.
    let mut rng = Rng::new(23);
    let (gate, up) = (rng.values(67), rng.values(67));
    for level in SimdLevel::supported() {
        let mut whole = gate.clone();
        silu_mul_f32_with(level, &mut whole, &up);
        for start in 0..gate.len() {
            for end in start..=gate.len().min(start + 19) {
                let mut part = gate[start..end].to_vec();
                silu_mul_f32_with(level, &mut part, &up[start..end]);
                assert_eq!(bits(&part), bits(&whole[start..end]), "{} at {start}..{end}", level.name());
            }
        }
    }
    let (mut a, mut b) = (gate.clone(), gate.clone());
    silu_mul_f32(&mut a, &up);
    silu_mul_f32_with(SimdLevel::active(), &mut b, &up);
    assert_eq!(a, b);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn silu_mul_rejects_mismatched_lengths() {
    silu_mul_f32(&mut [1.0, 2.0], &[1.0]);
}

#[test]
#[should_panic(expected = "lengths differ")]
fn dot_rejects_mismatched_lengths() {
    dot_f32(&[1.0, 2.0], &[1.0]);
}

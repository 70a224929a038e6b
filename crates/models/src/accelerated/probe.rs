//! Measuring how wide a forward call may be while its rows stay bit-identical to one-token
//! calls (the engine's row-exactness invariant) on kernels we do not own.
//!
//! A fixed sequence is fed one token at a time for reference; then, from the same starting
//! cache, calls of width 2, 3, … are compared row by row. The first width with any row
//! that differs ends the search. This is a measurement, not a proof: a device that sums in a
//! width-dependent order differs on practically any input, so one probe finds it.

use tandem_engine::{LogitsWanted, Model, ModelError};

/// Widest call probed: verification beyond eight tokens rarely pays.
pub const WIDEST: usize = 8;

/// The widest call of at most `widest` tokens (at least 1) whose rows match one-token calls
/// exactly. Leaves the model's cache empty.
pub fn exact_rows(model: &mut dyn Model, widest: usize) -> Result<usize, ModelError> {
    let vocab = model.vocab_size().max(1) as u32;
    // Ordinary-looking ids spread over the vocabulary; the first one stays in the cache.
    let tokens: Vec<u32> = (0..=widest as u32).map(|i| (17 + i * 7919) % vocab).collect();
    model.truncate(0);
    let mut reference = Vec::with_capacity(widest);
    for (i, &t) in tokens.iter().enumerate() {
        let row = model.forward(&[t], LogitsWanted::All)?;
        if i > 0 {
            reference.push(row.data);
        }
    }
    let mut exact = 1;
    for width in 2..=widest {
        model.truncate(1);
        let call = model.forward(&tokens[1..=width], LogitsWanted::All)?;
        let same = (0..width).all(|r| bitwise_equal(call.row(r), &reference[r]));
        if !same {
            break;
        }
        exact = width;
    }
    model.truncate(0);
    Ok(exact)
}

fn bitwise_equal(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

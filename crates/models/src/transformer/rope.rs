//! Rotary position embedding with a cached cos/sin table.
//!
//! The table entry for a position is computed once, the same way whichever call first
//! needs it, so a token at position p is rotated identically in a batched and a
//! one-token forward (row exactness).

use crate::config::RopeStyle;

pub struct Rope {
    style: RopeStyle,
    head_dim: usize,
    inv_freq: Vec<f64>,
    /// `[position][head_dim/2]` cosines and sines.
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl Rope {
    /// `freq_factors` (Llama 3.1+'s `rope_freqs.weight`, one per frequency) divide the
    /// frequencies, as llama.cpp does: that is how those models stretch their context.
    pub fn new(style: RopeStyle, head_dim: usize, theta: f32, freq_factors: Option<&[f32]>) -> Rope {
        let half = head_dim / 2;
        let inv_freq = (0..half)
            .map(|i| {
                let f = (theta as f64).powf(-(2.0 * i as f64) / head_dim as f64);
                f / freq_factors.map_or(1.0, |ff| ff[i] as f64)
            })
            .collect();
        Rope { style, head_dim, inv_freq, cos: Vec::new(), sin: Vec::new() }
    }

    /// Makes sure the table covers positions `< end`.
    pub fn ensure(&mut self, end: usize) {
        let half = self.head_dim / 2;
        let have = self.cos.len() / half;
        for pos in have..end {
            for f in &self.inv_freq {
                let angle = pos as f64 * f;
                self.cos.push(angle.cos() as f32);
                self.sin.push(angle.sin() as f32);
            }
        }
    }

    /// Cosines and sines of positions `pos..pos + rows`, `head_dim / 2` per position.
    /// `ensure(pos + rows)` must have been called.
    pub fn table(&self, pos: usize, rows: usize) -> (&[f32], &[f32]) {
        let half = self.head_dim / 2;
        let span = pos * half..(pos + rows) * half;
        (&self.cos[span.clone()], &self.sin[span])
    }

    /// Rotates every head in `x` (`n_heads * head_dim` values) for position `pos`.
    /// `ensure(pos + 1)` must have been called.
    pub fn apply(&self, x: &mut [f32], pos: usize) {
        let half = self.head_dim / 2;
        let cos = &self.cos[pos * half..(pos + 1) * half];
        let sin = &self.sin[pos * half..(pos + 1) * half];
        for head in x.chunks_exact_mut(self.head_dim) {
            for i in 0..half {
                let (a, b) = match self.style {
                    RopeStyle::Neox => (i, i + half),
                    RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                };
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * cos[i] - x1 * sin[i];
                head[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}

//! Matrices that multiply the same input (a layer's query, key and value; its gate and
//! up projections), stacked into as few matrix multiplies as their encodings allow.
//!
//! Why: each multiply is one parallel call, with its own hand-out to the threads and its own
//! quantizing of the input. A Qwen2.5 0.5B draft made 168 of them per token for its layers,
//! most over a few hundred KiB of weights. Stacking changes no value: a stacked multiply
//! gives each part bit for bit what the part alone would ([`QMatrix::stacked`]).

use tandem_kernels::{QMatrix, SimdLevel};

/// The parts in order, as runs of neighbours that share an encoding, each run one matrix.
///
/// Invariant: the runs' part counts sum to `shapes.len()`, and each run's matrix has the
/// sum of its parts' rows.
pub(super) struct Projections {
    runs: Vec<(QMatrix, usize)>,
    shapes: Vec<(usize, usize)>,
}

impl Projections {
    /// The `parts` in `level`'s fastest layouts, each run of neighbours that
    /// [`QMatrix::stacked`] accepts (same type, layout, width and fastest layout) as one
    /// matrix. Returns the projections and, per part, whether its bytes were copied (so the
    /// part's own are no longer read).
    pub(super) fn new(parts: &[QMatrix], level: SimdLevel) -> (Projections, Vec<bool>) {
        let shapes = parts.iter().map(|m| (m.rows(), m.cols())).collect();
        let mut runs: Vec<Vec<&QMatrix>> = Vec::new();
        for m in parts {
            match runs.last_mut() {
                Some(run) if run[0].stacks_with(m, level) => run.push(m),
                _ => runs.push(vec![m]),
            }
        }
        let mut copied = Vec::new();
        let runs = runs
            .into_iter()
            .map(|run| {
                let m = match run[..] {
                    [one] => one.repacked(level),
                    _ => QMatrix::stacked(&run, level).expect("a run shares its encoding"),
                };
                let moved = run.len() > 1 || m.layout() != run[0].layout();
                copied.extend(std::iter::repeat_n(moved, run.len()));
                (m, run.len())
            })
            .collect();
        (Projections { runs, shapes }, copied)
    }

    /// Rows and columns of each part, in order.
    pub(super) fn shapes(&self) -> &[(usize, usize)] {
        &self.shapes
    }

    /// Bytes one multiply reads.
    pub(super) fn byte_len(&self) -> usize {
        self.runs.iter().map(|(m, _)| m.byte_len()).sum()
    }

    /// `outs[p] = xs · part p` for `k` activation rows of the parts' common width, each out
    /// holding `k` rows of its part's.
    pub(super) fn matmul(&self, xs: &[f32], outs: &mut [&mut [f32]]) {
        assert_eq!(outs.len(), self.shapes.len(), "one output per part");
        let k = xs.len() / self.shapes[0].1;
        let mut first = 0;
        for (m, n) in &self.runs {
            let outs = &mut outs[first..first + n];
            first += n;
            if let [out] = outs {
                m.matmul(xs, out);
                continue;
            }
            let mut stacked = vec![0f32; k * m.rows()];
            m.matmul(xs, &mut stacked);
            for (i, row) in stacked.chunks_exact(m.rows()).enumerate() {
                let mut offset = 0;
                for out in outs.iter_mut() {
                    let width = out.len() / k;
                    out[i * width..(i + 1) * width].copy_from_slice(&row[offset..offset + width]);
                    offset += width;
                }
            }
        }
    }
}

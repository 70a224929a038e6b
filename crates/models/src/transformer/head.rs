//! The output layer: logits over the whole vocabulary, or, for a draft with a vocabulary
//! [`Shortlist`], over the shortlist and the tokens its cache holds.
//!
//! Why the cache's tokens: a shortlist made from everyday text leaves out words and names a
//! conversation brings in (a table called `customers`, a function's identifiers), and a
//! draft that cannot name them cannot guess them where the answer repeats them. Their rows
//! are taken from the file's head when they first enter the cache.
//!
//! Invariant (row exactness, as the [`tandem_engine::Model`] trait asks): the logits after
//! position `p` cover the shortlist and the tokens at positions `0..=p` of the cache, so
//! they are the same whether `p` came in a call of one token or of many.

use tandem_kernels::{QMatrix, QType, SimdLevel};

use crate::shortlist::Shortlist;

pub(super) enum Head {
    Full(QMatrix),
    Shortlisted(Box<ShortlistedHead>),
}

pub(super) struct ShortlistedHead {
    /// The shortlist's rows, as the kernels read them.
    rows: QMatrix,
    shortlist: Shortlist,
    /// The file's head, to take more rows from, and what its rows are re-encoded as.
    file_head: QMatrix,
    reencode_as: Option<QType>,
    /// Tokens of the cache outside the shortlist, with the first position each holds.
    seen: Vec<(u32, usize)>,
    /// Their rows, in `seen` order; `None` until made for the current `seen`.
    seen_rows: Option<QMatrix>,
}

impl Head {
    /// `rows` are `shortlist`'s rows of `file_head`, re-encoded as `reencode_as`.
    pub(super) fn shortlisted(
        rows: QMatrix,
        shortlist: Shortlist,
        file_head: QMatrix,
        reencode_as: Option<QType>,
    ) -> Head {
        Head::Shortlisted(Box::new(ShortlistedHead {
            rows,
            shortlist,
            file_head,
            reencode_as,
            seen: Vec::new(),
            seen_rows: None,
        }))
    }

    /// Rows of the shortlist (or of the whole head) the head computes for every token.
    pub(super) fn rows(&self) -> &QMatrix {
        match self {
            Head::Full(m) => m,
            Head::Shortlisted(h) => &h.rows,
        }
    }

    /// The vocabulary's size: the width of a row of logits.
    pub(super) fn vocab(&self) -> usize {
        match self {
            Head::Full(m) => m.rows(),
            Head::Shortlisted(h) => h.shortlist.size(),
        }
    }

    /// Notes `tokens`, entering the cache at `first_pos..`, and makes the rows of those
    /// outside the shortlist.
    pub(super) fn note(&mut self, tokens: &[u32], first_pos: usize) -> Result<(), String> {
        let Head::Shortlisted(h) = self else { return Ok(()) };
        for (i, &t) in tokens.iter().enumerate() {
            if !h.shortlist.contains(t) && !h.seen.iter().any(|&(id, _)| id == t) {
                h.seen.push((t, first_pos + i));
                h.seen_rows = None;
            }
        }
        if h.seen_rows.is_none() && !h.seen.is_empty() {
            let ids: Vec<u32> = h.seen.iter().map(|&(id, _)| id).collect();
            let rows = h.file_head.rows_subset(&ids);
            let rows = match h.reencode_as {
                Some(to) => rows.requantize(to).map_err(|e| format!("the output rows of seen tokens: {e}"))?,
                None => rows,
            };
            h.seen_rows = Some(rows.repacked(SimdLevel::active()));
        }
        Ok(())
    }

    /// Forgets the tokens at positions `len..`.
    pub(super) fn truncate(&mut self, len: usize) {
        if let Head::Shortlisted(h) = self {
            let before = h.seen.len();
            h.seen.retain(|&(_, at)| at < len);
            if h.seen.len() != before {
                h.seen_rows = None;
            }
        }
    }

    /// Logits for the normalised rows `normed`, the first after position `first_pos`, one
    /// row of the vocabulary each.
    pub(super) fn logits(&self, normed: &[f32], first_pos: usize) -> Vec<f32> {
        let computed = |m: &QMatrix| {
            let mut out = vec![0f32; normed.len() / m.cols() * m.rows()];
            m.matmul(normed, &mut out);
            out
        };
        let h = match self {
            Head::Full(m) => return computed(m),
            Head::Shortlisted(h) => h,
        };
        let short = computed(&h.rows);
        let seen = h.seen_rows.as_ref().map(computed).unwrap_or_default();
        let (n, vocab) = (h.rows.rows(), h.shortlist.size());
        let k = short.len() / n;
        // Every id neither kept nor in the cache yet stays at minus infinity.
        let mut full = vec![f32::NEG_INFINITY; k * vocab];
        for (r, row) in full.chunks_exact_mut(vocab).enumerate() {
            h.shortlist.scatter(&short[r * n..(r + 1) * n], row);
            for (j, &(id, at)) in h.seen.iter().enumerate() {
                if at <= first_pos + r {
                    row[id as usize] = seen[r * h.seen.len() + j];
                }
            }
        }
        full
    }
}

//! Per-layer key/value cache: contiguous f32 storage that grows by doubling and truncates
//! by moving a length, so rolling back rejected draft tokens costs nothing.

/// Keys and values of one layer, laid out `[position][kv_head][head_dim]`.
///
/// Invariant: `keys.len() == values.len() == len * row`; positions `>= len` do not exist.
pub struct LayerCache {
    row: usize,
    keys: Vec<f32>,
    values: Vec<f32>,
}

impl LayerCache {
    pub fn new(n_kv_head: usize, head_dim: usize) -> LayerCache {
        LayerCache { row: n_kv_head * head_dim, keys: Vec::new(), values: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.keys.len() / self.row
    }

    /// Appends one position per `row`-sized chunk of `k` and `v`.
    pub fn push(&mut self, k: &[f32], v: &[f32]) {
        debug_assert_eq!(k.len(), v.len());
        debug_assert_eq!(k.len() % self.row, 0);
        self.keys.extend_from_slice(k);
        self.values.extend_from_slice(v);
    }

    pub fn truncate(&mut self, len: usize) {
        self.keys.truncate(len * self.row);
        self.values.truncate(len * self.row);
    }

    /// One KV head's keys and values at positions `0..positions`, a cache row (`stride`
    /// values) apart: position `j`'s key is `keys[j * stride..][..head_dim]`.
    pub fn head(&self, kv_head: usize, head_dim: usize, positions: usize) -> (&[f32], &[f32], usize) {
        assert!(positions <= self.len(), "attention over {positions} positions of {}", self.len());
        let Some(last) = positions.checked_sub(1) else {
            return (&[], &[], self.row);
        };
        let start = kv_head * head_dim;
        let span = start..last * self.row + start + head_dim;
        (&self.keys[span.clone()], &self.values[span], self.row)
    }
}

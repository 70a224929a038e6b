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

    /// Key of `kv_head` at `pos` (`head_dim` values).
    pub fn key(&self, pos: usize, kv_head: usize, head_dim: usize) -> &[f32] {
        let at = pos * self.row + kv_head * head_dim;
        &self.keys[at..at + head_dim]
    }

    pub fn value(&self, pos: usize, kv_head: usize, head_dim: usize) -> &[f32] {
        let at = pos * self.row + kv_head * head_dim;
        &self.values[at..at + head_dim]
    }
}

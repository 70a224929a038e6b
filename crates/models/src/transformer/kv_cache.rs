//! Per-layer key/value cache: contiguous f32 storage per KV head that grows by doubling and
//! truncates by moving a length, so rolling back rejected draft tokens costs nothing.

/// Keys and values of one layer, one buffer per KV head, laid out `[position][head_dim]`.
///
/// Each head's keys (and values) are contiguous because attention reads them one head at a
/// time: laid out `[position][kv_head][head_dim]`, a head's task read half of every cache
/// row it touched and skipped the other half, and at 2048 positions attention took about a
/// third of a one-token call, mostly waiting for memory.
///
/// Invariant: every head's `keys` and `values` hold `len * head_dim` values; positions
/// `>= len` do not exist.
pub struct LayerCache {
    head_dim: usize,
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
}

impl LayerCache {
    pub fn new(n_kv_head: usize, head_dim: usize) -> LayerCache {
        LayerCache { head_dim, keys: vec![Vec::new(); n_kv_head], values: vec![Vec::new(); n_kv_head] }
    }

    pub fn len(&self) -> usize {
        self.keys.first().map_or(0, |k| k.len() / self.head_dim)
    }

    /// Appends one position per cache row of `k` and `v` (`n_kv_head * head_dim` values each,
    /// laid out `[kv_head][head_dim]`).
    pub fn push(&mut self, k: &[f32], v: &[f32]) {
        let row = self.keys.len() * self.head_dim;
        debug_assert_eq!(k.len(), v.len());
        debug_assert_eq!(k.len() % row, 0);
        for (k_row, v_row) in k.chunks_exact(row).zip(v.chunks_exact(row)) {
            let heads = k_row.chunks_exact(self.head_dim).zip(v_row.chunks_exact(self.head_dim));
            for ((keys, values), (k, v)) in self.keys.iter_mut().zip(&mut self.values).zip(heads) {
                keys.extend_from_slice(k);
                values.extend_from_slice(v);
            }
        }
    }

    pub fn truncate(&mut self, len: usize) {
        for (keys, values) in self.keys.iter_mut().zip(&mut self.values) {
            keys.truncate(len * self.head_dim);
            values.truncate(len * self.head_dim);
        }
    }

    /// One KV head's keys and values at positions `0..positions`, `head_dim` values each:
    /// position `j`'s key is `keys[j * head_dim..][..head_dim]`.
    pub fn head(&self, kv_head: usize, positions: usize) -> (&[f32], &[f32]) {
        assert!(positions <= self.len(), "attention over {positions} positions of {}", self.len());
        let span = ..positions * self.head_dim;
        (&self.keys[kv_head][span], &self.values[kv_head][span])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_read_back_what_was_pushed_and_truncation_forgets_the_tail() {
        let (heads, hd) = (3, 4);
        let mut cache = LayerCache::new(heads, hd);
        // Value at (position p, head h, index i) = 100p + 10h + i; keys and values negated.
        let row =
            |p: usize| -> Vec<f32> { (0..heads * hd).map(|j| (100 * p + 10 * (j / hd) + j % hd) as f32).collect() };
        let rows = |ps: std::ops::Range<usize>| -> Vec<f32> { ps.flat_map(row).collect() };
        let neg = |v: Vec<f32>| -> Vec<f32> { v.into_iter().map(|x| -x).collect() };
        cache.push(&rows(0..1), &neg(rows(0..1)));
        cache.push(&rows(1..4), &neg(rows(1..4)));
        assert_eq!(cache.len(), 4);
        for h in 0..heads {
            let (k, v) = cache.head(h, 4);
            for p in 0..4 {
                let want: Vec<f32> = (0..hd).map(|i| (100 * p + 10 * h + i) as f32).collect();
                assert_eq!(&k[p * hd..(p + 1) * hd], want.as_slice());
                assert_eq!(v[p * hd..(p + 1) * hd].to_vec(), neg(want));
            }
            assert_eq!(cache.head(h, 2).0.len(), 2 * hd);
        }
        cache.truncate(2);
        assert_eq!(cache.len(), 2);
        cache.push(&rows(7..8), &neg(rows(7..8)));
        let (k, _) = cache.head(1, 3);
        assert_eq!(&k[2 * hd..3 * hd], &[710.0, 711.0, 712.0, 713.0]);
        assert_eq!(cache.head(0, 0).0.len(), 0);
    }
}

//! The KV cache of one layer in device memory: preallocated tensors written in place, grown
//! by doubling, and truncated by moving a length, so rolling back rejected drafts is free.

use candle_core::{DType, Device, Tensor};

/// First allocation, in positions; doubles as the conversation grows.
const FIRST_CAPACITY: usize = 256;

/// Keys and values laid out `(n_kv_head, capacity, head_dim)`.
///
/// Invariant: positions `< len` hold what was pushed; the rest of the capacity is unused.
pub struct DeviceKv {
    n_kv_head: usize,
    head_dim: usize,
    len: usize,
    store: Option<(Tensor, Tensor)>,
}

impl DeviceKv {
    pub fn new(n_kv_head: usize, head_dim: usize) -> DeviceKv {
        DeviceKv { n_kv_head, head_dim, len: 0, store: None }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn capacity(&self) -> usize {
        self.store.as_ref().map_or(0, |(k, _)| k.dims()[1])
    }

    /// Appends `k` and `v`, each `(rows, n_kv_head, head_dim)`.
    pub fn push(&mut self, k: &Tensor, v: &Tensor, device: &Device) -> candle_core::Result<()> {
        let rows = k.dim(0)?;
        if self.len + rows > self.capacity() {
            let cap = (self.len + rows).max(2 * self.capacity()).max(FIRST_CAPACITY);
            let shape = (self.n_kv_head, cap, self.head_dim);
            let (nk, nv) = (Tensor::zeros(shape, DType::F32, device)?, Tensor::zeros(shape, DType::F32, device)?);
            if let (Some((ok, ov)), true) = (&self.store, self.len > 0) {
                nk.slice_set(&ok.narrow(1, 0, self.len)?.contiguous()?, 1, 0)?;
                nv.slice_set(&ov.narrow(1, 0, self.len)?.contiguous()?, 1, 0)?;
            }
            self.store = Some((nk, nv));
        }
        let (ks, vs) = self.store.as_ref().expect("allocated above");
        ks.slice_set(&k.transpose(0, 1)?.contiguous()?, 1, self.len)?;
        vs.slice_set(&v.transpose(0, 1)?.contiguous()?, 1, self.len)?;
        self.len += rows;
        Ok(())
    }

    /// Keys and values of positions `0..end`, each `(n_kv_head, end, head_dim)`.
    pub fn upto(&self, end: usize) -> candle_core::Result<(Tensor, Tensor)> {
        let (k, v) = self.store.as_ref().expect("attention runs after a push");
        Ok((k.narrow(1, 0, end)?, v.narrow(1, 0, end)?))
    }

    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

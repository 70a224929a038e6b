//! Storage behind a weight matrix: an owned buffer or a window into a shared one, such as a
//! memory-mapped model file, so that weights never need copying onto the heap.

use std::sync::Arc;

use crate::KernelError;

/// Bytes backing a matrix: owned, or a window into a shared buffer (e.g. an mmap'd file).
///
/// A `Shared` window is checked against its buffer when a [`crate::QMatrix`] is built, so
/// [`Bytes::as_slice`] never slices out of bounds for a matrix that exists.
#[derive(Clone)]
pub enum Bytes {
    Owned(Vec<u8>),
    Shared { buf: Arc<dyn AsRef<[u8]> + Send + Sync>, offset: usize, len: usize },
}

impl Bytes {
    /// The bytes, or an error if a shared window reaches past the end of its buffer.
    pub(crate) fn checked_slice(&self) -> Result<&[u8], KernelError> {
        match self {
            Bytes::Owned(v) => Ok(v),
            Bytes::Shared { buf, offset, len } => {
                let all: &[u8] = (**buf).as_ref();
                let bounds = KernelError::OutOfBounds { offset: *offset, len: *len, buf_len: all.len() };
                let end = offset.checked_add(*len).ok_or(bounds.clone())?;
                all.get(*offset..end).ok_or(bounds)
            }
        }
    }

    /// The bytes. Panics on a window outside its buffer, which a built matrix never holds.
    pub fn as_slice(&self) -> &[u8] {
        self.checked_slice().expect("shared window outside its buffer")
    }

    pub fn len(&self) -> usize {
        match self {
            Bytes::Owned(v) => v.len(),
            Bytes::Shared { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bytes::Owned(v) => write!(f, "Bytes::Owned({} bytes)", v.len()),
            Bytes::Shared { offset, len, .. } => write!(f, "Bytes::Shared({len} bytes at {offset})"),
        }
    }
}

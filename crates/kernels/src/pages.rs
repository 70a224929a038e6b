//! Heap buffers for weights that every forward pass streams, in 2 MiB pages where the
//! system gives them.
//!
//! A forward pass reads each weight once, hundreds of megabytes, and with 4 KiB pages the
//! CPU must look up a new page every 4 KiB. Linux backs memory with 2 MiB pages on request
//! (transparent huge pages in their usual `madvise` setting): asking for them made a
//! stream of a 0.5B draft model's layer matrices 3-8% faster and large single matrices
//! 9-20% (`--example layers`-style runs, alternating with the setting off). Only whole
//! 2 MiB pages inside a buffer are asked for, so a buffer's tail never takes more memory
//! than its bytes. Elsewhere, or when the system refuses, a buffer is plain heap memory.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::Bytes;

/// The size of the pages asked for.
const HUGE_PAGE: usize = 2 << 20;

/// A zero-initialised byte buffer, in huge pages where the system gives them.
pub(crate) struct PageBuffer {
    storage: Storage,
}

enum Storage {
    Heap(Vec<u8>),
    #[cfg(target_os = "linux")]
    Mapped(linux::Mapping),
}

impl PageBuffer {
    /// `len` zero bytes.
    pub(crate) fn zeroed(len: usize) -> PageBuffer {
        #[cfg(target_os = "linux")]
        if len >= HUGE_PAGE {
            if let Some(m) = linux::Mapping::new(len) {
                return PageBuffer { storage: Storage::Mapped(m) };
            }
        }
        PageBuffer { storage: Storage::Heap(vec![0; len]) }
    }

    /// The buffer as a matrix's bytes (shared, so cloning the matrix copies nothing).
    pub(crate) fn into_bytes(self) -> Bytes {
        let len = self.len();
        Bytes::Shared { buf: Arc::new(self), offset: 0, len }
    }
}

impl Deref for PageBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.storage {
            Storage::Heap(v) => v,
            #[cfg(target_os = "linux")]
            Storage::Mapped(m) => m.as_slice(),
        }
    }
}

impl DerefMut for PageBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.storage {
            Storage::Heap(v) => v,
            #[cfg(target_os = "linux")]
            Storage::Mapped(m) => m.as_mut_slice(),
        }
    }
}

impl AsRef<[u8]> for PageBuffer {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::HUGE_PAGE;

    /// An anonymous private mapping whose start is aligned to a huge page. Its pages read as
    /// zero until written, and are backed by memory only once touched.
    pub(super) struct Mapping {
        ptr: *mut u8,
        len: usize,
    }

    // SAFETY: the mapping is plain memory owned by this value alone; shared references only
    // read it and a mutable one needs `&mut self`.
    unsafe impl Send for Mapping {}
    unsafe impl Sync for Mapping {}

    impl Mapping {
        /// `None` when the system refuses the mapping.
        pub(super) fn new(len: usize) -> Option<Mapping> {
            let padded = len.checked_add(HUGE_PAGE)?;
            // SAFETY: a fresh anonymous mapping that overlaps nothing; every call below
            // stays within it.
            unsafe {
                let raw = libc::mmap(
                    std::ptr::null_mut(),
                    padded,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if raw == libc::MAP_FAILED {
                    return None;
                }
                // Keep the aligned part; give back the rest, before and after it.
                let raw = raw as usize;
                let start = raw.next_multiple_of(HUGE_PAGE);
                let end = (start + len).next_multiple_of(page_size());
                if start > raw {
                    libc::munmap(raw as *mut libc::c_void, start - raw);
                }
                if raw + padded > end {
                    libc::munmap(end as *mut libc::c_void, raw + padded - end);
                }
                // Only whole huge pages, so the tail takes no more memory than its bytes. A
                // refusal (huge pages off) leaves ordinary pages, which work the same.
                let whole = len / HUGE_PAGE * HUGE_PAGE;
                libc::madvise(start as *mut libc::c_void, whole, libc::MADV_HUGEPAGE);
                Some(Mapping { ptr: start as *mut u8, len })
            }
        }

        pub(super) fn as_slice(&self) -> &[u8] {
            // SAFETY: `ptr..ptr + len` is mapped readable and writable for our lifetime.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }

        pub(super) fn as_mut_slice(&mut self) -> &mut [u8] {
            // SAFETY: as `as_slice`, and `&mut self` makes this the only reference.
            unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: unmaps exactly what `new` kept, which nothing references any more.
            unsafe {
                libc::munmap(self.ptr as *mut libc::c_void, self.len.next_multiple_of(page_size()));
            }
        }
    }

    fn page_size() -> usize {
        // SAFETY: sysconf has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if size > 0 {
            size as usize
        } else {
            4096
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_zeroed_writable_and_exactly_as_long_as_asked() {
        for len in [0, 1, 4095, HUGE_PAGE - 1, HUGE_PAGE, HUGE_PAGE + 12345, 3 * HUGE_PAGE] {
            let mut b = PageBuffer::zeroed(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0), "{len} bytes");
            for (i, x) in b.iter_mut().enumerate() {
                *x = i as u8;
            }
            assert!(b.iter().enumerate().all(|(i, &x)| x == i as u8), "{len} bytes");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_start_on_a_huge_page() {
        let b = PageBuffer::zeroed(HUGE_PAGE + 1);
        assert_eq!(b.as_ptr() as usize % HUGE_PAGE, 0);
    }
}

//! A quantized weight matrix over raw GGUF bytes.

use rayon::prelude::*;

use crate::formats::{lanes, rows16};
use crate::pages::PageBuffer;
use crate::{formats, matmul, Bytes, KernelError, QType, SimdLevel};

/// How a matrix's blocks are arranged in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// As in the GGUF file.
    Gguf,
    /// Q4_K, Q6_K or Q8_0 with the quants rearranged for the AVX-512 VNNI kernels (same
    /// size); made by [`QMatrix::repacked`].
    Lanes,
    /// Q4_K, Q6_K, Q4_0, Q5_0 or Q8_0 with sixteen rows interleaved block by block for the AVX-512 VNNI
    /// kernels (Q4_K with its scales unpacked: 148 bytes per row and block instead of 144);
    /// made by [`QMatrix::repacked`] for matrices of a multiple of sixteen rows.
    Rows16,
}

/// A row-major weight matrix `rows x cols` (GGUF shape `[cols, rows]`); each row is
/// `cols / block_size` blocks of `qtype`.
///
/// Invariants (checked by [`QMatrix::new`]): `cols` is a positive multiple of the block
/// size, and the bytes are exactly `rows` rows of whole blocks.
#[derive(Clone, Debug)]
pub struct QMatrix {
    qtype: QType,
    rows: usize,
    cols: usize,
    row_bytes: usize,
    bytes: Bytes,
    layout: Layout,
}

impl QMatrix {
    /// A matrix over `bytes`, validated against `qtype`, `rows` and `cols`.
    pub fn new(qtype: QType, rows: usize, cols: usize, bytes: Bytes) -> Result<QMatrix, KernelError> {
        let row_bytes = match qtype.row_bytes(cols) {
            Some(rb) if cols > 0 => rb,
            _ => return Err(KernelError::BadCols { qtype, cols }),
        };
        let expected = rows.checked_mul(row_bytes).ok_or(KernelError::TooLarge { rows, cols })?;
        let actual = bytes.checked_slice()?.len();
        if actual != expected {
            return Err(KernelError::BadLength { qtype, rows, cols, expected, actual });
        }
        Ok(QMatrix { qtype, rows, cols, row_bytes, bytes, layout: Layout::Gguf })
    }

    pub fn qtype(&self) -> QType {
        self.qtype
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// How the blocks are arranged.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.row_bytes
    }

    /// Bytes of the whole matrix: what one matmul reads from memory.
    pub fn byte_len(&self) -> usize {
        self.rows * self.row_bytes
    }

    /// The raw blocks, row after row.
    pub fn data(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// Decode row `r` into `out` (used for embedding lookup). Panics if `r >= rows` or
    /// `out.len() != cols`.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        assert!(r < self.rows, "row {r} of a {}-row matrix", self.rows);
        assert_eq!(out.len(), self.cols, "dequantize_row: the output must hold {} values", self.cols);
        let rb = self.row_bytes;
        let row = &self.data()[r * rb..(r + 1) * rb];
        match self.layout {
            Layout::Gguf => formats::dequantize_row(self.qtype, row, out),
            Layout::Lanes => {
                let mut gguf = vec![0u8; rb];
                lanes::from_lanes(self.qtype, row, &mut gguf);
                formats::dequantize_row(self.qtype, &gguf, out)
            }
            Layout::Rows16 => {
                let group_bytes = rows16::GROUP * rb;
                let g = r / rows16::GROUP;
                let mut gguf = vec![0u8; self.gguf_row_bytes()];
                rows16::row_from_rows16(
                    self.qtype,
                    &self.data()[g * group_bytes..(g + 1) * group_bytes],
                    r % rows16::GROUP,
                    &mut gguf,
                );
                formats::dequantize_row(self.qtype, &gguf, out)
            }
        }
    }

    /// Bytes per row in the file's order.
    fn gguf_row_bytes(&self) -> usize {
        self.qtype.row_bytes(self.cols).expect("checked by new")
    }

    /// The layout `level`'s kernels read this matrix fastest in. For AVX-512 VNNI: Q4_K,
    /// Q6_K, Q4_0, Q5_0 and Q8_0 in rows16 form where the rows are a multiple of sixteen
    /// ([`Layout::Rows16`]); otherwise Q4_K and Q6_K in lane order, and Q8_0 in lane order
    /// for rows of a multiple of 128 values. The file's order otherwise.
    pub fn fastest_layout(&self, level: SimdLevel) -> Layout {
        let vnni = level == SimdLevel::Avx512Vnni;
        if vnni && rows16::has_rows16(self.qtype, self.rows) {
            Layout::Rows16
        } else if vnni && lanes::has_lanes(self.qtype, self.cols) {
            Layout::Lanes
        } else {
            Layout::Gguf
        }
    }

    /// This matrix in [`QMatrix::fastest_layout`] for `level`. Rearranging is exact: rows
    /// decode to the same values; lane-order Q4_K and Q6_K products are bit-identical to the
    /// file's order, while rows16 and lane-order Q8_0 sum in another order, so their
    /// products agree to float rounding (and, like every kernel, are row-exact). A matrix
    /// already in that form is returned as is, sharing its bytes, and any other result is
    /// a copy on the heap.
    pub fn repacked(&self, level: SimdLevel) -> QMatrix {
        let want = self.fastest_layout(level);
        if want == self.layout {
            return self.clone();
        }
        let gguf = match self.layout {
            Layout::Gguf => None,
            from => Some(self.rearranged(from, Layout::Gguf, self.data())),
        };
        let out = match (want, gguf) {
            (Layout::Gguf, Some(gguf)) => gguf,
            (_, gguf) => self.rearranged(Layout::Gguf, want, gguf.as_deref().unwrap_or(self.data())),
        };
        QMatrix { bytes: out.into_bytes(), layout: want, row_bytes: self.row_bytes_in(want), ..*self }
    }

    /// The rows of `parts`, one matrix after another, as one matrix on the heap in `level`'s
    /// fastest layout, so that one [`QMatrix::matmul`] computes what a call on each part
    /// would. Every value it gives is bit-identical to the part's own in that layout: a value
    /// depends only on its weight row and activation row. Each part is rearranged straight
    /// into its place, so no other copy is made. `None` unless there are parts and all of
    /// them share type, layout, columns and fastest layout (so a rows16 part holds whole
    /// groups of sixteen rows, and the groups stay intact): see [`QMatrix::stacks_with`].
    pub fn stacked(parts: &[&QMatrix], level: SimdLevel) -> Option<QMatrix> {
        let first = *parts.first()?;
        if !parts.iter().all(|m| first.stacks_with(m, level)) {
            return None;
        }
        let want = first.fastest_layout(level);
        let row_bytes = first.row_bytes_in(want);
        let rows = parts.iter().map(|m| m.rows).sum::<usize>();
        let mut out = PageBuffer::zeroed(rows * row_bytes);
        let mut at = 0;
        for m in parts {
            let dst = &mut out[at..at + m.rows * row_bytes];
            at += dst.len();
            match m.layout {
                from if from == want => dst.copy_from_slice(m.data()),
                Layout::Gguf => m.rearrange_into(Layout::Gguf, want, m.data(), dst),
                _ => dst.copy_from_slice(m.repacked(level).data()),
            }
        }
        Some(QMatrix { rows, row_bytes, bytes: out.into_bytes(), layout: want, ..*first })
    }

    /// Whether [`QMatrix::stacked`] takes `other` after this matrix, without making the stack.
    pub fn stacks_with(&self, other: &QMatrix, level: SimdLevel) -> bool {
        (self.qtype, self.layout, self.cols, self.fastest_layout(level))
            == (other.qtype, other.layout, other.cols, other.fastest_layout(level))
    }

    /// Rows `ids` of this matrix, in that order, as a matrix on the heap (for example the
    /// output rows of a vocabulary's shortlist). Each row keeps its bytes, so it multiplies
    /// exactly as it did here. Panics if an id is out of range or the matrix is in rows16
    /// form (whose rows are interleaved; take the rows first, then repack).
    pub fn rows_subset(&self, ids: &[u32]) -> QMatrix {
        assert!(self.layout != Layout::Rows16, "rows16 rows are interleaved");
        let rb = self.row_bytes;
        let mut bytes = Vec::with_capacity(ids.len() * rb);
        for &id in ids {
            let r = id as usize;
            assert!(r < self.rows, "row {r} of a {}-row matrix", self.rows);
            bytes.extend_from_slice(&self.data()[r * rb..(r + 1) * rb]);
        }
        QMatrix { rows: ids.len(), bytes: Bytes::Owned(bytes), ..*self }
    }

    /// Bytes per row in `layout`.
    fn row_bytes_in(&self, layout: Layout) -> usize {
        match layout {
            Layout::Rows16 => self.cols / self.qtype.block_size() * rows16::row_block_bytes(self.qtype),
            _ => self.gguf_row_bytes(),
        }
    }

    /// This matrix's blocks `src`, in layout `from`, rearranged into `to`; one of the two is
    /// the file's order.
    fn rearranged(&self, from: Layout, to: Layout, src: &[u8]) -> PageBuffer {
        let mut out = PageBuffer::zeroed(self.rows * self.row_bytes_in(to));
        self.rearrange_into(from, to, src, &mut out);
        out
    }

    /// [`QMatrix::rearranged`] into `out`, which holds the whole matrix in `to`.
    fn rearrange_into(&self, from: Layout, to: Layout, src: &[u8], out: &mut [u8]) {
        let row_bytes = self.row_bytes_in(to);
        match (from, to) {
            (Layout::Gguf, Layout::Rows16) | (Layout::Rows16, Layout::Gguf) => {
                // A group of sixteen rows at a time.
                let nb = self.cols / self.qtype.block_size();
                let (src_group, dst_group) = (src.len() / self.rows * rows16::GROUP, row_bytes * rows16::GROUP);
                out.par_chunks_mut(dst_group).zip(src.par_chunks(src_group)).for_each(|(dst, src)| match to {
                    Layout::Rows16 => rows16::to_rows16(self.qtype, src, dst, nb),
                    _ => rows16::from_rows16(self.qtype, src, dst, nb),
                });
            }
            (Layout::Gguf, Layout::Lanes) | (Layout::Lanes, Layout::Gguf) => {
                let piece = self.qtype.block_bytes() * 1024;
                out.par_chunks_mut(piece).zip(src.par_chunks(piece)).for_each(|(dst, src)| match to {
                    Layout::Lanes => lanes::to_lanes(self.qtype, src, dst),
                    _ => lanes::from_lanes(self.qtype, src, dst),
                });
            }
            _ => unreachable!("rearranging goes through the file's order"),
        }
    }

    /// `out[i * rows + r] = dot(weight row r, xs[i * cols..(i + 1) * cols])` for each of the
    /// `k = xs.len() / cols` activation rows.
    ///
    /// Row-exact: row `i` of the result is bit-identical to a call with only that activation
    /// row, whatever `k` and the thread count. Runs on the current rayon pool. Panics if
    /// `xs` is not whole rows or `out.len() != k * rows`.
    pub fn matmul(&self, xs: &[f32], out: &mut [f32]) {
        matmul::matmul(self, SimdLevel::active(), xs, out)
    }

    /// [`QMatrix::matmul`] with an explicit kernel family (for tests and benchmarks).
    /// Panics also if the CPU does not support `level`, or if the matrix is in lane order
    /// and `level` is not AVX-512 VNNI (see [`QMatrix::repacked`]).
    pub fn matmul_with(&self, level: SimdLevel, xs: &[f32], out: &mut [f32]) {
        matmul::matmul(self, level, xs, out)
    }

    /// Re-encode this matrix as `to` (e.g. Q5_0 -> Q8_0 so a draft model gets the faster
    /// kernels). Q5_0 -> Q8_0 is exact and block by block; otherwise values pass through f32,
    /// so the result is as close to the original as `to`'s precision allows. Encoding into
    /// the K-quant types is not supported.
    pub fn requantize(&self, to: QType) -> Result<QMatrix, KernelError> {
        if !formats::can_encode(to) {
            return Err(KernelError::CannotEncode(to));
        }
        let rb = match to.row_bytes(self.cols) {
            Some(rb) => rb,
            None => return Err(KernelError::BadCols { qtype: to, cols: self.cols }),
        };
        let total = self.rows.checked_mul(rb).ok_or(KernelError::TooLarge { rows: self.rows, cols: self.cols })?;
        let mut out = PageBuffer::zeroed(total);
        if let Some(widen) = formats::widening(self.qtype, to) {
            let (from_bytes, to_bytes) = (self.qtype.block_bytes(), to.block_bytes());
            out.par_chunks_mut(to_bytes * 1024).zip(self.data().par_chunks(from_bytes * 1024)).for_each(
                |(dst, src)| {
                    for (d, s) in dst.chunks_exact_mut(to_bytes).zip(src.chunks_exact(from_bytes)) {
                        widen(s, d);
                    }
                },
            );
            return QMatrix::new(to, self.rows, self.cols, out.into_bytes());
        }
        out.par_chunks_mut(rb).enumerate().try_for_each_init(
            || vec![0f32; self.cols],
            |row, (r, dst)| {
                self.dequantize_row(r, row);
                formats::quantize_row(to, row, dst)
            },
        )?;
        QMatrix::new(to, self.rows, self.cols, out.into_bytes())
    }
}

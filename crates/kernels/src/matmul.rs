//! The row-exact matrix multiply: quantize each activation row once, then walk the weight
//! units (a row, or a group of sixteen interleaved rows in rows16 form) in parallel chunks.
//! Each unit is decoded once per group of up to eight activation rows, and units are tiled
//! so that they come from cache for every group after the first: weights stream from
//! memory once per call whatever the row count.
//!
//! Row exactness holds by construction: each output element comes from one kernel call on
//! (weight row, activation row) whose arithmetic depends on neither the number of rows, nor
//! the grouping, chunking or tiling, nor the thread count (a multi-row kernel repeats the
//! one-row arithmetic for each of its rows).

use rayon::prelude::*;

use crate::act::{
    quantize_rows, ActBlock, Q8KAct, Q8KLanesAct, Q8KRowsAct, Q8_0Act, Q8_0LanesAct, Q8_0RowsAct, Q8_1Act,
};
use crate::kernel::{kernel, Kernel, RowDot};
use crate::qtype::{QK, QK_K};
use crate::{QMatrix, SimdLevel};

/// `out[i * rows + r] = dot(weight row r, xs[i * cols..(i + 1) * cols])` with `level`'s kernels.
pub(crate) fn matmul(m: &QMatrix, level: SimdLevel, xs: &[f32], out: &mut [f32]) {
    let (rows, cols) = (m.rows(), m.cols());
    assert!(xs.len().is_multiple_of(cols), "matmul: {} activations are not whole rows of {cols}", xs.len());
    let k = xs.len() / cols;
    assert_eq!(out.len(), k * rows, "matmul: the output must hold {k} x {rows} values");
    let kern = kernel(level, m.qtype(), m.layout());
    if k == 0 || rows == 0 {
        return;
    }
    let (w, rb) = (m.data(), m.row_bytes());
    match kern {
        Kernel::Q8K(dot) => run(w, rb, &quantize_rows::<Q8KAct>(level, xs), cols / QK_K, &dot, out, rows),
        Kernel::Q8KLanes(dot) => run(w, rb, &quantize_rows::<Q8KLanesAct>(level, xs), cols / QK_K, &dot, out, rows),
        Kernel::Q8KRows16(dot) => run(w, rb, &quantize_rows::<Q8KRowsAct>(level, xs), cols / QK_K, &dot, out, rows),
        Kernel::Q8_0Rows16(dot) => run(w, rb, &quantize_rows::<Q8_0RowsAct>(level, xs), cols / QK, &dot, out, rows),
        Kernel::Q8_0(dot) => run(w, rb, &quantize_rows::<Q8_0Act>(level, xs), cols / QK, &dot, out, rows),
        Kernel::Q8_0Lanes(dot) => {
            run(w, rb, &quantize_rows::<Q8_0LanesAct>(level, xs), cols / Q8_0LanesAct::LEN, &dot, out, rows)
        }
        Kernel::Q8_1(dot) => run(w, rb, &quantize_rows::<Q8_1Act>(level, xs), cols / QK, &dot, out, rows),
        Kernel::F32(dot) => run(w, rb, xs, cols, &dot, out, rows),
    }
}

/// What a kernel call gives per activation row: one weight row's result, or a group's.
pub(crate) trait UnitOut: Copy {
    /// Weight rows per unit.
    const ROWS: usize;
    fn write(&self, dst: &mut [f32]);
}

impl UnitOut for f32 {
    const ROWS: usize = 1;
    fn write(&self, dst: &mut [f32]) {
        dst[0] = *self;
    }
}

impl UnitOut for [f32; 16] {
    const ROWS: usize = 16;
    fn write(&self, dst: &mut [f32]) {
        dst.copy_from_slice(self);
    }
}

/// Units (weight rows, or groups of them) per parallel task: about eight tasks per thread,
/// so that a core slowed by other work does not hold up the call, but at least 64 KiB of
/// weights each, so that scheduling costs stay small next to the work.
fn chunk_units(units: usize, unit_bytes: usize) -> usize {
    let balanced = units.div_ceil(rayon::current_num_threads().max(1) * 8);
    balanced.max((64 * 1024) / unit_bytes.max(1)).max(1)
}

/// Write the results for activation rows `i..i + N` at unit `j` of the task's pieces.
fn store<O: UnitOut, const N: usize>(pieces: &mut [&mut [f32]], i: usize, j: usize, v: &[O; N]) {
    for (t, v) in v.iter().enumerate() {
        v.write(&mut pieces[i + t][j * O::ROWS..(j + 1) * O::ROWS]);
    }
}

fn run<A: Sync, O: UnitOut>(
    w: &[u8],
    row_bytes: usize,
    acts: &[A],
    per_row: usize,
    dot: &RowDot<A, O>,
    out: &mut [f32],
    rows: usize,
) {
    let act_rows: Vec<&[A]> = acts.chunks_exact(per_row).collect();
    let k = act_rows.len();
    let unit_bytes = O::ROWS * row_bytes;
    let chunk = chunk_units(rows / O::ROWS, unit_bytes) * O::ROWS;
    // Task c owns out[i * rows + c * chunk ..][..chunk] for every activation row i.
    let mut tasks: Vec<Vec<&mut [f32]>> = (0..rows.div_ceil(chunk)).map(|_| Vec::with_capacity(k)).collect();
    for out_row in out.chunks_exact_mut(rows) {
        for (task, piece) in tasks.iter_mut().zip(out_row.chunks_mut(chunk)) {
            task.push(piece);
        }
    }
    let groups = row_groups(k);
    let tile = (TILE_BYTES / unit_bytes).max(1);
    tasks.into_par_iter().enumerate().for_each(|(c, mut pieces)| {
        let (first, n) = (c * chunk / O::ROWS, pieces[0].len() / O::ROWS);
        for t0 in (0..n).step_by(tile) {
            for &(i, len) in &groups {
                for j in t0..(t0 + tile).min(n) {
                    let r = first + j;
                    let wrow = &w[r * unit_bytes..(r + 1) * unit_bytes];
                    // The first group streams the tile from memory; with several activation
                    // rows it computes long enough per weight row for a prefetch to pay. (A
                    // group kernel fetches ahead itself, spread over its blocks: a whole group
                    // requested at once measured slower than none.)
                    if i == 0 && k > 1 && O::ROWS == 1 {
                        if let Some(ahead) = w.get((r + AHEAD) * row_bytes..(r + AHEAD + 1) * row_bytes) {
                            prefetch(ahead);
                        }
                    }
                    let a = &act_rows[i..i + len];
                    // SAFETY (all calls): `dot` came from `kernel` (supported level); `wrow`
                    // is whole blocks and every activation row has `per_row` blocks.
                    match len {
                        1 => store(&mut pieces, i, j, &unsafe { (dot.one)(wrow, [a[0]]) }),
                        2 => store(&mut pieces, i, j, &unsafe { (dot.two)(wrow, [a[0], a[1]]) }),
                        3 => store(&mut pieces, i, j, &unsafe { (dot.three)(wrow, [a[0], a[1], a[2]]) }),
                        4 => store(&mut pieces, i, j, &unsafe { (dot.four)(wrow, [a[0], a[1], a[2], a[3]]) }),
                        8 => store(&mut pieces, i, j, &unsafe { (dot.eight)(wrow, std::array::from_fn(|t| a[t])) }),
                        _ => unreachable!("row groups hold 1 to 4 or 8 rows"),
                    }
                }
            }
        }
    });
}

/// Weight rows fetched ahead of the one being multiplied, by the row-by-row kernels' calls
/// (the rows16 kernels fetch ahead themselves).
const AHEAD: usize = 2;

/// Asks the CPU to start loading `bytes` into its caches, so that a call that computes
/// more than it reads (several activation rows) does not also wait for memory. (With one
/// row the hardware prefetcher keeps up, and the extra instructions cost more than they
/// save: measured.)
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr() as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Weight bytes per tile. A tile of weight rows meets each group of activation rows in turn:
/// the group (a few KiB) stays in L1 while the tile streams from L2, so memory is read once
/// per call and L1 holds what is reused most. Sized to sit well inside a 1 MiB L2.
const TILE_BYTES: usize = 256 * 1024;

/// Activation rows `i..i + len` per kernel call: eights, then fours, then the rest.
fn row_groups(k: usize) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut i = 0;
    while k - i >= 8 {
        groups.push((i, 8));
        i += 8;
    }
    while i < k {
        let len = (k - i).min(4);
        groups.push((i, len));
        i += len;
    }
    groups
}

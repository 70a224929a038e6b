//! Q8_0 weights in lane order (`formats::lanes`) against [`Q8_0LanesAct`] rows with AVX-512
//! VNNI, four blocks at a time.
//!
//! Q8_0 has a scale per 32 values, so the GGUF-order kernel finishes every block in f32:
//! about seven operations per 32 values and row. In lane order, two chained `vpdpbusd` over
//! 128 values leave each of the sixteen lanes with the exact integer dot of eight values of
//! one block (the weights are stored plus 128, unsigned, and each lane starts from -128
//! times its activation sum), and one conversion and two f32 operations apply the sixteen
//! lanes' scales at once.
//!
//! Every N-row entry point repeats the one-row arithmetic per row, so row results do not
//! depend on N.

use std::arch::x86_64::*;

use super::hsums512;
use crate::act::Q8_0LanesAct;

/// Four blocks: four f16 scales, then 128 quants.
const GROUP_BYTES: usize = 136;
const QUANTS: usize = 8;

/// Lane `l` carries block `l / 4`'s scale.
const BLOCK_OF_LANE: [i32; 16] = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3];

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_q8_0_lanes_vnni<const N: usize>(w: &[u8], a: [&[Q8_0LanesAct]; N]) -> [f32; N] {
    let ng = w.len() / GROUP_BYTES;
    assert!(a.iter().all(|a| a.len() == ng) && w.len() == ng * GROUP_BYTES);
    let index = _mm512_loadu_si512(BLOCK_OF_LANE.as_ptr() as *const __m512i);
    let mut acc = [_mm512_setzero_ps(); N];
    for g in 0..ng {
        let b = w.as_ptr().add(g * GROUP_BYTES);
        let d = _mm_cvtph_ps(_mm_loadl_epi64(b as *const __m128i));
        let dw = _mm512_permutexvar_ps(index, _mm512_castps128_ps512(d));
        let w0 = _mm512_loadu_si512(b.add(QUANTS) as *const __m512i);
        let w1 = _mm512_loadu_si512(b.add(QUANTS + 64) as *const __m512i);
        for n in 0..N {
            let y = a[n].get_unchecked(g);
            let q = y.qs.as_ptr() as *const __m512i;
            let s = _mm512_loadu_si512(y.neg128_sums.as_ptr() as *const __m512i);
            let s = _mm512_dpbusd_epi32(s, w0, _mm512_loadu_si512(q));
            let s = _mm512_dpbusd_epi32(s, w1, _mm512_loadu_si512(q.add(1)));
            let scale = _mm512_mul_ps(dw, _mm512_loadu_ps(y.d.as_ptr()));
            acc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc[n]);
        }
    }
    hsums512(acc)
}

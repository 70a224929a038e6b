//! Legacy-format weight rows (32-element blocks) against Q8_0 / Q8_1 activation rows.
//! Per block and row: the int8 dot product in i32 lanes, converted and fused-multiply-added
//! with d_w * d_a into eight f32 lanes; the lanes are summed once at the end.

use std::arch::x86_64::*;

use super::{bits_to_bytes, f16_at, hsum_ps, hsums, load, nibbles, signed_dot4, I8Dot, Maddubs, Vnni};
use crate::act::{Q8_0Act, Q8_1Act};

/// How one block's 32 weights are decoded to bytes.
trait Decode {
    /// Block size in bytes.
    const BYTES: usize;
    /// The 32 quants of the block at `b`: signed for the Q8_0-paired types, unsigned (before
    /// the offset `m`) for the Q8_1-paired ones.
    unsafe fn decode(b: *const u8) -> __m256i;
}

struct Q4_0;
struct Q5_0;
struct Q8_0;
struct Q4_1;
struct Q5_1;

impl Decode for Q4_0 {
    const BYTES: usize = 18;
    #[inline(always)]
    unsafe fn decode(b: *const u8) -> __m256i {
        _mm256_sub_epi8(nibbles(b.add(2)), _mm256_set1_epi8(8))
    }
}

impl Decode for Q5_0 {
    const BYTES: usize = 22;
    /// q - 16 = nibble when the fifth bit is set, else nibble - 16, i.e. nibble | 0xF0.
    #[inline(always)]
    unsafe fn decode(b: *const u8) -> __m256i {
        let high = bits_to_bytes((b.add(2) as *const u32).read_unaligned());
        _mm256_or_si256(nibbles(b.add(6)), _mm256_andnot_si256(high, _mm256_set1_epi8(0xF0u8 as i8)))
    }
}

impl Decode for Q8_0 {
    const BYTES: usize = 34;
    #[inline(always)]
    unsafe fn decode(b: *const u8) -> __m256i {
        load(b.add(2))
    }
}

impl Decode for Q4_1 {
    const BYTES: usize = 20;
    #[inline(always)]
    unsafe fn decode(b: *const u8) -> __m256i {
        nibbles(b.add(4))
    }
}

impl Decode for Q5_1 {
    const BYTES: usize = 24;
    #[inline(always)]
    unsafe fn decode(b: *const u8) -> __m256i {
        let high = bits_to_bytes((b.add(4) as *const u32).read_unaligned());
        _mm256_or_si256(nibbles(b.add(8)), _mm256_and_si256(high, _mm256_set1_epi8(0x10)))
    }
}

/// Symmetric weights (value = d * q) against Q8_0 activations.
#[inline(always)]
unsafe fn symmetric<const N: usize, W: Decode, D: I8Dot>(w: &[u8], a: [&[Q8_0Act]; N]) -> [f32; N] {
    let nb = w.len() / W::BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * W::BYTES);
    let mut acc = [_mm256_setzero_ps(); N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * W::BYTES);
        let dw = f16_at(b);
        let qx = W::decode(b);
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let p = _mm256_cvtepi32_ps(signed_dot4::<D>(qx, load(y.qs.as_ptr() as *const u8)));
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y.d), p, acc[n]);
        }
    }
    hsums(acc)
}

/// Offset weights (value = d * q + m) against Q8_1 activations: Σ = d_w d_a Σ q a + m s.
#[inline(always)]
unsafe fn offset<const N: usize, W: Decode, D: I8Dot>(w: &[u8], a: [&[Q8_1Act]; N]) -> [f32; N] {
    let nb = w.len() / W::BYTES;
    assert!(a.iter().all(|a| a.len() == nb) && w.len() == nb * W::BYTES);
    let mut acc = [_mm256_setzero_ps(); N];
    let mut offsets = [0f32; N];
    for i in 0..nb {
        let b = w.as_ptr().add(i * W::BYTES);
        let (dw, m) = (f16_at(b), f16_at(b.add(2)));
        let qx = W::decode(b);
        for n in 0..N {
            let y = a[n].get_unchecked(i);
            let p = _mm256_cvtepi32_ps(D::dot4(qx, load(y.qs.as_ptr() as *const u8)));
            acc[n] = _mm256_fmadd_ps(_mm256_set1_ps(dw * y.d), p, acc[n]);
            offsets[n] += m * y.s;
        }
    }
    let mut out = [0f32; N];
    for n in 0..N {
        out[n] = hsum_ps(acc[n]) + offsets[n];
    }
    out
}

/// One AVX2 and one VNNI entry point per format.
macro_rules! entry_points {
    ($($avx2:ident, $vnni:ident => $body:ident::<$w:ty>($act:ty);)*) => {$(
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(crate) unsafe fn $avx2<const N: usize>(w: &[u8], a: [&[$act]; N]) -> [f32; N] {
            $body::<N, $w, Maddubs>(w, a)
        }

        #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
        pub(crate) unsafe fn $vnni<const N: usize>(w: &[u8], a: [&[$act]; N]) -> [f32; N] {
            $body::<N, $w, Vnni>(w, a)
        }
    )*};
}

entry_points! {
    dot_q4_0, dot_q4_0_vnni => symmetric::<Q4_0>(Q8_0Act);
    dot_q5_0, dot_q5_0_vnni => symmetric::<Q5_0>(Q8_0Act);
    dot_q8_0, dot_q8_0_vnni => symmetric::<Q8_0>(Q8_0Act);
    dot_q4_1, dot_q4_1_vnni => offset::<Q4_1>(Q8_1Act);
    dot_q5_1, dot_q5_1_vnni => offset::<Q5_1>(Q8_1Act);
}

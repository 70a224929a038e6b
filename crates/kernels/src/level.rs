//! Which kernel family runs: detected once at run time from the CPU, never assumed at
//! compile time. One process uses one family for every call, which keeps results
//! reproducible within the process (different families agree only to float rounding).

use std::sync::OnceLock;

/// A kernel family, from the portable fallback up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable Rust; the reference semantics.
    Scalar,
    /// x86-64 with AVX2, FMA and F16C.
    Avx2,
    /// AVX2 plus AVX-512 (F, BW, VL) with VNNI int8 dot products.
    Avx512Vnni,
}

/// Environment variable that caps the kernel family: `scalar`, `avx2` or `avx512vnni`
/// (case-insensitive). Other values are ignored; a level above what the CPU supports means
/// the best it does support.
pub const LEVEL_ENV: &str = "TANDEM_KERNELS";

impl SimdLevel {
    /// Every level, lowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512Vnni];

    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512Vnni => "avx512vnni",
        }
    }

    /// The level with this name, as accepted in [`LEVEL_ENV`].
    pub fn from_name(name: &str) -> Option<SimdLevel> {
        SimdLevel::ALL.into_iter().find(|l| l.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the level's kernels.
    pub fn is_supported(self) -> bool {
        match self {
            SimdLevel::Scalar => true,
            SimdLevel::Avx2 => avx2_supported(),
            SimdLevel::Avx512Vnni => avx2_supported() && avx512vnni_supported(),
        }
    }

    /// The levels this CPU supports, lowest first (always starts with `Scalar`).
    pub fn supported() -> Vec<SimdLevel> {
        SimdLevel::ALL.into_iter().filter(|l| l.is_supported()).collect()
    }

    /// The best level the CPU supports, capped by [`LEVEL_ENV`] when that names a level;
    /// decided on first use and fixed for the life of the process.
    pub fn active() -> SimdLevel {
        static ACTIVE: OnceLock<SimdLevel> = OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let best = *SimdLevel::supported().last().expect("scalar is always supported");
            match std::env::var(LEVEL_ENV).ok().as_deref().and_then(SimdLevel::from_name) {
                Some(cap) => cap.min(best),
                None => best,
            }
        })
    }

    /// Panics unless the CPU supports this level: running its kernels otherwise would
    /// execute illegal instructions.
    pub(crate) fn assert_supported(self) {
        assert!(self.is_supported(), "this CPU cannot run the {} kernels", self.name());
    }
}

/// Which kernel family run-time detection picked ("avx512vnni", "avx2", "scalar").
pub fn simd_level() -> &'static str {
    SimdLevel::active().name()
}

#[cfg(target_arch = "x86_64")]
fn avx2_supported() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c")
}

#[cfg(target_arch = "x86_64")]
fn avx512vnni_supported() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_supported() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512vnni_supported() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for l in SimdLevel::ALL {
            assert_eq!(SimdLevel::from_name(l.name()), Some(l));
        }
        assert_eq!(SimdLevel::from_name(" AVX2 "), Some(SimdLevel::Avx2));
        assert_eq!(SimdLevel::from_name("neon"), None);
    }

    #[test]
    fn active_level_is_supported_and_scalar_always_is() {
        assert!(SimdLevel::active().is_supported());
        assert_eq!(SimdLevel::supported()[0], SimdLevel::Scalar);
        assert_eq!(simd_level(), SimdLevel::active().name());
    }
}

//! A draft's Q5_0 layers are widened to Q8_0 where Q5_0 has no fast form of its own. This
//! file is its own test process with a single test, so capping the kernels at AVX2 first
//! decides the level for the whole run and exercises that path on any x86-64 CPU.

mod common;

use tandem_kernels::{SimdLevel, LEVEL_ENV};

#[test]
fn without_avx512_vnni_a_q5_0_draft_is_widened_to_q8_0() {
    std::env::set_var(LEVEL_ENV, "avx2");
    if SimdLevel::active() != SimdLevel::Avx2 {
        return; // not an AVX2 CPU: nothing to cap
    }
    common::check_q5_0_draft(true);
}

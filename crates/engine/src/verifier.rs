//! Checking drafted tokens against the target's logits, losslessly.
//!
//! Greedy: the committed tokens are exactly what greedy plain decoding would produce.
//! Sampling: exact speculative sampling (Leviathan et al. 2023; Chen et al. 2023): every
//! emitted token is distributed exactly as plain sampling from the target would be,
//! whatever the draft distribution q is (a deterministic drafter is a one-hot q).

use crate::drafter::Proposal;
use crate::error::EngineError;
use crate::model::{Logits, TokenId};
use crate::rng::Rng;
use crate::sampler::{self, SamplingParams};

/// The outcome of one verification.
///
/// The step commits `drafted[..accepted]` followed by `next`, the target's own token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// How many drafted tokens were accepted, from the front.
    pub accepted: usize,
    /// The token chosen from the target's row after the accepted prefix (a correction on
    /// rejection, a bonus token when every draft was accepted).
    pub next: TokenId,
}

/// Verifies `proposal` against `logits`, the target's rows for `[last, drafted...]`
/// (`proposal.tokens.len() + 1` rows). Only the first `vocab_limit` ids of each row count
/// (padding rows of the target's vocabulary are never chosen).
///
/// An empty proposal is plain decoding: `next` is chosen from the only row exactly as
/// [`sampler::choose`] would, so plain and speculative decoding share one code path.
pub fn verify(
    logits: &Logits,
    proposal: &Proposal,
    sampling: &SamplingParams,
    vocab_limit: Option<usize>,
    rng: &mut Rng,
) -> Result<Verdict, EngineError> {
    let drafted = &proposal.tokens;
    if logits.rows != drafted.len() + 1 || logits.data.len() != logits.rows * logits.vocab {
        return Err(EngineError::InvalidLogits(format!(
            "{} rows of {} values ({} in all) for {} drafted tokens",
            logits.rows,
            logits.vocab,
            logits.data.len(),
            drafted.len()
        )));
    }
    let v = vocab_limit.map_or(logits.vocab, |l| l.min(logits.vocab));
    let row = |i: usize| &logits.row(i)[..v];
    if sampling.is_greedy() {
        for (j, &x) in drafted.iter().enumerate() {
            let best = sampler::argmax(row(j))?;
            if best != x {
                return Ok(Verdict { accepted: j, next: best });
            }
        }
        let next = sampler::argmax(row(drafted.len()))?;
        return Ok(Verdict { accepted: drafted.len(), next });
    }
    for (j, &x) in drafted.iter().enumerate() {
        let p = sampler::distribution(row(j), sampling)?;
        let q = proposal.dists.as_ref().map(|d| d[j].as_slice());
        let q_at = |i: usize| match q {
            Some(q) => q.get(i).copied().unwrap_or(0.0),
            None => (i == x as usize) as u8 as f32,
        };
        let px = p.get(x as usize).copied().unwrap_or(0.0) as f64;
        let qx = q_at(x as usize) as f64;
        // Accept with probability min(1, p(x)/q(x)), written without a division.
        if rng.next_f64() * qx < px {
            continue;
        }
        // Rejected: draw from the residual max(0, p - q), which is exactly the part of p
        // that the accept step under-covers.
        let residual: Vec<f32> = p.iter().enumerate().map(|(i, &pi)| (pi - q_at(i)).max(0.0)).collect();
        // The residual has positive mass whenever p(x) < q(x), except through rounding
        // when p and q are equal to within float precision; p is then the right answer.
        let next = sampler::sample(&residual, rng).or_else(|_| sampler::sample(&p, rng))?;
        return Ok(Verdict { accepted: j, next });
    }
    let next = sampler::sample(&sampler::distribution(row(drafted.len()), sampling)?, rng)?;
    Ok(Verdict { accepted: drafted.len(), next })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows whose argmax is the given token (logit 1 there, 0 elsewhere).
    fn peaked(argmaxes: &[TokenId], vocab: usize) -> Logits {
        let mut data = vec![0.0; argmaxes.len() * vocab];
        for (r, &t) in argmaxes.iter().enumerate() {
            data[r * vocab + t as usize] = 1.0;
        }
        Logits { rows: argmaxes.len(), vocab, data }
    }

    fn greedy(logits: &Logits, drafted: &[TokenId]) -> Verdict {
        let p = Proposal { tokens: drafted.to_vec(), dists: None, forwards: 0 };
        verify(logits, &p, &SamplingParams::greedy(), None, &mut Rng::new(0)).unwrap()
    }

    #[test]
    fn greedy_all_accepted_takes_the_bonus_row() {
        let l = peaked(&[3, 1, 4, 2], 8);
        assert_eq!(greedy(&l, &[3, 1, 4]), Verdict { accepted: 3, next: 2 });
    }

    #[test]
    fn greedy_none_accepted_corrects_with_the_first_row() {
        let l = peaked(&[3, 1, 4, 2], 8);
        assert_eq!(greedy(&l, &[5, 1, 4]), Verdict { accepted: 0, next: 3 });
    }

    #[test]
    fn greedy_stops_at_the_first_mismatch() {
        let l = peaked(&[3, 1, 4, 2], 8);
        assert_eq!(greedy(&l, &[3, 1, 7]), Verdict { accepted: 2, next: 4 });
        // Later rows would have matched but are never consulted.
        assert_eq!(greedy(&l, &[3, 0, 4]), Verdict { accepted: 1, next: 1 });
    }

    #[test]
    fn empty_draft_is_plain_decoding() {
        let l = peaked(&[6], 8);
        assert_eq!(greedy(&l, &[]), Verdict { accepted: 0, next: 6 });
    }

    #[test]
    fn vocab_limit_hides_padding_ids() {
        let l = peaked(&[7, 7], 8);
        // Without the limit id 7 wins; with a limit of 7 the tie among 0..7 goes to id 0.
        let p = Proposal { tokens: vec![0], dists: None, forwards: 0 };
        let v = verify(&l, &p, &SamplingParams::greedy(), Some(7), &mut Rng::new(0)).unwrap();
        assert_eq!(v, Verdict { accepted: 1, next: 0 });
        assert_eq!(greedy(&l, &[0]), Verdict { accepted: 0, next: 7 });
    }

    #[test]
    fn wrong_row_count_is_an_error() {
        let l = peaked(&[1, 2], 8);
        let p = Proposal { tokens: vec![1, 2], dists: None, forwards: 0 };
        let e = verify(&l, &p, &SamplingParams::greedy(), None, &mut Rng::new(0)).unwrap_err();
        assert_eq!(e.code(), "invalid_logits");
    }

    #[test]
    fn sampling_accepts_a_draft_equal_to_a_point_mass_target() {
        // The target puts all its mass on token 2 (after top-p), the draft proposes 2 with
        // certainty: accepted every time; a draft of 3 is rejected every time and corrected to 2.
        let sampling = SamplingParams { temperature: 1.0, top_p: 0.5, seed: 0 };
        let l = Logits { rows: 2, vocab: 4, data: vec![0.0, 0.0, 9.0, 0.0, 0.0, 9.0, 0.0, 0.0] };
        let mut rng = Rng::new(5);
        for _ in 0..100 {
            let ok = Proposal { tokens: vec![2], dists: None, forwards: 0 };
            assert_eq!(verify(&l, &ok, &sampling, None, &mut rng).unwrap(), Verdict { accepted: 1, next: 1 });
            let bad = Proposal { tokens: vec![3], dists: Some(vec![vec![0.1, 0.1, 0.1, 0.7]]), forwards: 0 };
            assert_eq!(verify(&l, &bad, &sampling, None, &mut rng).unwrap(), Verdict { accepted: 0, next: 2 });
        }
    }
}

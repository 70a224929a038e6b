//! The fastest any draft-length policy could have decoded a known answer: the ceiling
//! against which `tandem bench --simulate` measures the real policy.
//!
//! Knowing in advance which guesses the target accepts, the best plan chooses at every
//! step between a plain step, a draft model's first `j` guesses and prompt lookup's first
//! `j`, with `j` at most what the target accepts (or, for the draft model, one past it;
//! see below): any other rejected guess only adds cost. Its time under [`SimulatedCosts`]
//! is a lower bound on every policy's time with the same drafters and costs, so
//! `plain time / fastest time` bounds the speedup a policy can reach. When a prompt's
//! ceiling is below a target, no draft-length policy can meet it with these drafters at
//! these costs; when the policy falls far short of the ceiling, the policy is what to
//! improve.
//!
//! A policy may also draft one guess past what the target accepts: it pays a forward and
//! a wider call for nothing, but leaves the draft model one token less behind than a draft
//! that was right to the end (the rejected guess's place is taken by the target's token,
//! the only one it then lacks). The best plan has that step too, so it is never beaten.
//!
//! The bound is generous in three ways the real drafters are not: a draft model's guesses
//! are counted without its doubt stop; prompt lookup and the model are both offered at
//! every step (a hybrid drafter asks the model only where lookup finds nothing); and the
//! guess past a run is taken to exist and be wrong even where the run ends at the answer's
//! end or the context's.

use crate::drafter::{Drafter, DrafterKind};
use crate::error::EngineError;
use crate::model::TokenId;
use crate::policy::STEADY_BACKLOG;
use crate::rng::Rng;
use crate::sampler::SamplingParams;
use crate::simulated::SimulatedCosts;

/// How far one source of guesses gets at each position of a known answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hindsight {
    /// [`DrafterKind::Ngram`] guesses for free; any other kind is a draft model, whose
    /// guesses cost forwards and catching up as [`SimulatedCosts::draft`] counts them.
    pub kind: DrafterKind,
    /// The most guesses asked for at a time.
    pub k: usize,
    /// `runs[i]`: how many of the guesses it makes after the prompt and the answer's first
    /// `i` tokens, asked for at most `k`, are the answer's next tokens. One entry per
    /// position of the answer.
    pub runs: Vec<usize>,
}

impl Hindsight {
    /// The runs of `guesses[i]`, the at most `k` guesses at position `i` of `answer`: how
    /// many lead `answer[i..]`.
    pub fn from_guesses(kind: DrafterKind, answer: &[u32], guesses: &[Vec<u32>], k: usize) -> Hindsight {
        assert_eq!(answer.len(), guesses.len(), "one set of guesses per position");
        assert!(guesses.iter().all(|g| g.len() <= k), "at most k guesses at a time");
        let runs = guesses.iter().enumerate().map(|(i, g)| leading_matches(g, &answer[i..])).collect();
        Hindsight { kind, k, runs }
    }

    /// The runs of a model that guesses `next[i]` as the token at position `i` given the
    /// answer before it (its greedy choice after the true context), asked for at most `k`
    /// tokens: a greedy draft is right as long as each of its tokens is.
    pub fn from_next_tokens(kind: DrafterKind, answer: &[u32], next: &[Option<u32>], k: usize) -> Hindsight {
        assert_eq!(answer.len(), next.len(), "one guess per position");
        let mut runs = vec![0; answer.len()];
        for i in (0..answer.len()).rev() {
            if next[i] == Some(answer[i]) {
                runs[i] = (1 + runs.get(i + 1).copied().unwrap_or(0)).min(k);
            }
        }
        Hindsight { kind, k, runs }
    }
}

/// What `drafter` gets right at every position of `answer`, a known greedy answer to
/// `prompt`, asked greedily for at most `k` guesses at each: the default
/// [`Drafter::hindsight`], and the reference a faster one must match.
pub fn by_proposing<D: Drafter + ?Sized>(
    drafter: &mut D,
    prompt: &[TokenId],
    answer: &[TokenId],
    k: usize,
) -> Result<Hindsight, EngineError> {
    let mut context = prompt.to_vec();
    let mut guesses = Vec::with_capacity(answer.len());
    let mut rng = Rng::new(0);
    for &t in answer {
        guesses.push(drafter.propose(&context, k, &SamplingParams::greedy(), &mut rng)?.tokens);
        context.push(t);
    }
    Ok(Hindsight::from_guesses(drafter.kind(), answer, &guesses, k))
}

/// How many of `guess` equal the start of `truth`.
fn leading_matches(guess: &[u32], truth: &[u32]) -> usize {
    guess.iter().zip(truth).take_while(|(g, t)| g == t).count()
}

/// The least time, under `costs`, in which any sequence of plain and speculative steps
/// produces an answer of `answer_len` target steps (its tokens, and the end-of-sequence
/// step if it ended there), drafting from `sources` with every draft fully accepted.
///
/// The draft model starts with the prompt read (as after [`crate::Drafter::prepare`]): the
/// first draft takes one forward less, and the model falls behind by every token that a
/// plain or lookup step adds, to catch up at its next draft.
pub fn fastest_decode_ms(answer_len: usize, sources: &[Hindsight], costs: &SimulatedCosts) -> f64 {
    let m = answer_len;
    assert!(sources.iter().all(|s| s.runs.len() == m), "one run per position of the answer");
    // best[i * width + b]: the least time to produce steps i.. with the draft model b tokens
    // behind. Nothing adds more than the answer's tokens to b, so m + 1 covers every state.
    let width = m + 2;
    let mut best = vec![0f64; (m + 1) * width];
    for i in (0..m).rev() {
        for b in 0..width {
            let later = |to: usize, behind: usize| best[to.min(m) * width + behind.min(width - 1)];
            let mut t = costs.verify(1) + later(i + 1, b + 1);
            for s in sources {
                let run = s.runs[i];
                for j in 1..=run {
                    let step = match s.kind {
                        DrafterKind::Ngram => costs.verify(1 + j) + later(i + j + 1, b + j + 1),
                        _ => model_step(costs, j, b) + later(i + j + 1, STEADY_BACKLOG),
                    };
                    t = t.min(step);
                }
                if s.kind != DrafterKind::Ngram && run < s.k {
                    t = t.min(model_step(costs, run + 1, b) + later(i + run + 1, 1));
                }
            }
            best[i * width + b] = t;
        }
    }
    best[0]
}

/// A draft model's step of `drafted` guesses from `behind` tokens behind, verified. With
/// nothing to catch up it holds the logits for its first guess already.
fn model_step(costs: &SimulatedCosts, drafted: usize, behind: usize) -> f64 {
    costs.draft(drafted - (behind == 0) as usize, behind) + costs.verify(1 + drafted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn costs(s: &str) -> SimulatedCosts {
        s.parse().unwrap()
    }

    #[test]
    fn runs_count_the_guesses_that_lead_the_answer() {
        let answer = [5, 6, 7, 8];
        let lookup =
            Hindsight::from_guesses(DrafterKind::Ngram, &answer, &[vec![5, 6, 9], vec![], vec![7, 8], vec![1]], 3);
        assert_eq!(lookup.runs, [2, 0, 2, 0]);
        let next = [Some(5), Some(6), None, Some(8)];
        assert_eq!(Hindsight::from_next_tokens(DrafterKind::Model, &answer, &next, 8).runs, [2, 1, 0, 1]);
        assert_eq!(Hindsight::from_next_tokens(DrafterKind::Model, &answer, &next, 1).runs, [1, 1, 0, 1]);
    }

    #[test]
    fn without_guesses_every_step_is_plain() {
        let c = costs("draft=5,verify=20:24");
        assert_eq!(fastest_decode_ms(7, &[], &c), 140.0);
        let never = Hindsight { kind: DrafterKind::Model, k: 8, runs: vec![0; 7] };
        assert_eq!(fastest_decode_ms(7, &[never], &c), 140.0);
    }

    #[test]
    fn free_guesses_that_are_always_right_take_the_longest_steps() {
        // Lookup right eight tokens ahead everywhere, a flat verify cost: steps of nine.
        let c = costs("draft=5,verify=10");
        let lookup = Hindsight { kind: DrafterKind::Ngram, k: 8, runs: (0..20).map(|i| (20 - i).min(8)).collect() };
        assert_eq!(fastest_decode_ms(20, &[lookup], &c), 30.0, "20 tokens in 9 + 9 + 2");
    }

    #[test]
    fn a_draft_that_costs_more_than_it_saves_is_left_out() {
        let answer_len = 3;
        let model = Hindsight { kind: DrafterKind::Model, k: 8, runs: vec![2, 1, 0] };
        // Two guesses at the start: one forward (the first guess is held) and a call over
        // three tokens, 1 + 12, where plain takes 30.
        assert_eq!(
            fastest_decode_ms(answer_len, std::slice::from_ref(&model), &costs("draft=1,verify=10:11:12")),
            13.0
        );
        // A draft forward dearer than a plain step: drafting once still pays for the held
        // guess (0 + 11, then 10 plain), never twice.
        assert_eq!(fastest_decode_ms(answer_len, &[model], &costs("draft=15,verify=10:11:12")), 21.0);
    }

    #[test]
    fn catching_up_is_paid_by_the_next_draft() {
        // Four plain steps, then the model drafts two from four tokens behind: 2 forwards
        // at 5, 2 tokens of catching up beyond the steady two at 3, and a call over three.
        let model = Hindsight { kind: DrafterKind::Model, k: 8, runs: vec![0, 0, 0, 0, 2, 1, 0] };
        let c = costs("draft=5,catch-up=3,verify=10:11:12");
        assert_eq!(fastest_decode_ms(7, &[model], &c), 40.0 + (10.0 + 6.0 + 12.0));
    }

    #[test]
    fn a_wrong_guess_can_be_worth_keeping_the_model_close() {
        // Cheap forwards, dear catching up. Plain throughout takes 70; four plain steps and
        // then the draft of two from four behind take 40 + (2 + 20 + 12) = 74. Better: two
        // plain steps, one wrong guess (a forward and a call over two, 12), which leaves the
        // model one token behind where a plain step leaves it three, a plain step (two
        // behind), and the draft of two with nothing to catch up (2 + 12): 56.
        let model = Hindsight { kind: DrafterKind::Model, k: 8, runs: vec![0, 0, 0, 0, 2, 1, 0] };
        let c = costs("draft=1,catch-up=10,verify=10:11:12");
        assert_eq!(fastest_decode_ms(7, &[model], &c), 56.0);
    }

    /// Every plan, tried one by one.
    fn brute_force(i: usize, behind: usize, sources: &[Hindsight], c: &SimulatedCosts) -> f64 {
        let m = sources[0].runs.len();
        if i >= m {
            return 0.0;
        }
        let mut t = c.verify(1) + brute_force(i + 1, behind + 1, sources, c);
        for s in sources {
            for j in 1..=s.runs[i] {
                let (step, next) = match s.kind {
                    DrafterKind::Ngram => (c.verify(1 + j), behind + j + 1),
                    _ => {
                        let forwards = if behind == 0 { j - 1 } else { j };
                        (c.draft(forwards, behind) + c.verify(1 + j), STEADY_BACKLOG)
                    }
                };
                t = t.min(step + brute_force(i + j + 1, next, sources, c));
            }
            if s.kind == DrafterKind::Model && s.runs[i] < s.k {
                let (j, forwards) = (s.runs[i] + 1, if behind == 0 { s.runs[i] } else { s.runs[i] + 1 });
                t = t.min(c.draft(forwards, behind) + c.verify(1 + j) + brute_force(i + j, 1, sources, c));
            }
        }
        t
    }

    #[test]
    fn the_table_finds_the_best_of_every_plan() {
        let mut rng = Rng::new(7);
        let c = costs("draft=4,catch-up=1.5,verify=10:13:14:15.5");
        for _ in 0..40 {
            let m = 1 + (rng.next_f64() * 11.0) as usize;
            let sources: Vec<Hindsight> = [DrafterKind::Model, DrafterKind::Ngram]
                .into_iter()
                .map(|kind| Hindsight {
                    kind,
                    k: 4,
                    runs: (0..m).map(|i| ((rng.next_f64() * 5.0) as usize).min(m - i)).collect(),
                })
                .collect();
            let want = brute_force(0, 0, &sources, &c);
            assert!((fastest_decode_ms(m, &sources, &c) - want).abs() < 1e-9, "{sources:?}");
        }
    }
}

//! Appending a step's tokens to the output under the end-of-sequence and length limits.

use crate::events::StopReason;
use crate::model::TokenId;

/// What one step added to the output.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Committed {
    /// The tokens appended, in order.
    pub tokens: Vec<TokenId>,
    /// Set when this step ended the generation.
    pub stop: Option<StopReason>,
}

/// Appends `step` (accepted drafts then the target's token) to `output`, stopping before
/// an end-of-sequence token (which is never part of the output) and as soon as `output`
/// holds `max_tokens` tokens. Tokens after a stop are discarded.
pub(crate) fn commit(
    output: &mut Vec<TokenId>,
    step: impl IntoIterator<Item = TokenId>,
    eos: &[TokenId],
    max_tokens: usize,
) -> Committed {
    let mut tokens = Vec::new();
    if output.len() >= max_tokens {
        return Committed { tokens, stop: Some(StopReason::MaxTokens) };
    }
    for t in step {
        if eos.contains(&t) {
            return Committed { tokens, stop: Some(StopReason::Eos) };
        }
        output.push(t);
        tokens.push(t);
        if output.len() >= max_tokens {
            return Committed { tokens, stop: Some(StopReason::MaxTokens) };
        }
    }
    Committed { tokens, stop: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EOS: TokenId = 99;

    #[test]
    fn a_whole_step_is_committed_when_nothing_stops_it() {
        let mut out = vec![1];
        let c = commit(&mut out, [2, 3, 4], &[EOS], 10);
        assert_eq!(c, Committed { tokens: vec![2, 3, 4], stop: None });
        assert_eq!(out, [1, 2, 3, 4]);
    }

    #[test]
    fn eos_inside_the_accepted_prefix_ends_there_and_is_dropped() {
        let mut out = vec![1];
        let c = commit(&mut out, [2, EOS, 4, 5], &[7, EOS], 10);
        assert_eq!(c, Committed { tokens: vec![2], stop: Some(StopReason::Eos) });
        assert_eq!(out, [1, 2]);
        let c = commit(&mut out, [EOS], &[EOS], 10);
        assert_eq!(c, Committed { tokens: vec![], stop: Some(StopReason::Eos) });
        assert_eq!(out, [1, 2]);
    }

    #[test]
    fn max_tokens_inside_the_accepted_prefix_cuts_the_step() {
        let mut out = vec![1, 2];
        let c = commit(&mut out, [3, 4, 5, 6], &[EOS], 4);
        assert_eq!(c, Committed { tokens: vec![3, 4], stop: Some(StopReason::MaxTokens) });
        assert_eq!(out, [1, 2, 3, 4]);
        // Reaching the limit wins over an end-of-sequence token right after it.
        let mut out = vec![];
        let c = commit(&mut out, [3, EOS], &[EOS], 1);
        assert_eq!(c.stop, Some(StopReason::MaxTokens));
        assert_eq!(out, [3]);
        // A zero budget commits nothing.
        let c = commit(&mut Vec::new(), [3], &[EOS], 0);
        assert_eq!(c, Committed { tokens: vec![], stop: Some(StopReason::MaxTokens) });
    }
}

//! Longest common prefix of two token sequences, the way every cache here finds what it
//! can keep.

use crate::model::TokenId;

/// The length of the longest common prefix of `held` and `wanted`.
///
/// The usual case — `wanted` extends `held` — is settled by one slice comparison (a
/// memcmp), so checking a long document's cache every step stays cheap.
pub(crate) fn common_prefix(held: &[TokenId], wanted: &[TokenId]) -> usize {
    if wanted.starts_with(held) {
        return held.len();
    }
    held.iter().zip(wanted).take_while(|(a, b)| a == b).count()
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn finds_the_shared_start() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 3, 4]), 3);
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2]), 2);
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 9, 3]), 1);
        assert_eq!(common_prefix(&[], &[1]), 0);
        assert_eq!(common_prefix(&[5], &[]), 0);
    }
}

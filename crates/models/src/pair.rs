//! Whether a draft model can guess for a target model.
//!
//! Speculative decoding compares the two models token id by token id, so they must agree
//! on what every id means. The check needs only the tokenizers (and the number of output
//! rows of each model, which may exceed the token list): same text for every id both
//! vocabularies have, same bos/eos/end-of-turn ids, and sizes within [`MAX_VOCAB_GAP`];
//! ids beyond the shared range are masked out during decoding.

use crate::detok::token_piece;
use crate::error::{ModelsError, Result};
use crate::tokenizer::Tokenizer;

/// The largest difference in vocabulary size (token lists and output rows) we accept.
/// Models of one family often pad their output layer to a multiple of 64 or 128.
pub const MAX_VOCAB_GAP: usize = 128;

const SAME_FAMILY: &str = "Pick a draft from the same model family.";

/// What the engine needs to know about a compatible pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairReport {
    /// Ids below this mean the same in both models and can be produced by both.
    pub shared_vocab: usize,
    /// Output rows (logits per step) of the target.
    pub target_vocab: usize,
    /// Output rows of the draft.
    pub draft_vocab: usize,
    /// Logits at or beyond `shared_vocab` that must be masked: `max(target, draft) - shared`.
    pub masked_tail: usize,
}

/// [`check_pair`] on two GGUF files, from their headers alone (well under a second).
pub fn check_pair_files(target: &std::path::Path, draft: &std::path::Path) -> Result<PairReport> {
    let open = |path: &std::path::Path| -> Result<(Tokenizer, usize)> {
        let file = crate::gguf::GgufFile::open(path)?;
        let tok = Tokenizer::from_content(file.content(), &path.display().to_string())?;
        Ok((tok, output_rows(&file)?))
    };
    let (t, t_rows) = open(target)?;
    let (d, d_rows) = open(draft)?;
    check_pair(&t, t_rows, &d, d_rows)
}

/// Rows of a model's output head (its logit count), from the tensor table alone.
pub(crate) fn output_rows(file: &crate::gguf::GgufFile) -> Result<usize> {
    let name = if file.has_tensor("output.weight") { "output.weight" } else { "token_embd.weight" };
    Ok(file.matrix(name)?.rows())
}

/// Checks that `draft` can guess for `target`. `*_rows` are the models' output row counts.
/// On failure the [`ModelsError::Incompatible`] reason is written for a non-technical user.
pub fn check_pair(target: &Tokenizer, target_rows: usize, draft: &Tokenizer, draft_rows: usize) -> Result<PairReport> {
    let incompatible = |what: String| Err(ModelsError::Incompatible(format!("{what} {SAME_FAMILY}")));
    let common = target.vocab_size().min(draft.vocab_size());
    if let Some(id) = (0..common as u32).find(|&id| target.token_text(id) != draft.token_text(id)) {
        return incompatible(format!(
            "The draft model speaks a different vocabulary than the target: token {id} is {} in the target and {} in the draft.",
            shown(target, id),
            shown(draft, id)
        ));
    }
    let (t, d) = (target.specials(), draft.specials());
    for (role, a, b) in [
        ("the start of a text", t.bos, d.bos),
        ("the end of a text", t.eos, d.eos),
        ("the end of a turn", t.eot, d.eot),
    ] {
        if a != b {
            return incompatible(format!(
                "The draft and the target mark {role} differently (token {} in the target, {} in the draft), so they would not agree on when to stop.",
                id_or_none(a),
                id_or_none(b)
            ));
        }
    }
    let sizes = [target.vocab_size(), target_rows, draft.vocab_size(), draft_rows];
    let (smallest, largest) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
    if largest - smallest > MAX_VOCAB_GAP {
        return incompatible(format!(
            "The draft and the target know different numbers of words ({} tokens in the target, {} in the draft), more than {MAX_VOCAB_GAP} apart.",
            target.vocab_size().max(target_rows),
            draft.vocab_size().max(draft_rows)
        ));
    }
    Ok(PairReport {
        shared_vocab: smallest,
        target_vocab: target_rows,
        draft_vocab: draft_rows,
        masked_tail: target_rows.max(draft_rows) - smallest,
    })
}

/// A token as a person would read it, quoted, with invisible characters escaped.
fn shown(tokenizer: &Tokenizer, id: u32) -> String {
    format!("'{}'", token_piece(tokenizer, id).escape_debug())
}

fn id_or_none(id: Option<u32>) -> String {
    id.map_or_else(|| "none".to_string(), |id| id.to_string())
}

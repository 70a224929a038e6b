//! The built-in vocabulary shortlist on the real default pair: it applies to the Qwen2.5
//! vocabulary both models share, and a draft using it picks what the whole head would on
//! text none of its making prompts contain.

mod real_models;

use real_models::{real_model, real_tokenizer, QWEN_DRAFT, QWEN_TARGET};
use tandem_engine::{LogitsWanted, Model};
use tandem_models::{GgufFile, Shortlist, Transformer};

fn builtin(id: &str) -> Option<Shortlist> {
    let file = GgufFile::open(&real_model(id)).unwrap();
    Shortlist::builtin_for(&file.meta().strings("tokenizer.ggml.tokens").unwrap())
}

fn top(row: &[f32]) -> usize {
    row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0
}

#[test]
fn the_default_drafts_shortlist_picks_what_its_whole_head_would() {
    let shortlist = builtin(QWEN_DRAFT).expect("the default draft's vocabulary has a built-in shortlist");
    assert_eq!(builtin(QWEN_TARGET), Some(shortlist.clone()), "the target shares the vocabulary");
    assert!(shortlist.ids().len() * 3 < shortlist.size(), "{} of {} rows", shortlist.ids().len(), shortlist.size());

    // A text in the style of an answer, on a subject none of the making prompts has.
    let text = "Here is a function that merges two sorted lists of invoices by due date:\n\n```python\ndef merge_invoices(first, second):\n    merged = []\n    i = j = 0\n    while i < len(first) and j < len(second):\n        if first[i].due_date <= second[j].due_date:\n            merged.append(first[i])\n            i += 1\n        else:\n            merged.append(second[j])\n            j += 1\n    merged.extend(first[i:])\n    merged.extend(second[j:])\n    return merged\n```\n\nEach invoice is visited once, so the merge takes linear time. Please let me know if you would like the invoices grouped by customer as well.";
    let tokens = real_tokenizer(QWEN_DRAFT).encode(text, false).unwrap();
    let file = GgufFile::open(&real_model(QWEN_DRAFT)).unwrap();
    let mut whole = Transformer::load_as_draft_with(&file, None, None).unwrap();
    let mut short = Transformer::load_as_draft(&file, None).unwrap();
    assert!(short.weight_bytes() < whole.weight_bytes() * 9 / 10, "the shortlist is in use");
    let (a, b) =
        (whole.forward(&tokens, LogitsWanted::All).unwrap(), short.forward(&tokens, LogitsWanted::All).unwrap());
    let same = (0..tokens.len()).filter(|&r| top(a.row(r)) == top(b.row(r))).count();
    // Measured: all 139 positions. A guess a shortlist loses costs speed only, so this
    // guards against a shortlist that no longer fits, not for perfection.
    assert!(
        same * 100 >= tokens.len() * 97,
        "the shortlist picks the same token at {same} of {} positions",
        tokens.len()
    );
}

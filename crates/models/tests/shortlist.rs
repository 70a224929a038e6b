//! Vocabulary shortlists: a draft with one computes exactly the full head's logits for the
//! ids it keeps and minus infinity for the rest; the files parse or say why not.

mod common;

use common::{tiny_model, TinySpec};
use tandem_engine::{LogitsWanted, Model};
use tandem_models::shortlist::{parse, vocabulary_fingerprint};
use tandem_models::{GgufFile, Shortlist, Transformer};

#[test]
fn a_shortlisted_draft_keeps_the_full_heads_logits_for_its_ids() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TinySpec::qwen2();
    let path = tiny_model(dir.path(), "m.gguf", &spec);
    let file = GgufFile::open(&path).unwrap();
    let shortlist = Shortlist::new(spec.vocab, 64, &[100, 250, 383, 250]).unwrap();
    // 64 + 3 ids, rounded up to 80 with the ids from 64 upward.
    assert_eq!(shortlist.ids().len(), 80);
    assert!(shortlist.ids().windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    assert!([0, 63, 64, 76, 100, 250, 383].iter().all(|id| shortlist.ids().contains(id)));

    // Ids 5 and 42 are kept; 301 and 130 are not, and enter the cache at positions 2 and 4.
    let tokens: Vec<u32> = vec![5, 42, 301, 42, 130, 301, 5, 7];
    let first_at = |id: usize| tokens.iter().position(|&t| t as usize == id);
    let mut full = Transformer::load_as_draft_with(&file, None, None).unwrap();
    let mut short = Transformer::load_as_draft_with(&file, None, Some(shortlist.clone())).unwrap();
    assert_eq!(short.vocab_size(), spec.vocab, "logits still cover the whole vocabulary");
    assert!(short.weight_bytes() < full.weight_bytes(), "the head reads fewer rows");
    let (a, b) =
        (full.forward(&tokens, LogitsWanted::All).unwrap(), short.forward(&tokens, LogitsWanted::All).unwrap());
    for r in 0..tokens.len() {
        let spread =
            a.row(r).iter().copied().fold(f32::MIN, f32::max) - a.row(r).iter().copied().fold(f32::MAX, f32::min);
        for (id, (x, y)) in a.row(r).iter().zip(b.row(r)).enumerate() {
            if shortlist.contains(id as u32) {
                assert_eq!(x.to_bits(), y.to_bits(), "row {r}, kept id {id}");
            } else if first_at(id).is_some_and(|at| at <= r) {
                // The same row of the same head, perhaps by another kernel: equal to rounding.
                assert!((x - y).abs() <= spread * 1e-5, "row {r}, id {id} from the cache: {x} vs {y}");
            } else {
                assert_eq!(*y, f32::NEG_INFINITY, "row {r}, id {id} is neither kept nor in the cache yet");
            }
        }
    }
    // Row-exact, as every model: the rows of one call are those of one token at a time.
    short.truncate(0);
    for (r, &t) in tokens.iter().enumerate() {
        let one = short.forward(&[t], LogitsWanted::All).unwrap();
        assert!(one.row(0).iter().zip(b.row(r)).all(|(x, y)| x.to_bits() == y.to_bits()), "row {r}");
    }
    // Forgetting positions forgets the tokens that entered there: 130 came in at 4.
    short.truncate(4);
    let after = short.forward(&[5], LogitsWanted::All).unwrap();
    assert_eq!(after.row(0)[130], f32::NEG_INFINITY);
    assert!(after.row(0)[301].is_finite(), "301 came in at 2 and is still in the cache");

    // A shortlist for a vocabulary of another size is not used.
    let other = Shortlist::new(spec.vocab + 16, 64, &[]).unwrap();
    let mut unused = Transformer::load_as_draft_with(&file, None, Some(other)).unwrap();
    assert_eq!(unused.weight_bytes(), full.weight_bytes());
    let c = unused.forward(&tokens, LogitsWanted::All).unwrap();
    assert_eq!(c.data, a.data);
}

#[test]
fn a_shortlist_rounds_up_to_whole_groups_and_refuses_what_does_not_fit() {
    let s = Shortlist::new(1000, 30, &[]).unwrap();
    assert_eq!(s.ids(), (0..32).collect::<Vec<u32>>(), "30 rounded up to 32");
    assert_eq!(Shortlist::new(1000, 32, &[40]).unwrap().ids().len(), 48);
    assert!(Shortlist::new(1000, 1001, &[]).is_none(), "more ids than the vocabulary");
    assert!(Shortlist::new(1000, 10, &[1000]).is_none(), "an id outside the vocabulary");
    assert!(Shortlist::new(992, 990, &[]).is_none(), "rounding up keeps every id: nothing to save");
}

#[test]
fn shortlist_files_parse_or_say_what_is_wrong() {
    let (fp, s) = parse("# comment\nvocabulary abc\nsize 100\nrank-below 16\nalso 40 41\nalso 99\n").unwrap();
    assert_eq!(fp, "abc");
    assert_eq!((s.size(), s.ids().len()), (100, 32));
    assert!(s.ids().contains(&99));
    let error = |text: &str| parse(text).unwrap_err();
    assert!(error("vocabulary abc\nsize 100\n").contains("rank-below"));
    assert!(error("vocabulary abc\nsize x\nrank-below 16\n").contains("`x` is not a number"));
    assert!(error("vocabulary abc\nsize 100\nrank-below 16\nalso 100\n").contains("do not fit"));
    assert!(error("vocabulary abc\nsize 100\nrank-below 16\nkeep 3\n").contains("unknown key `keep`"));
}

#[test]
fn only_the_vocabulary_a_builtin_shortlist_names_gets_it() {
    // The fingerprint covers every token's bytes and their boundaries.
    assert_ne!(vocabulary_fingerprint(&["ab", "c"]), vocabulary_fingerprint(&["a", "bc"]));
    assert_eq!(vocabulary_fingerprint(&["ab", "c"]), vocabulary_fingerprint(&[b"ab".to_vec(), b"c".to_vec()]));
    let tokens: Vec<String> = (0..151_936).map(|i| format!("t{i}")).collect();
    assert!(Shortlist::builtin_for(&tokens).is_none(), "a vocabulary no file names");
}

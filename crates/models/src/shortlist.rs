//! Vocabulary shortlists for draft models: the rows of its output layer a draft computes.
//!
//! A draft's output layer has a row per vocabulary entry (151,936 for Qwen2.5), about a
//! quarter of what a Qwen2.5 0.5B draft reads per token. Most of those tokens a draft never
//! proposes, so a draft whose vocabulary has a shortlist computes only the shortlist's rows
//! and those of the tokens already in its cache; every other logit is minus infinity. The
//! target still checks every token, so a shortlist changes at most how much of a draft is
//! accepted, never the answer.
//!
//! The shortlists are `models/shortlist/*.txt`, compiled in; `models/shortlist/make.py`
//! says how each was made. One applies to a model only when the model's vocabulary has the
//! fingerprint the file names ([`vocabulary_fingerprint`]).

use sha2::{Digest, Sha256};

use tandem_kernels::QMatrix;

const BUILTIN: &[&str] = &[include_str!("../../../models/shortlist/qwen2.5.txt")];

/// Output rows are computed sixteen at a time by the fastest kernels, so a shortlist is
/// rounded up to a multiple of this.
const ROWS_MULTIPLE: usize = 16;

/// The ids a draft computes logits for, ascending, out of a vocabulary of `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortlist {
    size: usize,
    ids: Vec<u32>,
}

impl Shortlist {
    /// Every id below `rank_below` and the `also` ids, in a vocabulary of `size`, rounded up
    /// to a multiple of sixteen with the next ids upward. `None` when the ids do not fit the
    /// vocabulary or would leave out nothing.
    pub fn new(size: usize, rank_below: usize, also: &[u32]) -> Option<Shortlist> {
        if rank_below > size || also.iter().any(|&id| id as usize >= size) {
            return None;
        }
        let mut ids: Vec<u32> = (0..rank_below as u32).chain(also.iter().copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut next = rank_below as u32;
        while !ids.len().is_multiple_of(ROWS_MULTIPLE) && (next as usize) < size {
            if ids.binary_search(&next).is_err() {
                ids.push(next);
            }
            next += 1;
        }
        ids.sort_unstable();
        (ids.len() < size).then_some(Shortlist { size, ids })
    }

    /// The vocabulary's size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether `id` is kept.
    pub fn contains(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// The ids kept, ascending.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The rows of `head` (a matrix with a row per vocabulary entry) this shortlist keeps,
    /// in its order.
    pub(crate) fn rows_of(&self, head: &QMatrix) -> QMatrix {
        head.rows_subset(&self.ids)
    }

    /// Writes a row of shortlisted logits (`short[i]` for `ids[i]`) into `full`, a row of
    /// the whole vocabulary; the other ids are left as they are.
    pub(crate) fn scatter(&self, short: &[f32], full: &mut [f32]) {
        for (&id, &v) in self.ids.iter().zip(short) {
            full[id as usize] = v;
        }
    }

    /// The built-in shortlist for the vocabulary `tokens` (in id order), if there is one.
    pub fn builtin_for<T: AsRef<[u8]>>(tokens: &[T]) -> Option<Shortlist> {
        let fingerprint = vocabulary_fingerprint(tokens);
        BUILTIN.iter().find_map(|text| {
            let (of, shortlist) = parse(text).expect("a built-in shortlist parses (tested)");
            (of == fingerprint && shortlist.size == tokens.len()).then_some(shortlist)
        })
    }
}

/// SHA-256 over each token's length (u32, little-endian) and bytes, in id order: names a
/// vocabulary exactly, whatever file it came from.
pub fn vocabulary_fingerprint<T: AsRef<[u8]>>(tokens: &[T]) -> String {
    let mut h = Sha256::new();
    for t in tokens {
        let t = t.as_ref();
        h.update((t.len() as u32).to_le_bytes());
        h.update(t);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A shortlist file: `#` comments, then `vocabulary <fingerprint>`, `size <n>`,
/// `rank-below <n>` and any number of `also <id> <id> ...` lines. Returns the fingerprint
/// it applies to and the shortlist.
pub fn parse(text: &str) -> Result<(String, Shortlist), String> {
    let (mut fingerprint, mut size, mut rank_below, mut also) = (None, None, None, Vec::new());
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        let number = |s: &str| s.parse::<usize>().map_err(|_| format!("line {n}: `{s}` is not a number"));
        match key {
            "vocabulary" => fingerprint = Some(rest.to_string()),
            "size" => size = Some(number(rest)?),
            "rank-below" => rank_below = Some(number(rest)?),
            "also" => {
                for id in rest.split_whitespace() {
                    also.push(u32::try_from(number(id)?).map_err(|_| format!("line {n}: id {id} is too large"))?);
                }
            }
            _ => return Err(format!("line {n}: unknown key `{key}`")),
        }
    }
    let missing = |what: &str| format!("no `{what}` line");
    let (fingerprint, size, rank_below) = (
        fingerprint.ok_or_else(|| missing("vocabulary"))?,
        size.ok_or_else(|| missing("size"))?,
        rank_below.ok_or_else(|| missing("rank-below"))?,
    );
    let shortlist = Shortlist::new(size, rank_below, &also)
        .ok_or_else(|| format!("the ids do not fit a vocabulary of {size}, or keep all of it"))?;
    Ok((fingerprint, shortlist))
}

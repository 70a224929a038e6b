//! The speculation trace of an answer: every verification step, packed compactly.
//!
//! A batch of steps is one blob: a format byte, then per step
//! `varint n_drafted, n_drafted × varint id, varint accepted, varint token, u8 drafter,
//! f32le draft_ms, f32le verify_ms, varint n_committed`. The committed tokens are not
//! stored: by the engine's invariant they are the first `n_committed` of
//! `drafted[..accepted]` followed by `token`, which [`TraceStep::committed_tokens`] rebuilds.
//! A typical step takes 15–30 bytes.

use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};
use tandem_engine::{DrafterKind, StepEvent, TokenId};

use crate::error::StoreError;
use crate::store::Store;

/// Format byte of the current encoding.
const FORMAT_V1: u8 = 1;

/// One verification step as the UI's inspector replays it.
///
/// Invariants: `accepted <= drafted.len()` and `committed <= accepted + 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// What the drafter proposed (empty for a plain step).
    pub drafted: Vec<TokenId>,
    /// How many of `drafted` the target accepted, from the front.
    pub accepted: u32,
    /// The target's own token after the accepted prefix.
    pub token: TokenId,
    /// Who drafted; `None` for plain steps.
    pub drafter: Option<DrafterKind>,
    pub draft_ms: f32,
    pub verify_ms: f32,
    /// How many tokens the step appended to the output.
    pub committed: u32,
}

impl TraceStep {
    /// The step of an engine event; fails when the event breaks the engine's invariants
    /// (then the trace could not replay it faithfully).
    pub fn from_event(step: &StepEvent) -> Result<TraceStep, StoreError> {
        let t = TraceStep {
            drafted: step.drafted.clone(),
            accepted: step.accepted as u32,
            token: step.token,
            drafter: step.drafter,
            draft_ms: step.draft_ms as f32,
            verify_ms: step.verify_ms as f32,
            committed: step.committed.len() as u32,
        };
        t.check()?;
        if t.committed_tokens() != step.committed {
            return Err(StoreError::Trace(format!(
                "committed tokens {:?} are not a prefix of the accepted draft and the target token",
                step.committed
            )));
        }
        Ok(t)
    }

    /// The tokens this step appended to the output.
    pub fn committed_tokens(&self) -> Vec<TokenId> {
        let accepted = &self.drafted[..self.accepted as usize];
        accepted.iter().copied().chain(std::iter::once(self.token)).take(self.committed as usize).collect()
    }

    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.accepted as usize > self.drafted.len() || self.committed > self.accepted + 1 {
            return Err(StoreError::Trace(format!(
                "step with {} drafted, {} accepted, {} committed",
                self.drafted.len(),
                self.accepted,
                self.committed
            )));
        }
        Ok(())
    }
}

fn drafter_code(d: Option<DrafterKind>) -> u8 {
    match d {
        None => 0,
        Some(DrafterKind::Model) => 1,
        Some(DrafterKind::Ngram) => 2,
        Some(DrafterKind::Hybrid) => 3,
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Packs `steps` into one blob.
pub fn encode(steps: &[TraceStep]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + steps.len() * 24);
    out.push(FORMAT_V1);
    for s in steps {
        put_varint(&mut out, s.drafted.len() as u64);
        for &id in &s.drafted {
            put_varint(&mut out, id as u64);
        }
        put_varint(&mut out, s.accepted as u64);
        put_varint(&mut out, s.token as u64);
        out.push(drafter_code(s.drafter));
        out.extend_from_slice(&s.draft_ms.to_le_bytes());
        out.extend_from_slice(&s.verify_ms.to_le_bytes());
        put_varint(&mut out, s.committed as u64);
    }
    out
}

/// Reads a blob written by [`encode`]; rejects anything truncated, trailing or inconsistent.
pub fn decode(blob: &[u8]) -> Result<Vec<TraceStep>, StoreError> {
    let mut r = Reader { blob, pos: 0 };
    match r.byte()? {
        FORMAT_V1 => {}
        v => return Err(StoreError::Trace(format!("unknown trace format {v}"))),
    }
    let mut steps = Vec::new();
    while r.pos < blob.len() {
        let n = r.varint_u32()? as usize;
        // Each id takes at least one byte: a larger count is damage, not a big allocation.
        if n > blob.len() - r.pos {
            return Err(r.damaged());
        }
        let drafted = (0..n).map(|_| r.varint_u32()).collect::<Result<Vec<_>, _>>()?;
        let accepted = r.varint_u32()?;
        let token = r.varint_u32()?;
        let drafter = match r.byte()? {
            0 => None,
            1 => Some(DrafterKind::Model),
            2 => Some(DrafterKind::Ngram),
            3 => Some(DrafterKind::Hybrid),
            c => return Err(StoreError::Trace(format!("unknown drafter code {c}"))),
        };
        let draft_ms = r.f32()?;
        let verify_ms = r.f32()?;
        let committed = r.varint_u32()?;
        let step = TraceStep { drafted, accepted, token, drafter, draft_ms, verify_ms, committed };
        step.check()?;
        steps.push(step);
    }
    Ok(steps)
}

impl Store {
    /// The steps of an answer in order; empty for messages nobody generated.
    pub fn trace(&self, message_id: i64) -> Result<Vec<TraceStep>, StoreError> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT first_step, steps, data FROM trace_batches WHERE message_id = ? ORDER BY first_step",
            )
            .bind(message_id)
            .fetch_all(self.pool())
            .await?;
            let mut steps = Vec::new();
            for row in rows {
                let (first, count): (i64, i64) = (row.try_get("first_step")?, row.try_get("steps")?);
                let batch = decode(row.try_get("data")?)?;
                if first != steps.len() as i64 || count != batch.len() as i64 {
                    return Err(StoreError::Trace(format!(
                        "message {message_id}: batch at step {first} with {} of {count} steps follows {} steps",
                        batch.len(),
                        steps.len()
                    )));
                }
                steps.extend(batch);
            }
            Ok(steps)
        })
    }
}

/// Stores a whole trace as one batch (import); refuses steps that break the invariants.
pub(crate) async fn insert_trace(
    conn: &mut SqliteConnection,
    message_id: i64,
    steps: &[TraceStep],
) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    for s in steps {
        s.check()?;
    }
    sqlx::query("INSERT INTO trace_batches (message_id, first_step, steps, data) VALUES (?, 0, ?, ?)")
        .bind(message_id)
        .bind(steps.len() as i64)
        .bind(encode(steps))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

struct Reader<'a> {
    blob: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn damaged(&self) -> StoreError {
        StoreError::Trace(format!("damaged batch at byte {} of {}", self.pos, self.blob.len()))
    }

    fn byte(&mut self) -> Result<u8, StoreError> {
        let b = *self.blob.get(self.pos).ok_or_else(|| self.damaged())?;
        self.pos += 1;
        Ok(b)
    }

    fn varint_u32(&mut self) -> Result<u32, StoreError> {
        let mut v: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(v).map_err(|_| self.damaged());
            }
        }
        Err(self.damaged())
    }

    fn f32(&mut self) -> Result<f32, StoreError> {
        let bytes = self.blob.get(self.pos..self.pos + 4).ok_or_else(|| self.damaged())?;
        self.pos += 4;
        Ok(f32::from_le_bytes(bytes.try_into().expect("slice of four bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
        drafted: Vec<u32>,
        accepted: usize,
        token: u32,
        committed: Vec<u32>,
        drafter: Option<DrafterKind>,
    ) -> StepEvent {
        StepEvent { drafted, accepted, token, drafter, draft_ms: 1.25, verify_ms: 30.5, committed }
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let events = [
            step(vec![], 0, 7, vec![7], None),
            step(vec![1, 300, 70_000, u32::MAX], 2, 9, vec![1, 300, 9], Some(DrafterKind::Ngram)),
            step(vec![5, 6], 2, 151_643, vec![5, 6], Some(DrafterKind::Model)),
            step(vec![5, 6], 1, 8, vec![], Some(DrafterKind::Hybrid)),
        ];
        let steps: Vec<TraceStep> = events.iter().map(|e| TraceStep::from_event(e).unwrap()).collect();
        let blob = encode(&steps);
        assert_eq!(decode(&blob).unwrap(), steps);
        for (s, e) in steps.iter().zip(&events) {
            assert_eq!(s.committed_tokens(), e.committed);
        }
        assert!(blob.len() < 4 * 24, "{} bytes for four steps", blob.len());
    }

    #[test]
    fn events_that_break_the_invariants_are_refused() {
        assert!(TraceStep::from_event(&step(vec![1], 2, 3, vec![1, 3], None)).is_err());
        assert!(TraceStep::from_event(&step(vec![1, 2], 1, 3, vec![1, 2], None)).is_err());
        assert!(TraceStep::from_event(&step(vec![1], 1, 3, vec![1, 3, 3], None)).is_err());
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        let blob = encode(&[TraceStep::from_event(&step(vec![1, 2, 3], 3, 4, vec![1, 2, 3, 4], None)).unwrap()]);
        // One byte is the format alone: a valid batch of no steps.
        assert_eq!(decode(&blob[..1]).unwrap(), vec![]);
        for cut in (0..blob.len()).filter(|&c| c != 1) {
            assert!(decode(&blob[..cut]).is_err(), "prefix of {cut} bytes decoded");
        }
        let mut bad = blob.clone();
        bad[0] = 2;
        assert!(decode(&bad).is_err());
        assert!(decode(&[FORMAT_V1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
    }
}

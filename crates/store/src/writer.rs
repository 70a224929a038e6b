//! Streaming an answer into the store as the engine generates it.

use std::time::Instant;

use tandem_engine::{Event, StopReason, TokenId};

use crate::conversations::{insert_message, touch_conversation};
use crate::error::StoreError;
use crate::model::{MessageStats, MessageStatus, Role};
use crate::options::BatchPolicy;
use crate::store::Store;
use crate::time::now_ms;
use crate::trace::{encode, TraceStep};
use crate::tx::WriteTx;

/// Turns output token ids into the answer's text (the target's tokenizer).
type Decode = Box<dyn Fn(&[TokenId]) -> String + Send>;

/// How the answer ended, once it has.
enum Ending {
    Done { status: MessageStatus, stats: MessageStats, generated: usize },
    Interrupted,
}

/// Records one assistant answer from the engine's events.
///
/// The message is `streaming` from [`Store::begin_answer`] until `Done` makes it `complete`
/// (or `cancelled`). Steps are committed in batches by the store's [`BatchPolicy`], each
/// batch in one transaction together with the text of every token so far, so a process
/// killed mid-answer leaves the text and trace of the last committed batch; the next open
/// marks that message `interrupted`.
///
/// Invariant: the trace rows of the message hold exactly the first `stored_steps()` steps.
pub struct TraceWriter {
    store: Store,
    conversation_id: i64,
    message_id: i64,
    decode: Decode,
    policy: BatchPolicy,
    /// Every token the steps committed, in order.
    tokens: Vec<TokenId>,
    /// Steps not yet committed.
    pending: Vec<TraceStep>,
    stored_steps: u64,
    prompt_tokens: Option<usize>,
    last_commit: Instant,
    ending: Option<Ending>,
    /// The ending is committed: nothing more will be written.
    closed: bool,
}

impl Store {
    /// Starts an assistant answer at the end of `conversation_id`, status `streaming`;
    /// `decode` turns the answer's token ids into its text.
    pub fn begin_answer(
        &self,
        conversation_id: i64,
        decode: impl Fn(&[TokenId]) -> String + Send + 'static,
    ) -> Result<TraceWriter, StoreError> {
        let message_id = self.run(async {
            let now = now_ms();
            let mut tx = WriteTx::begin(self.pool()).await?;
            touch_conversation(tx.conn(), conversation_id, now).await?;
            let id = insert_message(
                tx.conn(),
                conversation_id,
                Role::Assistant,
                "",
                MessageStatus::Streaming,
                None,
                (now, now),
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        })?;
        Ok(TraceWriter {
            store: self.clone(),
            conversation_id,
            message_id,
            decode: Box::new(decode),
            policy: self.batch_policy(),
            tokens: Vec::new(),
            pending: Vec::new(),
            stored_steps: 0,
            prompt_tokens: None,
            last_commit: Instant::now(),
            ending: None,
            closed: false,
        })
    }
}

impl TraceWriter {
    pub fn message_id(&self) -> i64 {
        self.message_id
    }

    /// Steps durably in the database.
    pub fn stored_steps(&self) -> u64 {
        self.stored_steps
    }

    /// Takes the next event of the generation. A failed commit keeps its steps pending, so
    /// the next event (or [`TraceWriter::flush`]) tries again.
    pub fn on_event(&mut self, event: &Event) -> Result<(), StoreError> {
        if self.ending.is_some() {
            return Err(StoreError::Misuse(format!("an event after the end of answer {}", self.message_id)));
        }
        match event {
            Event::Prefill { prompt_tokens, .. } => {
                self.prompt_tokens = Some(*prompt_tokens);
                Ok(())
            }
            Event::Step(step) => {
                self.pending.push(TraceStep::from_event(step)?);
                self.tokens.extend_from_slice(&step.committed);
                if self.pending.len() >= self.policy.max_steps || self.last_commit.elapsed() >= self.policy.max_delay {
                    self.commit()?;
                }
                Ok(())
            }
            Event::Done { stats, reason } => {
                let status =
                    if *reason == StopReason::Cancelled { MessageStatus::Cancelled } else { MessageStatus::Complete };
                let stats = MessageStats::from_engine(stats, *reason, self.prompt_tokens);
                self.ending = Some(Ending::Done { status, generated: stats.generated, stats });
                self.commit()
            }
        }
    }

    /// Commits what is pending now (including the ending, if a commit of it failed before).
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.closed {
            return Ok(());
        }
        self.commit()
    }

    /// Ends an answer that will not reach `Done` (generation failed): commits what is
    /// pending and marks the message `interrupted`.
    pub fn interrupt(mut self) -> Result<(), StoreError> {
        self.end_interrupted()
    }

    fn end_interrupted(&mut self) -> Result<(), StoreError> {
        if self.ending.is_none() {
            self.ending = Some(Ending::Interrupted);
        }
        self.flush()
    }

    /// One transaction: the pending steps as one batch, the text so far, the status.
    fn commit(&mut self) -> Result<(), StoreError> {
        let (status, stats, text) = match &self.ending {
            None => (MessageStatus::Streaming, None, (self.decode)(&self.tokens)),
            Some(Ending::Interrupted) => (MessageStatus::Interrupted, None, (self.decode)(&self.tokens)),
            Some(Ending::Done { status, stats, generated }) => {
                // A stop string may cut tokens of earlier steps: `generated` is the final count.
                let kept = &self.tokens[..(*generated).min(self.tokens.len())];
                (*status, Some(serde_json::to_string(stats).expect("stats serialise")), (self.decode)(kept))
            }
        };
        let batch = (!self.pending.is_empty()).then(|| encode(&self.pending));
        let (message_id, conversation_id, first_step, steps) =
            (self.message_id, self.conversation_id, self.stored_steps as i64, self.pending.len() as i64);
        let ending = self.ending.is_some();
        let store = &self.store;
        store.run(async {
            let now = now_ms();
            let mut tx = WriteTx::begin(store.pool()).await?;
            if let Some(data) = batch {
                sqlx::query("INSERT INTO trace_batches (message_id, first_step, steps, data) VALUES (?, ?, ?, ?)")
                    .bind(message_id)
                    .bind(first_step)
                    .bind(steps)
                    .bind(data)
                    .execute(tx.conn())
                    .await?;
            }
            sqlx::query("UPDATE messages SET body = ?, status = ?, stats = ?, updated_at = ? WHERE id = ?")
                .bind(&text)
                .bind(status.as_str())
                .bind(stats)
                .bind(now)
                .bind(message_id)
                .execute(tx.conn())
                .await?;
            if ending {
                touch_conversation(tx.conn(), conversation_id, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })?;
        self.stored_steps += self.pending.len() as u64;
        self.pending.clear();
        self.last_commit = Instant::now();
        self.closed = ending;
        Ok(())
    }
}

impl Drop for TraceWriter {
    /// A writer dropped before its ending (an error or panic in the caller) ends the answer
    /// as `interrupted` at once. Errors are dropped here: if this commit fails too, the
    /// message stays `streaming` and the next open of the database marks it `interrupted`.
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.end_interrupted();
        }
    }
}

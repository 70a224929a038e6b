//! Conversations and their messages.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::StoreError;
use crate::model::{Conversation, Message, MessageStats, MessageStatus, Pair, Role};
use crate::store::Store;
use crate::time::now_ms;
use crate::tx::WriteTx;

const CONVERSATION_COLUMNS: &str =
    "c.id, c.title, c.created_at, c.updated_at, c.target, c.draft, c.drafter, c.settings,
     (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS messages";

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, role, body, status, stats, created_at, updated_at";

fn conversation_from_row(row: &SqliteRow) -> Result<Conversation, StoreError> {
    let target: Option<String> = row.try_get("target")?;
    let settings: String = row.try_get("settings")?;
    Ok(Conversation {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        pair: match target {
            Some(target) => Some(Pair {
                target,
                draft: row.try_get("draft")?,
                drafter: row.try_get::<Option<String>, _>("drafter")?.unwrap_or_default(),
            }),
            None => None,
        },
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("settings of conversation: {e}")))?,
        messages: row.try_get("messages")?,
    })
}

pub(crate) fn message_from_row(row: &SqliteRow) -> Result<Message, StoreError> {
    let stats: Option<String> = row.try_get("stats")?;
    Ok(Message {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        role: Role::parse(row.try_get("role")?)?,
        text: row.try_get("body")?,
        status: MessageStatus::parse(row.try_get("status")?)?,
        stats: stats
            .map(|s| serde_json::from_str::<MessageStats>(&s))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("stats of message: {e}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Marks `conversation_id` as changed at `now`; fails with `NotFound` when it does not exist.
pub(crate) async fn touch_conversation(
    conn: &mut SqliteConnection,
    conversation_id: i64,
    now: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE conversations SET updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(conversation_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "conversation", id: conversation_id });
    }
    Ok(())
}

/// Inserts one message; the caller's transaction also touches its conversation.
pub(crate) async fn insert_message(
    conn: &mut SqliteConnection,
    conversation_id: i64,
    role: Role,
    text: &str,
    status: MessageStatus,
    stats: Option<&MessageStats>,
    times: (i64, i64),
) -> Result<i64, StoreError> {
    let stats = stats.map(|s| serde_json::to_string(s).expect("stats serialise"));
    let id = sqlx::query(
        "INSERT INTO messages (conversation_id, role, body, status, stats, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(conversation_id)
    .bind(role.as_str())
    .bind(text)
    .bind(status.as_str())
    .bind(stats)
    .bind(times.0)
    .bind(times.1)
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    Ok(id)
}

impl Store {
    /// Starts an empty conversation; returns its id.
    pub fn create_conversation(&self, title: &str) -> Result<i64, StoreError> {
        self.run(async {
            let now = now_ms();
            let done = sqlx::query("INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)")
                .bind(title)
                .bind(now)
                .bind(now)
                .execute(self.pool())
                .await?;
            Ok(done.last_insert_rowid())
        })
    }

    /// Records the pair and settings the conversation's latest answer uses.
    pub fn set_conversation_pair(&self, id: i64, pair: &Pair, settings: &serde_json::Value) -> Result<(), StoreError> {
        self.run(async {
            let done = sqlx::query(
                "UPDATE conversations SET target = ?, draft = ?, drafter = ?, settings = ?, updated_at = ? WHERE id = ?",
            )
            .bind(&pair.target)
            .bind(&pair.draft)
            .bind(&pair.drafter)
            .bind(settings.to_string())
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "conversation", id });
            }
            Ok(())
        })
    }

    pub fn rename_conversation(&self, id: i64, title: &str) -> Result<(), StoreError> {
        self.run(async {
            let done = sqlx::query("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?")
                .bind(title)
                .bind(now_ms())
                .bind(id)
                .execute(self.pool())
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "conversation", id });
            }
            Ok(())
        })
    }

    pub fn conversation(&self, id: i64) -> Result<Conversation, StoreError> {
        self.run(async {
            let row = sqlx::query(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound { what: "conversation", id })?;
            conversation_from_row(&row)
        })
    }

    /// Every conversation, the most recently changed first.
    pub fn list_conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.run(async {
            let rows = sqlx::query(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c ORDER BY c.updated_at DESC, c.id DESC"
            ))
            .fetch_all(self.pool())
            .await?;
            rows.iter().map(conversation_from_row).collect()
        })
    }

    /// Deletes a conversation with its messages and traces.
    pub fn delete_conversation(&self, id: i64) -> Result<(), StoreError> {
        self.run(async {
            let done = sqlx::query("DELETE FROM conversations WHERE id = ?").bind(id).execute(self.pool()).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "conversation", id });
            }
            Ok(())
        })
    }

    /// Deletes message `first_id` of the conversation and every later one, with their
    /// traces, in one transaction: what "regenerate" and "edit and resend" replace.
    /// Returns how many messages went.
    pub fn delete_messages_from(&self, conversation_id: i64, first_id: i64) -> Result<u64, StoreError> {
        self.run(async {
            let mut tx = WriteTx::begin(self.pool()).await?;
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE id = ? AND conversation_id = ?")
                .bind(first_id)
                .bind(conversation_id)
                .fetch_optional(tx.conn())
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound { what: "message", id: first_id });
            }
            let done = sqlx::query("DELETE FROM messages WHERE conversation_id = ? AND id >= ?")
                .bind(conversation_id)
                .bind(first_id)
                .execute(tx.conn())
                .await?;
            touch_conversation(tx.conn(), conversation_id, now_ms()).await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }

    /// Appends a finished message (a user's or system prompt, or text pasted in); returns its id.
    pub fn add_message(&self, conversation_id: i64, role: Role, text: &str) -> Result<i64, StoreError> {
        self.run(async {
            let now = now_ms();
            let mut tx = WriteTx::begin(self.pool()).await?;
            touch_conversation(tx.conn(), conversation_id, now).await?;
            let id = insert_message(tx.conn(), conversation_id, role, text, MessageStatus::Complete, None, (now, now))
                .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The messages of a conversation in the order they were written.
    pub fn messages(&self, conversation_id: i64) -> Result<Vec<Message>, StoreError> {
        self.run(async {
            let mut tx = self.pool().begin().await?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM conversations WHERE id = ?")
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound { what: "conversation", id: conversation_id });
            }
            let rows =
                sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"))
                    .bind(conversation_id)
                    .fetch_all(&mut *tx)
                    .await?;
            tx.commit().await?;
            rows.iter().map(message_from_row).collect()
        })
    }

    pub fn message(&self, id: i64) -> Result<Message, StoreError> {
        self.run(async {
            let row = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound { what: "message", id })?;
            message_from_row(&row)
        })
    }
}

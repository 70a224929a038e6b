//! Export of a conversation or document as JSON (complete: stats and traces included) and
//! import of that JSON as a new conversation or document.
//!
//! Invariant: importing an export and exporting the result gives the same JSON.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::conversations::{insert_message, message_from_row, MESSAGE_COLUMNS};
use crate::documents::insert_document;
use crate::error::StoreError;
use crate::model::{DocumentRevision, MessageStats, MessageStatus, Pair, Role};
use crate::store::Store;
use crate::time::{format_rfc3339, parse_rfc3339};
use crate::trace::{decode, insert_trace, TraceStep};
use crate::tx::WriteTx;

pub const CONVERSATION_FORMAT: &str = "tandem-conversation";
pub const DOCUMENT_FORMAT: &str = "tandem-document";
/// The newest export version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationExport {
    /// Always [`CONVERSATION_FORMAT`].
    pub format: String,
    pub version: u32,
    pub title: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<Pair>,
    #[serde(default)]
    pub settings: serde_json::Value,
    pub messages: Vec<MessageExport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageExport {
    pub role: Role,
    pub status: MessageStatus,
    pub created_at: String,
    pub updated_at: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<MessageStats>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceStep>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentExport {
    /// Always [`DOCUMENT_FORMAT`].
    pub format: String,
    pub version: u32,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    /// Every revision, oldest first, numbered from 1; the last is the current title and body.
    pub revisions: Vec<RevisionExport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionExport {
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// What an import created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imported {
    Conversation(i64),
    Document(i64),
}

fn time(field: &str, text: &str) -> Result<i64, StoreError> {
    parse_rfc3339(text).ok_or_else(|| StoreError::Import(format!("{field} {text:?} is not an RFC 3339 UTC time")))
}

impl Store {
    /// A conversation with every message, its stats and trace, read in one snapshot.
    pub fn export_conversation(&self, id: i64) -> Result<ConversationExport, StoreError> {
        self.run(async {
            let mut tx = self.pool().begin().await?;
            let c = sqlx::query("SELECT title, created_at, updated_at, target, draft, drafter, settings FROM conversations WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound { what: "conversation", id })?;
            let rows = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let mut messages = Vec::with_capacity(rows.len());
            for row in &rows {
                let m = message_from_row(row)?;
                let batches: Vec<Vec<u8>> =
                    sqlx::query_scalar("SELECT data FROM trace_batches WHERE message_id = ? ORDER BY first_step")
                        .bind(m.id)
                        .fetch_all(&mut *tx)
                        .await?;
                let mut trace = Vec::new();
                for b in &batches {
                    trace.extend(decode(b)?);
                }
                messages.push(MessageExport {
                    role: m.role,
                    status: m.status,
                    created_at: format_rfc3339(m.created_at),
                    updated_at: format_rfc3339(m.updated_at),
                    text: m.text,
                    stats: m.stats,
                    trace,
                });
            }
            tx.commit().await?;
            let target: Option<String> = c.try_get("target")?;
            let settings: String = c.try_get("settings")?;
            Ok(ConversationExport {
                format: CONVERSATION_FORMAT.into(),
                version: EXPORT_VERSION,
                title: c.try_get("title")?,
                created_at: format_rfc3339(c.try_get("created_at")?),
                updated_at: format_rfc3339(c.try_get("updated_at")?),
                pair: match target {
                    Some(target) => Some(Pair {
                        target,
                        draft: c.try_get("draft")?,
                        drafter: c.try_get::<Option<String>, _>("drafter")?.unwrap_or_default(),
                    }),
                    None => None,
                },
                settings: serde_json::from_str(&settings)
                    .map_err(|e| StoreError::Corrupt(format!("settings of conversation {id}: {e}")))?,
                messages,
            })
        })
    }

    /// A document with its whole revision history.
    pub fn export_document(&self, id: i64) -> Result<DocumentExport, StoreError> {
        let doc = self.document(id)?;
        let revisions = self.document_revisions(id)?;
        Ok(DocumentExport {
            format: DOCUMENT_FORMAT.into(),
            version: EXPORT_VERSION,
            title: doc.title,
            body: doc.body,
            created_at: format_rfc3339(doc.created_at),
            updated_at: format_rfc3339(doc.updated_at),
            revisions: revisions
                .into_iter()
                .map(|r| RevisionExport {
                    revision: r.revision,
                    title: r.title,
                    body: r.body,
                    created_at: format_rfc3339(r.created_at),
                })
                .collect(),
        })
    }

    /// Imports a JSON export as a new conversation or document (ids are never reused). An
    /// answer exported while `streaming` is imported as `interrupted`: no process writes it.
    pub fn import_json(&self, json: &str) -> Result<Imported, StoreError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| StoreError::Import(format!("not JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or_default().to_string();
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if format != CONVERSATION_FORMAT && format != DOCUMENT_FORMAT {
            return Err(StoreError::Import(format!(
                "\"format\" is {format:?}, expected {CONVERSATION_FORMAT:?} or {DOCUMENT_FORMAT:?}"
            )));
        }
        if version == 0 || version > EXPORT_VERSION as u64 {
            return Err(StoreError::Import(format!(
                "export version {version} is not one this version reads (1..={EXPORT_VERSION})"
            )));
        }
        if format == CONVERSATION_FORMAT {
            let c: ConversationExport =
                serde_json::from_value(value).map_err(|e| StoreError::Import(format!("conversation: {e}")))?;
            self.import_conversation(&c).map(Imported::Conversation)
        } else {
            let d: DocumentExport =
                serde_json::from_value(value).map_err(|e| StoreError::Import(format!("document: {e}")))?;
            self.import_document(&d).map(Imported::Document)
        }
    }

    fn import_conversation(&self, c: &ConversationExport) -> Result<i64, StoreError> {
        let (created, updated) = (time("created_at", &c.created_at)?, time("updated_at", &c.updated_at)?);
        let mut messages = Vec::with_capacity(c.messages.len());
        for m in &c.messages {
            let times = (time("message created_at", &m.created_at)?, time("message updated_at", &m.updated_at)?);
            let status = if m.status == MessageStatus::Streaming { MessageStatus::Interrupted } else { m.status };
            messages.push((m, status, times));
        }
        let settings = if c.settings.is_null() { serde_json::json!({}) } else { c.settings.clone() };
        self.run(async {
            let mut tx = WriteTx::begin(self.pool()).await?;
            let id = sqlx::query(
                "INSERT INTO conversations (title, created_at, updated_at, target, draft, drafter, settings)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&c.title)
            .bind(created)
            .bind(updated)
            .bind(c.pair.as_ref().map(|p| &p.target))
            .bind(c.pair.as_ref().and_then(|p| p.draft.as_ref()))
            .bind(c.pair.as_ref().map(|p| &p.drafter))
            .bind(settings.to_string())
            .execute(tx.conn())
            .await?
            .last_insert_rowid();
            for (m, status, times) in &messages {
                let message_id =
                    insert_message(tx.conn(), id, m.role, &m.text, *status, m.stats.as_ref(), *times).await?;
                insert_trace(tx.conn(), message_id, &m.trace).await.map_err(|e| match e {
                    StoreError::Trace(why) => StoreError::Import(format!("trace of a message: {why}")),
                    other => other,
                })?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    fn import_document(&self, d: &DocumentExport) -> Result<i64, StoreError> {
        let mut revisions = Vec::with_capacity(d.revisions.len());
        for (i, r) in d.revisions.iter().enumerate() {
            if r.revision != i as i64 + 1 {
                return Err(StoreError::Import(format!("revision {} where {} was expected", r.revision, i + 1)));
            }
            revisions.push(DocumentRevision {
                revision: r.revision,
                title: r.title.clone(),
                body: r.body.clone(),
                created_at: time("revision created_at", &r.created_at)?,
            });
        }
        match revisions.last() {
            Some(last) if last.title == d.title && last.body == d.body => {}
            Some(_) => {
                return Err(StoreError::Import("the last revision differs from the document's title and body".into()))
            }
            None => return Err(StoreError::Import("a document needs at least one revision".into())),
        }
        let created = time("created_at", &d.created_at)?;
        let updated = time("updated_at", &d.updated_at)?;
        self.run(async {
            let mut tx = WriteTx::begin(self.pool()).await?;
            let id = insert_document(tx.conn(), &revisions, (created, updated)).await?;
            tx.commit().await?;
            Ok(id)
        })
    }
}

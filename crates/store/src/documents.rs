//! Documents and their revision history.
//!
//! Invariant: `document_revisions` holds revisions 1..=`documents.revision` of every
//! document, the last one equal to the document's current title and body.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::StoreError;
use crate::model::{Document, DocumentRevision};
use crate::store::Store;
use crate::time::now_ms;
use crate::tx::WriteTx;

fn document_from_row(row: &SqliteRow) -> Result<Document, StoreError> {
    Ok(Document {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a document whose history is `revisions` (oldest first, numbered from 1, at
/// least one); the document takes the last one's title and body. `times`: created, updated.
pub(crate) async fn insert_document(
    conn: &mut SqliteConnection,
    revisions: &[DocumentRevision],
    times: (i64, i64),
) -> Result<i64, StoreError> {
    let last = revisions.last().ok_or_else(|| StoreError::Misuse("a document needs a revision".into()))?;
    let id =
        sqlx::query("INSERT INTO documents (title, body, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&last.title)
            .bind(&last.body)
            .bind(last.revision)
            .bind(times.0)
            .bind(times.1)
            .execute(&mut *conn)
            .await?
            .last_insert_rowid();
    for r in revisions {
        sqlx::query(
            "INSERT INTO document_revisions (document_id, revision, title, body, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(r.revision)
        .bind(&r.title)
        .bind(&r.body)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

impl Store {
    /// Creates a document at revision 1; returns its id.
    pub fn create_document(&self, title: &str, body: &str) -> Result<i64, StoreError> {
        self.run(async {
            let now = now_ms();
            let first = DocumentRevision { revision: 1, title: title.into(), body: body.into(), created_at: now };
            let mut tx = WriteTx::begin(self.pool()).await?;
            let id = insert_document(tx.conn(), &[first], (now, now)).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Saves a new revision of a document; returns its number. Earlier revisions stay.
    pub fn update_document(&self, id: i64, title: &str, body: &str) -> Result<i64, StoreError> {
        self.run(async {
            let now = now_ms();
            let mut tx = WriteTx::begin(self.pool()).await?;
            let revision: i64 = sqlx::query_scalar(
                "UPDATE documents SET title = ?, body = ?, revision = revision + 1, updated_at = ? WHERE id = ?
                 RETURNING revision",
            )
            .bind(title)
            .bind(body)
            .bind(now)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound { what: "document", id })?;
            sqlx::query("INSERT INTO document_revisions (document_id, revision, title, body, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(id)
                .bind(revision)
                .bind(title)
                .bind(body)
                .bind(now)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
            Ok(revision)
        })
    }

    pub fn document(&self, id: i64) -> Result<Document, StoreError> {
        self.run(async {
            let row = sqlx::query("SELECT * FROM documents WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound { what: "document", id })?;
            document_from_row(&row)
        })
    }

    /// Every document, the most recently changed first.
    pub fn list_documents(&self) -> Result<Vec<Document>, StoreError> {
        self.run(async {
            let rows =
                sqlx::query("SELECT * FROM documents ORDER BY updated_at DESC, id DESC").fetch_all(self.pool()).await?;
            rows.iter().map(document_from_row).collect()
        })
    }

    /// A document's revisions, oldest first.
    pub fn document_revisions(&self, id: i64) -> Result<Vec<DocumentRevision>, StoreError> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT revision, title, body, created_at FROM document_revisions WHERE document_id = ? ORDER BY revision",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Err(StoreError::NotFound { what: "document", id });
            }
            rows.iter()
                .map(|r| {
                    Ok(DocumentRevision {
                        revision: r.try_get("revision")?,
                        title: r.try_get("title")?,
                        body: r.try_get("body")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .collect()
        })
    }

    /// Deletes a document with its history.
    pub fn delete_document(&self, id: i64) -> Result<(), StoreError> {
        self.run(async {
            let done = sqlx::query("DELETE FROM documents WHERE id = ?").bind(id).execute(self.pool()).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "document", id });
            }
            Ok(())
        })
    }
}

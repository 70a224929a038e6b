//! Full-text search over messages and documents (SQLite FTS5).

use sqlx::Row;

use crate::error::StoreError;
use crate::model::SearchHit;
use crate::store::Store;

/// An FTS5 query for text a person typed: every word must occur (as a word, or for the
/// last one as a word prefix, so results follow typing). Each word is quoted, so FTS5
/// operators and punctuation in the text are searched for, never interpreted.
/// `None` when the text has no words.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
    let last = words.len().checked_sub(1)?;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last { format!("{w}*") } else { w.clone() })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

const SEARCH: &str = "
    SELECT 'message' AS kind, m.conversation_id AS owner, m.id AS item, c.title AS title,
           snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet, bm25(messages_fts) AS rank
    FROM messages_fts
    JOIN messages m ON m.id = messages_fts.rowid
    JOIN conversations c ON c.id = m.conversation_id
    WHERE messages_fts MATCH ?1
    UNION ALL
    SELECT 'document', NULL, d.id, d.title, snippet(documents_fts, -1, '[', ']', '…', 12), bm25(documents_fts)
    FROM documents_fts
    JOIN documents d ON d.id = documents_fts.rowid
    WHERE documents_fts MATCH ?1
    ORDER BY rank
    LIMIT ?2";

impl Store {
    /// Messages and documents containing every word of `text`, best matches first, at most `limit`.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        self.run(async {
            let rows = sqlx::query(SEARCH).bind(&query).bind(limit as i64).fetch_all(self.pool()).await?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get("kind")?;
                    let (item, title, snippet) = (r.try_get("item")?, r.try_get("title")?, r.try_get("snippet")?);
                    Ok(if kind == "message" {
                        SearchHit::Message { conversation_id: r.try_get("owner")?, message_id: item, title, snippet }
                    } else {
                        SearchHit::Document { document_id: item, title, snippet }
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_text_becomes_quoted_words() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("rust"), Some("\"rust\"*".into()));
        assert_eq!(fts_query("speculative deco"), Some("\"speculative\" \"deco\"*".into()));
        assert_eq!(fts_query("a \"b\" OR c*"), Some("\"a\" \"\"\"b\"\"\" \"OR\" \"c*\"*".into()));
    }
}

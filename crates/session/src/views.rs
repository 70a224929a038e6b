//! History records under the names the UI uses (camelCase), kept apart from the store's
//! own types so the history file format and the UI contract can change independently.

use serde::Serialize;
use tandem_store::{Conversation, Document, DocumentRevision, Message, SearchHit};

use crate::text::StatsView;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: i64,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Conversation> for ConversationView {
    fn from(c: &Conversation) -> Self {
        ConversationView { id: c.id, title: c.title.clone(), created_at: c.created_at, updated_at: c.updated_at }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairView {
    pub target: String,
    pub draft: Option<String>,
    pub drafter: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: i64,
    pub conversation_id: i64,
    pub role: tandem_store::Role,
    pub text: String,
    pub status: tandem_store::MessageStatus,
    pub stats: Option<StatsView>,
    pub created_at: i64,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        MessageView {
            id: m.id,
            conversation_id: m.conversation_id,
            role: m.role,
            text: m.text.clone(),
            status: m.status,
            stats: m.stats.as_ref().map(StatsView::from),
            created_at: m.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentView {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub revision: i64,
    pub updated_at: i64,
}

impl From<&Document> for DocumentView {
    fn from(d: &Document) -> Self {
        DocumentView {
            id: d.id,
            title: d.title.clone(),
            body: d.body.clone(),
            revision: d.revision,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionView {
    pub revision: i64,
    pub title: String,
    pub body: String,
    pub created_at: i64,
}

impl From<&DocumentRevision> for RevisionView {
    fn from(r: &DocumentRevision) -> Self {
        RevisionView { revision: r.revision, title: r.title.clone(), body: r.body.clone(), created_at: r.created_at }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum SearchHitView {
    Message { conversation_id: i64, message_id: i64, title: String, snippet: String },
    Document { document_id: i64, title: String, snippet: String },
}

impl From<&SearchHit> for SearchHitView {
    fn from(h: &SearchHit) -> Self {
        match h {
            SearchHit::Message { conversation_id, message_id, title, snippet } => SearchHitView::Message {
                conversation_id: *conversation_id,
                message_id: *message_id,
                title: title.clone(),
                snippet: snippet.clone(),
            },
            SearchHit::Document { document_id, title, snippet } => {
                SearchHitView::Document { document_id: *document_id, title: title.clone(), snippet: snippet.clone() }
            }
        }
    }
}

//! Tandem's history: conversations, their messages and the speculation behind every
//! answer, documents with their revisions, and app settings, in one SQLite file.
//!
//! - [`Store::open`] migrates the schema, moves a damaged file aside, falls back to
//!   read-only where the file cannot be written, and marks answers that a dead process
//!   left `streaming` as `interrupted` ([`OpenReport`]).
//! - [`TraceWriter`] records an answer from the engine's [`tandem_engine::Event`]s in
//!   batched transactions, so a crash loses at most one uncommitted batch.
//! - Full-text search ([`Store::search`]), export to JSON and Markdown, import of JSON.
//!
//! The API blocks: each handle drives its connections on a small runtime of its own, so
//! callers need no async runtime.

mod conversations;
mod documents;
mod error;
mod export;
mod markdown;
mod model;
mod open;
mod options;
mod search;
mod settings;
mod store;
pub mod time;
mod trace;
mod tx;
mod writer;

pub use error::StoreError;
pub use export::{
    ConversationExport, DocumentExport, Imported, MessageExport, RevisionExport, CONVERSATION_FORMAT, DOCUMENT_FORMAT,
    EXPORT_VERSION,
};
pub use markdown::stats_line;
pub use model::{
    Conversation, Document, DocumentRevision, Message, MessageStats, MessageStatus, Pair, Role, SearchHit,
};
pub use open::{MovedAside, OpenReport, MIGRATOR};
pub use options::{BatchPolicy, StoreOptions};
pub use store::Store;
pub use trace::{encode as encode_trace, TraceStep};
pub use writer::TraceWriter;

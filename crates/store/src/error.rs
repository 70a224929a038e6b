//! Errors of the history store, each with a stable machine-readable code for the UI.

use std::path::PathBuf;

use sqlx::migrate::MigrateError;

/// Everything a store operation can fail with.
///
/// The database's own failures are sorted by SQLite's result code into the conditions a
/// person can act on (locked, read-only, full, damaged); `code()` strings are part of the UI
/// contract: never rename one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another program holds the database's write lock for longer than the busy timeout.
    #[error("the history database is locked by another program; close it or try again later")]
    Locked,
    /// The file, or the folder it lives in, cannot be written.
    #[error("the history database is read-only: {0}")]
    ReadOnly(String),
    /// The disk, or the size limit set for the database, is full.
    #[error("the disk or the history database is full: free some space and try again")]
    Full,
    /// The file is damaged or is not a SQLite database.
    #[error("the history database is damaged: {0}")]
    Corrupt(String),
    /// The file cannot be opened at all.
    #[error("cannot open the history database: {reason}")]
    CannotOpen { path: PathBuf, reason: String },
    /// A newer version of Tandem wrote the file; this one does not know its schema.
    #[error("the history database has schema version {found}, newer than this version of Tandem knows ({known})")]
    TooNew { found: i64, known: i64 },
    /// The recorded schema history does not match this version's migrations (an edited or
    /// half-applied migration). The data is left alone: it is not damaged, just unexpected.
    #[error("the history database's schema does not match this version of Tandem: {0}")]
    Schema(String),
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: i64 },
    /// A file given to import is not an export this version understands.
    #[error("cannot import: {0}")]
    Import(String),
    /// Stored trace data that cannot be decoded, or a step that breaks the event invariants.
    #[error("bad speculation trace: {0}")]
    Trace(String),
    /// A call that breaks the API's contract, e.g. an event after `Done`.
    #[error("{0}")]
    Misuse(String),
    #[error("{action}: {source}")]
    Io { action: String, source: std::io::Error },
    /// Any other database failure.
    #[error("history database error: {0}")]
    Database(sqlx::Error),
}

/// SQLite primary result codes the store tells apart (the low byte of an extended code).
mod code {
    pub const PERM: i32 = 3;
    pub const BUSY: i32 = 5;
    pub const LOCKED: i32 = 6;
    pub const READONLY: i32 = 8;
    pub const CORRUPT: i32 = 11;
    pub const FULL: i32 = 13;
    pub const CANTOPEN: i32 = 14;
    pub const NOTADB: i32 = 26;
}

impl StoreError {
    /// A short stable name of the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Locked => "locked",
            StoreError::ReadOnly(_) => "read_only",
            StoreError::Full => "full",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::CannotOpen { .. } => "cannot_open",
            StoreError::TooNew { .. } => "too_new",
            StoreError::Schema(_) => "schema",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Import(_) => "import",
            StoreError::Trace(_) => "trace",
            StoreError::Misuse(_) => "misuse",
            StoreError::Io { .. } => "io",
            StoreError::Database(_) => "database",
        }
    }

    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> StoreError {
        StoreError::Io { action: action.into(), source }
    }

    /// Whether a failed open means "this process cannot write there" rather than bad data.
    pub(crate) fn is_not_writable(&self) -> bool {
        matches!(self, StoreError::ReadOnly(_))
    }
}

/// The primary SQLite result code of a database error.
fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    let db = e.as_database_error()?;
    let extended: i32 = db.code()?.parse().ok()?;
    Some(extended & 0xff)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        let message = e.as_database_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
        match sqlite_code(&e) {
            Some(code::BUSY | code::LOCKED) => StoreError::Locked,
            Some(code::FULL) => StoreError::Full,
            Some(code::READONLY | code::PERM | code::CANTOPEN) => StoreError::ReadOnly(message),
            Some(code::CORRUPT | code::NOTADB) => StoreError::Corrupt(message),
            _ => StoreError::Database(e),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(e: MigrateError) -> StoreError {
        match e {
            MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => e.into(),
            MigrateError::VersionMissing(found) => {
                StoreError::TooNew { found, known: crate::open::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0) }
            }
            other => StoreError::Schema(other.to_string()),
        }
    }
}

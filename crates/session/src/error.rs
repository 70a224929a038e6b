//! The one error the session hands to its callers. It crosses the desktop app's IPC
//! boundary as `{code, message}`: `code` is what the UI acts on, `message` is for people.

use serde::Serialize;
use tandem_engine::EngineError;
use tandem_models::ModelsError;
use tandem_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Models(#[from] ModelsError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another answer is being written; only one runs at a time.
    #[error("an answer is still being written: stop it first, or wait for it to finish")]
    Busy,
    /// Nothing to answer with yet.
    #[error("no model pair is loaded: choose one in Models and load it")]
    NoPairLoaded,
    /// The request itself is wrong (an empty message, an unknown setting).
    #[error("{0}")]
    Invalid(String),
}

impl SessionError {
    pub fn invalid(message: impl Into<String>) -> SessionError {
        SessionError::Invalid(message.into())
    }

    /// A stable name for the kind of error: part of the UI contract, never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Models(e) => e.code(),
            SessionError::Engine(e) => e.code(),
            SessionError::Store(StoreError::NotFound { .. }) => "not_found",
            SessionError::Store(StoreError::Full) => "disk_full",
            SessionError::Store(_) => "store",
            SessionError::Busy => "busy",
            SessionError::NoPairLoaded => "no_pair_loaded",
            SessionError::Invalid(_) => "invalid_input",
        }
    }

    /// The `{code, message}` form the UI receives.
    pub fn to_ipc(&self) -> IpcError {
        IpcError { code: self.code().to_string(), message: self.to_string() }
    }
}

/// What a failed command returns to the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl From<SessionError> for IpcError {
    fn from(e: SessionError) -> IpcError {
        e.to_ipc()
    }
}

pub type Result<T> = std::result::Result<T, SessionError>;

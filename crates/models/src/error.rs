//! The one error type of the models crate. Every message is written for the person using
//! the app: it says what went wrong and, where there is one, what to do about it.

/// Everything that can go wrong while finding, fetching, checking or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// A corrupt, truncated or foreign file where a GGUF model was expected.
    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },
    /// An architecture or quantization Tandem cannot run.
    #[error("{0}")]
    Unsupported(String),
    /// A draft/target pair that cannot work together; the reason is in plain language.
    #[error("{0}")]
    Incompatible(String),
    #[error("{0}")]
    Tokenizer(String),
    #[error("{0}")]
    Template(String),
    #[error("{0}")]
    Fetch(String),
    #[error("checksum mismatch for {id}: expected {expected}, got {actual}; the file was deleted")]
    Checksum { id: String, expected: String, actual: String },
    #[error("unknown model `{0}`: run `tandem models list` to see the catalog")]
    UnknownModel(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ModelsError {
    /// A stable machine-readable name for the kind of error (for JSON output and the UI).
    pub fn code(&self) -> &'static str {
        match self {
            ModelsError::BadFile { .. } => "bad_file",
            ModelsError::Unsupported(_) => "unsupported",
            ModelsError::Incompatible(_) => "incompatible",
            ModelsError::Tokenizer(_) => "tokenizer",
            ModelsError::Template(_) => "template",
            ModelsError::Fetch(_) => "fetch",
            ModelsError::Checksum { .. } => "checksum",
            ModelsError::UnknownModel(_) => "unknown_model",
            ModelsError::Io(_) => "io",
        }
    }
}

pub type Result<T> = std::result::Result<T, ModelsError>;

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
    /// A download that failed for a reason other than the ones below (network, server).
    #[error("{0}")]
    Fetch(String),
    /// The download server could not be reached at all (offline, DNS, refused).
    #[error("{0}")]
    Unreachable(String),
    /// The model catalog itself is malformed (a build defect for the built-in one).
    #[error("{0}")]
    Catalog(String),
    #[error("checksum mismatch for {id}: expected {expected}, got {actual}; the file was deleted")]
    Checksum { id: String, expected: String, actual: String },
    #[error("unknown model `{0}`: run `tandem models list` to see the catalog")]
    UnknownModel(String),
    /// A catalog model that is known but not on this machine yet.
    #[error("{name} is not downloaded yet: run `tandem models fetch {id}` (it is {gb:.1} GB)")]
    NotDownloaded { id: String, name: String, gb: f64 },
    /// The hub refused without (or with a wrong) token: a gated or private repository.
    #[error(
        "{repo} needs a Hugging Face token and licence acceptance: accept the licence on the model's page, \
         then add your access token in Settings (or set HF_TOKEN)"
    )]
    NeedsToken { repo: String },
    /// The hub has no such repository or file.
    #[error("{0}")]
    NotFound(String),
    /// Not enough free disk space to start or finish a download. Nothing is left under the
    /// final name; a partial download is kept so it can continue once space is freed.
    #[error(
        "the disk is full: {} more are needed in {path} and {} are free; free some space and try again{kept}",
        gb(*needed), gb(*available),
        kept = if *kept > 0 { format!(" (the {} already downloaded are kept)", gb(*kept)) } else { String::new() }
    )]
    DiskFull { path: String, needed: u64, available: u64, kept: u64 },
    /// The person paused or cancelled; a paused download continues where it stopped.
    #[error("{}", if *paused { "the download is paused; fetch it again to continue where it stopped" } else { "the download was cancelled" })]
    Stopped { paused: bool },
    /// A requested backend that this build does not have, or a device that is not there.
    #[error("{0}")]
    DeviceUnavailable(String),
    /// A model that would not fit in a device's free memory, found before loading it.
    #[error(
        "{what} needs about {} of memory on {device}, and {} is free; choose the processor for it in Settings, or a smaller pair",
        gb(*needed), gb(*free)
    )]
    DeviceMemory { what: String, device: String, needed: u64, free: u64 },
    /// A device that failed while loading or running a model.
    #[error("{device} failed: {message}")]
    Device { device: String, message: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn gb(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

impl ModelsError {
    /// A stable machine-readable name for the kind of error: the UI acts on these, so they
    /// are part of its contract and are never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            ModelsError::BadFile { .. } => "bad_file",
            ModelsError::Unsupported(_) => "unsupported_model",
            ModelsError::Incompatible(_) => "pair_incompatible",
            ModelsError::Tokenizer(_) => "tokenizer",
            ModelsError::Template(_) => "template",
            ModelsError::Fetch(_) => "download_failed",
            ModelsError::Catalog(_) => "catalog",
            ModelsError::Unreachable(_) => "download_failed",
            ModelsError::Checksum { .. } => "checksum_mismatch",
            ModelsError::UnknownModel(_) => "unknown_model",
            ModelsError::NotDownloaded { .. } => "model_missing",
            ModelsError::NeedsToken { .. } => "needs_token",
            ModelsError::NotFound(_) => "not_found",
            ModelsError::DiskFull { .. } => "disk_full",
            ModelsError::Stopped { .. } => "cancelled",
            ModelsError::DeviceUnavailable(_) => "device_unavailable",
            ModelsError::DeviceMemory { .. } => "out_of_memory",
            ModelsError::Device { .. } => "device_failed",
            ModelsError::Io(e) if is_disk_full(e) => "disk_full",
            ModelsError::Io(_) => "io",
        }
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
        || matches!(e.raw_os_error(), Some(28) /* ENOSPC */ | Some(122) /* EDQUOT */ if cfg!(unix))
        || matches!(e.raw_os_error(), Some(112) /* ERROR_DISK_FULL */ if cfg!(windows))
}

pub type Result<T> = std::result::Result<T, ModelsError>;

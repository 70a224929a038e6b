//! What a download reports while it runs.

use std::path::PathBuf;

use serde::Serialize;

/// One report from a download, in the order they happen: `Started`, then `Progress`
/// (several a second at most), possibly `Retrying` (followed by more progress),
/// `Verifying`, and `Done`; or `Paused` when the person paused it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum DownloadEvent {
    /// The server answered: the file's size, and how much a previous run already had.
    Started { id: String, total_bytes: u64, resumed_from_bytes: u64 },
    /// `bytes_per_second` is averaged over the last few seconds; `eta_seconds` is `None`
    /// until a rate is known.
    Progress { id: String, done_bytes: u64, total_bytes: u64, bytes_per_second: f64, eta_seconds: Option<f64> },
    /// The connection failed or stalled; the next try starts after `wait_seconds` and
    /// continues from the last completed piece.
    Retrying { id: String, attempt: u32, wait_seconds: f64, reason: String },
    /// Checking the SHA-256 of the finished file.
    Verifying { id: String, done_bytes: u64, total_bytes: u64 },
    /// The verified file is in place.
    Done { id: String, path: PathBuf },
    /// Stopped on request; the partial file is kept.
    Paused { id: String, done_bytes: u64, total_bytes: u64 },
}

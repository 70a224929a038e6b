//! Downloads from the Hugging Face hub (through hf-hub), into the hub's own cache layout.
//!
//! What a person can rely on:
//! - Progress arrives as [`DownloadEvent`]s (bytes, a smoothed rate, an ETA) that the CLI
//!   and the app both consume.
//! - Pause keeps the partial file and a later download continues it with range requests,
//!   also after the program was killed; cancel deletes it.
//! - Dropped connections and stalled servers are retried with backoff, resuming each time.
//! - A file is used only after its SHA-256 matched the catalog's (or the hub's LFS etag,
//!   which is the SHA-256 of the content); a mismatch deletes it and says so.
//! - Free space is checked before starting; a disk that fills up mid-way is a clear error
//!   and never leaves anything under the final name.

mod control;
mod events;
mod hub;
mod rate;
mod verify;

pub use control::DownloadControl;
pub use events::DownloadEvent;
pub use hub::{download, free_space, HubConfig, HubFile};
pub use verify::sha256_file;

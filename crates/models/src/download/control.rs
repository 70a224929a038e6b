//! Pausing and cancelling a download from another thread.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const RUN: u8 = 0;
const PAUSE: u8 = 1;
const CANCEL: u8 = 2;

/// A shared switch a download polls several times a second. Clones control the same
/// download. Once paused or cancelled it stays so: resuming is a new download, which
/// continues from the partial file.
#[derive(Clone, Debug, Default)]
pub struct DownloadControl(Arc<AtomicU8>);

/// What the person asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Run,
    /// Stop and keep the partial file.
    Pause,
    /// Stop and delete the partial file.
    Cancel,
}

impl DownloadControl {
    pub fn new() -> DownloadControl {
        DownloadControl::default()
    }

    /// Stops the download, keeping what was downloaded for a later resume.
    pub fn pause(&self) {
        let _ = self.0.compare_exchange(RUN, PAUSE, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Stops the download and deletes the partial file. Overrides an earlier pause.
    pub fn cancel(&self) {
        self.0.store(CANCEL, Ordering::SeqCst);
    }

    pub(crate) fn request(&self) -> Request {
        match self.0.load(Ordering::SeqCst) {
            RUN => Request::Run,
            PAUSE => Request::Pause,
            _ => Request::Cancel,
        }
    }
}

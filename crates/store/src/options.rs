//! How a store is opened and how answers are batched.

use std::time::Duration;

/// Settings of [`crate::Store::open_with`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How long a write waits for another program's lock before failing with
    /// [`crate::StoreError::Locked`].
    pub busy_timeout: Duration,
    /// Upper bound of the database file's size; writes past it fail with
    /// [`crate::StoreError::Full`] as they would on a full disk. `None`: only the disk limits it.
    pub max_size_bytes: Option<u64>,
    /// When a streaming answer is written.
    pub batch: BatchPolicy,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions { busy_timeout: Duration::from_secs(5), max_size_bytes: None, batch: BatchPolicy::default() }
    }
}

/// A streaming answer is committed once `max_steps` steps are pending or `max_delay` has
/// passed since the last commit, whichever comes first (checked as each event arrives), and
/// at its end. A crash loses at most the steps of one uncommitted batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchPolicy {
    pub max_steps: usize,
    pub max_delay: Duration,
}

impl Default for BatchPolicy {
    fn default() -> BatchPolicy {
        BatchPolicy { max_steps: 16, max_delay: Duration::from_millis(250) }
    }
}

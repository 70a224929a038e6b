//! The store handle: one SQLite file, a small pool of connections, and the runtime that
//! drives them, behind a blocking API.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::{ConnectOptions, Connection, SqlitePool};

use crate::error::StoreError;
use crate::open::{claim_live, close_pool, open_pool, LiveLock, OpenReport};
use crate::options::{BatchPolicy, StoreOptions};

/// An open history database.
///
/// Cheap to clone; clones share the connections and may be used from several threads at
/// once. Every method blocks the calling thread until the database answers, so call them
/// from plain threads (or an async runtime's blocking pool), never from inside an async
/// task. The connections close, and the WAL is checkpointed, when the last clone drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    rt: tokio::runtime::Runtime,
    path: PathBuf,
    batch: BatchPolicy,
    report: OpenReport,
    _live: Option<LiveLock>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.rt.block_on(close_pool(&self.pool));
    }
}

impl Store {
    /// Opens or creates the database at `path` with default options; see [`Store::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens or creates the database at `path`, upgrading its schema.
    ///
    /// A damaged file is moved aside and a fresh one started; a file that cannot be written
    /// is opened read-only. Both are told in [`Store::report`], as are answers that a dead
    /// process left streaming (now `interrupted`). Fails with a clear [`StoreError`] when
    /// the file can be neither written nor read, is locked, or comes from a newer version.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        // One worker is plenty: SQLite work happens on sqlx's per-connection threads, and
        // the runtime only routes their answers; `block_on` works from any thread.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("tandem-store")
            .enable_time()
            .build()
            .map_err(|e| StoreError::io("starting the store's runtime", e))?;
        let (pool, mut report) = rt.block_on(open_pool(&path, &options))?;
        let live = if report.read_only.is_none() {
            let (live, interrupted) = rt.block_on(claim_live(&path, &pool))?;
            report.interrupted = interrupted;
            Some(live)
        } else {
            None
        };
        Ok(Store { inner: Arc::new(Inner { pool, rt, path, batch: options.batch, report, _live: live }) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What opening found and did.
    pub fn report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// Whether the store was opened read-only (writes then fail with `ReadOnly`).
    pub fn is_read_only(&self) -> bool {
        self.inner.report.read_only.is_some()
    }

    /// SQLite's full `PRAGMA integrity_check`, plus (when writable) FTS5's check that the
    /// search indexes match their tables: `["ok"]` for a sound file, else the problems.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.run(async {
            // A connection of its own: the bundled SQLite's integrity_check reads an FTS5
            // index through the structure the connection cached, and reports a sound index
            // as malformed when another connection has changed it since.
            let mut conn = self.pool().connect_options().connect().await?;
            let mut problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await?;
            problems.retain(|p| p != "ok");
            if !self.is_read_only() {
                for table in ["messages_fts", "documents_fts"] {
                    // FTS5 runs its check as a special insert and fails it on a mismatch.
                    let check = format!("INSERT INTO {table}({table}) VALUES ('integrity-check')");
                    if let Err(e) = sqlx::query(&check).execute(&mut conn).await {
                        problems.push(format!("{table}: {e}"));
                    }
                }
            }
            conn.close().await?;
            if problems.is_empty() {
                problems.push("ok".into());
            }
            Ok(problems)
        })
    }

    pub(crate) fn batch_policy(&self) -> BatchPolicy {
        self.inner.batch
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// Runs one database operation to completion on the store's runtime.
    pub(crate) fn run<T>(&self, work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        self.inner.rt.block_on(work)
    }
}

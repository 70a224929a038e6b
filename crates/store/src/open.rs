//! Opening the database file, whatever state it is in.
//!
//! In order: a writable open with migrations and a quick integrity check; a damaged file
//! is renamed aside and a fresh one started; a file this process cannot write is opened
//! read-only. A writable store then takes its share of the `-live` lock file, after
//! turning answers left `streaming` by dead processes into `interrupted`.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::StoreError;
use crate::options::StoreOptions;
use crate::time::now_ms;

/// Every schema migration, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Page size of files this store creates; `max_size_bytes` is counted in these pages.
const PAGE_SIZE: u64 = 4096;

/// Readers can run beside the one writer in WAL mode; a few connections are plenty for
/// one app window and its background writer.
const MAX_CONNECTIONS: u32 = 4;

/// What opening found and did, for the app to tell the user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenReport {
    /// A damaged file renamed so that a fresh database could start in its place.
    pub moved_aside: Option<MovedAside>,
    /// Why the store is read-only; `None` when it can write.
    pub read_only: Option<String>,
    /// Answers left `streaming` by processes that died, now marked `interrupted`.
    pub interrupted: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MovedAside {
    /// Where the damaged file now is (its `-wal`/`-shm` files, if any, went along).
    pub to: PathBuf,
    /// What was wrong with it.
    pub reason: String,
}

impl OpenReport {
    /// One sentence per thing the user should know, empty when all went normally.
    pub fn notices(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = &self.moved_aside {
            out.push(format!(
                "the history database was damaged ({}); it was moved to {} and a new one was started",
                m.reason,
                m.to.display()
            ));
        }
        if let Some(r) = &self.read_only {
            out.push(format!("the history database is open read-only ({r}); nothing new will be saved"));
        }
        if self.interrupted > 0 {
            out.push(format!("{} answer(s) cut off by an earlier crash are marked interrupted", self.interrupted));
        }
        out
    }
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens `path` by the steps in the module doc.
pub(crate) async fn open_pool(path: &Path, options: &StoreOptions) -> Result<(SqlitePool, OpenReport), StoreError> {
    if path.is_dir() {
        return Err(StoreError::CannotOpen { path: path.to_path_buf(), reason: "it is a folder".into() });
    }
    let mut report = OpenReport::default();
    let writable = match writable_here(path) {
        Ok(()) => open_writable(path, options).await,
        Err(e) => Err(e),
    };
    match writable {
        Ok(pool) => Ok((pool, report)),
        Err(StoreError::Corrupt(reason)) => {
            let to = move_aside(path).map_err(|e| {
                StoreError::Corrupt(format!("{reason}; it could not be moved aside to start a new one: {e}"))
            })?;
            report.moved_aside = Some(MovedAside { to, reason });
            Ok((open_writable(path, options).await?, report))
        }
        Err(StoreError::ReadOnly(why)) if path.exists() => match open_read_only(path, options).await {
            Ok(pool) => {
                report.read_only = Some(why);
                Ok((pool, report))
            }
            Err(StoreError::ReadOnly(ro)) => Err(StoreError::CannotOpen {
                path: path.to_path_buf(),
                reason: format!("it can be neither written ({why}) nor read ({ro})"),
            }),
            Err(other) => Err(other),
        },
        Err(StoreError::ReadOnly(why)) => Err(StoreError::ReadOnly(format!("cannot create the file ({why})"))),
        Err(e) => Err(e),
    }
}

/// SQLite opens a file it may not write "read-write" all the same and refuses each write
/// later, and in a read-only folder it reads a WAL database without its shared-memory file
/// and refuses writes too; asking the file system first sends both down the read-only path,
/// with a reason a person can act on.
fn writable_here(path: &Path) -> Result<(), StoreError> {
    use std::io::ErrorKind::{NotFound, PermissionDenied, ReadOnlyFilesystem};
    match OpenOptions::new().write(true).open(path) {
        // Not there yet: SQLite creates it.
        Err(e) if e.kind() == NotFound => {}
        Err(e) if matches!(e.kind(), PermissionDenied | ReadOnlyFilesystem) => {
            return Err(StoreError::ReadOnly(format!("no permission to write {}", path.display())))
        }
        Err(e) => return Err(StoreError::CannotOpen { path: path.to_path_buf(), reason: e.to_string() }),
        Ok(_) => {}
    }
    // SQLite creates its -wal and -shm files beside the database: try making a file there.
    // Unique among processes (pid), stores of this process (counter), and runs (time).
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = with_suffix(path, &format!(".probe-{}-{n}-{}", std::process::id(), now_ms()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => std::fs::remove_file(&probe).map_err(|e| StoreError::io(format!("removing {}", probe.display()), e)),
        Err(e) if matches!(e.kind(), PermissionDenied | ReadOnlyFilesystem) => {
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Err(StoreError::ReadOnly(format!("no permission to create files in {}", folder.display())))
        }
        Err(e) => Err(StoreError::io(format!("creating {}", probe.display()), e)),
    }
}

fn base_options(path: &Path, options: &StoreOptions) -> SqliteConnectOptions {
    SqliteConnectOptions::new().filename(path).foreign_keys(true).busy_timeout(options.busy_timeout)
}

async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    Ok(SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await?)
}

/// Read-write, WAL, migrated to the latest schema, checked.
async fn open_writable(path: &Path, options: &StoreOptions) -> Result<SqlitePool, StoreError> {
    let mut opts = base_options(path, options)
        .create_if_missing(true)
        .page_size(PAGE_SIZE as u32)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: each commit is on disk before it returns, so a committed batch survives
        // power loss as well as a killed process. Batching keeps the number of syncs small.
        .synchronous(SqliteSynchronous::Full);
    if let Some(max) = options.max_size_bytes {
        opts = opts.pragma("max_page_count", (max / PAGE_SIZE).max(1).to_string());
    }
    let pool = connect_retrying(opts, options.busy_timeout).await?;
    let ready = async {
        migrate(&pool).await?;
        quick_check(&pool).await
    }
    .await;
    match ready {
        Ok(()) => Ok(pool),
        Err(e) => {
            close_pool(&pool).await;
            Err(e)
        }
    }
}

/// Connects, retrying while the file is locked. Setting up a new connection (switching a
/// new file to WAL, for one) can meet another process's lock in ways SQLite reports as
/// busy at once rather than waiting for the busy timeout; several windows or processes
/// opening the same new file together hit exactly that.
async fn connect_retrying(opts: SqliteConnectOptions, patience: std::time::Duration) -> Result<SqlitePool, StoreError> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match connect(opts.clone()).await {
            Err(StoreError::Locked) if started.elapsed() < patience => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Brings the schema up to date. Two processes opening a file at once may both try to
/// apply the same migration; the loser's attempt fails on the tables the winner made (its
/// own transaction rolls back), and running the migrator again finds the work done.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    const ATTEMPTS: usize = 5;
    for attempt in 1.. {
        match MIGRATOR.run(pool).await.map_err(StoreError::from) {
            Err(StoreError::Database(_) | StoreError::Locked) if attempt < ATTEMPTS => continue,
            other => return other,
        }
    }
    unreachable!("the loop returns by the last attempt")
}

/// Read-only, for a file in a folder (or with permissions) this process cannot write. The
/// schema must already be the latest, as upgrading needs writing.
async fn open_read_only(path: &Path, options: &StoreOptions) -> Result<SqlitePool, StoreError> {
    match check_read_only(base_options(path, options).read_only(true)).await {
        // A WAL database whose folder forbids creating the shared-memory file reads only
        // as immutable, which reads the main file and ignores an uncheckpointed WAL.
        Err(e) if e.is_not_writable() => {
            check_read_only(base_options(path, options).read_only(true).immutable(true)).await
        }
        other => other,
    }
}

async fn check_read_only(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    let pool = connect(options).await?;
    let ready = async {
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = 1").fetch_one(&pool).await?;
        match applied {
            Some(v) if v > latest => Err(StoreError::TooNew { found: v, known: latest }),
            Some(v) if v == latest => quick_check(&pool).await,
            _ => Err(StoreError::ReadOnly("its schema needs an upgrade, which needs write access".into())),
        }
    }
    .await;
    match ready {
        Ok(()) => Ok(pool),
        Err(e) => {
            close_pool(&pool).await;
            Err(e)
        }
    }
}

/// Closes every connection of `pool` before returning, so that the last one checkpoints
/// and removes the WAL now, not later on a connection thread (when the file may already
/// have been moved aside or reopened).
///
/// sqlx hands a used connection back to the pool from a spawned task, and `close()` can
/// miss one still on its way back, which then closes by itself later; so first wait (a
/// bounded time) until every connection is back.
pub(crate) async fn close_pool(pool: &SqlitePool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while pool.num_idle() < pool.size() as usize && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    pool.close().await;
}

async fn quick_check(pool: &SqlitePool) -> Result<(), StoreError> {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(5)").fetch_all(pool).await?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt(rows.join("; ")))
    }
}

/// Renames a damaged database and its side files to `<name>.corrupt-<ms>[-wal|-shm|-journal]`.
/// The side files go first: a stale WAL beside a fresh database would be replayed into it.
fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let to = with_suffix(path, &format!(".corrupt-{}", now_ms()));
    for side in ["-wal", "-shm", "-journal"] {
        match std::fs::rename(with_suffix(path, side), with_suffix(&to, side)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    std::fs::rename(path, &to)?;
    Ok(to)
}

/// A shared lock on `<db>-live`, held by every writable store for its lifetime. The OS drops
/// it when the process dies, so "no one holds it" means "no live process is writing".
pub(crate) struct LiveLock {
    _file: File,
}

/// Marks answers of dead processes `interrupted` (only when no other live process has the
/// database open, as their answers may still be streaming), then joins the live holders.
/// Returns the lock and the number of answers marked.
pub(crate) async fn claim_live(path: &Path, pool: &SqlitePool) -> Result<(LiveLock, u64), StoreError> {
    let live = with_suffix(path, "-live");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&live)
        .map_err(|e| StoreError::io(format!("opening {}", live.display()), e))?;
    let mut interrupted = 0;
    match file.try_lock() {
        Ok(()) => {
            // Look before writing: an open should not wait for another program's write
            // lock when there is nothing to repair.
            let streaming: i64 =
                sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'streaming'").fetch_one(pool).await?;
            if streaming > 0 {
                interrupted = sqlx::query(
                    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE status = 'streaming'",
                )
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected();
            }
            file.unlock().map_err(|e| StoreError::io("unlocking the live file", e))?;
        }
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => return Err(StoreError::io(format!("locking {}", live.display()), e)),
    }
    // Between the unlock and this lock another opener may take the exclusive lock; it then
    // finds no streaming answer of ours, as this store has not started one yet.
    file.lock_shared().map_err(|e| StoreError::io(format!("locking {}", live.display()), e))?;
    Ok((LiveLock { _file: file }, interrupted))
}

//! Write transactions that leave no connection behind in a broken state.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::error::StoreError;

/// One write transaction on a pooled connection.
///
/// `BEGIN IMMEDIATE` takes the write lock up front, so a busy database makes the busy
/// timeout apply at the start, instead of failing a read-to-write upgrade midway.
/// A transaction that is dropped without a successful commit (an error in its body, or a
/// failed `COMMIT`, as on a full disk, after which SQLite may or may not have rolled back)
/// closes its connection instead of returning it to the pool: closing rolls back whatever
/// is open, and the pool never hands out a connection in an unknown state.
pub(crate) struct WriteTx {
    conn: PoolConnection<Sqlite>,
    committed: bool,
}

impl WriteTx {
    pub(crate) async fn begin(pool: &SqlitePool) -> Result<WriteTx, StoreError> {
        let mut conn = pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(WriteTx { conn, committed: false })
    }

    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.committed {
            self.conn.close_on_drop();
        }
    }
}

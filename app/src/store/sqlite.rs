//! SQLite: the zero-setup default. One file in WAL mode; all writes go through a single
//! connection so transactions queue instead of failing with SQLITE_BUSY, reads use a pool.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    writer: Pool<Sqlite>,
    reader: Pool<Sqlite>,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// The single writer connection already serializes claims; SQLite has no row locks.
    const CLAIM_LOCK: &'static str = "";

    pub async fn connect(url: &str) -> super::StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL still survives a process crash; only an OS crash can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    fn writer(&self) -> &Pool<Sqlite> {
        &self.writer
    }

    fn reader(&self) -> &Pool<Sqlite> {
        &self.reader
    }

    /// The raw pool, for benchmarks that measure the database's own ceiling.
    pub fn pool(&self) -> &Pool<Sqlite> {
        &self.writer
    }
}

super::sql::sql_store!(SqliteStore, sqlx::Sqlite, sqlx::sqlite::SqliteRow);

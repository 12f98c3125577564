//! SQLite: the zero-setup default. One file in WAL mode. All writes go through a single
//! connection, so transactions queue instead of failing with SQLITE_BUSY, and platform
//! deliveries reach it as group commits (`ingest.rs`), many to a transaction; reads use a
//! pool of their own, which WAL lets run beside the writer. Each connection keeps its
//! prepared statements (sqlx caches the last 100 per connection).
//!
//! Durability: `synchronous = FULL`. Every commit is on disk before it is acknowledged, so
//! neither a killed process nor a power cut loses a delivery that was answered 200. The
//! group commit is what makes this affordable: one fsync serves a whole batch.
use super::backend::{Backend, SqlStore};
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, Pool};
use std::str::FromStr;
use std::time::Duration;

pub struct Sqlite;

impl Backend for Sqlite {
    const NAME: &'static str = "sqlite";
    /// The single writer connection already serializes writers; SQLite has no row locks.
    const SKIP_LOCKED: &'static str = "";
    const LOCK_CONVERSATION: &'static str = "";
    const INGEST_LANES: usize = 1;
}

pub type SqliteStore = SqlStore<Sqlite>;

/// How every connection syncs; see the module's note on durability.
pub const SQLITE_SYNCHRONOUS: SqliteSynchronous = SqliteSynchronous::Full;

/// Set on every connection: the `Any` pools take their options from the URL alone.
const PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;";

impl SqlStore<Sqlite> {
    pub async fn connect(url: &str) -> super::StoreResult<Self> {
        sqlx::any::install_default_drivers();
        // Create the file, switch it to WAL (kept in the file) and migrate, natively.
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SQLITE_SYNCHRONOUS)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let setup: Pool<sqlx::Sqlite> = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&setup).await?;
        setup.close().await;

        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(async move { conn.execute(PRAGMAS).await.map(|_| ()) }))
            .connect(&with_mode(url, "rw"))
            .await?;
        let reader = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _| Box::pin(async move { conn.execute(PRAGMAS).await.map(|_| ()) }))
            .connect(&with_mode(url, "ro"))
            .await?;
        Ok(Self::new(writer, reader))
    }
}

/// The URL with its `mode` parameter set, keeping any other parameter.
fn with_mode(url: &str, mode: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    let mode = format!("mode={mode}");
    params.push(&mode);
    format!("{base}?{}", params.join("&"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{PRAGMAS, SQLITE_SYNCHRONOUS, with_mode};

    #[test]
    fn every_connection_syncs_as_declared() {
        let declared = format!("PRAGMA synchronous = {:?};", SQLITE_SYNCHRONOUS).to_uppercase();
        assert!(PRAGMAS.to_uppercase().contains(&declared), "{PRAGMAS} vs {declared}");
    }

    #[test]
    fn sets_the_mode_and_keeps_other_parameters() {
        assert_eq!(
            with_mode("sqlite://data/messio.db", "ro"),
            "sqlite://data/messio.db?mode=ro"
        );
        assert_eq!(
            with_mode("sqlite://x.db?mode=rwc&cache=shared", "rw"),
            "sqlite://x.db?cache=shared&mode=rw"
        );
    }
}

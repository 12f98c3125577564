//! Throwaway stores for tests and benchmarks: each call gets a database nobody else uses,
//! so tests can run in parallel and assert on exact counts.

use super::{DynStore, PostgresStore, SqliteStore};
use rand::Rng;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where `scratch_postgres_url` creates its databases; the role must be allowed to `CREATE DATABASE`.
pub const POSTGRES_URL_ENV: &str = "MESSIO_TEST_POSTGRES_URL";
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Scratch databases older than this are assumed abandoned; one still in use is never dropped
/// (see `drop_stale_databases`), so this only has to outlast the gap between create and connect.
const STALE_AFTER_SECS: u64 = 60 * 60;

fn random_hex() -> String {
    format!("{:016x}", rand::thread_rng().r#gen::<u64>())
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A temporary directory that is removed, with everything in it, when dropped.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", random_hex()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir harms nobody.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated store on a fresh SQLite file. Keep the guard alive as long as the store.
///
/// # Panics
/// When the temp directory or the database cannot be created: a test cannot go on without it.
pub async fn scratch_sqlite() -> (DynStore, ScratchDir) {
    let dir = ScratchDir::new("messio-test").expect("create a scratch directory");
    let url = format!("sqlite://{}", dir.path().join("messio.db").display());
    let store = SqliteStore::connect(&url).await.expect("open the scratch SQLite store");
    (Arc::new(store), dir)
}

/// Creates an empty database next to the one `MESSIO_TEST_POSTGRES_URL` names and returns its URL.
///
/// # Panics
/// When PostgreSQL is unreachable or refuses to create the database.
pub async fn scratch_postgres_url() -> String {
    let admin_url = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {admin_url} (set {POSTGRES_URL_ENV}): {e}"));
    drop_stale_databases(&mut admin).await;
    // The creation time in the name lets a later run recognize databases nobody dropped.
    let name = format!("messio_test_{}_{}", unix_secs(), random_hex());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    let _ = admin.close().await;
    with_database(&admin_url, &name)
}

/// A migrated store on a fresh PostgreSQL database.
///
/// # Panics
/// Like `scratch_postgres_url`, or when migrating the new database fails.
pub async fn scratch_postgres() -> DynStore {
    let url = scratch_postgres_url().await;
    Arc::new(
        PostgresStore::connect(&url)
            .await
            .expect("open the scratch PostgreSQL store"),
    )
}

/// Swaps the database name in a `postgres://…/name?options` URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// Drops scratch databases left behind by earlier runs. Without `FORCE`, one still in use
/// simply fails to drop, so a long-running test elsewhere is never disturbed.
async fn drop_stale_databases(admin: &mut sqlx::PgConnection) {
    let Ok(names) =
        sqlx::query_scalar::<_, String>("SELECT datname FROM pg_database WHERE datname LIKE 'messio\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
    else {
        return;
    };
    let cutoff = unix_secs().saturating_sub(STALE_AFTER_SECS);
    for name in names {
        let created = name
            .strip_prefix("messio_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut *admin)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn swaps_only_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}

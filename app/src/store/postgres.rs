//! PostgreSQL: for larger installs and for several server instances sharing one database.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};
use std::time::Duration;

pub struct PostgresStore {
    pool: Pool<Postgres>,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";
    /// Appended to the outbox claim's row selection: skip rows another claimer holds.
    const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";

    pub async fn connect(url: &str) -> super::StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    fn writer(&self) -> &Pool<Postgres> {
        &self.pool
    }

    fn reader(&self) -> &Pool<Postgres> {
        &self.pool
    }

    /// The raw pool, for benchmarks that measure the database's own ceiling.
    pub fn pool(&self) -> &Pool<Postgres> {
        &self.pool
    }
}

super::sql::sql_store!(PostgresStore, sqlx::Postgres, sqlx::postgres::PgRow);

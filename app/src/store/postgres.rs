//! PostgreSQL: for larger installs and for several server instances sharing one database.

use super::backend::{Backend, SqlStore};
use sqlx::any::AnyPoolOptions;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

pub struct Postgres;

impl Backend for Postgres {
    const NAME: &'static str = "postgres";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    // Not FOR UPDATE: inserting a message takes a key-share lock on its conversation, which
    // FOR UPDATE would wait on, deadlocking two deliveries to one conversation.
    const LOCK_CONVERSATION: &'static str = " FOR NO KEY UPDATE OF c";
    // Four: while batches wait for their commits to be flushed, others are being written
    // (measured: 2 lanes 2,168 messages/s, 4 lanes 2,810, in the benchmark's limit run).
    const INGEST_LANES: usize = 4;
}

pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    pub async fn connect(url: &str) -> super::StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let setup = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&setup).await?;
        setup.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self::new(pool.clone(), pool))
    }
}

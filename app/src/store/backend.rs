//! The seam between the two backends. Every store file is written once, as an impl on
//! [`SqlStore<B>`], in the SQL text that SQLite (3.35+) and PostgreSQL both accept: `$n`
//! placeholders, `RETURNING`, `ON CONFLICT … DO NOTHING`, integers for times and ids, JSON as
//! text. The pools speak sqlx's `Any` driver, so the same code binds and reads on both.
//! What must differ between the backends is an item of [`Backend`], and nothing else: row
//! locks today; full-text search, JSON attribute queries and event sequencing when they come.
//! Connection setup, pool layout and migrations live in `sqlite.rs` and `postgres.rs`.

use sqlx::AnyPool;
use std::marker::PhantomData;

pub trait Backend: Send + Sync + 'static {
    /// `sqlite` or `postgres`, as `Store::backend` reports it.
    const NAME: &'static str;
    /// Appended to the selection of rows a claimer is about to update: racing claimers then
    /// take different rows instead of waiting for each other.
    const SKIP_LOCKED: &'static str;
    /// Appended to the read of a conversation (aliased `c`) whose next state is decided from
    /// what was read: holds the row until commit, so no concurrent writer decides from the
    /// same state.
    const LOCK_CONVERSATION: &'static str;
    /// How many group commits run side by side (`ingest.rs`): one where the database takes
    /// one writer at a time, more where commits can overlap.
    const INGEST_LANES: usize;
}

/// The store on one backend: a pool that writes and one that reads (the same on PostgreSQL).
pub struct SqlStore<B: Backend> {
    pub(super) writer: AnyPool,
    pub(super) reader: AnyPool,
    backend: PhantomData<B>,
}

impl<B: Backend> SqlStore<B> {
    pub(super) fn new(writer: AnyPool, reader: AnyPool) -> Self {
        Self {
            writer,
            reader,
            backend: PhantomData,
        }
    }
}

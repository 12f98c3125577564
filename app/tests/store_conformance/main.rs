//! The store contract, checked against both backends.
//!
//! Each module here is one file holding one concern of the store (organizations, sessions,
//! channels, contacts, conversations, messages, notes, teams and routing, the outbox, templates, uploads, the event log,
//! tenancy), and every test in it runs twice: once on a fresh SQLite file and once on a fresh
//! PostgreSQL database (`MESSIO_TEST_POSTGRES_URL`). `support` holds the helpers they share.
//!
//! A test `name` in `concern.rs` runs as `concern::name::sqlite` and `concern::name::postgres`;
//! `cargo test -p app --features ssr --test store_conformance -- outbox::` runs one concern.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

/// Turns each `async fn name(store: DynStore)` into `name::sqlite` and `name::postgres` tests.
/// (A module per test, because `macro_rules!` cannot build a `name_sqlite` identifier.)
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, _dir) = app::store::testing::scratch_sqlite().await;
                assert_eq!(store.backend(), "sqlite");
                super::$name(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let store = app::store::testing::scratch_postgres().await;
                assert_eq!(store.backend(), "postgres");
                super::$name(store).await;
            }
        }
    )+};
}

// The modules come after `conformance!`: a `macro_rules!` macro is visible only below its definition.
mod support;

mod channels;
mod contacts;
mod conversations;
mod events;
mod ingest;
mod messages;
mod notes;
mod organizations;
mod outbox;
mod sessions;
mod teams;
mod templates;
mod tenancy;
mod uploads;

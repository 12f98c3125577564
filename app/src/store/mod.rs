//! The store: everything Messio keeps, scoped by organization, split by concern. Each file
//! holds one concern's trait (what callers may ask), the records it takes and gives, and its
//! one implementation on [`SqlStore`], shared by both backends through the seam in
//! `backend.rs`:
//!
//! | file | keeps |
//! |---|---|
//! | `organizations.rs` | organizations, their people and invites |
//! | `sessions.rs` | login sessions |
//! | `channels.rs` | connected platform accounts |
//! | `contacts.rs` | customers and their platform identities |
//! | `conversations.rs` | the inbox: listing, status, assignment, unread |
//! | `messages.rs` | threads, and what platforms deliver: messages, echoes, statuses, reactions |
//! | `teams.rs` | teams, their agents, agents' routing profiles, where channels route |
//! | `routing.rs` | who holds a conversation: routing's picks, claims, transfers, releases |
//! | `notes.rs` | private notes inside conversations, and whom they mention |
//! | `outbox.rs` | agents' replies on their way out |
//! | `templates.rs` | WhatsApp message templates |
//! | `uploads.rs` | files agents attach |
//! | `ingest.rs` | group commit: many platform deliveries written in one transaction |
//! | `events.rs` | the per-organization event log that realtime clients replay, and how it is numbered |
//!
//! Every method that changes what agents see decides the change with the rules in
//! `crate::domain`, appends the events it describes to the organization's log in the same
//! transaction, and returns them in [`Written`], so the caller publishes them only once
//! they are durable.

mod backend;
mod channels;
mod contacts;
mod conversations;
mod events;
mod ingest;
mod messages;
mod notes;
mod organizations;
mod outbox;
mod postgres;
mod routing;
mod sessions;
mod sql;
mod sqlite;
mod teams;
mod templates;
/// Scratch databases for tests and benchmarks, here and in other crates.
pub mod testing;
mod uploads;

pub use backend::{Backend, SqlStore};
pub use channels::{ChannelRecord, ChannelStore, NewChannel};
pub use contacts::ContactStore;
pub use conversations::{ConversationStore, InboxConditions, inbox_page_sql};
pub use events::EventStore;
pub use ingest::{Committed, DeliveryResult, Ingest, IngestEvent, IngestStore, Ingested};
pub use messages::{
    Delivered, EchoMessage, InboundMessage, MessageEdit, MessageStore, ReactionUpdate, StatusUpdate, thread_page_sql,
};
pub use notes::NoteStore;
pub use organizations::{Credentials, OrganizationStore};
pub use outbox::{NewOutbound, OutboundJob, OutboxStore};
pub use postgres::{Postgres, PostgresStore};
pub use routing::{AgentRouting, HeldConversation, RoutingSnapshot, RoutingStore, TransferTarget, WaitingConversation};
pub use sessions::SessionStore;
pub use sqlite::{SQLITE_SYNCHRONOUS, Sqlite, SqliteStore};
pub use teams::TeamStore;
pub use templates::{TemplateRecord, TemplateStore};
pub use uploads::{NewUpload, UploadRecord, UploadStore};

pub use crate::domain::delivery::INTERRUPTED_SEND;

use crate::model::{Event, Millis};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The group commit holding this write failed as a whole (its cause is logged once).
    #[error("the batch holding this write could not be stored: {0}")]
    Batch(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a write produced: the affected value and the events to fan out.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub events: Vec<Event>,
}

impl<T> Written<T> {
    /// A write that changed nothing, so there is nothing to tell.
    pub fn unchanged(value: T) -> Self {
        Self { value, events: vec![] }
    }

    /// A write that logged one event.
    pub fn one(value: T, event: Event) -> Self {
        Self {
            value,
            events: vec![event],
        }
    }
}

/// The whole store, as the server holds it.
pub trait Store:
    OrganizationStore
    + SessionStore
    + ChannelStore
    + ContactStore
    + ConversationStore
    + MessageStore
    + NoteStore
    + TeamStore
    + RoutingStore
    + OutboxStore
    + TemplateStore
    + UploadStore
    + EventStore
    + IngestStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> &'static str;
}

impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store named by a `DATABASE_URL` (`sqlite:` or `postgres:`) and migrates it.
pub async fn connect(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::Invalid(format!(
            "DATABASE_URL must start with sqlite: or postgres:, got `{url}`"
        )))
    }
}

pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

//! The store interface: everything Messio keeps, scoped by organization.
//!
//! One trait, one implementation per backend (`sqlite`, `postgres`), sharing the SQL
//! text that both dialects accept (`sql.rs`). Every method that changes what agents see
//! also appends to the organization's event log in the same transaction and returns
//! those events, so the caller can fan them out only after they are durable.

mod postgres;
mod sql;
mod sqlite;
/// Scratch databases for tests and benchmarks, here and in other crates.
pub mod testing;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::model::*;
use crate::templates::{TemplateCategory, TemplateContent, TemplateStatus, WhatsAppTemplate};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

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
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user row with the password hash, for login only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A channel as the server needs it: with its owner and its (encrypted) credentials.
#[derive(Debug, Clone)]
pub struct ChannelRecord {
    pub organization_id: Id,
    pub channel: Channel,
    pub credentials: String,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub external_id: String,
    pub name: String,
    pub credentials: String,
    /// The WhatsApp Business Account of a phone number; the page of an Instagram account.
    pub parent_account_id: Option<String>,
}

/// A customer's message as a channel adapter normalized it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboundMessage {
    pub external_user_id: String,
    pub contact_name: Option<String>,
    pub platform_message_id: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub kind: MessageKind,
    /// The platform id of the message this one answers (WhatsApp context, Instagram and
    /// Messenger reply_to).
    pub reply_to_platform_id: Option<String>,
    pub sent_at: Millis,
}

/// A customer reacting to a message (or taking the reaction back: `emoji` is `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReactionUpdate {
    pub external_user_id: String,
    /// The reaction's own id; used when the target message is unknown and the reaction
    /// is kept as a message of its own, so nothing the customer did is dropped.
    pub platform_message_id: String,
    pub target_platform_message_id: String,
    pub emoji: Option<String>,
    pub sent_at: Millis,
}

/// A message sent from the platform account outside Messio (an echo), or by Messio itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EchoMessage {
    pub external_user_id: String,
    pub platform_message_id: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub kind: MessageKind,
    pub sent_at: Millis,
    /// The metadata Messio attached when it sent the message itself.
    pub our_message_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatusUpdate {
    /// Specific platform message ids reached a status.
    Messages {
        platform_message_ids: Vec<String>,
        status: MessageStatus,
        error: Option<String>,
    },
    /// Everything sent to this customer up to `watermark` reached a status.
    Watermark {
        external_user_id: String,
        watermark: Millis,
        status: MessageStatus,
    },
}

#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub conversation_id: Id,
    pub sender: User,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub client_id: Option<String>,
    pub tag: Option<String>,
    pub kind: MessageKind,
    /// What the adapter needs beyond the text (a template's name, language, parameters).
    pub payload: Option<serde_json::Value>,
    /// Recorded as one use of this template, in the same transaction.
    pub template_id: Option<Id>,
}

/// An outbound message claimed for sending, with what the adapter needs to deliver it.
#[derive(Debug, Clone)]
pub struct OutboundJob {
    pub message: Message,
    pub channel: ChannelRecord,
    pub recipient_external_id: String,
    pub payload: Option<serde_json::Value>,
}

/// A WhatsApp template as Meta describes it, to store or refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub waba_id: String,
    pub platform_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub status: TemplateStatus,
    pub rejected_reason: Option<String>,
    pub content: TemplateContent,
    pub created_by: Option<Id>,
}

/// A file an agent uploaded, to record once its bytes are safely in the media folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    /// Random and unguessable: it names the file on disk and in URLs.
    pub id: String,
    pub conversation_id: Id,
    pub uploaded_by: Id,
    pub name: String,
    pub mime_type: String,
    pub kind: AttachmentKind,
    pub size: u64,
    pub sha256: String,
}

/// An upload as recorded, with what only the server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub file: crate::attachments::UploadedFile,
    pub organization_id: Id,
    pub conversation_id: Id,
    pub sha256: String,
}

/// Why a reply is `failed` after its send was cut off before the platform answered, on a
/// platform that would send it twice if we simply tried again.
pub const INTERRUPTED_SEND: &str = "Sending was interrupted before the platform answered; it may or may not have reached \
    the customer. Check the conversation on the platform, then retry.";

/// What a write produced: the affected value and the events to fan out.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub events: Vec<Event>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> &'static str;

    // Organizations, people and sessions.
    async fn create_organization(
        &self,
        org_name: &str,
        owner_name: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<(Organization, User)>;
    async fn organization(&self, org_id: Id) -> StoreResult<Organization>;
    async fn add_user(&self, org_id: Id, name: &str, email: &str, password_hash: &str, role: Role)
    -> StoreResult<User>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>>;
    async fn users(&self, org_id: Id) -> StoreResult<Vec<User>>;
    async fn create_session(&self, token_hash: &str, user_id: Id, expires_at: Millis) -> StoreResult<()>;
    async fn session_user(&self, token_hash: &str, now: Millis) -> StoreResult<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn create_invite(
        &self,
        org_id: Id,
        token_hash: &str,
        role: Role,
        created_by: Id,
        expires_at: Millis,
    ) -> StoreResult<()>;
    /// Uses an invite once, creating the invited user.
    async fn accept_invite(
        &self,
        token_hash: &str,
        name: &str,
        email: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User>;

    // Channels.
    /// Connects (or reconnects) a platform account to an organization.
    async fn connect_channel(&self, org_id: Id, new: NewChannel) -> StoreResult<Written<Channel>>;
    async fn channels(&self, org_id: Id) -> StoreResult<Vec<Channel>>;
    async fn channel(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRecord>;
    /// The live channel that receives a platform account's webhooks, whatever organization owns it.
    async fn channel_by_account(&self, kind: ChannelKind, external_id: &str) -> StoreResult<Option<ChannelRecord>>;
    async fn set_channel_status(
        &self,
        channel_id: Id,
        status: ChannelStatus,
        last_error: Option<&str>,
    ) -> StoreResult<Written<Channel>>;

    // Inbound traffic (webhooks). Each is idempotent by the platform's message id.
    /// Stores a customer's message; `None` when the platform message id was already stored.
    async fn ingest_inbound(&self, channel_id: Id, msg: InboundMessage) -> StoreResult<Option<Written<Message>>>;
    async fn ingest_echo(&self, channel_id: Id, msg: EchoMessage) -> StoreResult<Option<Written<Message>>>;
    /// Moves statuses forward only. Reports for ids not recorded yet are kept and applied
    /// when `finish_outbound` records the id.
    async fn apply_status(&self, channel_id: Id, update: StatusUpdate) -> StoreResult<Written<Vec<Id>>>;
    /// Sets (or removes) the customer's reaction on a message; an unknown target becomes a
    /// message of its own. `None` when the reaction was already stored.
    async fn apply_reaction(&self, channel_id: Id, reaction: ReactionUpdate) -> StoreResult<Option<Written<Message>>>;
    /// Sets what the platform's profile tells about a contact (name, picture).
    async fn update_contact(
        &self,
        org_id: Id,
        contact_id: Id,
        name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> StoreResult<Written<Contact>>;

    // The inbox.
    async fn conversations(
        &self,
        org_id: Id,
        user_id: Id,
        filter: &ConversationFilter,
    ) -> StoreResult<Page<Conversation>>;
    async fn conversation(&self, org_id: Id, conversation_id: Id) -> StoreResult<Conversation>;
    async fn contact(&self, org_id: Id, contact_id: Id) -> StoreResult<Contact>;
    async fn messages(
        &self,
        org_id: Id,
        conversation_id: Id,
        before: Option<Id>,
        limit: i64,
    ) -> StoreResult<Page<Message>>;
    async fn set_conversation_status(
        &self,
        org_id: Id,
        conversation_id: Id,
        status: ConversationStatus,
        actor: &User,
    ) -> StoreResult<Written<Conversation>>;
    async fn assign_conversation(
        &self,
        org_id: Id,
        conversation_id: Id,
        assignee_id: Option<Id>,
        actor: &User,
    ) -> StoreResult<Written<Conversation>>;
    async fn mark_read(&self, org_id: Id, conversation_id: Id) -> StoreResult<Written<Conversation>>;

    // Outbound traffic (the outbox).
    /// Queues an agent's reply; a repeated `client_id` returns the message already queued.
    async fn queue_outbound(&self, org_id: Id, new: NewOutbound) -> StoreResult<Written<Message>>;
    /// Atomically moves up to `limit` pending messages to `sending`, so each is sent once.
    async fn claim_outbound(&self, limit: i64) -> StoreResult<Vec<OutboundJob>>;
    /// Records a claimed message's send: the platform's id (`sent`, or a status it already
    /// reported) or why it failed. A success also lifts a message that
    /// `recover_stale_outbound` gave up on as `failed` (the send outlived the claim timeout).
    async fn finish_outbound(&self, message_id: Id, result: Result<String, String>) -> StoreResult<Written<Message>>;
    /// Recovers up to `limit` messages claimed longer than `timeout` ago and still `sending`:
    /// the instance that claimed them stopped between `claim_outbound` and `finish_outbound`.
    /// One whose platform id is already known (an echo came back) is `sent`; on a channel kind
    /// whose platform de-duplicates sends (`ChannelKind::idempotent_send`) it goes back to
    /// `pending` and is sent again; elsewhere it becomes `failed` with [`INTERRUPTED_SEND`], for
    /// an agent to check and `retry_outbound`. A message whose status moved on is left alone,
    /// and each is recovered once however many instances run this at the same time. Returns
    /// the recovered messages with their `message:status` events.
    async fn recover_stale_outbound(&self, timeout: Duration, limit: i64) -> StoreResult<Written<Vec<Message>>>;
    /// Puts a failed message back in the outbox.
    async fn retry_outbound(&self, org_id: Id, message_id: Id) -> StoreResult<Written<Message>>;

    // WhatsApp templates.
    /// Inserts or refreshes a template (same WABA, name and language); `true` when new.
    async fn upsert_template(
        &self,
        org_id: Id,
        record: TemplateRecord,
    ) -> StoreResult<Written<(WhatsAppTemplate, bool)>>;
    async fn templates(
        &self,
        org_id: Id,
        waba_id: Option<&str>,
        status: Option<TemplateStatus>,
    ) -> StoreResult<Vec<WhatsAppTemplate>>;
    async fn template(&self, org_id: Id, template_id: Id) -> StoreResult<WhatsAppTemplate>;
    /// Applies Meta's review outcome to every copy of the template (webhook and polling).
    async fn set_template_status(
        &self,
        waba_id: &str,
        platform_template_id: &str,
        status: TemplateStatus,
        rejected_reason: Option<&str>,
    ) -> StoreResult<Written<Vec<WhatsAppTemplate>>>;
    async fn delete_template(&self, org_id: Id, template_id: Id) -> StoreResult<Written<()>>;
    /// Templates still waiting for Meta's review, across organizations, for the poller.
    async fn templates_in_review(&self, limit: i64) -> StoreResult<Vec<(Id, WhatsAppTemplate)>>;

    // Files agents attach.
    /// Records an upload for one of the organization's conversations (else `NotFound`).
    async fn record_upload(&self, org_id: Id, upload: NewUpload) -> StoreResult<UploadRecord>;
    async fn upload(&self, org_id: Id, upload_id: &str) -> StoreResult<UploadRecord>;

    // Realtime catch-up.
    async fn events_since(&self, org_id: Id, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>>;
    async fn latest_seq(&self, org_id: Id) -> StoreResult<i64>;
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

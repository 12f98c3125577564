//! Channel adapters: one per platform, each in its own folder, behind one interface, found
//! through `registry.rs`. An adapter sends replies, checks and connects accounts, and says
//! how the platform reaches us: a webhook receiver (`webhook.rs`: verify the whole request,
//! normalize it) or a poller (`poller.rs`). What it normalizes goes to the inbound pipeline
//! (`crate::inbound`), so the inbox never sees a platform's wire format. What each kind is
//! (names, window, files, how it connects) is declared once in `app::platforms`.

pub mod connect;
pub mod demo;
pub mod gateway;
pub mod instagram;
pub mod messenger;
pub mod meta;
pub mod poller;
pub mod registry;
pub mod revise;
pub mod sms;
pub mod telegram;
pub mod webhook;
pub mod whatsapp;

pub use app::inbound::{InboundEvent, NormalizedEvent, TemplateStatusUpdate};
use app::model::{Channel, ChannelKind};
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use poller::Poller;
use std::sync::Arc;
use webhook::WebhookReceiver;

/// What a channel keeps (encrypted) to reach its platform account, as JSON.
pub trait StoredCredentials: serde::Serialize + serde::de::DeserializeOwned {
    /// Names the account in the "reconnect" message: "page", "Instagram account", "number".
    const ACCOUNT: &'static str;

    /// Unreadable credentials cannot be used again: the channel must be reconnected.
    fn parse(plain: &str) -> Result<Self, SendError> {
        serde_json::from_str(plain).map_err(|_| {
            SendError::Auth(format!(
                "the stored credentials of this {} are unreadable; reconnect it",
                Self::ACCOUNT
            ))
        })
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A media file downloaded from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub bytes: Vec<u8>,
    pub mime_type: String,
}

/// A file an agent attached to a reply, on its way to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub kind: app::model::AttachmentKind,
    pub name: String,
    pub mime_type: String,
    /// Where the bytes are kept (the uploads folder).
    pub path: std::path::PathBuf,
    /// A signed, expiring link to the file that the platform can fetch without logging in.
    pub public_url: String,
}

/// Where agents fetch a platform's media through Messio (authenticated, cached locally):
/// `/api/media/{kind}/{account_id}/{media_id}`.
pub fn media_url(kind: ChannelKind, account_id: &str, media_id: &str) -> String {
    format!("/api/media/{kind}/{account_id}/{media_id}")
}

/// Why a webhook delivery was refused before anything was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No signature, or one that does not match: 401.
    BadSignature,
    /// The body is not the platform's JSON: 400.
    Malformed(String),
}

/// Why a send (or a credentials check) failed, in the terms the inbox acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The credentials expired or were revoked: the channel needs reconnecting.
    #[error("{0}")]
    Auth(String),
    /// The platform's reply window for this customer is closed.
    #[error("{0}")]
    OutsideWindow(String),
    /// The platform refused this message for another reason.
    #[error("{0}")]
    Rejected(String),
    /// The platform could not be reached or answered with a server error.
    #[error("{0}")]
    Unavailable(String),
    /// The platform asks us to wait before sending again (Telegram's 429 `retry_after`): the
    /// reply goes back in the outbox until then, it has not failed.
    #[error("{reason}")]
    RateLimited {
        retry_after: std::time::Duration,
        reason: String,
    },
    /// This customer cannot be reached on this channel (they blocked the bot, or replied
    /// STOP): the reply fails and the contact is marked until they write again.
    #[error("{0}")]
    Unreachable(String),
}

#[async_trait]
pub trait ChannelAdapter: Send + Sync {
    fn kind(&self) -> ChannelKind;
    /// Whether `other` (a live channel of the same organization) still needs the platform
    /// subscription that disconnecting `channel` would drop.
    fn shares_subscription(&self, _channel: &Channel, _other: &Channel) -> bool {
        false
    }
    /// How the platform calls us, if it does (`webhook.rs`).
    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        None
    }
    /// How we fetch from the platform, if we must (`poller.rs`): one run per live channel.
    fn poller(&self) -> Option<Arc<dyn Poller>> {
        None
    }
    /// Hands an agent's file to the platform before `send`; returns what replaces the
    /// attachment's URL in the job. By default the platform fetches the file from its signed
    /// link, as Meta's Send API does with `payload.url`.
    async fn place_media(
        &self,
        _credentials: &str,
        _job: &OutboundJob,
        file: &OutgoingFile,
    ) -> Result<String, SendError> {
        Ok(file.public_url.clone())
    }
    /// Checks what an admin typed into the kind's connect form with the platform and names the
    /// account it reaches. Kinds connected otherwise (Facebook login, `messio demo`) keep the
    /// default.
    async fn connect_form(&self, _fields: &ConnectFields) -> Result<ConnectedAccount, SendError> {
        Err(SendError::Rejected(format!(
            "{} channels are connected from Settings → Channels (Facebook login or their own form)",
            self.kind().label()
        )))
    }
    /// Runs once the channel is stored, so it has its own webhook route: tells the platform
    /// where to deliver (`webhook_url` is `/api/webhooks/{kind}/{key}` under our public URL).
    async fn on_connected(
        &self,
        _channel: &ChannelRecord,
        _credentials: &str,
        _webhook_url: &str,
    ) -> Result<(), SendError> {
        Ok(())
    }
    /// Sends one queued reply; returns the platform's message id.
    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError>;
    /// Checks the account with the platform. `Ok(Some(warning))`: it works, but the platform
    /// reports a problem the admin should see (Telegram's last webhook delivery error).
    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError>;
    /// Changes the text of a reply we sent (`platform_message_id` as `send` returned it).
    /// Only kinds whose facts say `edits_sent` are asked.
    async fn edit_sent(
        &self,
        _credentials: &str,
        _channel: &ChannelRecord,
        _platform_message_id: &str,
        _text: &str,
    ) -> Result<(), SendError> {
        Err(SendError::Rejected(format!(
            "{} does not let a sent message be changed",
            self.kind().label()
        )))
    }
    /// Takes back a reply we sent. Only kinds whose facts say `deletes_sent` are asked.
    async fn delete_sent(
        &self,
        _credentials: &str,
        _channel: &ChannelRecord,
        _platform_message_id: &str,
    ) -> Result<(), SendError> {
        Err(SendError::Rejected(format!(
            "{} does not let a sent message be taken back",
            self.kind().label()
        )))
    }
    /// Runs after a customer's button press (an `Interactive` message) is stored: some
    /// platforms want it answered (Telegram keeps a spinner on the button until it is).
    async fn answer_interaction(&self, _credentials: &str, _message: &app::model::Message) -> Result<(), SendError> {
        Ok(())
    }
    /// Stops the platform from delivering this account's events to us.
    async fn disconnect(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError>;
    /// The customer's display name and picture, when the platform shares them.
    async fn customer_profile(&self, _credentials: &str, _external_user_id: &str) -> Option<CustomerProfile> {
        None
    }
    /// Downloads a media file the platform holds for us (WhatsApp's media endpoint).
    async fn fetch_media(&self, _credentials: &str, _media_id: &str) -> Result<MediaFile, SendError> {
        Err(SendError::Rejected(
            "this channel does not keep media at the platform".into(),
        ))
    }
}

pub use app::services::ConnectFields;

/// The platform account a connect form reaches, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    /// The platform's id for the account (a bot id, a phone number): unique per kind.
    pub external_id: String,
    pub name: String,
    /// What the adapter needs to reach the account again, as JSON; sealed before storing.
    pub credentials: String,
    pub parent_account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

/// A reply on its way out, as the outbox hands it to an adapter, for the adapters' unit
/// tests: message 42 of conversation 3, from agent 1, to `recipient` on channel 2.
#[cfg(test)]
pub(crate) fn test_job(kind: ChannelKind, account_id: &str, recipient: &str, body: &str) -> OutboundJob {
    use app::model::{Direction, Message, MessageKind, MessageStatus};
    OutboundJob {
        message: Message {
            id: 42,
            conversation_id: 3,
            direction: Direction::Outbound,
            sender_user_id: Some(1),
            sender_name: Some("Agent".into()),
            body: body.into(),
            attachments: vec![],
            kind: MessageKind::Text,
            reply_to: None,
            reactions: vec![],
            status: MessageStatus::Sending,
            error: None,
            platform_message_id: None,
            client_id: None,
            tag: None,
            created_at: 0,
            edited_at: None,
            deleted_at: None,
            buttons: Vec::new(),
        },
        channel: ChannelRecord {
            organization_id: 1,
            channel: Channel {
                id: 2,
                kind,
                external_id: account_id.into(),
                name: "Acme Shoes".into(),
                status: app::model::ChannelStatus::Active,
                last_error: None,
                parent_account_id: None,
                created_at: 0,
            },
            credentials: String::new(),
            webhook_key: String::new(),
        },
        recipient_external_id: recipient.into(),
        payload: None,
    }
}

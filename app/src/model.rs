//! Shared data types: what the browser, the REST API and the socket all speak.
//! Field names are camelCase on the wire, as in the brief's endpoint and event tables.

use crate::platforms::WindowRule;
use serde::{Deserialize, Serialize};
use std::fmt;

pub type Id = i64;
/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const HOUR_MS: Millis = 60 * 60 * 1000;
pub const DAY_MS: Millis = 24 * HOUR_MS;
/// The standard messaging window of kinds that have one (`platforms::WindowRule`), counted
/// from the customer's last message.
pub const STANDARD_WINDOW_MS: Millis = DAY_MS;
/// With the HUMAN_AGENT tag a reply may still go out this long after the customer's last message.
pub const HUMAN_AGENT_WINDOW_MS: Millis = 7 * DAY_MS;

/// Declares a string-backed enum with `as_str`, `FromStr`, `Display` and snake_case serde.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::model::UnknownValue(other.to_string())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown value `{}`", self.0)
    }
}

string_enum!(
    /// What a member of an organization may do: owners and admins manage channels and people.
    Role { Owner => "owner", Admin => "admin", Agent => "agent" }
);

impl Role {
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

string_enum!(ConversationStatus { New => "new", Active => "active", Resolved => "resolved", Closed => "closed" });

string_enum!(Direction { Inbound => "inbound", Outbound => "outbound", System => "system" });

string_enum!(
    /// Delivery state. Inbound messages are `received`; outbound ones climb
    /// pending → sending → sent → delivered → read, or end `failed`.
    MessageStatus {
        Received => "received",
        Pending => "pending",
        Sending => "sending",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
    }
);

impl MessageStatus {
    /// Platform reports may arrive out of order; a status never moves to a lower rank.
    pub fn rank(self) -> i64 {
        match self {
            MessageStatus::Received | MessageStatus::Pending => 0,
            MessageStatus::Sending => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Failed => 3,
            MessageStatus::Delivered => 4,
            MessageStatus::Read => 5,
        }
    }
}

string_enum!(ChannelKind {
    Messenger => "messenger",
    Instagram => "instagram",
    WhatsApp => "whatsapp",
    Telegram => "telegram",
    Sms => "sms",
    Demo => "demo",
});

// What each kind is (names, icon, window, files, capabilities) is declared in `platforms`;
// these read the facts most callers want.
impl ChannelKind {
    /// The kind's full name ("Facebook Messenger").
    pub fn label(self) -> &'static str {
        self.platform().name
    }

    /// Whether the platform lets a business write first (or late) only with approved templates.
    pub fn uses_templates(self) -> bool {
        self.platform().uses_templates
    }

    /// Whether the platform de-duplicates a repeated send of the same reply, so a send cut
    /// off before its answer was recorded can simply be sent again without the customer
    /// getting it twice. Where it does not, such a send ends `failed` for an agent to check.
    pub fn idempotent_send(self) -> bool {
        self.platform().idempotent_send
    }
}

string_enum!(ChannelStatus { Active => "active", NeedsReconnect => "needs_reconnect", Disconnected => "disconnected" });

string_enum!(AttachmentKind {
    Image => "image",
    Video => "video",
    Audio => "audio",
    File => "file",
    Sticker => "sticker",
    Location => "location",
    Other => "other",
});

string_enum!(
    /// What a message is beyond its text; the thread shows each kind its own way.
    MessageKind {
        Text => "text",
        Media => "media",
        Location => "location",
        Contacts => "contacts",
        Interactive => "interactive",
        Template => "template",
        StoryReply => "story_reply",
        StoryMention => "story_mention",
        Reaction => "reaction",
        Unsupported => "unsupported",
    }
);

// `string_enum!` cannot mark a variant `#[default]`, so this cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for MessageKind {
    fn default() -> Self {
        MessageKind::Text
    }
}

string_enum!(InboxView { All => "all", Mine => "mine", Unassigned => "unassigned" });

string_enum!(
    /// How urgent a conversation is; routing serves the higher first and gives urgent and
    /// high to senior agents first (`RoutingStrategy::Priority`).
    Priority { None => "none", Low => "low", Medium => "medium", High => "high", Urgent => "urgent" }
);

impl Priority {
    /// Higher is more urgent.
    pub fn rank(self) -> u8 {
        match self {
            Priority::None => 0,
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
            Priority::Urgent => 4,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::None => "No priority",
            Priority::Low => "Low",
            Priority::Medium => "Medium",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }
}

// `string_enum!` cannot mark a variant `#[default]`, so this cannot be derived.
#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::None
    }
}

string_enum!(
    /// How a team hands out its conversations (`crate::routing`).
    RoutingStrategy {
        Manual => "manual",
        RoundRobin => "round_robin",
        LoadBalanced => "load_balanced",
        SkillBased => "skill_based",
        Priority => "priority",
    }
);

impl RoutingStrategy {
    pub fn label(self) -> &'static str {
        match self {
            RoutingStrategy::Manual => "Manual (agents claim)",
            RoutingStrategy::RoundRobin => "Round-robin",
            RoutingStrategy::LoadBalanced => "Least busy",
            RoutingStrategy::SkillBased => "Skill-based",
            RoutingStrategy::Priority => "Priority to seniors",
        }
    }
}

string_enum!(
    /// Whether an agent takes work: set by the agent, and derived from their open tabs (the
    /// last one closed means offline after a grace period). Only online agents are routed to.
    AgentStatus { Online => "online", Away => "away", Busy => "busy", Offline => "offline" }
);

impl AgentStatus {
    pub fn label(self) -> &'static str {
        match self {
            AgentStatus::Online => "Online",
            AgentStatus::Away => "Away",
            AgentStatus::Busy => "Busy",
            AgentStatus::Offline => "Offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: Id,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Id,
    pub organization_id: Id,
    pub name: String,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: Id,
    pub kind: ChannelKind,
    pub external_id: String,
    pub name: String,
    pub status: ChannelStatus,
    pub last_error: Option<String>,
    /// The account above this one: the WhatsApp Business Account of a phone number,
    /// the Facebook page an Instagram account is linked to.
    #[serde(default)]
    pub parent_account_id: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactIdentity {
    pub channel_id: Id,
    pub channel_kind: ChannelKind,
    pub external_id: String,
    /// Why messages cannot reach them on this channel (they blocked the bot); `None` when
    /// they can. Cleared when they write again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: Id,
    pub name: String,
    pub avatar_url: Option<String>,
    pub identities: Vec<ContactIdentity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// In bytes, when the platform says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Why the file cannot be shown (a Telegram bot may fetch files up to 20 MB): the thread
    /// shows its name, size and this reason instead of a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The message a customer (or agent) replied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyTo {
    /// Our copy of the quoted message, when we have it.
    pub message_id: Option<Id>,
    pub platform_message_id: String,
    pub preview: Option<String>,
}

/// An emoji reaction on a message; a customer has at most one per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub emoji: String,
    pub direction: Direction,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: Id,
    pub contact_id: Id,
    pub contact_name: String,
    pub contact_avatar_url: Option<String>,
    pub channel_id: Id,
    pub channel_kind: ChannelKind,
    pub channel_name: String,
    pub status: ConversationStatus,
    pub assignee_id: Option<Id>,
    pub assignee_name: Option<String>,
    pub unread_count: i64,
    pub last_message_preview: Option<String>,
    pub last_message_at: Millis,
    pub last_inbound_at: Option<Millis>,
    pub created_at: Millis,
    /// The team whose inbox the conversation is in (the channel's, or where it was sent).
    #[serde(default)]
    pub team_id: Option<Id>,
    #[serde(default)]
    pub team_name: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    /// Skills an agent needs for it (language, product…), from the channel or set by hand.
    #[serde(default)]
    pub required_skills: Vec<String>,
    /// Waiting for routing since then; `None` when not waiting.
    #[serde(default)]
    pub queued_at: Option<Millis>,
    /// The assignee must reply by then, or the conversation goes back to routing.
    #[serde(default)]
    pub reply_due_at: Option<Millis>,
}

/// Which replies the platform still accepts, counted from the customer's last message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyWindow {
    /// Free-form replies are allowed until `closes_at`.
    Open { closes_at: Millis },
    /// Only replies tagged HUMAN_AGENT are allowed, until `closes_at`.
    HumanAgentOnly { closes_at: Millis },
    /// No reply may be sent until the customer writes again.
    Closed,
    /// After the standard window on a kind that falls back to templates (WhatsApp): only
    /// approved templates may be sent.
    TemplatesOnly,
}

impl ReplyWindow {
    /// The window of a `kind` conversation whose customer last wrote at `last_inbound_at`,
    /// by the rule the kind declares (`Platform::window`).
    pub fn at(kind: ChannelKind, last_inbound_at: Option<Millis>, now: Millis) -> Self {
        match kind.platform().window {
            WindowRule::Always => return ReplyWindow::Open { closes_at: Millis::MAX },
            WindowRule::StandardThenTemplates => {
                return match last_inbound_at {
                    Some(last) if now <= last + STANDARD_WINDOW_MS => ReplyWindow::Open {
                        closes_at: last + STANDARD_WINDOW_MS,
                    },
                    _ => ReplyWindow::TemplatesOnly,
                };
            }
            WindowRule::StandardThenHumanAgent => {}
        }
        let Some(last) = last_inbound_at else {
            return ReplyWindow::Closed;
        };
        if now <= last + STANDARD_WINDOW_MS {
            ReplyWindow::Open {
                closes_at: last + STANDARD_WINDOW_MS,
            }
        } else if now <= last + HUMAN_AGENT_WINDOW_MS {
            ReplyWindow::HumanAgentOnly {
                closes_at: last + HUMAN_AGENT_WINDOW_MS,
            }
        } else {
            ReplyWindow::Closed
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: Id,
    pub conversation_id: Id,
    pub direction: Direction,
    pub sender_user_id: Option<Id>,
    pub sender_name: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub kind: MessageKind,
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub platform_message_id: Option<String>,
    /// Set by the composer so its optimistic copy can be matched to the stored one.
    pub client_id: Option<String>,
    pub tag: Option<String>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
    /// Buttons our reply offered the customer to press (Telegram's inline keyboard); a press
    /// comes back as an `interactive` message quoting this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
}

/// A private note agents leave inside a conversation for each other; never sent to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Id,
    pub conversation_id: Id,
    pub author_id: Id,
    pub author_name: String,
    pub body: String,
    /// The organization's people the note @mentions.
    pub mentions: Vec<Id>,
    pub created_at: Millis,
}

/// A note that @mentions someone, as their mentions list shows it: unread until they read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mention {
    pub note: Note,
    /// Who the conversation is with.
    pub contact_name: String,
    pub read_at: Option<Millis>,
}

/// `POST /api/inbox/conversations/:id/notes {content, mentions}` (or `/api/inbox/notes` with
/// `conversationId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRequest {
    #[serde(default)]
    pub conversation_id: Option<Id>,
    pub content: String,
    #[serde(default)]
    pub mentions: Vec<Id>,
}

/// A page of a keyset-paginated list; `next_cursor` is passed back as `before`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationFilter {
    #[serde(default)]
    pub view: Option<InboxView>,
    #[serde(default)]
    pub status: Option<ConversationStatus>,
    #[serde(default)]
    pub channel: Option<Id>,
    /// One team's inbox.
    #[serde(default)]
    pub team: Option<Id>,
    /// Assigned to this agent (any view).
    #[serde(default)]
    pub assignee: Option<Id>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub contact: Contact,
    pub window: ReplyWindow,
    pub channel_status: ChannelStatus,
}

/// One entry of an organization's event log: what realtime clients receive.
/// `seq` counts up by one per organization, so a client can tell whether it missed anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub organization_id: Id,
    pub name: String,
    pub payload: serde_json::Value,
}

/// An account the user may pick after logging in with Facebook: a page (Messenger),
/// an Instagram account linked to a page, or a WhatsApp phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCandidate {
    pub kind: ChannelKind,
    pub id: String,
    pub name: String,
    pub category: Option<String>,
    /// A second line for the picker: "@username · via Acme Shoes", "+1 555… · Acme WhatsApp".
    #[serde(default)]
    pub detail: Option<String>,
    /// Set when the account already feeds this organization.
    pub connected: bool,
}

impl PageCandidate {
    /// What the picker sends back: `kind:id`, unique across platforms.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }

    /// Splits a picked key; a bare id is a Facebook page (older clients).
    pub fn parse_key(key: &str) -> (ChannelKind, &str) {
        match key.split_once(':') {
            Some((kind, id)) => (kind.parse().unwrap_or(ChannelKind::Messenger), id),
            None => (ChannelKind::Messenger, key),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub conversation_id: Id,
    pub content: String,
    #[serde(default)]
    pub client_id: Option<String>,
    /// `HUMAN_AGENT` to reply between 24 hours and 7 days after the customer's last message.
    #[serde(default)]
    pub tag: Option<String>,
    /// Files uploaded through `POST /api/inbox/messages/upload` (at most one); the text,
    /// which may then be empty, goes with it as its caption.
    #[serde(default)]
    pub attachments: Vec<crate::attachments::AttachmentRef>,
    /// The message of this conversation the reply quotes; platforms that can show the
    /// quote (Telegram, WhatsApp) do.
    #[serde(default)]
    pub reply_to: Option<Id>,
    /// Buttons for the customer to press, on kinds that take them (`Platform::reply_buttons`).
    #[serde(default)]
    pub buttons: Vec<String>,
}

pub mod events {
    pub const CONVERSATION_NEW: &str = "conversation:new";
    pub const CONVERSATION_UPDATED: &str = "conversation:updated";
    pub const CONVERSATION_STATUS: &str = "conversation:status";
    pub const CONVERSATION_ASSIGNED: &str = "conversation:assigned";
    pub const MESSAGE_RECEIVED: &str = "message:received";
    pub const MESSAGE_SENT: &str = "message:sent";
    pub const MESSAGE_STATUS: &str = "message:status";
    pub const CHANNEL_STATUS: &str = "channel:status";
    pub const CONTACT_UPDATED: &str = "contact:updated";
    pub const MESSAGE_UPDATED: &str = "message:updated";
    pub const TEMPLATE_UPDATED: &str = "template:updated";
    pub const NOTE_ADDED: &str = "note:added";
    pub const NOTE_DELETED: &str = "note:deleted";
    // Ephemeral: sent to sockets, never logged (no `seq`).
    pub const PRESENCE_UPDATE: &str = "presence:update";
    pub const TYPING_INDICATOR: &str = "typing:indicator";
    pub const CONVERSATION_VIEWERS: &str = "conversation:viewers";
    // Client → server, ephemeral.
    pub const CONVERSATION_VIEWING: &str = "conversation:viewing";
    pub const TYPING_START: &str = "typing:start";
    pub const TYPING_STOP: &str = "typing:stop";
}

/// Shortens a message body for list previews without splitting a character.
pub fn preview(body: &str, attachments: &[Attachment]) -> String {
    const MAX: usize = 120;
    let text = body.trim();
    if text.is_empty() {
        return match attachments.first() {
            Some(a) => match (a.kind, a.name.as_deref()) {
                (AttachmentKind::Location, Some(name)) => format!("📍 {name}"),
                (kind, _) => format!("[{kind}]"),
            },
            None => String::new(),
        };
    }
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_window_edges() {
        let last = 1_000_000;
        let k = ChannelKind::Messenger;
        assert!(matches!(
            ReplyWindow::at(k, Some(last), last + DAY_MS - 60_000),
            ReplyWindow::Open { .. }
        ));
        assert!(matches!(
            ReplyWindow::at(k, Some(last), last + DAY_MS + 60_000),
            ReplyWindow::HumanAgentOnly { .. }
        ));
        assert_eq!(
            ReplyWindow::at(k, Some(last), last + 7 * DAY_MS + 1),
            ReplyWindow::Closed
        );
        assert_eq!(ReplyWindow::at(k, None, last), ReplyWindow::Closed);
    }

    #[test]
    fn whatsapp_window_edges_fall_back_to_templates() {
        let last = 1_000_000;
        let wa = ChannelKind::WhatsApp;
        assert_eq!(
            ReplyWindow::at(wa, Some(last), last + DAY_MS - 60_000),
            ReplyWindow::Open {
                closes_at: last + DAY_MS
            }
        );
        assert_eq!(
            ReplyWindow::at(wa, Some(last), last + DAY_MS + 60_000),
            ReplyWindow::TemplatesOnly
        );
        assert_eq!(ReplyWindow::at(wa, None, last), ReplyWindow::TemplatesOnly);
        // Instagram follows Messenger: 24 hours free, then 7 days with HUMAN_AGENT.
        let ig = ChannelKind::Instagram;
        assert!(matches!(
            ReplyWindow::at(ig, Some(last), last + 7 * DAY_MS - 60_000),
            ReplyWindow::HumanAgentOnly { .. }
        ));
        assert_eq!(
            ReplyWindow::at(ig, Some(last), last + 7 * DAY_MS + 60_000),
            ReplyWindow::Closed
        );
    }

    #[test]
    fn picker_keys_round_trip() {
        assert_eq!(PageCandidate::parse_key("whatsapp:501"), (ChannelKind::WhatsApp, "501"));
        assert_eq!(PageCandidate::parse_key("101"), (ChannelKind::Messenger, "101"));
    }

    #[test]
    fn status_never_ranks_read_below_delivered() {
        assert!(MessageStatus::Read.rank() > MessageStatus::Delivered.rank());
        assert!(MessageStatus::Delivered.rank() > MessageStatus::Sent.rank());
    }
}

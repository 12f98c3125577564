//! The realtime events, as typed domain values. Domain code builds a [`DomainEvent`] for each
//! change agents should see; the store writes it to the organization's durable log in the
//! same transaction as the change (numbering it), and only then does the bus hand it to
//! sockets and other subscribers. This file is the one place an event becomes JSON:
//! [`DomainEvent::name`] and [`DomainEvent::payload`] give the wire form that the log keeps,
//! Redis relays and clients receive (with the log's `seq` added, see [`DomainEvent::logged`]).

#[cfg(feature = "ssr")]
pub mod bus;

use crate::model::*;
use crate::templates::WhatsAppTemplate;
use serde::Serialize;
use serde_json::Value;

/// Every event an organization's agents receive. The names are the brief's (`model::events`).
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// A conversation appeared in the inbox (a customer's first message, or the page's).
    ConversationNew(ConversationOpened),
    /// Something about a conversation changed that needs no line in the thread (unread count).
    ConversationUpdated(ConversationChanged),
    ConversationStatus(ConversationStatusChanged),
    ConversationAssigned(ConversationAssigned),
    MessageReceived(MessageAdded),
    /// A message from our side: an agent's queued reply, or one sent outside Messio (an echo).
    MessageSent(MessageAdded),
    MessageStatus(DeliveryChanged),
    /// A stored message changed (a reaction on it).
    MessageUpdated(MessageChanged),
    ChannelStatus(ChannelChanged),
    ContactUpdated(ContactChanged),
    TemplateUpdated(TemplateChanged),
    /// An agent left a private note (the brief's `{conversationId, note, mentionedUsers}`).
    NoteAdded(NoteAdded),
    NoteDeleted(NoteDeleted),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteAdded {
    pub conversation_id: Id,
    pub note: Note,
    pub mentioned_users: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteDeleted {
    pub conversation_id: Id,
    pub note_id: Id,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationOpened {
    pub conversation: Conversation,
    pub contact: Contact,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationChanged {
    pub conversation: Conversation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationStatusChanged {
    pub conversation_id: Id,
    pub status: ConversationStatus,
    /// The line left in the thread when an agent changed the status; none when a customer's
    /// message reopened the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    pub conversation: Conversation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAssigned {
    pub conversation_id: Id,
    pub assigned_to: Option<Id>,
    pub assignee_name: Option<String>,
    /// The line left in the thread ("Ana assigned the conversation to Ben").
    pub message: Message,
    pub conversation: Conversation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAdded {
    pub message: Message,
    pub conversation_id: Id,
    pub conversation: Conversation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryChanged {
    pub message_id: Id,
    pub conversation_id: Id,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub platform_message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChanged {
    pub message_id: Id,
    pub conversation_id: Id,
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelChanged {
    pub channel_id: Id,
    pub status: ChannelStatus,
    pub last_error: Option<String>,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactChanged {
    pub contact_id: Id,
    pub updates: ContactUpdates,
    pub contact: Contact,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactUpdates {
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateChanged {
    pub template: WhatsAppTemplate,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl DomainEvent {
    pub fn message_received(message: Message, conversation: Conversation) -> Self {
        Self::MessageReceived(MessageAdded {
            conversation_id: conversation.id,
            message,
            conversation,
        })
    }

    pub fn message_sent(message: Message, conversation: Conversation) -> Self {
        Self::MessageSent(MessageAdded {
            conversation_id: conversation.id,
            message,
            conversation,
        })
    }

    /// Where a message's delivery stands now.
    pub fn delivery(message: &Message) -> Self {
        Self::MessageStatus(DeliveryChanged {
            message_id: message.id,
            conversation_id: message.conversation_id,
            status: message.status,
            error: message.error.clone(),
            platform_message_id: message.platform_message_id.clone(),
        })
    }

    pub fn channel(channel: Channel) -> Self {
        Self::ChannelStatus(ChannelChanged {
            channel_id: channel.id,
            status: channel.status,
            last_error: channel.last_error.clone(),
            channel,
        })
    }

    pub fn contact(contact: Contact) -> Self {
        Self::ContactUpdated(ContactChanged {
            contact_id: contact.id,
            updates: ContactUpdates {
                name: contact.name.clone(),
                avatar_url: contact.avatar_url.clone(),
            },
            contact,
        })
    }

    pub fn template(template: WhatsAppTemplate, deleted: bool) -> Self {
        Self::TemplateUpdated(TemplateChanged { template, deleted })
    }

    /// The event's name on the wire and in the log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ConversationNew(_) => events::CONVERSATION_NEW,
            Self::ConversationUpdated(_) => events::CONVERSATION_UPDATED,
            Self::ConversationStatus(_) => events::CONVERSATION_STATUS,
            Self::ConversationAssigned(_) => events::CONVERSATION_ASSIGNED,
            Self::MessageReceived(_) => events::MESSAGE_RECEIVED,
            Self::MessageSent(_) => events::MESSAGE_SENT,
            Self::MessageStatus(_) => events::MESSAGE_STATUS,
            Self::MessageUpdated(_) => events::MESSAGE_UPDATED,
            Self::ChannelStatus(_) => events::CHANNEL_STATUS,
            Self::ContactUpdated(_) => events::CONTACT_UPDATED,
            Self::TemplateUpdated(_) => events::TEMPLATE_UPDATED,
            Self::NoteAdded(_) => events::NOTE_ADDED,
            Self::NoteDeleted(_) => events::NOTE_DELETED,
        }
    }

    /// The event's payload as clients receive it (without `seq`).
    pub fn payload(&self) -> Value {
        let json = match self {
            Self::ConversationNew(p) => serde_json::to_value(p),
            Self::ConversationUpdated(p) => serde_json::to_value(p),
            Self::ConversationStatus(p) => serde_json::to_value(p),
            Self::ConversationAssigned(p) => serde_json::to_value(p),
            Self::MessageReceived(p) | Self::MessageSent(p) => serde_json::to_value(p),
            Self::MessageStatus(p) => serde_json::to_value(p),
            Self::MessageUpdated(p) => serde_json::to_value(p),
            Self::ChannelStatus(p) => serde_json::to_value(p),
            Self::ContactUpdated(p) => serde_json::to_value(p),
            Self::TemplateUpdated(p) => serde_json::to_value(p),
            Self::NoteAdded(p) => serde_json::to_value(p),
            Self::NoteDeleted(p) => serde_json::to_value(p),
        };
        // Plain structs with string keys always serialize.
        json.unwrap_or(Value::Null)
    }

    /// The log entry this event becomes once numbered: the payload carries `seq` too,
    /// because socket clients see only the payload and tell from `seq` what they missed.
    pub fn logged(&self, organization_id: Id, seq: i64) -> Event {
        let mut payload = self.payload();
        if let Some(fields) = payload.as_object_mut() {
            fields.insert("seq".into(), seq.into());
        }
        Event {
            seq,
            organization_id,
            name: self.name().to_string(),
            payload,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        Channel {
            id: 7,
            kind: ChannelKind::Messenger,
            external_id: "page-1".into(),
            name: "Acme".into(),
            status: ChannelStatus::NeedsReconnect,
            last_error: Some("token expired".into()),
            parent_account_id: None,
            created_at: 1,
        }
    }

    #[test]
    fn logged_events_carry_their_seq_in_the_payload() {
        let event = DomainEvent::channel(channel()).logged(3, 41);
        assert_eq!(event.name, "channel:status");
        assert_eq!(event.seq, 41);
        assert_eq!(event.organization_id, 3);
        assert_eq!(event.payload["seq"], 41);
        assert_eq!(event.payload["channelId"], 7);
        assert_eq!(event.payload["status"], "needs_reconnect");
        assert_eq!(event.payload["lastError"], "token expired");
        assert_eq!(event.payload["channel"]["name"], "Acme");
    }

    #[test]
    fn a_template_is_flagged_deleted_only_when_it_is() {
        let template = WhatsAppTemplate {
            id: 1,
            waba_id: "waba".into(),
            platform_template_id: None,
            name: "order_update".into(),
            language: "en".into(),
            category: crate::templates::TemplateCategory::Utility,
            status: crate::templates::TemplateStatus::Approved,
            rejected_reason: None,
            content: Default::default(),
            usage_count: 0,
            last_used_at: None,
            created_at: 1,
            updated_at: 1,
        };
        let kept = DomainEvent::template(template.clone(), false).payload();
        assert!(kept.get("deleted").is_none(), "{kept}");
        let gone = DomainEvent::template(template, true).payload();
        assert_eq!(gone["deleted"], true);
    }
}

//! Live updates: one Socket.IO connection per browser tab, opened by the signed-in shell
//! after hydration (never on the server), fanned out to whichever views are mounted.
//!
//! Every event carries its organization's `seq`. [`SeqTracker`] keeps the highest number up
//! to which everything has been applied; a reconnect asks for what came after it
//! (`auth.since`), duplicates are dropped, and a gap is applied anyway but then filled with
//! `events:since`. Handlers apply events idempotently (upserts keyed by id / client id).

use crate::model::{
    Channel, ChannelStatus, Contact, Conversation, ConversationStatus, Id, Message, MessageStatus, Note, events,
};
use crate::realtime::ConnectionState;
use crate::templates::WhatsAppTemplate;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Which events have been applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqTracker {
    /// Every event up to here has been applied (`None` until the first number is known).
    contiguous: Option<i64>,
    /// Applied events beyond a gap.
    ahead: BTreeSet<i64>,
    /// The `since` already asked for while the current gap is open.
    requested: Option<i64>,
}

/// What to do with an incoming event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Apply it (false: seen before).
    pub apply: bool,
    /// Ask the server for everything after this number (a gap is open).
    pub fetch_since: Option<i64>,
}

impl SeqTracker {
    pub fn new(since: Option<i64>) -> Self {
        SeqTracker {
            contiguous: since,
            ..Default::default()
        }
    }

    /// Where a (re)connect should resume.
    pub fn since(&self) -> Option<i64> {
        self.contiguous
    }

    pub fn accept(&mut self, seq: i64) -> Verdict {
        let Some(mut contiguous) = self.contiguous else {
            self.contiguous = Some(seq);
            return Verdict {
                apply: true,
                fetch_since: None,
            };
        };
        if seq <= contiguous || !self.ahead.insert(seq) {
            return Verdict {
                apply: false,
                fetch_since: None,
            };
        }
        while self.ahead.remove(&(contiguous + 1)) {
            contiguous += 1;
        }
        self.contiguous = Some(contiguous);
        Verdict {
            apply: true,
            fetch_since: self.gap_request(),
        }
    }

    /// The server's latest number (sent after connecting): anything missing up to it is a gap.
    pub fn head(&mut self, latest: i64) -> Option<i64> {
        let Some(contiguous) = self.contiguous else {
            self.contiguous = Some(latest);
            return None;
        };
        if latest <= contiguous || (contiguous + 1..=latest).all(|s| self.ahead.contains(&s)) {
            return None;
        }
        if self.requested == Some(contiguous) {
            None
        } else {
            self.requested = Some(contiguous);
            Some(contiguous)
        }
    }

    /// A fresh connection replays from `since()`; earlier requests are moot.
    pub fn reconnected(&mut self) {
        self.requested = None;
    }

    fn gap_request(&mut self) -> Option<i64> {
        let contiguous = self.contiguous?;
        if self.ahead.is_empty() {
            self.requested = None;
            return None;
        }
        if self.requested == Some(contiguous) {
            return None;
        }
        self.requested = Some(contiguous);
        Some(contiguous)
    }
}

/// A delivery report for one outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub message_id: Id,
    pub status: MessageStatus,
    pub error: Option<String>,
}

/// A channel's health change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelUpdate {
    pub channel_id: Id,
    pub status: ChannelStatus,
    pub last_error: Option<String>,
    pub channel: Option<Channel>,
}

/// A WhatsApp template was created, changed review state, or was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUpdate {
    pub template: WhatsAppTemplate,
    pub deleted: bool,
}

/// One server event, decoded into the parts views care about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveEvent {
    pub name: String,
    pub conversation_id: Option<Id>,
    /// The conversation as it stands after the event.
    pub conversation: Option<Conversation>,
    pub contact: Option<Contact>,
    /// A new message (received, sent, or a system line about status/assignment).
    pub message: Option<Message>,
    pub message_status: Option<StatusUpdate>,
    /// `message:updated`: a newer copy of a message already sent (e.g. its reactions). Kept
    /// apart from `message` so it is never taken for a new arrival.
    pub updated_message: Option<Message>,
    /// `conversation:status` without a full conversation.
    pub conversation_status: Option<ConversationStatus>,
    pub channel: Option<ChannelUpdate>,
    /// `template:updated`: the Templates page and the composer's picker follow it.
    pub template: Option<TemplateUpdate>,
    /// `note:added`: a private note left in `conversation_id`.
    pub note: Option<Note>,
    /// `note:deleted`: the note taken out of `conversation_id`.
    pub deleted_note: Option<Id>,
    /// The payload as it came, for events views read themselves (the ephemeral
    /// `presence:update`, `typing:indicator`, `conversation:viewers`).
    pub payload: Value,
}

fn field<T: DeserializeOwned>(payload: &Value, key: &str) -> Option<T> {
    payload
        .get(key)
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

impl LiveEvent {
    pub fn parse(name: &str, payload: &Value) -> LiveEvent {
        let conversation: Option<Conversation> = field(payload, "conversation");
        let mut event = LiveEvent {
            name: name.to_string(),
            conversation_id: field(payload, "conversationId").or(conversation.as_ref().map(|c| c.id)),
            contact: field(payload, "contact"),
            message: field(payload, "message"),
            conversation,
            payload: payload.clone(),
            ..Default::default()
        };
        match name {
            events::MESSAGE_STATUS => {
                if let (Some(message_id), Some(status)) = (field(payload, "messageId"), field(payload, "status")) {
                    event.message_status = Some(StatusUpdate {
                        message_id,
                        status,
                        error: field(payload, "error"),
                    });
                }
            }
            events::CONVERSATION_STATUS => event.conversation_status = field(payload, "status"),
            events::MESSAGE_UPDATED => event.updated_message = event.message.take(),
            events::NOTE_ADDED => event.note = field(payload, "note"),
            events::NOTE_DELETED => event.deleted_note = field(payload, "noteId"),
            events::CHANNEL_STATUS => {
                let channel: Option<Channel> = field(payload, "channel");
                let channel_id = field(payload, "channelId").or(channel.as_ref().map(|c| c.id));
                let status = field(payload, "status").or(channel.as_ref().map(|c| c.status));
                if let (Some(channel_id), Some(status)) = (channel_id, status) {
                    let last_error =
                        field(payload, "lastError").or_else(|| channel.as_ref().and_then(|c| c.last_error.clone()));
                    event.channel = Some(ChannelUpdate {
                        channel_id,
                        status,
                        last_error,
                        channel,
                    });
                }
            }
            events::TEMPLATE_UPDATED => {
                event.template = field(payload, "template").map(|template| TemplateUpdate {
                    template,
                    deleted: field(payload, "deleted").unwrap_or(false),
                });
            }
            _ => {}
        }
        event
    }
}

type Handler = Arc<dyn Fn(&LiveEvent) + Send + Sync>;

/// The tab's live connection: its state for the indicator, and the event fan-out.
#[derive(Clone, Copy)]
pub struct Live {
    pub state: RwSignal<ConnectionState>,
    handlers: StoredValue<Vec<(u64, Handler)>>,
    next_id: StoredValue<u64>,
    /// The conversation this tab shows, told to the server again after a reconnect.
    viewing: StoredValue<Option<Id>>,
}

impl Live {
    /// Creates the hub and, in the browser, opens the connection once `since` is known:
    /// `Some(seq)` for a signed-in page (resume after `seq`, or from the server's current
    /// position when `seq` is `None`); `None` while loading or signed out.
    pub fn provide(since: Signal<Option<Option<i64>>>) -> Live {
        let live = Live {
            state: RwSignal::new(ConnectionState::Connecting),
            handlers: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(1),
            viewing: StoredValue::new(None),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        {
            // The connection belongs to the frame, not to the effect that opens it.
            let owner = Owner::current();
            let started = StoredValue::new(false);
            Effect::new(move |_| {
                if started.get_value() {
                    return;
                }
                if let Some(seq) = since.get() {
                    started.set_value(true);
                    client::start(live, seq, owner.clone());
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = since;
        live
    }

    pub fn get() -> Option<Live> {
        use_context::<Live>()
    }

    /// Sends an ephemeral event over the tab's connection (typing, viewing); dropped while
    /// disconnected, as the next one supersedes it.
    pub fn emit(self, name: &str, payload: Value) {
        #[cfg(feature = "hydrate")]
        client::emit(name, payload);
        #[cfg(not(feature = "hydrate"))]
        let _ = (name, payload);
    }

    /// Tells the server which conversation this tab shows (`None`: none), so others see who
    /// is viewing; said again after every reconnect.
    pub fn set_viewing(self, conversation_id: Option<Id>) {
        if self.viewing.try_get_value() == Some(conversation_id) {
            return;
        }
        self.viewing.try_set_value(conversation_id);
        self.emit(
            events::CONVERSATION_VIEWING,
            serde_json::json!({ "conversationId": conversation_id }),
        );
    }

    #[cfg(feature = "hydrate")]
    fn viewing(self) -> Option<Id> {
        self.viewing.try_get_value().flatten()
    }

    /// Calls `handler` for every event until the calling view is disposed.
    pub fn subscribe(self, handler: impl Fn(&LiveEvent) + Send + Sync + 'static) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let handler: Handler = Arc::new(handler);
        self.handlers.update_value(|hs| hs.push((id, handler)));
        let handlers = self.handlers;
        on_cleanup(move || {
            handlers.try_update_value(|hs| hs.retain(|(h, _)| *h != id));
        });
    }

    pub fn dispatch(self, event: &LiveEvent) {
        // Clone the list first: a handler may (un)subscribe while we iterate.
        let handlers: Vec<Handler> = self
            .handlers
            .try_with_value(|hs| hs.iter().map(|(_, h)| h.clone()).collect())
            .unwrap_or_default();
        for handler in handlers {
            handler(event);
        }
    }
}

/// Subscribes if the page runs inside the live shell.
pub fn on_live_event(handler: impl Fn(&LiveEvent) + Send + Sync + 'static) {
    if let Some(live) = Live::get() {
        live.subscribe(handler);
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use super::{Live, LiveEvent, SeqTracker};
    use crate::realtime::{ConnectionState, Realtime, RealtimeOptions};
    use leptos::prelude::*;
    use serde_json::{Value, json};
    use std::cell::RefCell;
    use std::rc::Rc;

    thread_local! {
        /// The tab's one connection, for [`Live::emit`].
        static CONNECTION: RefCell<Option<Rc<RefCell<Option<Realtime>>>>> = const { RefCell::new(None) };
    }

    pub fn emit(name: &str, payload: Value) {
        CONNECTION.with(|connection| {
            if let Some(handle) = connection.borrow().as_ref()
                && let Some(rt) = handle.borrow().as_ref()
                && rt.is_connected()
            {
                rt.emit(name, payload);
            }
        });
    }

    pub fn start(live: Live, since: Option<i64>, owner: Option<Owner>) {
        let tracker = Rc::new(RefCell::new(SeqTracker::new(since)));
        let handle: Rc<RefCell<Option<Realtime>>> = Rc::new(RefCell::new(None));

        let emit_since = {
            let handle = handle.clone();
            move |since: i64| {
                if let Some(rt) = handle.borrow().as_ref() {
                    rt.emit("events:since", json!({ "since": since }));
                }
            }
        };

        let auth = {
            let tracker = tracker.clone();
            Rc::new(move || match tracker.borrow().since() {
                Some(since) => json!({ "since": since }),
                None => json!({}),
            })
        };

        let on_event = {
            let tracker = tracker.clone();
            Rc::new(move |name: &str, payload: Value| {
                let seq = payload.get("seq").and_then(Value::as_i64);
                if name == "session" {
                    let request = seq.and_then(|latest| tracker.borrow_mut().head(latest));
                    if let Some(since) = request {
                        emit_since(since);
                    }
                    return;
                }
                let verdict = seq.map(|s| tracker.borrow_mut().accept(s));
                if verdict.is_some_and(|v| !v.apply) {
                    return;
                }
                live.dispatch(&LiveEvent::parse(name, &payload));
                if let Some(since) = verdict.and_then(|v| v.fetch_since) {
                    emit_since(since);
                }
            })
        };

        let on_state = {
            let tracker = tracker.clone();
            Rc::new(move |state: ConnectionState| {
                if state == ConnectionState::Connected {
                    tracker.borrow_mut().reconnected();
                    if let Some(conversation_id) = live.viewing() {
                        emit(
                            crate::model::events::CONVERSATION_VIEWING,
                            json!({ "conversationId": conversation_id }),
                        );
                    }
                }
                let _ = live.state.try_set(state);
            })
        };

        let rt = Realtime::connect(RealtimeOptions {
            auth,
            on_event,
            on_state,
        });
        *handle.borrow_mut() = Some(rt);
        CONNECTION.with(|connection| *connection.borrow_mut() = Some(handle.clone()));
        // Closing drops our handle too (breaking the Rc cycle through the callbacks).
        let close = move || {
            let stored = StoredValue::new_local(handle);
            on_cleanup(move || {
                let _ = stored.try_with_value(|handle| {
                    if let Some(rt) = handle.borrow_mut().take() {
                        rt.close();
                    }
                });
            });
        };
        match owner {
            Some(owner) => owner.with(close),
            None => close(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn in_order_events_apply_once() {
        let mut t = SeqTracker::new(Some(10));
        assert_eq!(
            t.accept(11),
            Verdict {
                apply: true,
                fetch_since: None
            }
        );
        assert_eq!(
            t.accept(11),
            Verdict {
                apply: false,
                fetch_since: None
            }
        );
        assert_eq!(
            t.accept(9),
            Verdict {
                apply: false,
                fetch_since: None
            }
        );
        assert_eq!(t.since(), Some(11));
    }

    #[test]
    fn a_gap_is_applied_then_filled() {
        let mut t = SeqTracker::new(Some(10));
        assert_eq!(
            t.accept(13),
            Verdict {
                apply: true,
                fetch_since: Some(10)
            }
        );
        // asked once per gap
        assert_eq!(
            t.accept(14),
            Verdict {
                apply: true,
                fetch_since: None
            }
        );
        assert_eq!(t.since(), Some(10));
        // the replay fills it; 13 and 14 come again and are dropped
        assert!(t.accept(11).apply);
        assert_eq!(
            t.accept(12),
            Verdict {
                apply: true,
                fetch_since: None
            }
        );
        assert_eq!(t.since(), Some(14));
        assert!(!t.accept(13).apply);
        assert!(!t.accept(14).apply);
        assert!(t.accept(15).apply);
    }

    #[test]
    fn unknown_start_takes_the_first_number() {
        let mut t = SeqTracker::new(None);
        assert_eq!(t.head(5), None);
        assert_eq!(t.since(), Some(5));
        let mut t = SeqTracker::new(None);
        assert!(t.accept(7).apply);
        assert_eq!(t.since(), Some(7));
    }

    #[test]
    fn session_head_reveals_a_gap() {
        let mut t = SeqTracker::new(Some(3));
        assert_eq!(t.head(3), None);
        assert_eq!(t.head(6), Some(3));
        assert_eq!(t.head(6), None);
        t.reconnected();
        assert_eq!(t.head(6), Some(3));
        for s in 4..=6 {
            assert!(t.accept(s).apply);
        }
        assert_eq!(t.head(6), None);
    }

    #[test]
    fn parses_event_payloads() {
        let e = LiveEvent::parse(
            "message:status",
            &json!({"messageId": 4, "conversationId": 2, "status": "failed", "error": "boom", "seq": 9}),
        );
        assert_eq!(e.conversation_id, Some(2));
        assert_eq!(
            e.message_status,
            Some(StatusUpdate {
                message_id: 4,
                status: MessageStatus::Failed,
                error: Some("boom".into())
            })
        );
        let e = LiveEvent::parse(
            "message:updated",
            &json!({"messageId": 4, "conversationId": 2, "seq": 10, "message": {
                "id": 4, "conversationId": 2, "direction": "outbound", "senderUserId": null, "senderName": null,
                "body": "hi", "attachments": [], "reactions": [{"emoji": "❤️", "direction": "inbound", "at": 5}],
                "status": "read", "error": null, "platformMessageId": "m.4", "clientId": null, "tag": null,
                "createdAt": 1, "editedAt": null, "deletedAt": null
            }}),
        );
        assert!(e.message.is_none(), "an update is not a new message");
        assert_eq!(e.updated_message.map(|m| m.reactions.len()), Some(1));
        let e = LiveEvent::parse(
            "conversation:status",
            &json!({"conversationId": 2, "status": "active", "seq": 3}),
        );
        assert_eq!(e.conversation_status, Some(ConversationStatus::Active));
        assert!(e.conversation.is_none());
        let e = LiveEvent::parse(
            "channel:status",
            &json!({"channelId": 5, "status": "needs_reconnect", "lastError": "token expired"}),
        );
        assert_eq!(
            e.channel,
            Some(ChannelUpdate {
                channel_id: 5,
                status: ChannelStatus::NeedsReconnect,
                last_error: Some("token expired".into()),
                channel: None
            })
        );
    }

    #[test]
    fn parses_template_updates() {
        let template = json!({
            "id": 7, "wabaId": "w1", "platformTemplateId": "t7", "name": "order_update", "language": "en_US",
            "category": "utility", "status": "approved", "rejectedReason": null,
            "content": {"body": "Hi {{1}}", "bodyExamples": ["Ann"]},
            "usageCount": 0, "lastUsedAt": null, "createdAt": 1, "updatedAt": 2
        });
        let e = LiveEvent::parse("template:updated", &json!({"template": template, "seq": 4}));
        let update = e
            .template
            .as_ref()
            .map(|u| (u.template.id, u.template.status.as_str(), u.deleted));
        assert_eq!(update, Some((7, "approved", false)));
        let e = LiveEvent::parse("template:updated", &json!({"template": template, "deleted": true}));
        assert_eq!(e.template.map(|u| u.deleted), Some(true));
    }
}

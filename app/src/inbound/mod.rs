//! The one way customer events enter Messio. Every source — a webhook route, a poller, the
//! demo channel, a history import — normalizes what the platform said into
//! [`NormalizedEvent`]s and hands them to [`Services::receive`]. It finds each event's
//! channel, stores it (the store applies the conversation rules and logs the events in the
//! same transaction), publishes what committed, and answers with typed [`Fact`]s. Follow-up
//! work (keeping media, asking the platform for a new customer's profile) starts from those
//! facts, never from event JSON.
//!
//! A delivery's events are stored together, in the order the platform sent them, through the
//! group commit ([`group_commit`]): all of them or, on an error, none, so the source can
//! answer "retry" and the platform's retry stores the whole delivery once (duplicates are
//! decided by the platform's message id). `receive` returns once they are committed and
//! published.

pub mod group_commit;

use crate::model::{ChannelKind, Id, Message};
use crate::services::Services;
use crate::store::{
    ChannelRecord, Delivered, EchoMessage, InboundMessage, Ingest, IngestEvent, Ingested, MessageEdit, ReactionUpdate,
    StatusUpdate, StoreResult,
};
use crate::templates::TemplateStatus;
use std::collections::HashMap;
use std::sync::Arc;

/// One thing a platform told us, for the platform account `account_id` (a page, an Instagram
/// account, a phone number id, a WhatsApp Business Account for template reviews). Sources
/// that already know their channel (a per-channel route, a poller) may leave it empty.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedEvent {
    pub account_id: String,
    pub event: InboundEvent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundEvent {
    /// A customer wrote.
    Message(InboundMessage),
    /// The account wrote, from Messio or from the platform's own app.
    Echo(EchoMessage),
    Status(StatusUpdate),
    Reaction(ReactionUpdate),
    /// A customer changed a message they sent.
    Edit(MessageEdit),
    /// A customer blocked the account, or unblocked it.
    Reachability(ReachabilityChange),
    /// Meta reviewed a WhatsApp template; `account_id` is the WhatsApp Business Account.
    TemplateStatus(TemplateStatusUpdate),
}

/// Whether the account can still write to a customer (Telegram's `my_chat_member`: "kicked"
/// when they block the bot, "member" when they unblock it).
#[derive(Debug, Clone, PartialEq)]
pub struct ReachabilityChange {
    pub external_user_id: String,
    /// Why they cannot be reached; `None`: they can again.
    pub unreachable: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStatusUpdate {
    pub platform_template_id: String,
    pub status: TemplateStatus,
    /// Meta's rejection reason (`INVALID_FORMAT`, …); `None` for "NONE".
    pub reason: Option<String>,
}

/// Where a batch of events came from, which decides how each event finds its channel.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A route shared by every account of a platform (Meta's app-level webhooks): each event
    /// names its account, and accounts no organization connected are skipped.
    Platform(ChannelKind),
    /// A route, poller or import that belongs to one channel: every event is that channel's.
    Channel(&'a ChannelRecord),
}

/// What receiving an event did. A source answers the platform from whether `receive`
/// succeeded; follow-up work reads these.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// A customer's message was stored.
    MessageStored {
        channel: Arc<ChannelRecord>,
        message: Message,
    },
    /// A message the account sent outside Messio was stored.
    EchoStored {
        channel: Arc<ChannelRecord>,
        message: Message,
    },
    /// Someone wrote on this channel for the first time; the contact knows only their id.
    ContactCreated {
        channel: Arc<ChannelRecord>,
        contact_id: Id,
    },
    ConversationOpened {
        organization_id: Id,
        conversation_id: Id,
    },
    /// A customer's message brought a resolved or closed conversation back to active.
    ConversationReopened {
        organization_id: Id,
        conversation_id: Id,
    },
    /// The event was stored before (a platform retry, or our own send echoed back).
    DuplicateIgnored {
        channel_id: Id,
        platform_message_id: String,
    },
    StatusesRaised {
        channel_id: Id,
        message_ids: Vec<Id>,
    },
    ReactionApplied {
        channel_id: Id,
        message_id: Id,
    },
    /// A customer's edit changed one of their stored messages.
    MessageEdited {
        channel: Arc<ChannelRecord>,
        message: Message,
    },
    TemplatesReviewed {
        template_ids: Vec<Id>,
    },
    /// A customer became unreachable on a channel, or reachable again. `contact_id` is `None`
    /// for someone who never wrote (nothing to mark).
    ReachabilityChanged {
        channel_id: Id,
        contact_id: Option<Id>,
        unreachable: Option<String>,
    },
    /// The platform account is connected to no organization (or was disconnected).
    UnknownAccount {
        kind: ChannelKind,
        account_id: String,
    },
}

impl Services {
    /// Stores and publishes what a platform told us; see the module's contract.
    pub async fn receive(&self, source: Source<'_>, events: Vec<NormalizedEvent>) -> StoreResult<Vec<Fact>> {
        // Facts come out in the order of the events; a stored event's wait for the commit.
        let mut told: Vec<Told> = Vec::with_capacity(events.len());
        let mut delivery = Vec::with_capacity(events.len());
        // A delivery usually carries many events for one account: look each account up once.
        // Facts share the record rather than copying it (credentials and all) per event.
        let mut channels: HashMap<String, Option<Arc<ChannelRecord>>> = HashMap::new();
        let routed = match source {
            Source::Channel(channel) => Some(Arc::new(channel.clone())),
            Source::Platform(_) => None,
        };
        for NormalizedEvent { account_id, event } in events {
            let event = match event {
                InboundEvent::TemplateStatus(review) => {
                    told.push(Told::Now(Box::new(self.review_template(&account_id, review).await?)));
                    continue;
                }
                InboundEvent::Message(message) => Step::Ingest(IngestEvent::Message(message)),
                InboundEvent::Echo(echo) => Step::Ingest(IngestEvent::Echo(echo)),
                InboundEvent::Status(update) => Step::Ingest(IngestEvent::Status(update)),
                InboundEvent::Reaction(reaction) => Step::Ingest(IngestEvent::Reaction(reaction)),
                InboundEvent::Edit(edit) => Step::Ingest(IngestEvent::Edit(edit)),
                InboundEvent::Reachability(change) => Step::Reachability(change),
            };
            let channel = match (&routed, source) {
                (Some(channel), _) => channel.clone(),
                (None, Source::Platform(kind)) => {
                    let known = match channels.get(&account_id) {
                        Some(known) => known.clone(),
                        None => {
                            let found = self.store.channel_by_account(kind, &account_id).await?.map(Arc::new);
                            channels.insert(account_id.clone(), found.clone());
                            found
                        }
                    };
                    let Some(channel) = known else {
                        told.push(Told::Now(Box::new(Fact::UnknownAccount { kind, account_id })));
                        continue;
                    };
                    channel
                }
                // `routed` is set exactly when the source is a channel.
                (None, Source::Channel(_)) => continue,
            };
            match event {
                Step::Ingest(event) => {
                    told.push(Told::AfterCommit(channel.clone()));
                    delivery.push(Ingest { channel, event });
                }
                // After the delivery's messages: a first text that says STOP creates the
                // contact it then marks.
                Step::Reachability(change) => told.push(Told::AfterWrite(channel, change)),
            }
        }
        let mut outcomes = self.ingest.write(delivery).await?.into_iter();
        let mut facts = Vec::with_capacity(told.len());
        for told in told {
            match told {
                Told::Now(fact) => facts.push(*fact),
                Told::AfterCommit(channel) => {
                    // The store answers every event of a delivery it stored, in order.
                    if let Some(outcome) = outcomes.next() {
                        outcome_facts(channel, outcome, &mut facts);
                    }
                }
                Told::AfterWrite(channel, change) => facts.push(self.change_reachability(&channel, change).await?),
            }
        }
        Ok(facts)
    }

    /// Templates belong to the WhatsApp Business Account, not to one number: every copy is
    /// updated, whichever organization connected a number of it.
    async fn review_template(&self, waba_id: &str, review: TemplateStatusUpdate) -> StoreResult<Fact> {
        let written = self
            .store
            .set_template_status(
                waba_id,
                &review.platform_template_id,
                review.status,
                review.reason.as_deref(),
            )
            .await?;
        let templates = self.publish(written);
        Ok(Fact::TemplatesReviewed {
            template_ids: templates.iter().map(|t| t.id).collect(),
        })
    }
}

/// What receiving one event takes: the group commit, or a change to the contact.
enum Step {
    Ingest(IngestEvent),
    Reachability(ReachabilityChange),
}

impl Services {
    async fn change_reachability(&self, channel: &ChannelRecord, change: ReachabilityChange) -> StoreResult<Fact> {
        let channel_id = channel.channel.id;
        let contact_id = match self
            .store
            .set_reachability(channel_id, &change.external_user_id, change.unreachable.as_deref())
            .await
        {
            Ok(written) => Some(self.publish(written).id),
            Err(crate::store::StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        Ok(Fact::ReachabilityChanged {
            channel_id,
            contact_id,
            unreachable: change.unreachable,
        })
    }
}

/// A fact known before the delivery is written, or one that its outcome will tell.
enum Told {
    Now(Box<Fact>),
    AfterCommit(Arc<ChannelRecord>),
    /// A change made once the delivery's events are written.
    AfterWrite(Arc<ChannelRecord>, ReachabilityChange),
}

fn outcome_facts(channel: Arc<ChannelRecord>, outcome: Ingested, facts: &mut Vec<Fact>) {
    let channel_id = channel.channel.id;
    match outcome {
        Ingested::MessageStored(delivered) => delivered_facts(channel, *delivered, false, facts),
        Ingested::EchoStored(delivered) => delivered_facts(channel, *delivered, true, facts),
        Ingested::ReactionApplied(delivered) => facts.push(Fact::ReactionApplied {
            channel_id,
            message_id: delivered.message.id,
        }),
        Ingested::MessageEdited(delivered) => facts.push(Fact::MessageEdited {
            channel,
            message: delivered.message,
        }),
        Ingested::Unchanged { platform_message_id } => facts.push(Fact::DuplicateIgnored {
            channel_id,
            platform_message_id,
        }),
        Ingested::StatusesRaised(message_ids) => facts.push(Fact::StatusesRaised {
            channel_id,
            message_ids,
        }),
    }
}

fn delivered_facts(channel: Arc<ChannelRecord>, delivered: Delivered, echo: bool, facts: &mut Vec<Fact>) {
    let organization_id = channel.organization_id;
    let conversation_id = delivered.message.conversation_id;
    if delivered.contact_created {
        facts.push(Fact::ContactCreated {
            channel: channel.clone(),
            contact_id: delivered.contact_id,
        });
    }
    if delivered.conversation_opened {
        facts.push(Fact::ConversationOpened {
            organization_id,
            conversation_id,
        });
    }
    if delivered.conversation_reopened {
        facts.push(Fact::ConversationReopened {
            organization_id,
            conversation_id,
        });
    }
    let message = delivered.message;
    facts.push(if echo {
        Fact::EchoStored { channel, message }
    } else {
        Fact::MessageStored { channel, message }
    });
}

//! The one way customer events enter Messio. Every source — a webhook route, a poller, the
//! demo channel, a history import — normalizes what the platform said into
//! [`NormalizedEvent`]s and hands them to [`Services::receive`]. It finds each event's
//! channel, stores it (the store applies the conversation rules and logs the events in the
//! same transaction), publishes what committed, and answers with typed [`Fact`]s. Follow-up
//! work (keeping media, asking the platform for a new customer's profile) starts from those
//! facts, never from event JSON.
//!
//! Events are stored one by one, in the order the platform sent them, each in its own
//! transaction; an error stops the batch, so the source can answer "retry" and the platform's
//! retry finds what was already stored de-duplicated by its message id.

use crate::model::{ChannelKind, Id, Message};
use crate::services::Services;
use crate::store::{
    ChannelRecord, Delivered, EchoMessage, InboundMessage, ReactionUpdate, StatusUpdate, StoreResult, Written,
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
    /// Meta reviewed a WhatsApp template; `account_id` is the WhatsApp Business Account.
    TemplateStatus(TemplateStatusUpdate),
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
    TemplatesReviewed {
        template_ids: Vec<Id>,
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
        let mut facts = Vec::new();
        // A delivery usually carries many events for one account: look each account up once.
        // Facts share the record rather than copying it (credentials and all) per event.
        let mut channels: HashMap<String, Option<Arc<ChannelRecord>>> = HashMap::new();
        let routed = match source {
            Source::Channel(channel) => Some(Arc::new(channel.clone())),
            Source::Platform(_) => None,
        };
        for NormalizedEvent { account_id, event } in events {
            if let InboundEvent::TemplateStatus(review) = event {
                facts.push(self.review_template(&account_id, review).await?);
                continue;
            }
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
                        facts.push(Fact::UnknownAccount { kind, account_id });
                        continue;
                    };
                    channel
                }
                // `routed` is set exactly when the source is a channel.
                (None, Source::Channel(_)) => continue,
            };
            self.receive_one(channel, event, &mut facts).await?;
        }
        Ok(facts)
    }

    async fn receive_one(
        &self,
        channel: Arc<ChannelRecord>,
        event: InboundEvent,
        facts: &mut Vec<Fact>,
    ) -> StoreResult<()> {
        let channel_id = channel.channel.id;
        match event {
            InboundEvent::Message(message) => {
                let platform_message_id = message.platform_message_id.clone();
                match self.store.ingest_inbound(channel_id, message).await? {
                    Some(written) => {
                        let delivered = self.publish(written);
                        delivered_facts(channel, delivered, false, facts);
                    }
                    None => facts.push(Fact::DuplicateIgnored {
                        channel_id,
                        platform_message_id,
                    }),
                }
            }
            InboundEvent::Echo(echo) => {
                let platform_message_id = echo.platform_message_id.clone();
                match self.store.ingest_echo(channel_id, echo).await? {
                    Some(written) => {
                        let delivered = self.publish(written);
                        delivered_facts(channel, delivered, true, facts);
                    }
                    None => facts.push(Fact::DuplicateIgnored {
                        channel_id,
                        platform_message_id,
                    }),
                }
            }
            InboundEvent::Reaction(reaction) => {
                let platform_message_id = reaction.platform_message_id.clone();
                match self.store.apply_reaction(channel_id, reaction).await? {
                    Some(written) => self.reacted(channel, written, facts),
                    None => facts.push(Fact::DuplicateIgnored {
                        channel_id,
                        platform_message_id,
                    }),
                }
            }
            InboundEvent::Status(update) => {
                let message_ids = self.publish(self.store.apply_status(channel_id, update).await?);
                facts.push(Fact::StatusesRaised {
                    channel_id,
                    message_ids,
                });
            }
            InboundEvent::TemplateStatus(_) => {
                // Handled per WhatsApp Business Account in `receive`, before any channel lookup.
            }
        }
        Ok(())
    }

    /// A reaction either lands on a message we have, or (its target unknown) is kept as a
    /// message of its own, which may have opened a conversation.
    fn reacted(&self, channel: Arc<ChannelRecord>, written: Written<Delivered>, facts: &mut Vec<Fact>) {
        let delivered = self.publish(written);
        if delivered.message.kind == crate::model::MessageKind::Reaction {
            delivered_facts(channel, delivered, false, facts);
        } else {
            facts.push(Fact::ReactionApplied {
                channel_id: channel.channel.id,
                message_id: delivered.message.id,
            });
        }
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

//! The server's side of the inbound pipeline. Webhook routes, pollers and the demo channel
//! hand their normalized events to [`deliver`]: it passes them to the domain's one entry point
//! (`app::inbound`, which stores and publishes) and then starts the follow-up work the
//! resulting facts call for, in the background, so a slow platform API never delays the
//! answer to the platform that delivered them.

use crate::state::AppState;
use app::inbound::{Fact, NormalizedEvent, Source};
use app::model::{Id, Message, MessageKind};
use app::store::{ChannelRecord, StoreResult};
use std::sync::Arc;

/// Stores what a platform told us and starts the follow-up work. Returns once every event
/// is durable (or the first one that could not be stored failed).
pub async fn deliver(state: &AppState, source: Source<'_>, events: Vec<NormalizedEvent>) -> StoreResult<Vec<Fact>> {
    let facts = state.services.receive(source, events).await?;
    follow_up(state, &facts);
    Ok(facts)
}

fn follow_up(state: &AppState, facts: &[Fact]) {
    for fact in facts {
        match fact {
            Fact::MessageStored { channel, message } => {
                crate::media::prefetch(state, channel.organization_id, channel.channel.id, message);
                if message.kind == MessageKind::Interactive {
                    spawn_answer(state.clone(), channel.clone(), message.clone());
                }
            }
            Fact::EchoStored { channel, message } | Fact::MessageEdited { channel, message } => {
                crate::media::prefetch(state, channel.organization_id, channel.channel.id, message);
            }
            Fact::ContactCreated { channel, contact_id } => {
                spawn_profile_lookup(state.clone(), channel.clone(), *contact_id);
            }
            Fact::UnknownAccount { kind, account_id } => {
                tracing::info!(channel = %kind, account = %account_id, "event for an account no organization has connected; dropped");
            }
            Fact::ConversationOpened { .. }
            | Fact::ConversationReopened { .. }
            | Fact::DuplicateIgnored { .. }
            | Fact::StatusesRaised { .. }
            | Fact::ReactionApplied { .. }
            | Fact::ReachabilityChanged { .. }
            | Fact::TemplatesReviewed { .. } => {}
        }
    }
}

/// Tells the platform a customer's button press was received.
fn spawn_answer(state: AppState, channel: Arc<ChannelRecord>, message: Message) {
    tokio::spawn(async move {
        let Ok(credentials) = state.secrets.open(&channel.credentials) else {
            return;
        };
        let adapter = state.adapters.get(channel.channel.kind);
        if let Err(error) = adapter.answer_interaction(&credentials, &message).await {
            tracing::info!(%error, message_id = message.id, "a button press was stored but not answered");
        }
    });
}

/// Asks the platform for a new customer's name and picture.
fn spawn_profile_lookup(state: AppState, channel: Arc<ChannelRecord>, contact_id: Id) {
    tokio::spawn(async move {
        let org_id = channel.organization_id;
        let adapter = state.adapters.get(channel.channel.kind);
        let Ok(credentials) = state.secrets.open(&channel.credentials) else {
            return;
        };
        let store = &state.services.store;
        let Ok(contact) = store.contact(org_id, contact_id).await else {
            return;
        };
        let Some(identity) = contact.identities.iter().find(|i| i.channel_id == channel.channel.id) else {
            return;
        };
        let Some(profile) = adapter.customer_profile(&credentials, &identity.external_id).await else {
            return;
        };
        match store
            .update_contact(
                org_id,
                contact_id,
                profile.name.as_deref(),
                profile.avatar_url.as_deref(),
            )
            .await
        {
            Ok(written) => state.services.events.publish(&written.events),
            Err(error) => tracing::warn!(%error, contact_id, "could not store the customer's profile"),
        }
    });
}

//! Helpers the concern files share: an organization with its owner, a connected channel, messages
//! from customers and echoes of ours, replies taken through the outbox, a thread read back, and
//! assertions on the kind of `StoreError`.
//!
//! `connect` here shadows `app::store::connect` only inside this file: a file that globs both
//! `app::store::*` and `crate::support::*` imports `connect` by name, or the two globs make it
//! ambiguous.

use app::model::*;
use app::store::*;
use std::fmt::Debug;

pub(crate) const DEMO: ChannelKind = ChannelKind::Demo;

pub(crate) async fn new_org(store: &DynStore, name: &str) -> (Organization, User) {
    store
        .create_organization(name, &format!("{name} Owner"), &format!("owner@{name}.test"), "hash")
        .await
        .unwrap()
}

pub(crate) fn new_channel(external_id: &str) -> NewChannel {
    NewChannel {
        kind: DEMO,
        external_id: external_id.to_string(),
        name: format!("Page {external_id}"),
        credentials: "sealed-token".to_string(),
        parent_account_id: None,
    }
}

pub(crate) async fn connect(store: &DynStore, org: &Organization, external_id: &str) -> Channel {
    store
        .connect_channel(org.id, new_channel(external_id))
        .await
        .unwrap()
        .value
}

pub(crate) fn inbound(customer: &str, platform_id: &str, body: &str, sent_at: Millis) -> InboundMessage {
    InboundMessage {
        external_user_id: customer.to_string(),
        contact_name: None,
        platform_message_id: platform_id.to_string(),
        body: body.to_string(),
        attachments: vec![],
        sent_at,
        ..Default::default()
    }
}

pub(crate) fn echo(customer: &str, platform_id: &str, body: &str, sent_at: Millis, ours: Option<Id>) -> EchoMessage {
    EchoMessage {
        external_user_id: customer.to_string(),
        platform_message_id: platform_id.to_string(),
        body: body.to_string(),
        attachments: vec![],
        sent_at,
        our_message_id: ours,
        ..Default::default()
    }
}

/// Ingests a customer's message that must be new, returning the message and its events.
pub(crate) async fn receive(
    store: &DynStore,
    channel: &Channel,
    customer: &str,
    platform_id: &str,
    body: &str,
    sent_at: Millis,
) -> Written<Message> {
    let written = store
        .ingest_inbound(channel.id, inbound(customer, platform_id, body, sent_at))
        .await
        .unwrap()
        .expect("a new platform message id is stored");
    Written {
        value: written.value.message,
        events: written.events,
    }
}

pub(crate) fn reply(conversation_id: Id, sender: &User, body: &str, client_id: Option<&str>) -> NewOutbound {
    NewOutbound {
        conversation_id,
        sender: sender.clone(),
        body: body.to_string(),
        attachments: vec![],
        client_id: client_id.map(str::to_string),
        tag: None,
        kind: MessageKind::Text,
        payload: None,
        template_id: None,
        reply_to: None,
    }
}

/// Queues a reply and takes it through the outbox as a successful send.
pub(crate) async fn send(
    store: &DynStore,
    org: &Organization,
    conversation_id: Id,
    sender: &User,
    body: &str,
    platform_id: &str,
) -> Message {
    let queued = queue_and_claim(store, org, conversation_id, sender, body).await;
    store
        .finish_outbound(queued.id, Ok(platform_id.to_string()))
        .await
        .unwrap()
        .value
}

pub(crate) async fn thread(store: &DynStore, org: &Organization, conversation_id: Id) -> Vec<Message> {
    store.messages(org.id, conversation_id, None, 200).await.unwrap().items
}

pub(crate) async fn message(store: &DynStore, org: &Organization, conversation_id: Id, message_id: Id) -> Message {
    thread(store, org, conversation_id)
        .await
        .into_iter()
        .find(|m| m.id == message_id)
        .expect("message is in its thread")
}

pub(crate) fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

pub(crate) fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

pub(crate) fn assert_conflict<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

pub(crate) fn assert_invalid<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{what}: expected Invalid, got {other:?}"),
    }
}

/// A platform timestamp a little in the past, as webhooks carry them.
pub(crate) fn earlier() -> Millis {
    now_millis() - 60_000
}

/// Queues a reply and claims it, as the outbox does before calling the platform.
pub(crate) async fn queue_and_claim(
    store: &DynStore,
    org: &Organization,
    conversation_id: Id,
    sender: &User,
    body: &str,
) -> Message {
    let queued = store
        .queue_outbound(org.id, reply(conversation_id, sender, body, None))
        .await
        .unwrap()
        .value;
    let claimed = store.claim_outbound(10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.message.id).collect::<Vec<_>>(),
        vec![queued.id]
    );
    queued
}

//! The inbound pipeline (`Services::receive`) on a running server, on both backends: every
//! source hands it normalized events and gets back what happened as facts, the same facts the
//! webhook routes start their follow-up work from.
#![allow(clippy::unwrap_used)]

mod support;

use app::inbound::{Fact, InboundEvent, NormalizedEvent, Source};
use app::model::{ChannelKind, MessageStatus};
use app::store::{InboundMessage, StatusUpdate};
use fake_meta::now_ms;
use serde_json::json;
use support::{Backend, TestApp};

fn customer_writes(account: &str, customer: &str, mid: &str, body: &str) -> NormalizedEvent {
    NormalizedEvent {
        account_id: account.into(),
        event: InboundEvent::Message(InboundMessage {
            external_user_id: customer.into(),
            platform_message_id: mid.into(),
            body: body.into(),
            sent_at: now_ms(),
            ..Default::default()
        }),
    }
}

/// What a fact says, without the records it carries.
fn outline(facts: &[Fact]) -> Vec<String> {
    facts
        .iter()
        .map(|fact| match fact {
            Fact::MessageStored { message, .. } => format!("message stored: {}", message.body),
            Fact::EchoStored { message, .. } => format!("echo stored: {}", message.body),
            Fact::ContactCreated { .. } => "contact created".into(),
            Fact::ConversationOpened { .. } => "conversation opened".into(),
            Fact::ConversationReopened { .. } => "conversation reopened".into(),
            Fact::DuplicateIgnored {
                platform_message_id, ..
            } => format!("duplicate: {platform_message_id}"),
            Fact::StatusesRaised { message_ids, .. } => format!("statuses raised: {}", message_ids.len()),
            Fact::ReactionApplied { .. } => "reaction applied".into(),
            Fact::MessageEdited { message, .. } => format!("message edited: {}", message.body),
            Fact::ReachabilityChanged { unreachable, .. } => format!("unreachable: {unreachable:?}"),
            Fact::TemplatesReviewed { template_ids } => format!("templates reviewed: {}", template_ids.len()),
            Fact::UnknownAccount { account_id, .. } => format!("unknown account: {account_id}"),
        })
        .collect()
}

async fn facts_tell_what_each_event_did(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&token, "101").await;
    let services = &app.state.services;
    let mut bus = services.events.subscribe();

    let facts = services
        .receive(
            Source::Platform(ChannelKind::Messenger),
            vec![
                customer_writes("101", "psid-1", "m-1", "hello"),
                customer_writes("101", "psid-1", "m-1", "hello"),
                customer_writes("999", "psid-2", "m-2", "for nobody here"),
                NormalizedEvent {
                    account_id: "101".into(),
                    event: InboundEvent::Status(StatusUpdate::Watermark {
                        external_user_id: "psid-1".into(),
                        watermark: now_ms(),
                        status: MessageStatus::Read,
                    }),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        outline(&facts),
        [
            "contact created",
            "conversation opened",
            "message stored: hello",
            "duplicate: m-1",
            "unknown account: 999",
            "statuses raised: 0",
        ]
    );
    let published = bus.next().await.unwrap();
    let names: Vec<&str> = published.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["conversation:new", "message:received"],
        "published once committed"
    );

    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let resolved = app
        .patch(
            &token,
            &format!("/api/inbox/conversations/{conversation}/status"),
            json!({ "status": "resolved" }),
        )
        .await;
    assert!(resolved.status().is_success());
    let facts = services
        .receive(
            Source::Platform(ChannelKind::Messenger),
            vec![customer_writes("101", "psid-1", "m-3", "one more thing")],
        )
        .await
        .unwrap();
    assert_eq!(
        outline(&facts),
        ["conversation reopened", "message stored: one more thing"]
    );
    assert_eq!(
        app.messages(&token, conversation).await.len(),
        3,
        "hello, the status line, the new one"
    );
}

async fn a_channel_source_stores_into_its_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, signup) = app.signup("Acme", "owner@acme.test").await;
    let organization_id = signup["organization"]["id"].as_i64().unwrap();
    let channel_id = app.connect_page(&token, "101").await["id"].as_i64().unwrap();
    let services = &app.state.services;
    let channel = services.store.channel(organization_id, channel_id).await.unwrap();

    // A poller or a per-channel route knows its channel; the events need not name it.
    let facts = services
        .receive(
            Source::Channel(&channel),
            vec![customer_writes("", "psid-7", "m-7", "from a poller")],
        )
        .await
        .unwrap();
    assert_eq!(
        outline(&facts),
        [
            "contact created",
            "conversation opened",
            "message stored: from a poller"
        ]
    );
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["channelId"], channel_id);
}

on_both_backends!(facts_tell_what_each_event_did, a_channel_source_stores_into_its_channel);

//! The store contract, checked against both backends: every test below runs once on a fresh
//! SQLite file and once on a fresh PostgreSQL database (`MESSIO_TEST_POSTGRES_URL`).
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

use app::model::*;
use app::store::*;
use app::templates::{TemplateCategory, TemplateContent, TemplateStatus};
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// Turns each `async fn name(store: DynStore)` into `name::sqlite` and `name::postgres` tests.
/// (A module per test, because `macro_rules!` cannot build a `name_sqlite` identifier.)
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, _dir) = app::store::testing::scratch_sqlite().await;
                assert_eq!(store.backend(), "sqlite");
                super::$name(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let store = app::store::testing::scratch_postgres().await;
                assert_eq!(store.backend(), "postgres");
                super::$name(store).await;
            }
        }
    )+};
}

conformance!(
    organizations_and_users,
    sessions_expire_and_end,
    invites_are_single_use,
    channel_ownership,
    channel_status_changes_emit_events,
    first_inbound_creates_contact_and_conversation,
    repeated_inbound_is_ignored,
    concurrent_duplicate_inbound_is_stored_once,
    concurrent_first_messages_share_one_conversation,
    follow_up_inbound_updates_the_conversation,
    inbound_reopens_resolved_conversation,
    foreign_echo_becomes_a_sent_message,
    own_echo_only_records_the_platform_id,
    message_status_never_goes_backwards,
    watermark_marks_earlier_messages,
    conversation_views_and_filters,
    conversations_page_by_activity,
    messages_page_oldest_first,
    tenants_cannot_reach_each_other,
    status_and_assignment_leave_a_trace,
    mark_read_clears_unread,
    queue_outbound_is_idempotent_by_client_id,
    racing_claimers_never_share_a_message,
    finish_and_retry_outbound,
    interrupted_send_fails_for_the_agent_to_retry,
    interrupted_send_is_resent_where_the_platform_deduplicates,
    fresh_and_finished_claims_are_left_alone,
    interrupted_send_whose_echo_arrived_is_sent,
    late_answer_after_recovery_is_recorded,
    concurrent_recoveries_recover_each_message_once,
    events_replay_in_order,
    page_first_echo_opens_a_conversation,
    contact_profile_updates,
    rich_inbound_keeps_kind_and_quoted_message,
    reactions_replace_and_remove,
    early_status_waits_for_the_platform_id,
    echo_of_an_in_flight_send_is_not_doubled,
    templates_upsert_review_and_usage,
    uploads_belong_to_one_organization,
);

// ---------------------------------------------------------------------------------------------
// Helpers

const DEMO: ChannelKind = ChannelKind::Demo;

async fn new_org(store: &DynStore, name: &str) -> (Organization, User) {
    store
        .create_organization(name, &format!("{name} Owner"), &format!("owner@{name}.test"), "hash")
        .await
        .unwrap()
}

async fn new_agent(store: &DynStore, org: &Organization, name: &str) -> User {
    store
        .add_user(
            org.id,
            name,
            &format!("{}@{}.test", name.to_lowercase(), org.name),
            "hash",
            Role::Agent,
        )
        .await
        .unwrap()
}

fn new_channel(external_id: &str) -> NewChannel {
    NewChannel {
        kind: DEMO,
        external_id: external_id.to_string(),
        name: format!("Page {external_id}"),
        credentials: "sealed-token".to_string(),
        parent_account_id: None,
    }
}

async fn connect(store: &DynStore, org: &Organization, external_id: &str) -> Channel {
    store
        .connect_channel(org.id, new_channel(external_id))
        .await
        .unwrap()
        .value
}

fn inbound(customer: &str, platform_id: &str, body: &str, sent_at: Millis) -> InboundMessage {
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

fn echo(customer: &str, platform_id: &str, body: &str, sent_at: Millis, ours: Option<Id>) -> EchoMessage {
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
async fn receive(
    store: &DynStore,
    channel: &Channel,
    customer: &str,
    platform_id: &str,
    body: &str,
    sent_at: Millis,
) -> Written<Message> {
    store
        .ingest_inbound(channel.id, inbound(customer, platform_id, body, sent_at))
        .await
        .unwrap()
        .expect("a new platform message id is stored")
}

fn reply(conversation_id: Id, sender: &User, body: &str, client_id: Option<&str>) -> NewOutbound {
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
    }
}

/// Queues a reply and takes it through the outbox as a successful send.
async fn send(
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

async fn thread(store: &DynStore, org: &Organization, conversation_id: Id) -> Vec<Message> {
    store.messages(org.id, conversation_id, None, 200).await.unwrap().items
}

async fn message(store: &DynStore, org: &Organization, conversation_id: Id, message_id: Id) -> Message {
    thread(store, org, conversation_id)
        .await
        .into_iter()
        .find(|m| m.id == message_id)
        .expect("message is in its thread")
}

async fn list(store: &DynStore, org: &Organization, user: &User, filter: ConversationFilter) -> Vec<Id> {
    let page = store.conversations(org.id, user.id, &filter).await.unwrap();
    page.items.iter().map(|c| c.id).collect()
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

fn assert_conflict<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

fn assert_invalid<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{what}: expected Invalid, got {other:?}"),
    }
}

/// A platform timestamp a little in the past, as webhooks carry them.
fn earlier() -> Millis {
    now_millis() - 60_000
}

// ---------------------------------------------------------------------------------------------
// Organizations, people and sessions

async fn organizations_and_users(store: DynStore) {
    let (acme, ana) = store
        .create_organization("Acme", "Ana", "  Ana@Example.COM ", "ana-hash")
        .await
        .unwrap();
    assert_eq!(ana.email, "ana@example.com");
    assert_eq!(ana.role, Role::Owner);
    assert_eq!(ana.organization_id, acme.id);
    assert_eq!(store.organization(acme.id).await.unwrap(), acme);
    assert_not_found(store.organization(acme.id + 1000).await, "unknown organization");

    let creds = store
        .credentials_by_email("ANA@example.com")
        .await
        .unwrap()
        .expect("email lookup ignores case");
    assert_eq!(creds.user, ana);
    assert_eq!(creds.password_hash, "ana-hash");
    assert!(store.credentials_by_email(" ana@example.com").await.unwrap().is_some());
    assert!(
        store
            .credentials_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );

    assert_conflict(
        store
            .create_organization("Copycat", "Eve", "ana@EXAMPLE.com", "x")
            .await,
        "signup with a taken email",
    );
    assert_conflict(
        store
            .add_user(acme.id, "Ana Two", "ANA@example.com", "x", Role::Agent)
            .await,
        "add_user with a taken email",
    );

    let carl = store
        .add_user(acme.id, "Carl", "Carl@Example.com", "carl-hash", Role::Agent)
        .await
        .unwrap();
    assert_eq!(
        (carl.role, carl.organization_id, carl.email.as_str()),
        (Role::Agent, acme.id, "carl@example.com")
    );
    assert_eq!(
        store
            .credentials_by_email("carl@example.com")
            .await
            .unwrap()
            .unwrap()
            .user,
        carl
    );

    let (beta, bo) = store
        .create_organization("Beta", "Bo", "bo@beta.test", "bo-hash")
        .await
        .unwrap();
    assert_ne!(beta.id, acme.id);
    assert_eq!(store.users(acme.id).await.unwrap(), vec![ana, carl]);
    assert_eq!(store.users(beta.id).await.unwrap(), vec![bo]);
}

async fn sessions_expire_and_end(store: DynStore) {
    let (_, owner) = new_org(&store, "acme").await;
    let now = now_millis();
    store.create_session("token-a", owner.id, now + HOUR_MS).await.unwrap();
    store.create_session("token-b", owner.id, now + HOUR_MS).await.unwrap();

    assert_eq!(store.session_user("token-a", now).await.unwrap(), Some(owner.clone()));
    assert_eq!(
        store.session_user("token-a", now + HOUR_MS).await.unwrap(),
        None,
        "a session ends at its expiry"
    );
    assert_eq!(store.session_user("token-a", now + HOUR_MS + 1).await.unwrap(), None);
    assert_eq!(store.session_user("unknown", now).await.unwrap(), None);

    store.delete_session("token-a").await.unwrap();
    assert_eq!(
        store.session_user("token-a", now).await.unwrap(),
        None,
        "logout ends the session"
    );
    assert_eq!(
        store.session_user("token-b", now).await.unwrap(),
        Some(owner),
        "other sessions survive a logout"
    );
    store.delete_session("token-a").await.unwrap();
}

async fn invites_are_single_use(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let now = now_millis();
    assert_invalid(
        store
            .create_invite(acme.id, "owner-invite", Role::Owner, owner.id, now + DAY_MS)
            .await,
        "an owner invite",
    );

    store
        .create_invite(acme.id, "invite-1", Role::Admin, owner.id, now + DAY_MS)
        .await
        .unwrap();
    // A taken email must not use up the invite.
    assert_conflict(
        store.accept_invite("invite-1", "Ann", &owner.email, "h", now).await,
        "accept with a taken email",
    );

    let admin = store
        .accept_invite("invite-1", "Ann", "Ann@Acme.test", "h", now)
        .await
        .unwrap();
    assert_eq!(
        (admin.organization_id, admin.role, admin.email.as_str()),
        (acme.id, Role::Admin, "ann@acme.test")
    );
    assert!(store.users(acme.id).await.unwrap().contains(&admin));
    assert_eq!(
        store.credentials_by_email("ann@acme.test").await.unwrap().unwrap().user,
        admin
    );

    assert_not_found(
        store
            .accept_invite("invite-1", "Ann Again", "ann2@acme.test", "h", now)
            .await,
        "second use",
    );
    assert!(store.credentials_by_email("ann2@acme.test").await.unwrap().is_none());

    store
        .create_invite(acme.id, "invite-2", Role::Agent, owner.id, now + 1000)
        .await
        .unwrap();
    assert_not_found(
        store
            .accept_invite("invite-2", "Late", "late@acme.test", "h", now + 1000)
            .await,
        "expired invite",
    );
    assert_not_found(
        store
            .accept_invite("no-such-invite", "X", "x@acme.test", "h", now)
            .await,
        "unknown invite",
    );
    assert_eq!(store.users(acme.id).await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Channels

async fn channel_ownership(store: DynStore) {
    let (alpha, _) = new_org(&store, "alpha").await;
    let (beta, _) = new_org(&store, "beta").await;

    let first = store.connect_channel(alpha.id, new_channel("page-1")).await.unwrap();
    assert_eq!(first.value.status, ChannelStatus::Active);
    assert_eq!(names(&first.events), vec![events::CHANNEL_STATUS]);
    let channel = first.value;

    store
        .set_channel_status(channel.id, ChannelStatus::NeedsReconnect, Some("token expired"))
        .await
        .unwrap();
    let mut renamed = new_channel("page-1");
    renamed.name = "Renamed page".into();
    let again = store.connect_channel(alpha.id, renamed).await.unwrap().value;
    assert_eq!(
        again.id, channel.id,
        "reconnecting keeps the channel, and with it the history"
    );
    assert_eq!(
        (again.status, again.last_error.as_deref(), again.name.as_str()),
        (ChannelStatus::Active, None, "Renamed page")
    );
    assert_eq!(store.channels(alpha.id).await.unwrap().len(), 1);

    assert_conflict(
        store.connect_channel(beta.id, new_channel("page-1")).await,
        "another org takes a live account",
    );
    assert!(store.channels(beta.id).await.unwrap().is_empty());

    let live = store
        .channel_by_account(DEMO, "page-1")
        .await
        .unwrap()
        .expect("live channel");
    assert_eq!(
        (live.organization_id, live.channel.id, live.credentials.as_str()),
        (alpha.id, channel.id, "sealed-token")
    );
    assert!(
        store
            .channel_by_account(ChannelKind::Messenger, "page-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.channel_by_account(DEMO, "page-2").await.unwrap().is_none());

    store
        .set_channel_status(channel.id, ChannelStatus::Disconnected, None)
        .await
        .unwrap();
    assert!(
        store.channel_by_account(DEMO, "page-1").await.unwrap().is_none(),
        "disconnected channels receive nothing"
    );

    let taken = connect(&store, &beta, "page-1").await;
    assert_ne!(taken.id, channel.id);
    let live = store
        .channel_by_account(DEMO, "page-1")
        .await
        .unwrap()
        .expect("live channel");
    assert_eq!((live.organization_id, live.channel.id), (beta.id, taken.id));
    assert_conflict(
        store.connect_channel(alpha.id, new_channel("page-1")).await,
        "reclaim while another org has it",
    );

    assert_conflict(
        store.set_channel_status(channel.id, ChannelStatus::Active, None).await,
        "reactivating a channel whose account another org now has",
    );

    let page_0 = connect(&store, &alpha, "page-0").await;
    let alpha_channels = store.channels(alpha.id).await.unwrap();
    assert_eq!(
        alpha_channels.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![page_0.id, channel.id],
        "live channels first"
    );
    assert_eq!(
        alpha_channels[1].status,
        ChannelStatus::Disconnected,
        "a disconnected channel stays listed with its history"
    );
    assert_eq!(
        store.channel(alpha.id, channel.id).await.unwrap().channel.status,
        ChannelStatus::Disconnected
    );
}

async fn channel_status_changes_emit_events(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let before = store.latest_seq(acme.id).await.unwrap();

    let written = store
        .set_channel_status(channel.id, ChannelStatus::NeedsReconnect, Some("token expired"))
        .await
        .unwrap();
    assert_eq!(written.value.status, ChannelStatus::NeedsReconnect);
    assert_eq!(written.value.last_error.as_deref(), Some("token expired"));
    assert_eq!(names(&written.events), vec![events::CHANNEL_STATUS]);
    let event = &written.events[0];
    assert_eq!((event.organization_id, event.seq), (acme.id, before + 1));
    assert_eq!(event.payload["channelId"], channel.id);
    assert_eq!(event.payload["status"], "needs_reconnect");
    assert_eq!(store.events_since(acme.id, before, 10).await.unwrap(), written.events);

    let record = store.channel(acme.id, channel.id).await.unwrap();
    assert_eq!(record.channel, written.value);
    assert_not_found(
        store
            .set_channel_status(channel.id + 1000, ChannelStatus::Active, None)
            .await,
        "unknown channel",
    );
}

// ---------------------------------------------------------------------------------------------
// Inbound traffic

async fn first_inbound_creates_contact_and_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let seq_before = store.latest_seq(acme.id).await.unwrap();
    let at = earlier();

    let mut msg = inbound("customer-9876", "mid-1", "Hello, is my order shipped?", at);
    msg.contact_name = Some("Maria".into());
    let written = store.ingest_inbound(channel.id, msg).await.unwrap().expect("stored");
    let message = &written.value;
    assert_eq!(
        (message.direction, message.status),
        (Direction::Inbound, MessageStatus::Received)
    );
    assert_eq!(
        (message.body.as_str(), message.created_at),
        ("Hello, is my order shipped?", at)
    );
    assert_eq!(message.platform_message_id.as_deref(), Some("mid-1"));

    assert_eq!(
        names(&written.events),
        vec![events::CONVERSATION_NEW, events::MESSAGE_RECEIVED]
    );
    for (i, event) in written.events.iter().enumerate() {
        assert_eq!(
            event.seq,
            seq_before + 1 + i as i64,
            "seq counts up by one per organization"
        );
        assert_eq!(event.organization_id, acme.id);
        assert_eq!(event.payload["seq"], event.seq, "clients read seq from the payload");
    }
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), seq_before + 2);

    let conversations = store
        .conversations(acme.id, owner.id, &ConversationFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(conversations.len(), 1);
    let conversation = &conversations[0];
    assert_eq!(conversation.id, message.conversation_id);
    assert_eq!(
        (conversation.status, conversation.unread_count),
        (ConversationStatus::New, 1)
    );
    assert_eq!((conversation.channel_id, conversation.channel_kind), (channel.id, DEMO));
    assert_eq!(conversation.contact_name, "Maria");
    assert_eq!(
        conversation.last_message_preview.as_deref(),
        Some("Hello, is my order shipped?")
    );
    assert_eq!(conversation.last_message_at, at);
    assert_eq!(conversation.last_inbound_at, Some(at));
    assert_eq!(conversation.assignee_id, None);
    assert_eq!(written.events[0].payload["conversation"]["id"], conversation.id);

    let contact = store.contact(acme.id, conversation.contact_id).await.unwrap();
    assert_eq!(contact.name, "Maria");
    assert_eq!(
        contact.identities,
        vec![ContactIdentity {
            channel_id: channel.id,
            channel_kind: DEMO,
            external_id: "customer-9876".into()
        }]
    );

    // Without a name from the platform the contact still gets a recognizable one
    // until the platform tells us the real one.
    let anonymous = receive(&store, &channel, "customer-1234", "mid-2", "hi", at)
        .await
        .value;
    let conversation = store.conversation(acme.id, anonymous.conversation_id).await.unwrap();
    assert_eq!(conversation.contact_name, "Customer 1234");
    let mut named = inbound("customer-1234", "mid-3", "", at + 1_000);
    named.contact_name = Some("Jonas".into());
    let photo = Attachment {
        kind: AttachmentKind::Image,
        url: "https://cdn.example/p.jpg".into(),
        name: Some("p.jpg".into()),
        mime_type: None,
    };
    named.attachments = vec![photo.clone()];
    let with_photo = store.ingest_inbound(channel.id, named).await.unwrap().unwrap().value;
    assert_eq!(with_photo.attachments, vec![photo.clone()]);
    assert_eq!(
        thread(&store, &acme, conversation.id).await.pop().unwrap().attachments,
        vec![photo],
        "attachments survive storage"
    );
    let conversation = store.conversation(acme.id, conversation.id).await.unwrap();
    assert_eq!(conversation.contact_name, "Jonas");
    assert_eq!(
        conversation.last_message_preview.as_deref(),
        Some("[image]"),
        "an attachment-only message still previews"
    );
    // A name the platform sent once is not replaced by later guesses.
    let mut renamed = inbound("customer-9876", "mid-4", "again", at + 2_000);
    renamed.contact_name = Some("Someone Else".into());
    store.ingest_inbound(channel.id, renamed).await.unwrap().unwrap();
    assert_eq!(store.contact(acme.id, contact.id).await.unwrap().name, "Maria");
}

async fn repeated_inbound_is_ignored(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let first = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value;
    let seq = store.latest_seq(acme.id).await.unwrap();

    let again = store
        .ingest_inbound(channel.id, inbound("cust", "mid-1", "hello", earlier()))
        .await
        .unwrap();
    assert!(again.is_none(), "a platform retry is not a new message");
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), seq, "a retry emits no events");
    assert_eq!(thread(&store, &acme, first.conversation_id).await.len(), 1);
    assert_eq!(
        store
            .conversation(acme.id, first.conversation_id)
            .await
            .unwrap()
            .unread_count,
        1
    );
}

async fn concurrent_duplicate_inbound_is_stored_once(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();

    let start = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let channel_id = channel.id;
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                store
                    .ingest_inbound(channel_id, inbound("cust", "mid-1", "hello", at))
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        if task
            .await
            .unwrap()
            .expect("a duplicate delivery is not an error")
            .is_some()
        {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "exactly one delivery stores the message");

    let conversations = store
        .conversations(acme.id, owner.id, &ConversationFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].unread_count, 1);
    assert_eq!(thread(&store, &acme, conversations[0].id).await.len(), 1);
    let events = store.events_since(acme.id, 0, 100).await.unwrap();
    assert_eq!(
        names(&events),
        vec![
            events::CHANNEL_STATUS,
            events::CONVERSATION_NEW,
            events::MESSAGE_RECEIVED
        ]
    );
}

async fn concurrent_first_messages_share_one_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();

    let start = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let channel_id = channel.id;
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                store
                    .ingest_inbound(channel_id, inbound("cust", &format!("mid-{i}"), "hello", at + i))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }

    let conversations = store
        .conversations(acme.id, owner.id, &ConversationFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(conversations.len(), 1, "one customer, one conversation");
    assert_eq!(conversations[0].unread_count, 10);
    assert_eq!(conversations[0].last_message_at, at + 9);
    assert_eq!(thread(&store, &acme, conversations[0].id).await.len(), 10);
    let events = store.events_since(acme.id, 0, 100).await.unwrap();
    assert_eq!(
        names(&events)
            .iter()
            .filter(|n| **n == events::CONVERSATION_NEW)
            .count(),
        1
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "no gaps or repeats in seq"
    );
}

async fn follow_up_inbound_updates_the_conversation(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let first = receive(&store, &channel, "cust", "mid-1", "hello", at).await.value;
    let second = receive(&store, &channel, "cust", "mid-2", "are you there?", at + 5_000).await;

    assert_eq!(second.value.conversation_id, first.conversation_id);
    assert_eq!(
        names(&second.events),
        vec![events::MESSAGE_RECEIVED],
        "an existing conversation is not new"
    );
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.unread_count, 2);
    assert_eq!(conversation.last_message_preview.as_deref(), Some("are you there?"));
    assert_eq!(
        (conversation.last_message_at, conversation.last_inbound_at),
        (at + 5_000, Some(at + 5_000))
    );
    assert_eq!(second.events[0].payload["conversation"]["unreadCount"], 2);

    // A late delivery of an older message must not rewind the preview.
    receive(&store, &channel, "cust", "mid-0", "(older)", at - 5_000).await;
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.unread_count, 3);
    assert_eq!(conversation.last_message_preview.as_deref(), Some("are you there?"));
    assert_eq!(conversation.last_message_at, at + 5_000);
}

async fn inbound_reopens_resolved_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let first = receive(&store, &channel, "cust", "mid-1", "hello", at).await.value;
    store
        .set_conversation_status(acme.id, first.conversation_id, ConversationStatus::Resolved, &owner)
        .await
        .unwrap();

    let written = receive(&store, &channel, "cust", "mid-2", "one more thing", at + 1_000).await;
    assert_eq!(written.value.conversation_id, first.conversation_id);
    assert_eq!(
        names(&written.events),
        vec![events::CONVERSATION_STATUS, events::MESSAGE_RECEIVED]
    );
    assert_eq!(written.events[0].payload["status"], "active");
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.status, ConversationStatus::Active);
}

async fn foreign_echo_becomes_a_sent_message(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let first = receive(&store, &channel, "cust", "mid-1", "hello", at).await.value;

    let written = store
        .ingest_echo(
            channel.id,
            echo("cust", "echo-1", "Answered from the phone app", at + 1_000, None),
        )
        .await
        .unwrap()
        .expect("stored");
    let message = &written.value;
    assert_eq!(message.conversation_id, first.conversation_id);
    assert_eq!(
        (message.direction, message.status),
        (Direction::Outbound, MessageStatus::Sent)
    );
    assert_eq!(message.platform_message_id.as_deref(), Some("echo-1"));
    assert_eq!(names(&written.events), vec![events::MESSAGE_SENT]);

    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(
        conversation.last_message_preview.as_deref(),
        Some("Answered from the phone app")
    );
    assert_eq!(conversation.last_message_at, at + 1_000);
    assert_eq!(
        conversation.last_inbound_at,
        Some(at),
        "our own message does not move the reply window"
    );

    let seq = store.latest_seq(acme.id).await.unwrap();
    assert!(
        store
            .ingest_echo(channel.id, echo("cust", "echo-1", "Answered", at + 1_000, None))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), seq);
    assert_eq!(thread(&store, &acme, first.conversation_id).await.len(), 2);
}

async fn own_echo_only_records_the_platform_id(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let first = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value;
    let ours = store
        .queue_outbound(acme.id, reply(first.conversation_id, &owner, "On its way!", None))
        .await
        .unwrap()
        .value;
    let seq = store.latest_seq(acme.id).await.unwrap();

    let echoed = store
        .ingest_echo(
            channel.id,
            echo("cust", "platform-ours", "On its way!", now_millis(), Some(ours.id)),
        )
        .await
        .unwrap();
    assert!(echoed.is_none(), "our own message is not stored twice");
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), seq);

    let messages = thread(&store, &acme, first.conversation_id).await;
    assert_eq!(messages.len(), 2);
    let stored = messages.iter().find(|m| m.id == ours.id).unwrap();
    assert_eq!(stored.platform_message_id.as_deref(), Some("platform-ours"));
    assert_eq!(
        (stored.body.as_str(), stored.sender_user_id),
        ("On its way!", Some(owner.id))
    );

    // Now that the platform id is known, delivery reports find the message.
    let update = StatusUpdate::Messages {
        platform_message_ids: vec!["platform-ours".into()],
        status: MessageStatus::Delivered,
        error: None,
    };
    assert_eq!(
        store.apply_status(channel.id, update).await.unwrap().value,
        vec![ours.id]
    );
}

async fn message_status_never_goes_backwards(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let conversation_id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let first = send(&store, &acme, conversation_id, &owner, "one", "p-1").await;
    let second = send(&store, &acme, conversation_id, &owner, "two", "p-2").await;
    let report = |id: &str, status| StatusUpdate::Messages {
        platform_message_ids: vec![id.to_string()],
        status,
        error: None,
    };

    let delivered = store
        .apply_status(channel.id, report("p-1", MessageStatus::Delivered))
        .await
        .unwrap();
    assert_eq!(delivered.value, vec![first.id]);
    assert_eq!(names(&delivered.events), vec![events::MESSAGE_STATUS]);
    assert_eq!(delivered.events[0].payload["messageId"], first.id);
    assert_eq!(delivered.events[0].payload["status"], "delivered");

    let late = store
        .apply_status(channel.id, report("p-1", MessageStatus::Sent))
        .await
        .unwrap();
    assert!(
        late.value.is_empty() && late.events.is_empty(),
        "a late `sent` report changes nothing"
    );
    assert_eq!(
        message(&store, &acme, conversation_id, first.id).await.status,
        MessageStatus::Delivered
    );

    let read = store
        .apply_status(channel.id, report("p-2", MessageStatus::Read))
        .await
        .unwrap();
    assert_eq!(read.value, vec![second.id], "read may arrive without delivered");
    store
        .apply_status(channel.id, report("p-2", MessageStatus::Delivered))
        .await
        .unwrap();
    assert_eq!(
        message(&store, &acme, conversation_id, second.id).await.status,
        MessageStatus::Read
    );

    let unknown = store
        .apply_status(channel.id, report("p-unknown", MessageStatus::Read))
        .await
        .unwrap();
    assert!(unknown.value.is_empty() && unknown.events.is_empty());
}

async fn watermark_marks_earlier_messages(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let incoming = receive(&store, &channel, "cust", "mid-1", "hello", at).await.value;
    let mut sent = Vec::new();
    for i in 1..=3 {
        let echo = echo(
            "cust",
            &format!("echo-{i}"),
            &format!("reply {i}"),
            at + i * 1_000,
            None,
        );
        sent.push(store.ingest_echo(channel.id, echo).await.unwrap().unwrap().value);
    }
    let other = receive(&store, &channel, "someone-else", "mid-2", "hi", at).await.value;
    let other_reply = store
        .ingest_echo(channel.id, echo("someone-else", "echo-x", "hey", at + 1_000, None))
        .await
        .unwrap()
        .unwrap()
        .value;

    let watermark = |watermark, status| StatusUpdate::Watermark {
        external_user_id: "cust".into(),
        watermark,
        status,
    };
    let read = store
        .apply_status(channel.id, watermark(at + 2_000, MessageStatus::Read))
        .await
        .unwrap();
    let mut changed = read.value.clone();
    changed.sort();
    assert_eq!(changed, vec![sent[0].id, sent[1].id]);
    assert_eq!(
        names(&read.events),
        vec![events::MESSAGE_STATUS, events::MESSAGE_STATUS]
    );
    assert!(read.events.iter().all(|e| e.payload["status"] == "read"));

    let messages = thread(&store, &acme, incoming.conversation_id).await;
    let status_of = |id: Id| messages.iter().find(|m| m.id == id).unwrap().status;
    assert_eq!(status_of(incoming.id), MessageStatus::Received);
    assert_eq!(status_of(sent[0].id), MessageStatus::Read);
    assert_eq!(status_of(sent[1].id), MessageStatus::Read);
    assert_eq!(status_of(sent[2].id), MessageStatus::Sent, "after the watermark");
    assert_eq!(
        message(&store, &acme, other.conversation_id, other_reply.id)
            .await
            .status,
        MessageStatus::Sent,
        "another customer"
    );

    // A delivery watermark arriving after the read one changes nothing.
    let delivered = store
        .apply_status(channel.id, watermark(at + 2_000, MessageStatus::Delivered))
        .await
        .unwrap();
    assert!(delivered.value.is_empty() && delivered.events.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The inbox

async fn conversation_views_and_filters(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let agent = new_agent(&store, &acme, "Agent").await;
    let web = connect(&store, &acme, "page-web").await;
    let shop = connect(&store, &acme, "page-shop").await;
    let at = earlier();
    let c1 = receive(&store, &web, "cust-1", "m-1", "one", at + 1_000)
        .await
        .value
        .conversation_id;
    let c2 = receive(&store, &web, "cust-2", "m-2", "two", at + 2_000)
        .await
        .value
        .conversation_id;
    let c3 = receive(&store, &shop, "cust-3", "m-3", "three", at + 3_000)
        .await
        .value
        .conversation_id;
    store
        .assign_conversation(acme.id, c1, Some(owner.id), &owner)
        .await
        .unwrap();
    store
        .assign_conversation(acme.id, c2, Some(agent.id), &owner)
        .await
        .unwrap();
    store
        .set_conversation_status(acme.id, c2, ConversationStatus::Resolved, &agent)
        .await
        .unwrap();

    let view = |view| ConversationFilter {
        view: Some(view),
        ..Default::default()
    };
    assert_eq!(
        list(&store, &acme, &owner, ConversationFilter::default()).await,
        vec![c3, c2, c1],
        "newest activity first"
    );
    assert_eq!(
        list(&store, &acme, &owner, view(InboxView::All)).await,
        vec![c3, c2, c1]
    );
    assert_eq!(list(&store, &acme, &owner, view(InboxView::Mine)).await, vec![c1]);
    assert_eq!(list(&store, &acme, &agent, view(InboxView::Mine)).await, vec![c2]);
    assert_eq!(list(&store, &acme, &agent, view(InboxView::Unassigned)).await, vec![c3]);

    let status = |status| ConversationFilter {
        status: Some(status),
        ..Default::default()
    };
    assert_eq!(
        list(&store, &acme, &owner, status(ConversationStatus::Resolved)).await,
        vec![c2]
    );
    assert_eq!(
        list(&store, &acme, &owner, status(ConversationStatus::New)).await,
        vec![c3, c1]
    );
    assert!(
        list(&store, &acme, &owner, status(ConversationStatus::Closed))
            .await
            .is_empty()
    );

    let channel = |id| ConversationFilter {
        channel: Some(id),
        ..Default::default()
    };
    assert_eq!(list(&store, &acme, &owner, channel(web.id)).await, vec![c2, c1]);
    assert_eq!(list(&store, &acme, &owner, channel(shop.id)).await, vec![c3]);

    let combined = ConversationFilter {
        view: Some(InboxView::Mine),
        status: Some(ConversationStatus::New),
        channel: Some(web.id),
        ..Default::default()
    };
    assert_eq!(list(&store, &acme, &owner, combined.clone()).await, vec![c1]);
    assert!(list(&store, &acme, &agent, combined).await.is_empty());

    let page = store
        .conversations(acme.id, owner.id, &view(InboxView::Mine))
        .await
        .unwrap();
    assert_eq!(page.items[0].assignee_name.as_deref(), Some(owner.name.as_str()));
    assert_eq!(page.next_cursor, None);
}

async fn conversations_page_by_activity(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    // Webhooks arrive out of order; the list follows when customers wrote, not when we heard.
    // `a` and `c` wrote at the same moment, and the first page boundary falls between them.
    let mut by_customer = std::collections::HashMap::new();
    for (customer, offset) in [("a", 2), ("b", 4), ("c", 2), ("d", 0), ("e", 1)] {
        let written = receive(
            &store,
            &channel,
            customer,
            &format!("m-{customer}"),
            customer,
            at + offset * 1_000,
        )
        .await;
        by_customer.insert(customer, written.value.conversation_id);
    }
    let expected: Vec<Id> = ["b", "c", "a", "e", "d"].iter().map(|c| by_customer[c]).collect();
    assert_eq!(
        list(&store, &acme, &owner, ConversationFilter::default()).await,
        expected
    );

    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let filter = ConversationFilter {
            limit: Some(2),
            before: before.clone(),
            ..Default::default()
        };
        let page = store.conversations(acme.id, owner.id, &filter).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| c.id));
        pages += 1;
        match page.next_cursor {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(seen, expected, "every conversation exactly once, in order");
    assert_eq!(pages, 3);

    // A new message lifts a conversation to the top.
    receive(&store, &channel, "d", "m-late", "back again", at + 10_000).await;
    assert_eq!(
        list(&store, &acme, &owner, ConversationFilter::default()).await[0],
        by_customer["d"]
    );

    let bad = ConversationFilter {
        before: Some("not-a-cursor".into()),
        ..Default::default()
    };
    assert_invalid(store.conversations(acme.id, owner.id, &bad).await, "a malformed cursor");
}

async fn messages_page_oldest_first(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let mut conversation_id = 0;
    for i in 0..5 {
        conversation_id = receive(
            &store,
            &channel,
            "cust",
            &format!("m-{i}"),
            &format!("body {i}"),
            at + i,
        )
        .await
        .value
        .conversation_id;
    }
    let bodies = |page: &Page<Message>| page.items.iter().map(|m| m.body.clone()).collect::<Vec<_>>();

    let all = store.messages(acme.id, conversation_id, None, 50).await.unwrap();
    assert_eq!(bodies(&all), ["body 0", "body 1", "body 2", "body 3", "body 4"]);
    assert_eq!(all.next_cursor, None);

    let newest = store.messages(acme.id, conversation_id, None, 2).await.unwrap();
    assert_eq!(bodies(&newest), ["body 3", "body 4"], "the latest page, oldest first");
    let before: Id = newest.next_cursor.as_deref().unwrap().parse().unwrap();
    let middle = store.messages(acme.id, conversation_id, Some(before), 2).await.unwrap();
    assert_eq!(bodies(&middle), ["body 1", "body 2"]);
    let before: Id = middle.next_cursor.as_deref().unwrap().parse().unwrap();
    let oldest = store.messages(acme.id, conversation_id, Some(before), 2).await.unwrap();
    assert_eq!(bodies(&oldest), ["body 0"]);
    assert_eq!(oldest.next_cursor, None);
}

async fn tenants_cannot_reach_each_other(store: DynStore) {
    let (alpha, alpha_owner) = new_org(&store, "alpha").await;
    let (beta, beta_owner) = new_org(&store, "beta").await;
    let channel = connect(&store, &alpha, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "private", earlier())
        .await
        .value
        .conversation_id;
    let failed = store
        .queue_outbound(alpha.id, reply(id, &alpha_owner, "draft", None))
        .await
        .unwrap()
        .value;
    store.claim_outbound(10).await.unwrap();
    store
        .finish_outbound(failed.id, Err("window closed".into()))
        .await
        .unwrap();
    receive(&store, &channel, "cust", "mid-2", "still there?", now_millis()).await;
    let conversation = store.conversation(alpha.id, id).await.unwrap();
    let alpha_seq = store.latest_seq(alpha.id).await.unwrap();

    assert_not_found(store.conversation(beta.id, id).await, "conversation()");
    assert_not_found(store.contact(beta.id, conversation.contact_id).await, "contact()");
    assert_not_found(store.messages(beta.id, id, None, 50).await, "messages()");
    assert_not_found(
        store
            .set_conversation_status(beta.id, id, ConversationStatus::Resolved, &beta_owner)
            .await,
        "set_conversation_status()",
    );
    assert_not_found(
        store
            .assign_conversation(beta.id, id, Some(beta_owner.id), &beta_owner)
            .await,
        "assign_conversation()",
    );
    assert_not_found(
        store.assign_conversation(beta.id, id, None, &beta_owner).await,
        "unassign",
    );
    assert_not_found(store.mark_read(beta.id, id).await, "mark_read()");
    assert_not_found(
        store
            .queue_outbound(beta.id, reply(id, &beta_owner, "hijack", None))
            .await,
        "queue_outbound()",
    );
    assert_not_found(store.retry_outbound(beta.id, failed.id).await, "retry_outbound()");
    assert_not_found(store.channel(beta.id, channel.id).await, "channel()");
    assert!(store.channels(beta.id).await.unwrap().is_empty());
    assert!(
        store
            .conversations(beta.id, beta_owner.id, &ConversationFilter::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    assert!(
        store.events_since(beta.id, 0, 100).await.unwrap().is_empty(),
        "beta never hears about alpha"
    );
    assert_eq!(store.latest_seq(beta.id).await.unwrap(), 0);
    assert_eq!(store.latest_seq(alpha.id).await.unwrap(), alpha_seq);
    assert_eq!(
        store.conversation(alpha.id, id).await.unwrap(),
        conversation,
        "alpha's conversation is untouched"
    );
    let messages = thread(&store, &alpha, id).await;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1].status, MessageStatus::Failed);
}

async fn status_and_assignment_leave_a_trace(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (_, stranger) = new_org(&store, "other").await;
    let agent = new_agent(&store, &acme, "Bea").await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let resolved = store
        .set_conversation_status(acme.id, id, ConversationStatus::Resolved, &owner)
        .await
        .unwrap();
    assert_eq!(resolved.value.status, ConversationStatus::Resolved);
    assert_eq!(names(&resolved.events), vec![events::CONVERSATION_STATUS]);
    assert_eq!(resolved.events[0].payload["status"], "resolved");
    let line = thread(&store, &acme, id).await.pop().unwrap();
    assert_eq!(line.direction, Direction::System);
    assert!(
        line.body.contains(&owner.name) && line.body.contains("resolved"),
        "system line: {}",
        line.body
    );
    assert_eq!(resolved.events[0].payload["message"]["id"], line.id);

    let unchanged = store
        .set_conversation_status(acme.id, id, ConversationStatus::Resolved, &owner)
        .await
        .unwrap();
    assert!(unchanged.events.is_empty(), "no change, no event");
    assert_eq!(thread(&store, &acme, id).await.len(), 2);

    let assigned = store
        .assign_conversation(acme.id, id, Some(agent.id), &owner)
        .await
        .unwrap();
    assert_eq!(assigned.value.assignee_id, Some(agent.id));
    assert_eq!(assigned.value.assignee_name.as_deref(), Some("Bea"));
    assert_eq!(names(&assigned.events), vec![events::CONVERSATION_ASSIGNED]);
    assert_eq!(assigned.events[0].payload["assignedTo"], agent.id);
    let line = thread(&store, &acme, id).await.pop().unwrap();
    assert_eq!(line.direction, Direction::System);
    assert!(line.body.contains("Bea"), "system line: {}", line.body);

    assert_invalid(
        store.assign_conversation(acme.id, id, Some(stranger.id), &owner).await,
        "assign to another org's user",
    );
    assert_invalid(
        store
            .assign_conversation(acme.id, id, Some(stranger.id + 1000), &owner)
            .await,
        "assign to nobody",
    );
    assert_eq!(
        store.conversation(acme.id, id).await.unwrap().assignee_id,
        Some(agent.id)
    );

    let unassigned = store.assign_conversation(acme.id, id, None, &agent).await.unwrap();
    assert_eq!(
        (unassigned.value.assignee_id, unassigned.value.assignee_name),
        (None, None)
    );
    assert_eq!(unassigned.events[0].payload["assignedTo"], serde_json::Value::Null);
    assert_eq!(
        thread(&store, &acme, id)
            .await
            .iter()
            .filter(|m| m.direction == Direction::System)
            .count(),
        3
    );
}

async fn mark_read_clears_unread(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    receive(&store, &channel, "cust", "mid-1", "one", at).await;
    let id = receive(&store, &channel, "cust", "mid-2", "two", at + 1)
        .await
        .value
        .conversation_id;

    let read = store.mark_read(acme.id, id).await.unwrap();
    assert_eq!(read.value.unread_count, 0);
    assert_eq!(names(&read.events), vec![events::CONVERSATION_UPDATED]);
    assert_eq!(store.conversation(acme.id, id).await.unwrap().unread_count, 0);
    assert!(store.mark_read(acme.id, id).await.unwrap().events.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The outbox

async fn queue_outbound_is_idempotent_by_client_id(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let first = store
        .queue_outbound(acme.id, reply(id, &owner, "Hi! How can I help?", Some("client-1")))
        .await
        .unwrap();
    let message = &first.value;
    assert_eq!(
        (message.direction, message.status),
        (Direction::Outbound, MessageStatus::Pending)
    );
    assert_eq!(
        (message.sender_user_id, message.sender_name.as_deref()),
        (Some(owner.id), Some(owner.name.as_str()))
    );
    assert_eq!(message.client_id.as_deref(), Some("client-1"));
    assert_eq!(names(&first.events), vec![events::MESSAGE_SENT]);

    let again = store
        .queue_outbound(acme.id, reply(id, &owner, "Hi! How can I help?", Some("client-1")))
        .await
        .unwrap();
    assert_eq!(again.value.id, message.id, "a resubmitted reply is the same message");
    assert!(again.events.is_empty());

    let conversation = store.conversation(acme.id, id).await.unwrap();
    assert_eq!(
        (conversation.status, conversation.unread_count),
        (ConversationStatus::Active, 0),
        "replying opens and reads it"
    );
    assert_eq!(
        conversation.last_message_preview.as_deref(),
        Some("Hi! How can I help?")
    );

    store
        .queue_outbound(acme.id, reply(id, &owner, "Anything else?", None))
        .await
        .unwrap();
    store
        .queue_outbound(acme.id, reply(id, &owner, "Anything else?", None))
        .await
        .unwrap();
    let outbound = thread(&store, &acme, id)
        .await
        .into_iter()
        .filter(|m| m.direction == Direction::Outbound)
        .count();
    assert_eq!(outbound, 3, "only a client id makes replies idempotent");
}

async fn racing_claimers_never_share_a_message(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust-42", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let mut queued = Vec::new();
    for i in 0..120 {
        queued.push(
            store
                .queue_outbound(acme.id, reply(id, &owner, &format!("reply {i}"), None))
                .await
                .unwrap()
                .value
                .id,
        );
    }

    let start = Arc::new(Barrier::new(4));
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let mut jobs = Vec::new();
                loop {
                    let batch = store.claim_outbound(3).await.unwrap();
                    if batch.is_empty() {
                        return jobs;
                    }
                    jobs.extend(batch);
                }
            })
        })
        .collect();
    let mut jobs = Vec::new();
    for claimer in claimers {
        jobs.extend(claimer.await.unwrap());
    }
    // A claimer stops at its first empty batch, which must mean the outbox was really empty,
    // not that another claimer held the rows it looked at.
    let leftover = store.claim_outbound(1000).await.unwrap();
    assert!(
        leftover.is_empty(),
        "{} pending messages were left behind by racing claimers",
        leftover.len()
    );

    let mut claimed: Vec<Id> = jobs.iter().map(|j| j.message.id).collect();
    claimed.sort();
    let unique: HashSet<Id> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a message was claimed twice: {claimed:?}");
    assert_eq!(claimed, queued, "every pending message is claimed");
    for job in &jobs {
        assert_eq!(job.message.status, MessageStatus::Sending);
        assert_eq!(
            (job.channel.channel.id, job.channel.organization_id),
            (channel.id, acme.id)
        );
        assert_eq!(job.recipient_external_id, "cust-42");
    }
    assert!(store.claim_outbound(100).await.unwrap().is_empty());
}

async fn finish_and_retry_outbound(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let sent = send(&store, &acme, id, &owner, "shipped", "platform-1").await;
    assert_eq!(
        (sent.status, sent.platform_message_id.as_deref(), sent.error.as_deref()),
        (MessageStatus::Sent, Some("platform-1"), None)
    );
    assert_eq!(message(&store, &acme, id, sent.id).await, sent);

    let doomed = store
        .queue_outbound(acme.id, reply(id, &owner, "too late", None))
        .await
        .unwrap()
        .value;
    store.claim_outbound(10).await.unwrap();
    let failed = store
        .finish_outbound(doomed.id, Err("outside the messaging window".into()))
        .await
        .unwrap();
    assert_eq!(failed.value.status, MessageStatus::Failed);
    assert_eq!(failed.value.error.as_deref(), Some("outside the messaging window"));
    assert_eq!(names(&failed.events), vec![events::MESSAGE_STATUS]);
    assert_eq!(failed.events[0].payload["status"], "failed");
    assert!(
        store.claim_outbound(10).await.unwrap().is_empty(),
        "a failed message is not resent by itself"
    );

    let retried = store.retry_outbound(acme.id, doomed.id).await.unwrap();
    assert_eq!(
        (retried.value.status, retried.value.error.as_deref()),
        (MessageStatus::Pending, None)
    );
    assert_eq!(names(&retried.events), vec![events::MESSAGE_STATUS]);
    let claimed = store.claim_outbound(10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.message.id).collect::<Vec<_>>(),
        vec![doomed.id]
    );
    let resent = store
        .finish_outbound(doomed.id, Ok("platform-2".into()))
        .await
        .unwrap()
        .value;
    assert_eq!((resent.status, resent.error), (MessageStatus::Sent, None));

    assert_invalid(store.retry_outbound(acme.id, sent.id).await, "retry a sent message");
    assert_not_found(
        store.retry_outbound(acme.id, doomed.id + 1000).await,
        "retry an unknown message",
    );
}

// ---------------------------------------------------------------------------------------------
// Interrupted sends (a claim left in `sending`)

/// The claim timeout these tests recover with; `let_claims_go_stale` waits longer than it.
const STALE: Duration = Duration::from_millis(5);
/// What the outbox worker uses: no claim a test just made is this old.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(120);

async fn let_claims_go_stale() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

/// A channel of the given kind with one customer conversation; returns (channel, conversation id).
async fn conversation_on(store: &DynStore, org: &Organization, kind: ChannelKind, account: &str) -> (Channel, Id) {
    let channel = store
        .connect_channel(
            org.id,
            NewChannel {
                kind,
                ..new_channel(account)
            },
        )
        .await
        .unwrap()
        .value;
    let id = receive(store, &channel, "cust", &format!("{account}-in-1"), "hello", earlier())
        .await
        .value
        .conversation_id;
    (channel, id)
}

/// Queues a reply and claims it, as the outbox does before calling the platform.
async fn queue_and_claim(
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

async fn interrupted_send_fails_for_the_agent_to_retry(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (_, id) = conversation_on(&store, &acme, ChannelKind::Messenger, "page-1").await;
    assert!(!ChannelKind::Messenger.idempotent_send());
    let queued = queue_and_claim(&store, &acme, id, &owner, "Your order ships today").await;
    let_claims_go_stale().await;

    let recovered = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert_eq!(recovered.value.len(), 1);
    let failed = &recovered.value[0];
    assert_eq!(
        (failed.id, failed.status, failed.error.as_deref()),
        (queued.id, MessageStatus::Failed, Some(INTERRUPTED_SEND))
    );
    assert_eq!(names(&recovered.events), vec![events::MESSAGE_STATUS]);
    let event = &recovered.events[0];
    assert_eq!(event.organization_id, acme.id);
    assert_eq!(event.payload["messageId"], queued.id);
    assert_eq!(event.payload["conversationId"], id);
    assert_eq!(event.payload["status"], "failed");
    assert_eq!(event.payload["error"], INTERRUPTED_SEND);
    assert_eq!(
        store.events_since(acme.id, event.seq - 1, 10).await.unwrap(),
        recovered.events,
        "the event is in the log, written with the status"
    );
    assert_eq!(message(&store, &acme, id, queued.id).await, *failed);

    let again = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert!(again.value.is_empty() && again.events.is_empty(), "recovered once");
    assert!(
        store.claim_outbound(10).await.unwrap().is_empty(),
        "it may have reached the customer: not resent by itself"
    );

    let retried = store.retry_outbound(acme.id, queued.id).await.unwrap();
    assert_eq!(
        (retried.value.status, retried.value.error.as_deref()),
        (MessageStatus::Pending, None)
    );
    let claimed = store.claim_outbound(10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.message.id).collect::<Vec<_>>(),
        vec![queued.id]
    );
    assert!(
        store
            .recover_stale_outbound(CLAIM_TIMEOUT, 100)
            .await
            .unwrap()
            .value
            .is_empty(),
        "the new claim has its own clock"
    );
    let sent = store
        .finish_outbound(queued.id, Ok("mid.retried".into()))
        .await
        .unwrap()
        .value;
    assert_eq!((sent.status, sent.error), (MessageStatus::Sent, None));
}

async fn interrupted_send_is_resent_where_the_platform_deduplicates(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (_, id) = conversation_on(&store, &acme, ChannelKind::Demo, "demo-1").await;
    assert!(ChannelKind::Demo.idempotent_send());
    let queued = queue_and_claim(&store, &acme, id, &owner, "On its way").await;
    let_claims_go_stale().await;

    let recovered = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert_eq!(
        recovered
            .value
            .iter()
            .map(|m| (m.id, m.status, m.error.clone()))
            .collect::<Vec<_>>(),
        vec![(queued.id, MessageStatus::Pending, None)]
    );
    assert_eq!(names(&recovered.events), vec![events::MESSAGE_STATUS]);
    assert_eq!(recovered.events[0].payload["status"], "pending");

    let claimed = store.claim_outbound(10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.message.id).collect::<Vec<_>>(),
        vec![queued.id],
        "sent again"
    );
    let sent = store
        .finish_outbound(queued.id, Ok(format!("demo-{}", queued.id)))
        .await
        .unwrap()
        .value;
    assert_eq!(sent.status, MessageStatus::Sent);
}

async fn fresh_and_finished_claims_are_left_alone(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (channel, id) = conversation_on(&store, &acme, ChannelKind::WhatsApp, "wa-1").await;

    let fresh = queue_and_claim(&store, &acme, id, &owner, "just claimed").await;
    let untouched = store.recover_stale_outbound(CLAIM_TIMEOUT, 100).await.unwrap();
    assert!(
        untouched.value.is_empty() && untouched.events.is_empty(),
        "a claim younger than the timeout is still being sent"
    );
    assert_eq!(
        message(&store, &acme, id, fresh.id).await.status,
        MessageStatus::Sending
    );

    store.finish_outbound(fresh.id, Ok("wamid.sent".into())).await.unwrap();
    let delivered = queue_and_claim(&store, &acme, id, &owner, "delivered").await;
    store
        .finish_outbound(delivered.id, Ok("wamid.delivered".into()))
        .await
        .unwrap();
    store
        .apply_status(
            channel.id,
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.delivered".into()],
                status: MessageStatus::Delivered,
                error: None,
            },
        )
        .await
        .unwrap();
    let failed = queue_and_claim(&store, &acme, id, &owner, "refused").await;
    store
        .finish_outbound(failed.id, Err("outside the messaging window".into()))
        .await
        .unwrap();
    let_claims_go_stale().await;

    let seq = store.latest_seq(acme.id).await.unwrap();
    let nothing = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert!(
        nothing.value.is_empty() && nothing.events.is_empty(),
        "a message whose send finished is not recovered: {:?}",
        nothing.value
    );
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), seq);
    let status = |m: Message| (m.status, m.error);
    assert_eq!(
        status(message(&store, &acme, id, fresh.id).await),
        (MessageStatus::Sent, None)
    );
    assert_eq!(
        status(message(&store, &acme, id, delivered.id).await),
        (MessageStatus::Delivered, None)
    );
    assert_eq!(
        status(message(&store, &acme, id, failed.id).await),
        (MessageStatus::Failed, Some("outside the messaging window".into()))
    );
}

async fn interrupted_send_whose_echo_arrived_is_sent(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (channel, id) = conversation_on(&store, &acme, ChannelKind::Messenger, "page-1").await;
    let queued = queue_and_claim(&store, &acme, id, &owner, "See you soon").await;
    // The platform took the send: a delivery report, then the echo with our metadata, came
    // back before the process died.
    store
        .apply_status(
            channel.id,
            StatusUpdate::Messages {
                platform_message_ids: vec!["mid.ours".into()],
                status: MessageStatus::Delivered,
                error: None,
            },
        )
        .await
        .unwrap();
    store
        .ingest_echo(
            channel.id,
            echo("cust", "mid.ours", "See you soon", earlier() + 1, Some(queued.id)),
        )
        .await
        .unwrap();
    let_claims_go_stale().await;

    let recovered = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert_eq!(recovered.value.len(), 1);
    let message = &recovered.value[0];
    assert_eq!(
        (
            message.id,
            message.status,
            message.error.as_deref(),
            message.platform_message_id.as_deref()
        ),
        (queued.id, MessageStatus::Delivered, None, Some("mid.ours")),
        "it reached the platform: never failed, never resent"
    );
    assert_eq!(recovered.events[0].payload["status"], "delivered");
    assert!(store.claim_outbound(10).await.unwrap().is_empty());
}

async fn late_answer_after_recovery_is_recorded(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (_, id) = conversation_on(&store, &acme, ChannelKind::Instagram, "ig-1").await;
    let queued = queue_and_claim(&store, &acme, id, &owner, "a slow upload").await;
    let_claims_go_stale().await;
    let recovered = store.recover_stale_outbound(STALE, 100).await.unwrap();
    assert_eq!(recovered.value[0].status, MessageStatus::Failed);

    // The send was slow, not dead: its answer comes after the recovery gave up on it.
    let finished = store.finish_outbound(queued.id, Ok("mid.late".into())).await.unwrap();
    assert_eq!(
        (finished.value.status, finished.value.error.as_deref()),
        (MessageStatus::Sent, None),
        "the agent is not asked to retry a message that went out"
    );
    assert_eq!(finished.events[0].payload["status"], "sent");
    assert_invalid(
        store.retry_outbound(acme.id, queued.id).await,
        "retry a message that went out",
    );
}

async fn concurrent_recoveries_recover_each_message_once(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (_, id) = conversation_on(&store, &acme, ChannelKind::Messenger, "page-1").await;
    let (_, demo_id) = conversation_on(&store, &acme, ChannelKind::Demo, "demo-1").await;
    let mut queued = Vec::new();
    for i in 0..40 {
        let conversation_id = if i % 2 == 0 { id } else { demo_id };
        queued.push(
            store
                .queue_outbound(acme.id, reply(conversation_id, &owner, &format!("reply {i}"), None))
                .await
                .unwrap()
                .value
                .id,
        );
    }
    assert_eq!(store.claim_outbound(100).await.unwrap().len(), queued.len());
    let_claims_go_stale().await;

    let start = Arc::new(Barrier::new(4));
    let recoverers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                store.recover_stale_outbound(STALE, 100).await.unwrap()
            })
        })
        .collect();
    let mut recovered = Vec::new();
    let mut emitted = Vec::new();
    for recoverer in recoverers {
        let written = recoverer.await.unwrap();
        recovered.extend(written.value);
        emitted.extend(written.events);
    }
    let mut ids: Vec<Id> = recovered.iter().map(|m| m.id).collect();
    ids.sort();
    assert_eq!(ids, queued, "every interrupted send is recovered exactly once");
    assert_eq!(emitted.len(), queued.len(), "one status event per message");
    let seqs: HashSet<i64> = emitted.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), emitted.len());
    for message in &recovered {
        let expected = if message.conversation_id == id {
            MessageStatus::Failed
        } else {
            MessageStatus::Pending
        };
        assert_eq!(message.status, expected);
    }
    assert_eq!(
        store.claim_outbound(100).await.unwrap().len(),
        queued.len() / 2,
        "the demo replies are sent again, once"
    );
}

// ---------------------------------------------------------------------------------------------
// Realtime catch-up

async fn events_replay_in_order(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (other, _) = new_org(&store, "other").await;
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), 0);

    let mut emitted = Vec::new();
    emitted.extend(
        store
            .connect_channel(acme.id, new_channel("page-1"))
            .await
            .unwrap()
            .events,
    );
    let channel = store
        .channel(acme.id, emitted[0].payload["channelId"].as_i64().unwrap())
        .await
        .unwrap()
        .channel;
    let written = receive(&store, &channel, "cust", "mid-1", "hello", earlier()).await;
    let id = written.value.conversation_id;
    emitted.extend(written.events);
    emitted.extend(store.mark_read(acme.id, id).await.unwrap().events);
    emitted.extend(
        store
            .set_conversation_status(acme.id, id, ConversationStatus::Resolved, &owner)
            .await
            .unwrap()
            .events,
    );
    connect(&store, &other, "page-2").await;

    assert_eq!(store.latest_seq(acme.id).await.unwrap(), 5);
    assert_eq!(
        store.latest_seq(other.id).await.unwrap(),
        1,
        "each organization counts its own events"
    );
    let all = store.events_since(acme.id, 0, 100).await.unwrap();
    assert_eq!(all, emitted, "the log replays exactly what the writes returned");
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        names(&all),
        vec![
            events::CHANNEL_STATUS,
            events::CONVERSATION_NEW,
            events::MESSAGE_RECEIVED,
            events::CONVERSATION_UPDATED,
            events::CONVERSATION_STATUS
        ]
    );
    assert!(
        all.iter()
            .all(|e| e.payload["seq"] == e.seq && e.organization_id == acme.id)
    );

    assert_eq!(store.events_since(acme.id, 2, 100).await.unwrap(), all[2..].to_vec());
    assert_eq!(store.events_since(acme.id, 0, 2).await.unwrap(), all[..2].to_vec());
    assert!(store.events_since(acme.id, 5, 100).await.unwrap().is_empty());
}

async fn page_first_echo_opens_a_conversation(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let written = store
        .ingest_echo(
            channel.id,
            echo("newcomer", "echo-9", "Hi! Thanks for following us", earlier(), None),
        )
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        names(&written.events),
        vec![events::CONVERSATION_NEW, events::MESSAGE_SENT]
    );
    let list = store
        .conversations(acme.id, 0, &ConversationFilter::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
}

async fn contact_profile_updates(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let (rival, _) = new_org(&store, "rival").await;
    let channel = connect(&store, &acme, "page-1").await;
    let first = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value;
    let contact_id = store
        .conversation(acme.id, first.conversation_id)
        .await
        .unwrap()
        .contact_id;
    let written = store
        .update_contact(
            acme.id,
            contact_id,
            Some("Alice Johnson"),
            Some("https://example.test/a.png"),
        )
        .await
        .unwrap();
    assert_eq!(written.value.name, "Alice Johnson");
    assert_eq!(names(&written.events), vec![events::CONTACT_UPDATED]);
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.contact_name, "Alice Johnson");
    assert_eq!(
        conversation.contact_avatar_url.as_deref(),
        Some("https://example.test/a.png")
    );
    // Only the name given changes; another organization cannot touch the contact.
    store.update_contact(acme.id, contact_id, None, None).await.unwrap();
    assert_eq!(store.contact(acme.id, contact_id).await.unwrap().name, "Alice Johnson");
    assert!(matches!(
        store.update_contact(rival.id, contact_id, Some("Mallory"), None).await,
        Err(StoreError::NotFound)
    ));
}

async fn rich_inbound_keeps_kind_and_quoted_message(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "wa-501").await;
    let id = receive(&store, &channel, "cust", "wamid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let ours = send(&store, &acme, id, &owner, "Here is your invoice", "wamid.ours").await;
    let photo = Attachment {
        kind: AttachmentKind::Image,
        url: "/api/media/whatsapp/501/m-1".into(),
        name: None,
        mime_type: Some("image/jpeg".into()),
    };
    let reply = store
        .ingest_inbound(
            channel.id,
            InboundMessage {
                external_user_id: "cust".into(),
                platform_message_id: "wamid.2".into(),
                body: "this one?".into(),
                attachments: vec![photo.clone()],
                kind: MessageKind::Media,
                reply_to_platform_id: Some("wamid.ours".into()),
                sent_at: earlier() + 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(
        (reply.kind, reply.attachments.clone()),
        (MessageKind::Media, vec![photo])
    );
    assert_eq!(
        reply.reply_to,
        Some(ReplyTo {
            message_id: Some(ours.id),
            platform_message_id: "wamid.ours".into(),
            preview: Some("Here is your invoice".into()),
        })
    );
    assert_eq!(message(&store, &acme, id, reply.id).await, reply);

    // A reply to something we never saw keeps the platform id, without a preview.
    let orphan = store
        .ingest_inbound(
            channel.id,
            InboundMessage {
                external_user_id: "cust".into(),
                platform_message_id: "wamid.3".into(),
                body: "and this".into(),
                reply_to_platform_id: Some("wamid.unknown".into()),
                sent_at: earlier() + 20,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap()
        .value;
    let quoted = orphan.reply_to.unwrap();
    assert_eq!((quoted.message_id, quoted.preview), (None, None));
}

async fn reactions_replace_and_remove(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "wa-501").await;
    let id = receive(&store, &channel, "cust", "wamid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let ours = send(&store, &acme, id, &owner, "Shipped today", "wamid.ours").await;
    let react = |emoji: Option<&str>, reaction_id: &str| ReactionUpdate {
        external_user_id: "cust".into(),
        platform_message_id: reaction_id.into(),
        target_platform_message_id: "wamid.ours".into(),
        emoji: emoji.map(str::to_string),
        sent_at: earlier() + 5,
    };
    let liked = store
        .apply_reaction(channel.id, react(Some("👍"), "r1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(liked.value.id, ours.id);
    assert_eq!(
        liked
            .value
            .reactions
            .iter()
            .map(|r| (r.emoji.as_str(), r.direction))
            .collect::<Vec<_>>(),
        vec![("👍", Direction::Inbound)]
    );
    assert_eq!(names(&liked.events), vec![events::MESSAGE_UPDATED]);
    assert!(
        store
            .apply_reaction(channel.id, react(Some("👍"), "r1"))
            .await
            .unwrap()
            .is_none(),
        "a repeated reaction changes nothing"
    );
    let loved = store
        .apply_reaction(channel.id, react(Some("❤️"), "r2"))
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(loved.reactions.len(), 1, "a customer has one reaction per message");
    assert_eq!(loved.reactions[0].emoji, "❤️");
    let removed = store
        .apply_reaction(channel.id, react(None, "r3"))
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(removed.reactions.is_empty());
    assert_eq!(message(&store, &acme, id, ours.id).await.reactions, vec![]);

    // A reaction to a message we never saw is kept as a message of its own, once.
    let mut orphan = react(Some("😂"), "r4");
    orphan.target_platform_message_id = "wamid.before-connect".into();
    let kept = store
        .apply_reaction(channel.id, orphan.clone())
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!((kept.kind, kept.direction), (MessageKind::Reaction, Direction::Inbound));
    assert!(kept.body.contains("😂"));
    assert!(store.apply_reaction(channel.id, orphan).await.unwrap().is_none());
}

async fn early_status_waits_for_the_platform_id(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "wa-501").await;
    let id = receive(&store, &channel, "cust", "wamid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let queued = store
        .queue_outbound(acme.id, reply(id, &owner, "on its way", None))
        .await
        .unwrap()
        .value;
    store.claim_outbound(10).await.unwrap();
    // The platform reports `read` before our send has recorded the id it returned.
    let early = store
        .apply_status(
            channel.id,
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.fast".into()],
                status: MessageStatus::Read,
                error: None,
            },
        )
        .await
        .unwrap();
    assert!(early.value.is_empty() && early.events.is_empty());
    let finished = store
        .finish_outbound(queued.id, Ok("wamid.fast".into()))
        .await
        .unwrap()
        .value;
    assert_eq!(finished.status, MessageStatus::Read, "the early report is not lost");
    assert_eq!(message(&store, &acme, id, queued.id).await.status, MessageStatus::Read);
}

async fn echo_of_an_in_flight_send_is_not_doubled(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "ig-1").await;
    let id = receive(&store, &channel, "cust", "mid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let queued = store
        .queue_outbound(acme.id, reply(id, &owner, "Thanks for writing!", None))
        .await
        .unwrap()
        .value;
    store.claim_outbound(10).await.unwrap();
    // The echo (without our metadata) overtakes the send's answer.
    let echoed = store
        .ingest_echo(
            channel.id,
            echo("cust", "mid.ours", "Thanks for writing!", earlier() + 1, None),
        )
        .await
        .unwrap();
    assert!(echoed.is_none());
    let finished = store
        .finish_outbound(queued.id, Ok("mid.ours".into()))
        .await
        .unwrap()
        .value;
    assert_eq!(finished.status, MessageStatus::Sent);
    let outbound: Vec<_> = thread(&store, &acme, id)
        .await
        .into_iter()
        .filter(|m| m.direction == Direction::Outbound)
        .collect();
    assert_eq!(outbound.len(), 1);
    assert_eq!(outbound[0].platform_message_id.as_deref(), Some("mid.ours"));
}

fn template_record(name: &str, status: TemplateStatus) -> TemplateRecord {
    TemplateRecord {
        waba_id: "waba-1".into(),
        platform_template_id: Some(format!("tpl-{name}")),
        name: name.into(),
        language: "en_US".into(),
        category: TemplateCategory::Utility,
        status,
        rejected_reason: None,
        content: TemplateContent {
            body: "Hi {{1}}, your order shipped.".into(),
            body_examples: vec!["Ann".into()],
            ..Default::default()
        },
        created_by: None,
    }
}

async fn templates_upsert_review_and_usage(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (globex, _) = new_org(&store, "globex").await;
    let written = store
        .upsert_template(acme.id, template_record("order_update", TemplateStatus::Pending))
        .await
        .unwrap();
    let (created, is_new) = written.value;
    assert!(is_new);
    assert_eq!(names(&written.events), vec![events::TEMPLATE_UPDATED]);
    assert_eq!((created.status, created.usage_count), (TemplateStatus::Pending, 0));
    let (again, is_new) = store
        .upsert_template(acme.id, template_record("order_update", TemplateStatus::Pending))
        .await
        .unwrap()
        .value;
    assert!(!is_new);
    assert_eq!(again.id, created.id);
    store
        .upsert_template(acme.id, template_record("spring_sale", TemplateStatus::Approved))
        .await
        .unwrap();

    let in_review = store.templates_in_review(10).await.unwrap();
    assert_eq!(
        in_review.iter().map(|(org, t)| (*org, t.id)).collect::<Vec<_>>(),
        vec![(acme.id, created.id)]
    );

    let reviewed = store
        .set_template_status(
            "waba-1",
            "tpl-order_update",
            TemplateStatus::Rejected,
            Some("INVALID_FORMAT"),
        )
        .await
        .unwrap();
    assert_eq!(reviewed.value.len(), 1);
    assert_eq!(reviewed.value[0].rejected_reason.as_deref(), Some("INVALID_FORMAT"));
    assert_eq!(names(&reviewed.events), vec![events::TEMPLATE_UPDATED]);
    assert!(
        store
            .set_template_status(
                "waba-1",
                "tpl-order_update",
                TemplateStatus::Rejected,
                Some("INVALID_FORMAT")
            )
            .await
            .unwrap()
            .events
            .is_empty(),
        "a repeated webhook changes nothing"
    );
    store
        .set_template_status("waba-1", "tpl-order_update", TemplateStatus::Approved, None)
        .await
        .unwrap();

    let approved = store
        .templates(acme.id, Some("waba-1"), Some(TemplateStatus::Approved))
        .await
        .unwrap();
    assert_eq!(
        approved.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        vec!["order_update", "spring_sale"]
    );
    assert!(
        store
            .templates(acme.id, Some("other-waba"), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.templates(globex.id, None, None).await.unwrap().is_empty());
    assert_not_found(store.template(globex.id, created.id).await, "another tenant's template");
    assert_not_found(
        store.delete_template(globex.id, created.id).await,
        "delete another tenant's template",
    );

    // Sending a template records one use, in the same transaction as the message.
    let channel = connect(&store, &acme, "wa-501").await;
    let id = receive(&store, &channel, "cust", "wamid.1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let mut with_template = reply(id, &owner, "Hi Ann, your order shipped.", None);
    with_template.kind = MessageKind::Template;
    with_template.template_id = Some(created.id);
    with_template.payload = Some(serde_json::json!({ "template": { "name": "order_update" } }));
    let queued = store.queue_outbound(acme.id, with_template).await.unwrap().value;
    assert_eq!(queued.kind, MessageKind::Template);
    let jobs = store.claim_outbound(10).await.unwrap();
    assert_eq!(jobs[0].payload.as_ref().unwrap()["template"]["name"], "order_update");
    let used = store.template(acme.id, created.id).await.unwrap();
    assert_eq!(used.usage_count, 1);
    assert!(used.last_used_at.is_some());

    let deleted = store.delete_template(acme.id, created.id).await.unwrap();
    assert_eq!(names(&deleted.events), vec![events::TEMPLATE_UPDATED]);
    assert_not_found(store.template(acme.id, created.id).await, "a deleted template");
}

fn new_upload(id: &str, conversation_id: Id, by: &User) -> NewUpload {
    NewUpload {
        id: id.to_string(),
        conversation_id,
        uploaded_by: by.id,
        name: "receipt.png".to_string(),
        mime_type: "image/png".to_string(),
        kind: AttachmentKind::Image,
        size: 5_000_000_000,
        sha256: "ab".repeat(32),
    }
}

async fn uploads_belong_to_one_organization(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (globex, intruder) = new_org(&store, "globex").await;
    let channel = connect(&store, &acme, "page-1").await;
    let conversation_id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;

    let recorded = store
        .record_upload(acme.id, new_upload("f00d", conversation_id, &owner))
        .await
        .unwrap();
    assert_eq!(
        recorded.file,
        app::attachments::UploadedFile {
            id: "f00d".into(),
            kind: AttachmentKind::Image,
            url: "/api/media/uploads/f00d".into(),
            name: "receipt.png".into(),
            mime_type: "image/png".into(),
            size: 5_000_000_000,
        },
        "sizes past 4 GiB survive"
    );
    assert_eq!(
        (recorded.organization_id, recorded.conversation_id),
        (acme.id, conversation_id)
    );
    assert_eq!(store.upload(acme.id, "f00d").await.unwrap(), recorded);

    assert_not_found(store.upload(globex.id, "f00d").await, "another organization's upload");
    assert_not_found(
        store
            .record_upload(globex.id, new_upload("beef", conversation_id, &intruder))
            .await,
        "uploading into another organization's conversation",
    );
    assert_not_found(store.upload(acme.id, "beef").await, "a refused upload leaves no row");
    assert_conflict(
        store
            .record_upload(acme.id, new_upload("f00d", conversation_id, &owner))
            .await,
        "a reused upload id",
    );

    // A reply carrying the upload keeps it as its attachment.
    let mut with_file = reply(conversation_id, &owner, "", None);
    with_file.attachments = vec![recorded.file.attachment()];
    with_file.kind = MessageKind::Media;
    let queued = store.queue_outbound(acme.id, with_file).await.unwrap().value;
    assert_eq!(queued.attachments, vec![recorded.file.attachment()]);
    assert_eq!(
        message(&store, &acme, conversation_id, queued.id).await.attachments[0].url,
        "/api/media/uploads/f00d"
    );
}

//! The outbox: queueing replies (idempotent by client id), claiming them so that no two senders
//! share one, finishing and retrying sends, and recovering sends interrupted in `sending`: failed
//! for the agent to retry, resent where the platform deduplicates, or marked sent when the
//! platform's answer or echo shows they went out.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

conformance!(
    queue_outbound_is_idempotent_by_client_id,
    racing_claimers_never_share_a_message,
    finish_and_retry_outbound,
    interrupted_send_fails_for_the_agent_to_retry,
    interrupted_send_is_resent_where_the_platform_deduplicates,
    fresh_and_finished_claims_are_left_alone,
    interrupted_send_whose_echo_arrived_is_sent,
    late_answer_after_recovery_is_recorded,
    concurrent_recoveries_recover_each_message_once,
    a_deferred_send_waits_its_turn_and_stays_pending,
    a_reply_quotes_a_message_of_its_own_conversation,
    a_sent_reply_is_revised_or_taken_back_once
);

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

/// A platform's "retry after N s" puts the reply back as `pending`, not `failed`: no claim
/// takes it before its time, and the first claim after it does.
async fn a_deferred_send_waits_its_turn_and_stays_pending(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "hello", earlier())
        .await
        .value
        .conversation_id;
    let queued = store
        .queue_outbound(acme.id, reply(id, &owner, "busy hour", None))
        .await
        .unwrap()
        .value;
    assert_eq!(store.claim_outbound(10).await.unwrap().len(), 1);

    let wait = Duration::from_millis(400);
    let deferred = store
        .defer_outbound(queued.id, now_millis() + wait.as_millis() as i64)
        .await
        .unwrap();
    assert_eq!(
        (deferred.value.status, deferred.value.error.as_deref()),
        (MessageStatus::Pending, None)
    );
    assert_eq!(names(&deferred.events), vec![events::MESSAGE_STATUS]);
    assert_eq!(deferred.events[0].payload["status"], "pending");
    let other = store
        .queue_outbound(acme.id, reply(id, &owner, "second", None))
        .await
        .unwrap()
        .value;
    let ids = |jobs: Vec<OutboundJob>| jobs.into_iter().map(|job| job.message.id).collect::<Vec<Id>>();
    assert_eq!(
        ids(store.claim_outbound(10).await.unwrap()),
        vec![other.id],
        "the deferred reply waits while others go"
    );

    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert_eq!(
        ids(store.claim_outbound(10).await.unwrap()),
        vec![queued.id],
        "claimed once the wait is over"
    );
}

/// A reply may quote a message of its conversation, and the platform's id of it goes with the
/// job; a message of another conversation (or organization) cannot be quoted.
async fn a_reply_quotes_a_message_of_its_own_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let first = receive(&store, &channel, "cust", "mid-1", "Which size?", earlier())
        .await
        .value;
    let other = receive(&store, &channel, "someone-else", "mid-2", "hi", earlier())
        .await
        .value;

    let quoting = NewOutbound {
        reply_to: Some(first.id),
        ..reply(first.conversation_id, &owner, "Medium, please", None)
    };
    let queued = store.queue_outbound(acme.id, quoting).await.unwrap().value;
    let quote = queued.reply_to.clone().unwrap();
    assert_eq!(quote.message_id, Some(first.id));
    assert_eq!(quote.platform_message_id, "mid-1");
    assert_eq!(quote.preview.as_deref(), Some("Which size?"));
    let job = store.claim_outbound(10).await.unwrap().pop().unwrap();
    assert_eq!(
        job.message.reply_to, queued.reply_to,
        "the adapter gets the platform's id"
    );

    let elsewhere = NewOutbound {
        reply_to: Some(other.id),
        ..reply(first.conversation_id, &owner, "wrong thread", None)
    };
    assert_invalid(
        store.queue_outbound(acme.id, elsewhere).await,
        "a message of another conversation",
    );
}

/// Recording an edit or a take-back of a sent reply: its organization only, replies only,
/// and nothing after it was taken back.
async fn a_sent_reply_is_revised_or_taken_back_once(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (rival, _) = new_org(&store, "rival").await;
    let channel = connect(&store, &acme, "bot-1").await;
    let inbound = receive(&store, &channel, "cust", "c:1", "hi", earlier()).await.value;
    let sent = send(&store, &acme, inbound.conversation_id, &owner, "See you tomorow", "c:2").await;

    let (found, record) = store.message_with_channel(acme.id, sent.id).await.unwrap();
    assert_eq!((found.id, record.channel.id), (sent.id, channel.id));
    assert_not_found(
        store.message_with_channel(rival.id, sent.id).await,
        "another organization's message",
    );

    let edited = store
        .revise_sent(acme.id, sent.id, Some("See you tomorrow"))
        .await
        .unwrap();
    assert_eq!(edited.value.body, "See you tomorrow");
    assert!(edited.value.edited_at.is_some());
    assert_eq!(names(&edited.events), vec![events::MESSAGE_UPDATED]);
    assert_eq!(
        message(&store, &acme, inbound.conversation_id, sent.id).await,
        edited.value
    );
    assert_not_found(
        store.revise_sent(rival.id, sent.id, Some("hijacked")).await,
        "another organization's message",
    );
    assert_not_found(
        store.revise_sent(acme.id, inbound.id, Some("not ours")).await,
        "a customer's message",
    );

    let taken_back = store.revise_sent(acme.id, sent.id, None).await.unwrap();
    assert!(taken_back.value.deleted_at.is_some());
    assert_not_found(store.revise_sent(acme.id, sent.id, None).await, "already taken back");
    assert_not_found(store.revise_sent(acme.id, sent.id, Some("late")).await, "an edit after");
}

//! Messages in a thread: inbound messages stored once however often the platform delivers them,
//! echoes of replies sent elsewhere or by us, delivery and read reports that only move forward
//! (per message or by watermark, also when they arrive before the send's answer), media, quoted
//! replies and reactions, and thread pages.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use std::sync::Arc;
use tokio::sync::Barrier;

conformance!(
    first_inbound_creates_contact_and_conversation,
    repeated_inbound_is_ignored,
    concurrent_duplicate_inbound_is_stored_once,
    follow_up_inbound_updates_the_conversation,
    foreign_echo_becomes_a_sent_message,
    own_echo_only_records_the_platform_id,
    message_status_never_goes_backwards,
    watermark_marks_earlier_messages,
    messages_page_oldest_first,
    rich_inbound_keeps_kind_and_quoted_message,
    reactions_replace_and_remove,
    early_status_waits_for_the_platform_id,
    echo_of_an_in_flight_send_is_not_doubled
);

async fn first_inbound_creates_contact_and_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let seq_before = store.latest_seq(acme.id).await.unwrap();
    let at = earlier();

    let mut msg = inbound("customer-9876", "mid-1", "Hello, is my order shipped?", at);
    msg.contact_name = Some("Maria".into());
    let written = store.ingest_inbound(channel.id, msg).await.unwrap().expect("stored");
    let delivered = &written.value;
    assert!(delivered.contact_created && delivered.conversation_opened);
    assert!(
        !delivered.conversation_reopened,
        "a new conversation is opened, not reopened"
    );
    let message = &delivered.message;
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
            external_id: "customer-9876".into(),
            unreachable: None,
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
        size: None,
        unavailable: None,
    };
    named.attachments = vec![photo.clone()];
    let with_photo = store
        .ingest_inbound(channel.id, named)
        .await
        .unwrap()
        .unwrap()
        .value
        .message;
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
    let delivered = &written.value;
    assert!(!delivered.contact_created && !delivered.conversation_opened);
    let message = &delivered.message;
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
        .value
        .message;

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
    assert_eq!(changed, vec![sent[0].message.id, sent[1].message.id]);
    assert_eq!(
        names(&read.events),
        vec![events::MESSAGE_STATUS, events::MESSAGE_STATUS]
    );
    assert!(read.events.iter().all(|e| e.payload["status"] == "read"));

    let messages = thread(&store, &acme, incoming.conversation_id).await;
    let status_of = |id: Id| messages.iter().find(|m| m.id == id).unwrap().status;
    assert_eq!(status_of(incoming.id), MessageStatus::Received);
    assert_eq!(status_of(sent[0].message.id), MessageStatus::Read);
    assert_eq!(status_of(sent[1].message.id), MessageStatus::Read);
    assert_eq!(
        status_of(sent[2].message.id),
        MessageStatus::Sent,
        "after the watermark"
    );
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
        size: None,
        unavailable: None,
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
        .value
        .message;
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
        .value
        .message;
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
    assert_eq!(liked.value.message.id, ours.id);
    assert_eq!(
        liked
            .value
            .message
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
        .value
        .message;
    assert_eq!(loved.reactions.len(), 1, "a customer has one reaction per message");
    assert_eq!(loved.reactions[0].emoji, "❤️");
    let removed = store
        .apply_reaction(channel.id, react(None, "r3"))
        .await
        .unwrap()
        .unwrap()
        .value
        .message;
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
        .value
        .message;
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

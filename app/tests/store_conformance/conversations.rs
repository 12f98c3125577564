//! Conversations: one per customer and channel, opened by the first message in either direction
//! (also when several arrive at once) and reopened by a new one; the inbox views, filters and
//! pages by latest activity; status changes and assignment, with the system line each leaves in
//! the thread; marking a conversation read.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use std::sync::Arc;
use tokio::sync::Barrier;

conformance!(
    concurrent_first_messages_share_one_conversation,
    inbound_reopens_resolved_conversation,
    conversation_views_and_filters,
    conversations_page_by_activity,
    status_and_assignment_leave_a_trace,
    mark_read_clears_unread,
    page_first_echo_opens_a_conversation
);

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

async fn list(store: &DynStore, org: &Organization, user: &User, filter: ConversationFilter) -> Vec<Id> {
    let page = store.conversations(org.id, user.id, &filter).await.unwrap();
    page.items.iter().map(|c| c.id).collect()
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

async fn inbound_reopens_resolved_conversation(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let at = earlier();
    let first = receive(&store, &channel, "cust", "mid-1", "hello", at).await.value;
    store
        .set_conversation_status(acme.id, first.conversation_id, ConversationStatus::Resolved, &owner)
        .await
        .unwrap();

    let written = store
        .ingest_inbound(channel.id, inbound("cust", "mid-2", "one more thing", at + 1_000))
        .await
        .unwrap()
        .expect("stored");
    let delivered = &written.value;
    assert!(delivered.conversation_reopened, "the delivery tells that it reopened");
    assert!(!delivered.conversation_opened && !delivered.contact_created);
    assert_eq!(delivered.message.conversation_id, first.conversation_id);
    assert_eq!(
        names(&written.events),
        vec![events::CONVERSATION_STATUS, events::MESSAGE_RECEIVED]
    );
    assert_eq!(written.events[0].payload["status"], "active");
    let conversation = store.conversation(acme.id, first.conversation_id).await.unwrap();
    assert_eq!(conversation.status, ConversationStatus::Active);
}

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

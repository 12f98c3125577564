//! The realtime event log: each organization counts its own events, and `events_since` replays
//! exactly what the writes returned, in order, from any point.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;

conformance!(events_replay_in_order);

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

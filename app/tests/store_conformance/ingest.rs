//! Group commit: many deliveries in one transaction. Each delivery is stored once however
//! often it is sent (inside one batch, across batches running at once), a bad delivery fails
//! alone, and the event log stays numbered in commit order without gaps while 32 writers
//! write at once — what a reader sees at any moment is a prefix of the final log.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Mutex;

conformance!(
    copies_in_one_batch_and_across_batches_store_one_message,
    a_bad_delivery_fails_alone,
    the_log_stays_gap_free_in_commit_order_under_32_writers,
    what_a_delivery_returns_is_what_is_read_back,
    an_edit_changes_the_stored_message_once,
);

fn message(channel: &Arc<ChannelRecord>, customer: &str, platform_id: &str) -> Vec<Ingest> {
    vec![Ingest {
        channel: channel.clone(),
        event: IngestEvent::Message(inbound(customer, platform_id, "hello", earlier())),
    }]
}

async fn record(store: &DynStore, org: &Organization, external_id: &str) -> Arc<ChannelRecord> {
    let channel = connect(store, org, external_id).await;
    Arc::new(store.channel(org.id, channel.id).await.unwrap())
}

fn turn() -> Arc<Mutex<()>> {
    Arc::new(Mutex::new(()))
}

async fn stored_ids(store: &DynStore, org_id: Id) -> Vec<String> {
    let mut ids = Vec::new();
    for conversation in store
        .conversations(org_id, 0, &ConversationFilter::default())
        .await
        .unwrap()
        .items
    {
        let page = store.messages(org_id, conversation.id, None, 200).await.unwrap();
        ids.extend(page.items.into_iter().filter_map(|m| m.platform_message_id));
    }
    ids.sort();
    ids
}

async fn copies_in_one_batch_and_across_batches_store_one_message(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = record(&store, &acme, "page-1").await;

    // 20 copies of one delivery inside one batch, beside a delivery of its own.
    let mut batch: Vec<Vec<Ingest>> = (0..20).map(|_| message(&channel, "cust", "mid-1")).collect();
    batch.push(message(&channel, "other", "mid-2"));
    let committed = store.ingest(batch, turn()).await.unwrap();
    let outcomes: Vec<Ingested> = committed
        .deliveries
        .into_iter()
        .map(|d| d.unwrap().value.remove(0))
        .collect();
    assert!(
        matches!(outcomes[0], Ingested::MessageStored(_)),
        "the first copy is stored"
    );
    assert!(
        outcomes[1..20]
            .iter()
            .all(|o| matches!(o, Ingested::Unchanged { platform_message_id } if platform_message_id == "mid-1")),
        "the other copies change nothing"
    );
    assert!(matches!(outcomes[20], Ingested::MessageStored(_)));

    // 20 senders at once, each in a batch of its own: the batches overlap where the backend
    // lets them.
    let mut senders = Vec::new();
    for _ in 0..20 {
        let (store, channel) = (store.clone(), channel.clone());
        senders.push(tokio::spawn(async move {
            let committed = store
                .ingest(vec![message(&channel, "cust", "mid-3")], turn())
                .await
                .unwrap();
            committed.deliveries.into_iter().next().unwrap().unwrap()
        }));
    }
    let mut stored = 0;
    for sender in senders {
        let written = sender.await.unwrap();
        if matches!(written.value[0], Ingested::MessageStored(_)) {
            stored += 1;
            assert!(!written.events.is_empty());
        } else {
            assert!(written.events.is_empty(), "a copy logs nothing");
        }
    }
    assert_eq!(stored, 1, "exactly one sender stored mid-3");
    assert_eq!(stored_ids(&store, acme.id).await, vec!["mid-1", "mid-2", "mid-3"]);
}

async fn a_bad_delivery_fails_alone(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = record(&store, &acme, "page-1").await;
    // A channel that does not exist (deleted since it was looked up): its rows cannot be written.
    let mut gone = (*channel).clone();
    gone.channel.id = 987_654;
    let gone = Arc::new(gone);

    let before = store.latest_seq(acme.id).await.unwrap();
    let batch = vec![
        message(&channel, "a", "mid-a"),
        vec![
            // Stored first, then undone with the rest of its delivery.
            Ingest {
                channel: channel.clone(),
                event: IngestEvent::Message(inbound("b", "mid-b", "hi", earlier())),
            },
            Ingest {
                channel: gone.clone(),
                event: IngestEvent::Message(inbound("b", "mid-b2", "hi", earlier())),
            },
        ],
        message(&channel, "c", "mid-c"),
    ];
    let committed = store.ingest(batch, turn()).await.unwrap();
    let results: Vec<bool> = committed.deliveries.iter().map(Result::is_ok).collect();
    assert_eq!(results, vec![true, false, true], "only the bad delivery fails");
    assert_eq!(
        stored_ids(&store, acme.id).await,
        vec!["mid-a", "mid-c"],
        "nothing of the failed delivery is kept"
    );
    let logged = store.events_since(acme.id, before, 100).await.unwrap();
    let returned: Vec<Event> = committed
        .deliveries
        .into_iter()
        .filter_map(Result::ok)
        .flat_map(|w| w.events)
        .collect();
    assert_eq!(logged, returned, "the log holds exactly the events of what was stored");
    let seqs: Vec<i64> = logged.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (before + 1..=before + seqs.len() as i64).collect::<Vec<_>>());

    // Alone in its batch, a failing delivery leaves nothing either, and the retry stores it.
    let alone = store.ingest(vec![message(&gone, "d", "mid-d")], turn()).await.unwrap();
    assert!(alone.deliveries[0].is_err());
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), before + seqs.len() as i64);
}

async fn the_log_stays_gap_free_in_commit_order_under_32_writers(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = record(&store, &acme, "page-1").await;
    let start = store.latest_seq(acme.id).await.unwrap();

    // A reader polls the log the whole time: whatever it sees must be gap-free, so a client
    // catching up never skips an event that commits later with a smaller number.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let seen = store.events_since(acme.id, start, 10_000).await.unwrap();
                for (i, event) in seen.iter().enumerate() {
                    assert_eq!(event.seq, start + 1 + i as i64, "a reader saw a hole in the log");
                }
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };

    // 32 writers: single deliveries, batches of several, and agents' writes beside them.
    let order = turn();
    let mut writers = Vec::new();
    for writer in 0..32 {
        let (store, channel, order) = (store.clone(), channel.clone(), order.clone());
        writers.push(tokio::spawn(async move {
            let mut returned = Vec::new();
            for round in 0..5 {
                let batch: Vec<Vec<Ingest>> = (0..1 + writer % 3)
                    .map(|n| {
                        message(
                            &channel,
                            &format!("cust-{writer}"),
                            &format!("mid-{writer}-{round}-{n}"),
                        )
                    })
                    .collect();
                let committed = store.ingest(batch, order.clone()).await.unwrap();
                for delivery in committed.deliveries {
                    returned.extend(delivery.unwrap().events);
                }
            }
            returned
        }));
    }
    let mut returned = Vec::new();
    for writer in writers {
        returned.extend(writer.await.unwrap());
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.await.unwrap() > 0);

    let log = store.events_since(acme.id, start, 10_000).await.unwrap();
    let expected_messages: usize = (0..32).map(|w| 5 * (1 + w % 3)).sum();
    assert_eq!(
        log.iter().filter(|e| e.name == events::MESSAGE_RECEIVED).count(),
        expected_messages
    );
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (start + 1..=start + log.len() as i64).collect::<Vec<_>>(),
        "numbered 1, 2, 3… with no gap"
    );
    returned.sort_by_key(|e| e.seq);
    assert_eq!(
        returned, log,
        "the writers were handed exactly the events the log holds"
    );
    assert_eq!(store.latest_seq(acme.id).await.unwrap(), start + log.len() as i64);
}

async fn what_a_delivery_returns_is_what_is_read_back(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = record(&store, &acme, "page-1").await;
    let mut quoting = inbound("cust", "mid-2", "about that", earlier() + 1);
    quoting.reply_to_platform_id = Some("mid-1".into());
    let mut unknown_quote = inbound("cust", "mid-3", "and this", earlier() + 2);
    unknown_quote.reply_to_platform_id = Some("mid-never-seen".into());
    let mut returned = Vec::new();
    // A new customer, then the same customer again (the one-read path), quoting.
    for message in [inbound("cust", "mid-1", "hello", earlier()), quoting, unknown_quote] {
        let committed = store
            .ingest(
                vec![vec![Ingest {
                    channel: channel.clone(),
                    event: IngestEvent::Message(message),
                }]],
                turn(),
            )
            .await
            .unwrap();
        let mut written = committed.deliveries.into_iter().next().unwrap().unwrap();
        let Ingested::MessageStored(delivered) = written.value.remove(0) else {
            panic!("stored")
        };
        returned.push(delivered.message);
    }
    let conversation = returned[0].conversation_id;
    let read_back = store.messages(acme.id, conversation, None, 50).await.unwrap().items;
    assert_eq!(read_back, returned);
    let reply = returned[1].reply_to.as_ref().unwrap();
    assert_eq!(reply.message_id, Some(returned[0].id));
    assert_eq!(reply.preview.as_deref(), Some("hello"));
    let unknown = returned[2].reply_to.as_ref().unwrap();
    assert_eq!((unknown.message_id, unknown.preview.as_deref()), (None, None));
}

/// A customer's edit (Telegram's `edited_message`) changes the stored message and says so; the
/// same edit again changes nothing; an edit of a message we never had keeps the words.
async fn an_edit_changes_the_stored_message_once(store: DynStore) {
    let (acme, _) = new_org(&store, "acme").await;
    let channel = record(&store, &acme, "bot-1").await;
    store
        .ingest(vec![message(&channel, "cust", "c:1")], turn())
        .await
        .unwrap();
    let sent_at = earlier();
    let edit = |platform_id: &str, body: &str| {
        vec![Ingest {
            channel: channel.clone(),
            event: IngestEvent::Edit(MessageEdit {
                message: inbound("cust", platform_id, body, sent_at),
                edited_at: sent_at + 5_000,
            }),
        }]
    };
    let committed = store.ingest(vec![edit("c:1", "hello, edited")], turn()).await.unwrap();
    let written = committed.deliveries.into_iter().next().unwrap().unwrap();
    let Ingested::MessageEdited(delivered) = &written.value[0] else {
        panic!("{:?}", written.value)
    };
    assert_eq!(delivered.message.body, "hello, edited");
    assert_eq!(delivered.message.edited_at, Some(sent_at + 5_000));
    assert_eq!(names(&written.events), vec![events::MESSAGE_UPDATED]);
    let stored = crate::support::message(&store, &acme, delivered.message.conversation_id, delivered.message.id).await;
    assert_eq!(stored, delivered.message);

    let committed = store.ingest(vec![edit("c:1", "hello, edited")], turn()).await.unwrap();
    let written = committed.deliveries.into_iter().next().unwrap().unwrap();
    assert!(
        matches!(written.value[0], Ingested::Unchanged { .. }),
        "{:?}",
        written.value
    );
    assert!(written.events.is_empty());

    let committed = store
        .ingest(vec![edit("c:9", "never saw the first version")], turn())
        .await
        .unwrap();
    let written = committed.deliveries.into_iter().next().unwrap().unwrap();
    assert!(matches!(&written.value[0], Ingested::MessageStored(d) if d.message.body == "never saw the first version"));
}

//! Catch-up under load: while 16 senders deliver webhooks at once, an agent's socket drops
//! and reconnects with `auth.since` set to the last `seq` it saw. What it got live plus what
//! the replay sent is exactly the organization's log — every event once, in `seq` order
//! after the reconnect, none missed. Both backends.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{now_ms, text_message_event};
use reqwest::StatusCode;
use serde_json::json;
use socket_client::SocketClient;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::{Backend, TestApp};

const SENDERS: usize = 16;
const EACH: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    reconnecting_socket_misses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    reconnecting_socket_misses_nothing(Backend::Postgres).await;
}

async fn reconnecting_socket_misses_nothing(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    let (token, user) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&token, "101").await;
    let org_id = user["user"]["organizationId"].as_i64().unwrap();

    let mut socket = SocketClient::connect(&app.base, json!({ "token": token }))
        .await
        .unwrap();
    let session = socket.wait_for("session", Duration::from_secs(10)).await.unwrap();
    let start = session.payload["seq"].as_i64().unwrap();
    let mut seen: Vec<i64> = Vec::new();

    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let app = app.clone();
        senders.push(tokio::spawn(async move {
            for n in 0..EACH {
                let payload = text_message_event(
                    "101",
                    &format!("{}", 5000 + sender),
                    &format!("m_catch_{sender}_{n}"),
                    "while you were away",
                    now_ms(),
                );
                assert_eq!(app.deliver(&payload).await.status(), StatusCode::OK);
            }
        }));
    }

    // Live for a while, then the connection drops mid-stream.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 20 {
        assert!(Instant::now() < deadline, "no live events");
        if let Some(seq) = next_seq(&mut socket).await {
            seen.push(seq);
        }
    }
    drop(socket);
    assert!(
        seen.windows(2).all(|pair| pair[0] < pair[1]),
        "live events arrive in seq order: {seen:?}"
    );
    let last = *seen.last().unwrap();
    let mut socket = SocketClient::connect(&app.base, json!({ "token": token, "since": last }))
        .await
        .unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let total = app.state.services.store.latest_seq(org_id).await.unwrap();
    let expected: BTreeSet<i64> = (start + 1..=total).collect();
    let mut after: Vec<i64> = Vec::new();
    while seen.iter().chain(&after).collect::<BTreeSet<_>>().len() < expected.len() {
        let Some(seq) = next_seq(&mut socket).await else {
            break;
        };
        after.push(seq);
    }
    assert!(after.iter().all(|seq| *seq > last), "the replay starts after `since`");
    let union: BTreeSet<i64> = seen.iter().chain(&after).copied().collect();
    assert_eq!(union, expected, "live plus replayed is the whole log, none missed");
    assert_eq!(
        total - start,
        (SENDERS * EACH) as i64 + SENDERS as i64,
        "one message:received per message, one conversation:new per customer"
    );
}

/// The `seq` of the next logged event (skipping `session`, which reports the latest number).
async fn next_seq(socket: &mut SocketClient) -> Option<i64> {
    loop {
        let event = socket.next(Duration::from_secs(10)).await?;
        if event.name == "session" {
            continue;
        }
        return event.payload.get("seq").and_then(|s| s.as_i64());
    }
}

//! Two server instances sharing one PostgreSQL database and Redis: a message that reaches
//! one instance's webhook appears on an agent socket connected to the other.
#![allow(clippy::unwrap_used)]

mod support;

use app::store::testing::scratch_postgres_url;
use fake_meta::{now_ms, text_message_event};
use reqwest::StatusCode;
use serde_json::json;
use socket_client::SocketClient;
use std::time::Duration;
use support::{Backend, TestApp};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_sockets_on_every_instance() {
    let database_url = scratch_postgres_url().await;
    let shared = |c: &mut server::config::Config| {
        c.database_url = database_url.clone();
        c.redis_url = Some(REDIS_URL.into());
    };
    let first = TestApp::spawn_with(Backend::Postgres, shared).await;
    let second = TestApp::spawn_with(Backend::Postgres, shared).await;
    // Both instances talk to the first instance's fake Graph API.
    let (token, _) = first.signup("Acme", "owner@acme.test").await;
    first.connect_page(&token, "101").await;

    let mut on_second = SocketClient::connect(&second.base, json!({ "token": token }))
        .await
        .unwrap();
    let mut on_first = SocketClient::connect(&first.base, json!({ "token": token }))
        .await
        .unwrap();
    let payload = text_message_event("101", "7001001", "m_scale", "Hello from far away", now_ms());
    assert_eq!(first.deliver(&payload).await.status(), StatusCode::OK);

    for socket in [&mut on_second, &mut on_first] {
        let event = socket
            .wait_for("message:received", Duration::from_secs(10))
            .await
            .expect("message:received");
        assert_eq!(event.payload["message"]["body"], "Hello from far away");
        assert!(event.payload["seq"].is_i64());
    }
    // The second instance serves the same data.
    assert_eq!(second.conversations(&token).await.len(), 1);
}

/// Presence lives in Redis: what one instance learns (an open tab, a chosen status, who views
/// a conversation, a closed last tab) the other reports, and its sockets hear of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_viewers_are_the_same_on_every_instance() {
    let database_url = scratch_postgres_url().await;
    let shared = |c: &mut server::config::Config| {
        c.database_url = database_url.clone();
        c.redis_url = Some(REDIS_URL.into());
        c.presence_grace = Duration::from_millis(500);
    };
    let first = TestApp::spawn_with(Backend::Postgres, shared).await;
    let second = TestApp::spawn_with(Backend::Postgres, shared).await;
    let (owner, signup) = first.signup("Acme", "owner@acme.test").await;
    let (lea, lea_token) = first.add_agent(&signup, "Lea", "lea@acme.test").await;
    let team: serde_json::Value = first
        .post(
            &owner,
            "/api/inbox/teams",
            json!({ "name": "Support", "members": [lea.id] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let presence_path = format!("/api/inbox/team/{}/presence", team["id"]);
    async fn status_of(app: &TestApp, owner: &str, path: &str) -> String {
        let people: serde_json::Value = app.get(owner, path).await.json().await.unwrap();
        people[0]["status"].as_str().unwrap().to_string()
    }
    assert_eq!(status_of(&second, &owner, &presence_path).await, "offline");

    // Lea opens a tab on the first instance: the second sees her online.
    let lea_socket = SocketClient::connect(&first.base, json!({ "token": lea_token }))
        .await
        .unwrap();
    second
        .eventually("the second instance sees Lea online", || async {
            status_of(&second, &owner, &presence_path).await == "online"
        })
        .await;

    // She goes away through the second instance; a socket on the first hears it.
    let mut watcher = SocketClient::connect(&first.base, json!({ "token": owner }))
        .await
        .unwrap();
    let response = second
        .put(
            &lea_token,
            &format!("/api/users/{}/status", lea.id),
            json!({ "status": "away" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let update = loop {
        let event = watcher
            .wait_for("presence:update", Duration::from_secs(10))
            .await
            .expect("presence:update");
        if event.payload["userId"] == lea.id {
            break event;
        }
    };
    assert_eq!(update.payload["status"], "away");
    assert_eq!(status_of(&first, &owner, &presence_path).await, "away");

    // Who views a conversation is the same wherever it is asked.
    first.connect_page(&owner, "101").await;
    let payload = text_message_event("101", "7001001", "m_view", "Anyone there?", now_ms());
    assert_eq!(first.deliver(&payload).await.status(), StatusCode::OK);
    let conversation = first.only_conversation(&owner).await;
    lea_socket.emit("conversation:viewing", json!({ "conversationId": conversation }));
    let viewers_path = format!("/api/inbox/conversations/{conversation}/viewers");
    second
        .eventually("the second instance lists Lea as a viewer", || async {
            let viewers: serde_json::Value = second.get(&owner, &viewers_path).await.json().await.unwrap();
            viewers
                .as_array()
                .is_some_and(|v| v.len() == 1 && v[0]["userId"] == lea.id)
        })
        .await;

    // Her last tab closes: after the grace period she is offline everywhere, and no longer viewing.
    drop(lea_socket);
    second
        .eventually("Lea is offline after the grace period", || async {
            status_of(&second, &owner, &presence_path).await == "offline"
        })
        .await;
    let viewers: serde_json::Value = second.get(&owner, &viewers_path).await.json().await.unwrap();
    assert_eq!(viewers, json!([]));
}

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

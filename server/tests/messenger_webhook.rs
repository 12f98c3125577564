//! The Messenger webhook route over HTTP, on both backends: verified before stored,
//! stored once, and never a trace of a bad delivery.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{delivery_event, now_ms, read_event, sign, text_message_event};
use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, TestApp, VERIFY_TOKEN};

async fn app_with_page(backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&token, "101").await;
    (app, token)
}

async fn message_count(app: &TestApp, token: &str) -> usize {
    let mut total = 0;
    for conversation in app.conversations(token).await {
        total += app.messages(token, conversation["id"].as_i64().unwrap()).await.len();
    }
    total
}

async fn subscription_handshake(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ok = app
        .http
        .get(app.url(&format!(
            "/api/webhooks/messenger?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=12345"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "12345");
    let wrong = app
        .http
        .get(app.url("/api/webhooks/messenger?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
}

async fn valid_delivery_is_stored_once(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let payload = text_message_event("101", "7001001", "m_first", "Hello, do you ship abroad?", now_ms());
    for _ in 0..3 {
        assert_eq!(app.deliver(&payload).await.status(), StatusCode::OK);
    }
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["lastMessagePreview"], "Hello, do you ship abroad?");
    assert_eq!(conversations[0]["unreadCount"], 1);
    let messages = app.messages(&token, conversations[0]["id"].as_i64().unwrap()).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["direction"], "inbound");
    assert_eq!(messages[0]["platformMessageId"], "m_first");
    // The customer's name comes from the page's User Profile API, shortly after.
    app.eventually("the contact's name from Meta", || async {
        app.conversations(&token).await[0]["contactName"] == "Alice Johnson"
    })
    .await;
}

async fn concurrent_copies_make_one_message(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let payload = text_message_event("101", "7001002", "m_race", "Are you open today?", now_ms());
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move { app.deliver(&payload).await.status() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(message_count(&app, &token).await, 1);
    assert_eq!(app.conversations(&token).await.len(), 1);
}

async fn bad_signatures_leave_no_trace(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let payload = text_message_event("101", "7001001", "m_forged", "forged", now_ms());
    let body = serde_json::to_vec(&payload).unwrap();
    let missing = app.deliver_raw(&body, None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let wrong = app.deliver_raw(&body, Some(sign("not-the-secret", &body))).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let garbage = app.deliver_raw(&body, Some("sha256=zz".into())).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    // A correct signature over a different body does not validate this one.
    let other = sign(&app.fake.app_secret(), b"{}");
    assert_eq!(
        app.deliver_raw(&body, Some(other)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(message_count(&app, &token).await, 0);
    assert!(app.conversations(&token).await.is_empty());
}

async fn malformed_and_oversized_bodies_are_refused(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let broken = b"{\"object\": \"page\", \"entry\": [".to_vec();
    let response = app
        .deliver_raw(&broken, Some(sign(&app.fake.app_secret(), &broken)))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");

    let huge_text = "x".repeat(100 * 1024);
    let huge = serde_json::to_vec(&text_message_event("101", "7001001", "m_huge", &huge_text, now_ms())).unwrap();
    let response = app.deliver_raw(&huge, Some(sign(&app.fake.app_secret(), &huge))).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(message_count(&app, &token).await, 0);
}

async fn unknown_page_is_acknowledged_and_dropped(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let payload = text_message_event("999", "7009999", "m_stranger", "hello?", now_ms());
    assert_eq!(app.deliver(&payload).await.status(), StatusCode::OK);
    assert!(app.conversations(&token).await.is_empty());
}

async fn deliveries_and_reads_update_reply_status(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    assert_eq!(
        app.deliver(&text_message_event(
            "101",
            "7001001",
            "m_q",
            "Is it waterproof?",
            now_ms()
        ))
        .await
        .status(),
        StatusCode::OK
    );
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let sent = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "Yes, fully.", "clientId": "c-1" }),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let reply_id = sent.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    app.eventually("the reply to reach the fake Send API", || async {
        !app.fake.sent().is_empty()
    })
    .await;
    let sent_to_meta = app.fake.sent();
    assert_eq!(sent_to_meta[0].text(), Some("Yes, fully."));
    assert_eq!(sent_to_meta[0].messaging_type(), Some("RESPONSE"));
    app.eventually("the reply to be sent", || async {
        status_of(&app, &token, conversation, reply_id).await.0 == "sent"
    })
    .await;
    let mid = status_of(&app, &token, conversation, reply_id).await.1.unwrap();

    // A read may arrive before the delivery; the delivery must not move it back.
    let later = now_ms() + 1000;
    assert_eq!(
        app.deliver(&read_event("101", "7001001", later)).await.status(),
        StatusCode::OK
    );
    assert_eq!(status_of(&app, &token, conversation, reply_id).await.0, "read");
    assert_eq!(
        app.deliver(&delivery_event("101", "7001001", [mid.as_str()], later))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(status_of(&app, &token, conversation, reply_id).await.0, "read");
    // The echo Meta sends for our own reply does not create a second message.
    app.eventually("the echo to be processed", || async {
        app.messages(&token, conversation).await.len() == 2
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.messages(&token, conversation).await.len(), 2);
}

/// One customer `message` to page 101, in the shape of Meta's `messages` webhook reference.
fn customer_message(psid: &str, message: serde_json::Value, at: i64) -> serde_json::Value {
    json!({
        "object": "page",
        "entry": [{ "id": "101", "time": at, "messaging": [{
            "sender": { "id": psid }, "recipient": { "id": "101" }, "timestamp": at, "message": message
        }]}]
    })
}

async fn replies_carry_the_quoted_message(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let at = now_ms() - 60_000;
    let first = text_message_event("101", "7001003", "m_question", "Do you have it in blue?", at);
    assert_eq!(app.deliver(&first).await.status(), StatusCode::OK);
    // Meta's "Reply Message" example: `reply_to` names the quoted message's mid.
    let reply = customer_message(
        "7001003",
        json!({
            "mid": "m_reply",
            "text": "I mean this one",
            "reply_to": { "mid": "m_question", "is_self_reply": true }
        }),
        at + 1,
    );
    assert_eq!(app.deliver(&reply).await.status(), StatusCode::OK);
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let thread = app.messages(&token, conversation).await;
    let by_id = |id: &str| thread.iter().find(|m| m["platformMessageId"] == id).cloned().unwrap();
    let reply = by_id("m_reply");
    assert_eq!(reply["body"], "I mean this one");
    assert_eq!(reply["replyTo"]["platformMessageId"], "m_question");
    assert_eq!(reply["replyTo"]["messageId"], by_id("m_question")["id"]);
    assert_eq!(reply["replyTo"]["preview"], "Do you have it in blue?");
    assert!(by_id("m_question")["replyTo"].is_null());
}

async fn a_sticker_sent_in_both_forms_is_one_sticker(backend: Backend) {
    let (app, token) = app_with_page(backend).await;
    let url = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png";
    // Meta's sticker transition: the new `sticker` attachment and the older image of it.
    let both = customer_message(
        "7001004",
        json!({
            "mid": "m_sticker",
            "attachments": [
                { "type": "sticker", "payload": { "url": url, "sticker_id": 369239263222822_i64 } },
                { "type": "image", "payload": { "url": url, "sticker_id": 369239263222822_i64 } }
            ]
        }),
        now_ms(),
    );
    assert_eq!(app.deliver(&both).await.status(), StatusCode::OK);
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations[0]["lastMessagePreview"], "[sticker]");
    let thread = app.messages(&token, conversations[0]["id"].as_i64().unwrap()).await;
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0]["kind"], "media");
    assert_eq!(
        thread[0]["attachments"],
        json!([{ "kind": "sticker", "url": url }]),
        "{thread:#?}"
    );
}

async fn status_of(app: &TestApp, token: &str, conversation: i64, id: i64) -> (String, Option<String>) {
    let message = app.message(token, conversation, id).await;
    (
        message["status"].as_str().unwrap_or_default().to_string(),
        message["platformMessageId"].as_str().map(str::to_string),
    )
}

on_both_backends!(
    subscription_handshake,
    valid_delivery_is_stored_once,
    concurrent_copies_make_one_message,
    bad_signatures_leave_no_trace,
    malformed_and_oversized_bodies_are_refused,
    unknown_page_is_acknowledged_and_dropped,
    deliveries_and_reads_update_reply_status,
    replies_carry_the_quoted_message,
    a_sticker_sent_in_both_forms_is_one_sticker,
);

//! The channel registry over HTTP, on both backends: webhook routes exist only for kinds that
//! receive webhooks, a per-channel route (`/api/webhooks/{kind}/{key}`) delivers into the
//! channel its key names after the platform's own check, and a kind that polls gets a run per
//! live channel that stops when the channel is disconnected.
#![allow(clippy::unwrap_used)]

mod support;

use app::inbound::{InboundEvent, NormalizedEvent, Source};
use app::model::{ChannelKind, ChannelStatus};
use app::store::{InboundMessage, NewChannel};
use fake_meta::{encode_body, now_ms, sign, text_message_event};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp};

async fn post_raw(app: &TestApp, path: &str, body: &[u8], signature: Option<String>) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(fake_meta::SIGNATURE_HEADER, signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn only_kinds_that_receive_webhooks_have_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Telegram and Twilio call each channel's own route only: no app-level one.
    for path in [
        "/api/webhooks/telegram",
        "/api/webhooks/sms",
        "/api/webhooks/demo",
        "/api/webhooks/demo/abc",
        "/api/webhooks/telegram/not-a-key",
    ] {
        let (status, body) = post_raw(&app, path, b"{}", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
}

async fn a_channel_route_delivers_into_its_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, signup) = app.signup("Acme", "owner@acme.test").await;
    let organization_id = signup["organization"]["id"].as_i64().unwrap();
    let channel_id = app.connect_page(&token, "101").await["id"].as_i64().unwrap();
    let channel = app
        .state
        .services
        .store
        .channel(organization_id, channel_id)
        .await
        .unwrap();
    let route = format!("/api/webhooks/messenger/{}", channel.webhook_key);

    let payload = text_message_event("101", "psid-1", "m-keyed", "hello by key", now_ms());
    let body = encode_body(&payload);
    let secret = app.fake.app_secret();

    let (status, _) = post_raw(
        &app,
        "/api/webhooks/messenger/not-a-key",
        &body,
        Some(sign(&secret, &body)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown key names no channel");
    let (status, body_of_refusal) = post_raw(&app, &route, &body, Some(sign("wrong-secret", &body))).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the platform's own check still applies"
    );
    assert_eq!(body_of_refusal["error"]["code"], "unauthorized");
    assert!(
        app.conversations(&token).await.is_empty(),
        "refused deliveries leave no trace"
    );

    let (status, _) = post_raw(&app, &route, &body, Some(sign(&secret, &body))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_raw(&app, &route, &body, Some(sign(&secret, &body))).await;
    assert_eq!(status, StatusCode::OK, "a retry is acknowledged");
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["channelId"], channel_id);
    let conversation_id = conversations[0]["id"].as_i64().unwrap();
    let messages = app.messages(&token, conversation_id).await;
    assert_eq!(messages.len(), 1, "and stored once");
    assert_eq!(messages[0]["body"], "hello by key");
}

async fn a_polling_channel_runs_while_it_is_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, signup) = app.signup("Acme", "owner@acme.test").await;
    let organization_id = signup["organization"]["id"].as_i64().unwrap();
    let services = &app.state.services;
    let demo = NewChannel {
        kind: ChannelKind::Demo,
        external_id: "demo-acme".into(),
        name: "Demo".into(),
        credentials: app.state.secrets.seal("{}"),
        parent_account_id: None,
    };
    let channel = services.publish(services.store.connect_channel(organization_id, demo).await.unwrap());
    let pollers = app.state.pollers.clone();
    app.eventually("the demo channel's customers to start", || async {
        pollers.is_running(channel.id)
    })
    .await;

    // A simulated customer writes, an agent answers, and the customer reads the answer: the
    // poller's work is what an agent sees as the read tick.
    let record = services.store.channel(organization_id, channel.id).await.unwrap();
    let writes = NormalizedEvent {
        account_id: String::new(),
        event: InboundEvent::Message(InboundMessage {
            external_user_id: "demo-ana".into(),
            platform_message_id: "ana-1".into(),
            body: "Do you ship to Lisbon?".into(),
            sent_at: now_ms(),
            ..Default::default()
        }),
    };
    services.receive(Source::Channel(&record), vec![writes]).await.unwrap();
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let reply = app.reply_id(&token, conversation, "We do, in two days.").await;
    app.wait_for_status(&token, conversation, reply, "read").await;

    let disconnected = services
        .store
        .set_channel_status(channel.id, ChannelStatus::Disconnected, None)
        .await
        .unwrap();
    services.publish(disconnected);
    app.eventually("the demo channel's customers to stop", || async {
        !pollers.is_running(channel.id)
    })
    .await;
}

async fn form_connect_answers_clearly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, signup) = app.signup("Acme", "owner@acme.test").await;
    let organization_id = signup["organization"]["id"].as_i64().unwrap();
    let connect = |path: &'static str, body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app.post(&token, path, body).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = connect("/api/inbox/channels/nonsense", json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, body) = connect("/api/inbox/channels/demo", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["message"], "Demo channels are not connected with a form");
    let (status, body) = connect("/api/inbox/channels/instagram", json!({ "pageId": "101" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["message"], "Page access token is required",
        "the kind's declared fields are required"
    );
    let (status, body) = connect("/api/inbox/channels/instagram", json!({ "pageId": 101 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["message"], "pageId must be text");
    let (status, _) = connect("/api/inbox/channels/instagram", json!([1])).await;
    assert!(
        status.is_client_error(),
        "a body that is not an object is refused: {status}"
    );
    assert!(
        app.state
            .services
            .store
            .channels(organization_id)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
}

on_both_backends!(
    form_connect_answers_clearly,
    only_kinds_that_receive_webhooks_have_routes,
    a_channel_route_delivers_into_its_channel,
    a_polling_channel_runs_while_it_is_live
);

//! The fake against itself: a scripted client plays the app, and a small
//! webhook receiver checks what the fake delivers.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use super::test_support::{file_server, get_json, sha256_hex};
use super::*;

/// Webhooks the receiver got: (signature header, raw body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn webhook_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let sig = headers
                    .get(SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                sink.lock().unwrap().push((sig, body.to_vec()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn wait_for(received: &Received, count: usize) -> Vec<(String, Vec<u8>)> {
    for _ in 0..100 {
        if received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    received.lock().unwrap().clone()
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn oauth_pages_subscribe_send_and_echo() {
    let (hook, received) = webhook_receiver().await;
    let fake = FakeMeta::spawn(FakeMetaConfig {
        webhook_url: Some(hook),
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let graph = fake.graph_url();
    let redirect = "http://app.test/callback";

    // The dialog's Continue link carries a code and the state back.
    let page = http
        .get(fake.dialog_url())
        .query(&[
            ("client_id", "1234567890"),
            ("redirect_uri", redirect),
            ("state", "s1"),
            ("scope", "pages_messaging"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Continue as Test Owner"));
    let marker = "id=\"fake-fb-continue\" href=\"";
    let href_start = page.find(marker).unwrap() + marker.len();
    let href = page[href_start..].split('"').next().unwrap().replace("&amp;", "&");
    let url = url::Url::parse(&href).unwrap();
    assert!(href.starts_with(redirect));
    let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    assert_eq!(url.query_pairs().find(|(k, _)| k == "state").unwrap().1, "s1");

    // Wrong client id on the dialog is an error page.
    let bad = http
        .get(fake.dialog_url())
        .query(&[("client_id", "999"), ("redirect_uri", redirect)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // Code exchange: wrong secret, then success, then reuse.
    let exchange = |secret: &'static str, code: String| {
        http.get(format!("{graph}/oauth/access_token"))
            .query(&[
                ("client_id", "1234567890"),
                ("client_secret", secret),
                ("redirect_uri", redirect),
                ("code", &code),
            ])
            .send()
    };
    let (status, body) = json_of(exchange("nope", code.clone()).await.unwrap()).await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(1)));
    let (status, body) = json_of(exchange("fake-app-secret", code.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    let user_token = body["access_token"].as_str().unwrap().to_owned();
    let (status, body) = json_of(exchange("fake-app-secret", code).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["error_subcode"], 36009);

    // POST form works too (oauth2 crates send that).
    let code2 = fake.issue_code(redirect);
    let res = http
        .post(format!("{graph}/oauth/access_token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "1234567890"),
            ("client_secret", "fake-app-secret"),
            ("redirect_uri", redirect),
            ("code", &code2),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Pages.
    let (status, accounts) = json_of(
        http.get(format!("{graph}/me/accounts"))
            .query(&[
                ("access_token", user_token.as_str()),
                ("fields", "id,name,access_token"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(accounts["data"][0]["id"], "101");
    assert_eq!(accounts["data"][0]["access_token"], "page-token-101");
    assert!(accounts["data"][0].get("tasks").is_none());
    assert!(accounts["paging"]["cursors"]["after"].is_string());
    let (status, body) = json_of(
        http.get(format!("{graph}/me/accounts"))
            .query(&[("access_token", "bogus")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(190)));

    // Subscribe.
    let (status, body) = json_of(
        http.post(format!("{graph}/101/subscribed_apps"))
            .query(&[
                ("subscribed_fields", "messages,message_echoes"),
                ("access_token", "page-token-101"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, json!({ "success": true })));
    assert_eq!(fake.subscriptions(), vec!["101".to_owned()]);
    let (status, _) = json_of(
        http.post(format!("{graph}/101/subscribed_apps"))
            .query(&[("subscribed_fields", "messages"), ("access_token", "page-token-102")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    // Profile.
    let (_, profile) = json_of(
        http.get(format!("{graph}/7001001"))
            .query(&[
                ("fields", "first_name,last_name,profile_pic"),
                ("access_token", "page-token-101"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(profile["first_name"], "Alice");
    assert_eq!(profile["id"], "7001001");

    // Send → response, record, and a signed echo with metadata.
    let (status, sent) = json_of(
        http.post(format!("{graph}/101/messages"))
            .query(&[("access_token", "page-token-101")])
            .json(&json!({
                "recipient": { "id": "7001003" },
                "messaging_type": "RESPONSE",
                "message": { "text": "Bonjour Chloé", "metadata": "out-1" },
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sent["recipient_id"], "7001003");
    let mid = sent["message_id"].as_str().unwrap().to_owned();
    assert!(mid.starts_with("m_"));
    assert_eq!(fake.sent()[0].metadata(), Some("out-1"));

    let got = wait_for(&received, 1).await;
    let (sig, raw) = &got[0];
    assert_eq!(sig, &sign("fake-app-secret", raw));
    assert!(String::from_utf8_lossy(raw).contains("Chlo\\u00e9"));
    let echo: Value = serde_json::from_slice(raw).unwrap();
    let msg = &echo["entry"][0]["messaging"][0]["message"];
    assert_eq!(msg["is_echo"], true);
    assert_eq!(msg["mid"], mid.as_str());
    assert_eq!(msg["metadata"], "out-1");
    assert_eq!(msg["text"], "Bonjour Chloé");
}

#[tokio::test]
async fn send_api_errors_match_meta() {
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let send = |token: &str, body: Value| {
        http.post(format!("{}/me/messages", fake.graph_url()))
            .query(&[("access_token", token)])
            .json(&body)
            .send()
    };
    let text = json!({ "recipient": { "id": "7001001" }, "messaging_type": "RESPONSE", "message": { "text": "hi" } });

    let (status, body) = json_of(
        send("page-token-101", json!({ "message": { "text": "x" } }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(100)));
    let (_, body) = json_of(
        send("page-token-101", json!({ "recipient": { "id": "7001001" } }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["error_subcode"], 2_018_034);
    let (_, body) = json_of(
        send(
            "page-token-101",
            json!({ "recipient": { "id": "nobody" }, "message": { "text": "x" } }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["error_subcode"], 2_018_001);

    // Outside the window: untagged fails, HUMAN_AGENT passes.
    fake.mark_outside_window("7001001");
    let (status, body) = json_of(send("page-token-101", text.clone()).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 10);
    assert_eq!(body["error"]["error_subcode"], 2_018_278);
    assert_eq!(body["error"]["type"], "OAuthException");
    let tagged = json!({ "recipient": { "id": "7001001" }, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": { "text": "hi" } });
    assert_eq!(send("page-token-101", tagged).await.unwrap().status(), 200);

    // A new customer message reopens the window (no webhook URL: 502-ish delivery).
    let (_, delivery) = fake.customer_message("101", "7001001", "hello again").await;
    assert!(delivery.status.is_none());
    assert_eq!(send("page-token-101", text.clone()).await.unwrap().status(), 200);

    // Expired token: 190/463, and /me/accounts issues a new one.
    assert!(fake.expire_page_token("101"));
    let (status, body) = json_of(send("page-token-101", text.clone()).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["error_subcode"], 463);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Error validating access token: Session has expired")
    );
    let user = fake.issue_user_token();
    let (_, accounts) = json_of(
        http.get(format!("{}/me/accounts", fake.graph_url()))
            .query(&[("access_token", user.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let fresh = accounts["data"][0]["access_token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, "page-token-101");
    assert_eq!(send(&fresh, text).await.unwrap().status(), 200);

    fake.reset();
    assert!(fake.sent().is_empty());
    assert_eq!(fake.page_token("101").as_deref(), Some("page-token-101"));
}

#[tokio::test]
async fn control_api_delivers_signed_customer_events() {
    let (hook, received) = webhook_receiver().await;
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let base = fake.base_url();
    http.post(format!("{base}/_fake/webhook-url"))
        .json(&json!({ "url": hook }))
        .send()
        .await
        .unwrap();

    let (status, body) = json_of(
        http.post(format!("{base}/_fake/customer-message"))
            .json(&json!({ "pageId": "102", "psid": "8888", "text": "photo:", "attachments": [{ "type": "image", "url": "http://x/y.png" }] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], 200);
    let mid = body["mid"].as_str().unwrap().to_owned();
    let (status, body) = json_of(
        http.post(format!("{base}/_fake/delivery"))
            .json(&json!({ "pageId": "102", "psid": "8888", "mids": ["m_a"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_u64()), (200, Some(200)));
    http.post(format!("{base}/_fake/read"))
        .json(&json!({ "pageId": "102", "psid": "8888", "watermark": 42 }))
        .send()
        .await
        .unwrap();

    let got = wait_for(&received, 3).await;
    assert_eq!(got.len(), 3);
    for (sig, raw) in &got {
        assert_eq!(sig, &sign("fake-app-secret", raw));
    }
    let first: Value = serde_json::from_slice(&got[0].1).unwrap();
    let message = &first["entry"][0]["messaging"][0]["message"];
    assert_eq!(message["mid"], mid.as_str());
    assert_eq!(message["attachments"][0]["payload"]["url"], "http://x/y.png");
    let second: Value = serde_json::from_slice(&got[1].1).unwrap();
    assert_eq!(second["entry"][0]["messaging"][0]["delivery"]["mids"][0], "m_a");
    let third: Value = serde_json::from_slice(&got[2].1).unwrap();
    assert_eq!(third["entry"][0]["messaging"][0]["read"]["watermark"], 42);

    // The new PSID now has a profile on page 102.
    let (status, _) = json_of(
        http.get(format!("{}/8888", fake.graph_url()))
            .query(&[("access_token", "page-token-102")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        http.post(format!("{base}/_fake/pages/999/expire-token"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let sent = get_json(&http, format!("{base}/_fake/sent")).await;
    assert_eq!(sent, json!([]));
}

/// A Send API body with an `image` (or other) attachment pointing at `url`.
fn attachment_send(kind: &str, url: &str) -> Value {
    json!({
        "recipient": { "id": "7001001" },
        "messaging_type": "RESPONSE",
        "message": { "attachment": { "type": kind, "payload": { "url": url, "is_reusable": true } }, "metadata": "m-1" },
    })
}

#[tokio::test]
async fn send_api_fetches_attachment_urls() {
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let png = media::png_picture("composer");
    let files = file_server(vec![
        ("/cat.png", "image/png", png.clone()),
        ("/empty.pdf", "application/pdf", Vec::new()),
        ("/huge.jpg", "image/jpeg", vec![0; 8 * 1024 * 1024 + 1]),
    ])
    .await;
    let http = reqwest::Client::new();
    let send = |body: Value| {
        http.post(format!("{}/me/messages", fake.graph_url()))
            .query(&[("access_token", "page-token-101")])
            .json(&body)
            .send()
    };

    let (status, body) = json_of(
        send(attachment_send("image", &format!("{files}/cat.png")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].metadata(), Some("m-1"));
    assert_eq!(
        sent[0].attachment,
        Some(SentAttachment {
            kind: "image".to_owned(),
            source: "link".to_owned(),
            content_type: "image/png".to_owned(),
            size: png.len() as u64,
            sha256: sha256_hex(&png),
        })
    );
    let listed = get_json(&http, format!("{}/_fake/sent", fake.base_url())).await;
    assert_eq!(
        listed[0]["attachment"],
        json!({ "kind": "image", "source": "link", "content_type": "image/png", "size": png.len(), "sha256": sha256_hex(&png) })
    );

    // Unreachable, 404 and empty links: Meta's 100/2018008, nothing sent.
    fake.reset();
    for url in [
        "http://127.0.0.1:9/x".to_owned(),
        format!("{files}/missing.png"),
        format!("{files}/empty.pdf"),
    ] {
        let (status, body) = json_of(send(attachment_send("file", &url)).await.unwrap()).await;
        assert_eq!(status, 400, "{url}");
        assert_eq!(body["error"]["message"], "(#100) Failed to fetch the file from the url");
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["code"], 100);
        assert_eq!(body["error"]["error_subcode"], 2_018_008);
        assert!(body["error"]["fbtrace_id"].is_string());
    }
    // Images over 8 MB: 100/2018109; the same file passes as a `file` (25 MB).
    let (status, body) = json_of(
        send(attachment_send("image", &format!("{files}/huge.jpg")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "(#100) Attachment size exceeds allowable limit"
    );
    assert_eq!(body["error"]["error_subcode"], 2_018_109);
    assert!(fake.sent().is_empty());
    let listed = get_json(&http, format!("{}/_fake/sent", fake.base_url())).await;
    assert_eq!(listed, json!([]));
    let (status, _) = json_of(
        send(attachment_send("file", &format!("{files}/huge.jpg")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Token errors come first: no fetch decides the answer.
    let (_, body) = json_of(
        http.post(format!("{}/me/messages", fake.graph_url()))
            .query(&[("access_token", "bogus")])
            .json(&attachment_send("image", "http://127.0.0.1:9/x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["code"], 190);
}

#[tokio::test]
async fn requests_are_recorded_with_their_query() {
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let token = fake.issue_user_token();
    let in_query = http
        .get(format!("{}/me?fields=id&access_token={token}", fake.graph_url()))
        .send()
        .await
        .unwrap();
    let in_header = http
        .get(format!("{}/me?fields=id", fake.graph_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    // Graph takes the token either way; only the request log tells them apart.
    assert_eq!(
        (in_query.status(), in_header.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(
        fake.requests(),
        vec![
            format!("GET /v21.0/me?fields=id&access_token={token}"),
            "GET /v21.0/me?fields=id".to_owned(),
        ]
    );
    fake.reset();
    assert!(fake.requests().is_empty());
}

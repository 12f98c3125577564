//! Agents attaching files to replies, end to end over HTTP on both backends against the
//! local fake of Meta: the upload route's checks, who may see an upload, WhatsApp sending
//! it through its media upload, and Messenger fetching it from a signed link.
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Backend, TestApp, error_of};

const WABA: &str = "401";
const NUMBER: &str = "501";
const MARIA: &str = "15550001111";
const PAGE: &str = "101";

/// A 1×1 PNG.
fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

/// Uploads a PNG that must be accepted; returns the upload's answer.
async fn upload_png(app: &TestApp, token: &str, conversation_id: i64, name: &str) -> Value {
    let response = app.upload(token, Some(conversation_id), name, "image/png", png()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Sends a reply carrying `file` that must be accepted (202); returns the queued message.
async fn send_with_file(app: &TestApp, token: &str, conversation_id: i64, content: &str, file: &Value) -> Value {
    let response = app
        .post(
            token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation_id, "content": content, "attachments": [{ "url": file["url"] }] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.json().await.unwrap()
}

async fn whatsapp_conversation(app: &TestApp, token: &str) -> i64 {
    app.connect_whatsapp(token, NUMBER, WABA).await;
    app.fake.whatsapp_text(NUMBER, MARIA, "Can you send the invoice?").await;
    app.conversations(token).await[0]["id"].as_i64().unwrap()
}

async fn uploads_are_checked_and_private(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let conversation = whatsapp_conversation(&app, &token).await;

    // The name says JPEG, the bytes say PNG: the bytes win.
    let response = app
        .upload(&token, Some(conversation), "photo.jpg", "image/jpeg", png())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let file: Value = response.json().await.unwrap();
    assert_eq!(file["kind"], "image");
    assert_eq!(file["mimeType"], "image/png");
    assert_eq!(file["name"], "photo.jpg");
    assert_eq!(file["size"], png().len());
    let url = file["url"].as_str().unwrap();
    assert!(url.starts_with("/api/media/uploads/"), "{url}");

    let own = app.get(&token, url).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.headers()["content-type"], "image/png");
    assert_eq!(own.headers()["x-content-type-options"], "nosniff");
    assert_eq!(own.bytes().await.unwrap().to_vec(), png());
    assert_eq!(
        app.http.get(app.url(url)).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let (stranger, _) = app.signup("Globex", "owner@globex.test").await;
    assert_eq!(app.get(&stranger, url).await.status(), StatusCode::NOT_FOUND);

    // What WhatsApp does not take is refused with its reason, before anything is kept.
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let (status, message) = error_of(
        app.upload(&token, Some(conversation), "fun.gif", "image/gif", gif)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.starts_with("WhatsApp does not accept image/gif"), "{message}");
    let mut big = png();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let (status, message) = error_of(
        app.upload(&token, Some(conversation), "big.png", "image/png", big)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("up to 5 MB"), "{message}");
    let disguised = b"<html><script>alert(1)</script></html>".to_vec();
    let (status, _) = error_of(
        app.upload(&token, Some(conversation), "cat.png", "image/png", disguised)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "text dressed as a picture");
    let (status, message) = error_of(app.upload(&token, None, "a.png", "image/png", png()).await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "conversationId is required")
    );
    let (status, _) = error_of(
        app.upload(&token, Some(conversation), "empty.pdf", "application/pdf", vec![])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.upload(&stranger, Some(conversation), "a.png", "image/png", png())
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "another organization's conversation"
    );
    let folder = app.state.config.data_dir.join("media/uploads");
    let kept: Vec<_> = walk(&folder);
    assert_eq!(kept.len(), 1, "only the accepted upload is on disk: {kept:?}");

    // A reply may only name uploads of its own organization.
    let theirs = whatsapp_conversation_for(&app, &stranger).await;
    let stranger_file = upload_png(&app, &stranger, theirs, "theirs.png").await;
    for (attachment, why) in [
        (json!({ "url": stranger_file["url"] }), "another organization's upload"),
        (
            json!({ "url": "https://elsewhere.example/a.png" }),
            "a link that is not an upload",
        ),
    ] {
        let response = app
            .post(
                &token,
                "/api/inbox/messages/send",
                json!({ "conversationId": conversation, "content": "", "attachments": [attachment] }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
}

/// The second organization gets a number of its own (the fake's second one).
async fn whatsapp_conversation_for(app: &TestApp, token: &str) -> i64 {
    app.connect_whatsapp(token, "502", WABA).await;
    app.fake.whatsapp_text("502", "15550002222", "Hello").await;
    app.conversations(token).await[0]["id"].as_i64().unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

async fn whatsapp_sends_the_file_with_its_caption(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let conversation = whatsapp_conversation(&app, &token).await;
    let file = upload_png(&app, &token, conversation, "invoice.png").await;
    let queued = send_with_file(&app, &token, conversation, "Here it is", &file).await;
    assert_eq!(queued["kind"], "media");
    assert_eq!(queued["body"], "Here it is");
    assert_eq!(queued["attachments"][0]["url"], file["url"]);
    assert_eq!(queued["attachments"][0]["name"], "invoice.png");
    let id = queued["id"].as_i64().unwrap();
    app.wait_for_status(&token, conversation, id, "sent").await;

    let sent = app.fake.whatsapp_sent().pop().unwrap();
    assert_eq!(sent.body["type"], "image");
    assert_eq!(sent.body["image"]["caption"], "Here it is");
    let media_id = sent.body["image"]["id"].as_str().unwrap();
    assert_eq!(
        app.fake.whatsapp_media_bytes(media_id),
        Some(png()),
        "the customer gets our bytes"
    );
    let messages = app.messages(&token, conversation).await;
    assert_eq!(
        messages.len(),
        2,
        "one message for the file and its caption: {messages:?}"
    );
}

async fn messenger_fetches_the_file_from_a_signed_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&token, PAGE).await;
    let (_, delivery) = app.fake.customer_message(PAGE, "7001", "Photo please").await;
    assert_eq!(delivery.status, Some(200));
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let file = upload_png(&app, &token, conversation, "shoe.png").await;
    let text_reply = send_with_file(&app, &token, conversation, "Our best seller", &file).await;
    assert_eq!(text_reply["body"], "Our best seller");
    assert!(text_reply["attachments"].as_array().unwrap().is_empty());
    // Messenger shows no captions: the file goes first, as a message of its own.
    let messages = app.messages(&token, conversation).await;
    let file_message = &messages[messages.len() - 2];
    assert_eq!(file_message["attachments"][0]["url"], file["url"]);
    assert_eq!(file_message["body"], "");
    for message in [file_message, &text_reply] {
        app.wait_for_status(&token, conversation, message["id"].as_i64().unwrap(), "sent")
            .await;
    }

    let sent = app.fake.sent();
    let with_file = sent
        .iter()
        .find(|s| s.body.pointer("/message/attachment").is_some())
        .expect("the file was sent");
    assert_eq!(with_file.body["message"]["attachment"]["type"], "image");
    let link = with_file.body["message"]["attachment"]["payload"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with(&app.url("/api/media/public/")), "{link}");
    let received = with_file.attachment.as_ref().expect("Meta fetched the file");
    assert_eq!(
        (received.source.as_str(), received.content_type.as_str(), received.size),
        ("link", "image/png", png().len() as u64)
    );
    assert_eq!(received.sha256, hex::encode(Sha256::digest(png())));
    assert!(sent.iter().any(|s| s.text() == Some("Our best seller")));

    // The link works without logging in, and only as signed.
    let fetched = app.http.get(&link).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png());
    let flipped = if link.ends_with('0') { '1' } else { '0' };
    let tampered_signature = format!("{}{flipped}", &link[..link.len() - 1]);
    let other_file = link.replacen("/api/media/public/", "/api/media/public/9", 1);
    let later = link.replace("expires=", "expires=9");
    for bad in [
        tampered_signature,
        other_file,
        later,
        link.split('?').next().unwrap().to_string(),
    ] {
        let status = app.http.get(&bad).send().await.unwrap().status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{bad}");
    }
}

async fn instagram_sends_a_picture_by_link(backend: Backend) {
    const IG: &str = "17841400000000101";
    const NORA: &str = "9101001";
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let page_token = app.fake.page_token(PAGE).unwrap();
    let connected = app
        .post(
            &token,
            "/api/inbox/channels/social",
            json!({ "platform": "instagram", "pageId": PAGE, "accessToken": page_token }),
        )
        .await;
    assert_eq!(connected.status(), StatusCode::CREATED);
    let (_, delivery) = app.fake.instagram_text(IG, NORA, "Which colours?").await;
    assert_eq!(delivery.status, Some(200));
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();

    // Instagram takes no text files.
    let (status, message) = error_of(
        app.upload(&token, Some(conversation), "notes.txt", "text/plain", b"hi".to_vec())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.starts_with("Instagram does not accept text/plain"), "{message}");

    let file = upload_png(&app, &token, conversation, "colours.png").await;
    let id = send_with_file(&app, &token, conversation, "", &file).await["id"]
        .as_i64()
        .unwrap();
    app.wait_for_status(&token, conversation, id, "sent").await;
    let sent = app.fake.instagram_sent().pop().unwrap();
    assert_eq!(sent.recipient_id, NORA);
    let link = sent.body["message"]["attachment"]["payload"]["url"].as_str().unwrap();
    assert!(link.starts_with(&app.url("/api/media/public/")), "{link}");
    assert_eq!(
        app.http.get(link).send().await.unwrap().bytes().await.unwrap().to_vec(),
        png()
    );
    // The echo Instagram sends back of our own file is not a second message.
    app.eventually("the echo to be matched", || async {
        let messages = app.messages(&token, conversation).await;
        messages.len() == 2 && messages[1]["platformMessageId"].is_string()
    })
    .await;
}

on_both_backends!(
    uploads_are_checked_and_private,
    whatsapp_sends_the_file_with_its_caption,
    messenger_fetches_the_file_from_a_signed_link,
    instagram_sends_a_picture_by_link,
);

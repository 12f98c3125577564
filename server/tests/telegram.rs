//! Telegram bots end to end, on both backends, against the local Bot API fake
//! (`testkit/fake-telegram`): connecting with a bot token (checked with getMe, webhook set with
//! our secret and the updates we handle, the token in no URL we expose), customers' messages
//! arriving once however often Telegram retries, a wrong secret leaving no trace, group posts
//! stored nowhere, files through our media route (and the ones too large for bots), edits,
//! replies as text and uploaded files, a blocked bot marking the customer, a rate limit
//! holding the reply back instead of failing it, health from getWebhookInfo, and disconnecting.
#![allow(clippy::unwrap_used)]

mod support;

use fake_telegram::{ADA_ID, Inbound, LINUS_ID, SUPPORT_BOT_ID, SUPPORT_BOT_TOKEN};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Backend, TestApp, error_of};

/// Connects the fake's support bot; returns the channel.
async fn connect_bot(app: &TestApp, token: &str) -> Value {
    let response = app
        .post(
            token,
            "/api/channels/telegram",
            json!({ "botToken": SUPPORT_BOT_TOKEN }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// The Bot API call that sent `text` to a customer.
fn sent_text(app: &TestApp, text: &str) -> fake_telegram::SentRecord {
    app.telegram
        .sent()
        .into_iter()
        .find(|s| s.text.as_deref() == Some(text))
        .unwrap_or_else(|| panic!("nothing sent with the text {text:?}"))
}

async fn connecting_a_bot_sets_its_webhook_with_our_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;

    let (status, message) = error_of(
        app.post(&token, "/api/channels/telegram", json!({ "botToken": "not a token" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("not a bot token"), "{message}");
    let (status, message) = error_of(
        app.post(
            &token,
            "/api/inbox/channels/telegram",
            json!({ "botToken": "7000000009:AAThisBotDoesNotExist00000000000000" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
    assert!(message.contains("no longer accepts this bot token"), "{message}");
    let (status, message) = error_of(app.post(&token, "/api/channels/telegram", json!({})).await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "Bot token is required")
    );

    let channel = connect_bot(&app, &token).await;
    assert_eq!(channel["name"], "Acme Support (@acme_support_bot)");
    assert_eq!(channel["externalId"], SUPPORT_BOT_ID.to_string());
    assert_eq!(channel["status"], "active");
    assert!(
        !channel.to_string().contains(SUPPORT_BOT_TOKEN),
        "the token never comes back"
    );

    let webhook = app.telegram.webhook(SUPPORT_BOT_ID).expect("setWebhook was called");
    assert!(
        webhook.url.starts_with(&app.base) && webhook.url.contains("/api/webhooks/telegram/"),
        "{}",
        webhook.url
    );
    assert!(
        !webhook.url.contains(SUPPORT_BOT_TOKEN),
        "the token is not in our webhook URL"
    );
    let secret = webhook.secret_token.clone().unwrap();
    assert_eq!(secret.len(), 48);
    assert_eq!(
        webhook.allowed_updates,
        Some(vec![
            "message".to_string(),
            "edited_message".into(),
            "callback_query".into(),
            "my_chat_member".into()
        ])
    );
    assert!(
        app.telegram
            .requests()
            .iter()
            .all(|r| !r.method.contains(SUPPORT_BOT_TOKEN)),
        "no call carries the token outside the Bot API's path"
    );

    // Listed at both of the brief's addresses; another organization sees none of it.
    for path in ["/api/channels", "/api/inbox/channels"] {
        let listed: Value = app.get(&token, path).await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{path}");
    }
    let (rival, _) = app.signup("Rival", "owner@rival.test").await;
    let listed: Value = app.get(&rival, "/api/channels").await.json().await.unwrap();
    assert_eq!(listed, json!([]));
    let refused = app.delete(&rival, &format!("/api/channels/{}", channel["id"])).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
}

async fn customers_write_once_and_a_wrong_secret_leaves_no_trace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connect_bot(&app, &token).await;

    let first = app
        .telegram
        .customer_text(SUPPORT_BOT_ID, ADA_ID, "Hello, is my order shipped?")
        .await;
    assert_eq!(first.status, Some(200), "{first:?}");
    let conversation = app.only_conversation(&token).await;
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations[0]["contactName"], "Ada Lovelace");
    assert_eq!(conversations[0]["channelKind"], "telegram");

    // Telegram retries an update it thinks failed: the same update_id, stored once.
    let update_id = first.update["update_id"].as_i64().unwrap();
    let retry = app.telegram.redeliver(SUPPORT_BOT_ID, update_id).await;
    assert_eq!(retry.status, Some(200));
    let messages = app.messages(&token, conversation).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["body"], "Hello, is my order shipped?");
    assert_eq!(
        messages[0]["platformMessageId"],
        format!("{ADA_ID}:{}", first.update["message"]["message_id"])
    );

    // A delivery without our secret is refused before anything is read.
    let forged = json!({"message": {"message_id": 99, "date": 1_765_000_000, "text": "forged",
        "chat": {"id": ADA_ID, "type": "private"}, "from": {"id": ADA_ID, "is_bot": false, "first_name": "Ada"}}});
    let refused = app
        .telegram
        .deliver_with_secret(SUPPORT_BOT_ID, forged, "not-our-secret")
        .await;
    assert_eq!(refused.status, Some(401));
    assert_eq!(app.messages(&token, conversation).await.len(), 1, "no trace of it");

    // Group chats are not the inbox: acknowledged, stored nowhere.
    let group = app
        .telegram
        .group_message(SUPPORT_BOT_ID, -100_123, "Fans", LINUS_ID, Inbound::text("hi all"))
        .await;
    assert_eq!(group.status, Some(200));
    assert_eq!(app.conversations(&token).await.len(), 1);

    // The customer edits their message: the thread shows the new words, marked edited.
    let message_id = first.update["message"]["message_id"].as_i64().unwrap();
    let edited = app
        .telegram
        .customer_edit(SUPPORT_BOT_ID, ADA_ID, message_id, "Hello, is my order shipped yet?")
        .await;
    assert_eq!(edited.status, Some(200));
    let messages = app.messages(&token, conversation).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"], "Hello, is my order shipped yet?");
    assert!(messages[0]["editedAt"].is_i64(), "{}", messages[0]);
}

async fn files_come_through_our_media_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connect_bot(&app, &token).await;

    let photo = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 1, 2, 3, 4];
    let delivered = app
        .telegram
        .customer_photo(SUPPORT_BOT_ID, ADA_ID, photo.clone(), Some("this one"))
        .await;
    assert_eq!(delivered.status, Some(200));
    let conversation = app.only_conversation(&token).await;
    let messages = app.messages(&token, conversation).await;
    let attachment = &messages[0]["attachments"][0];
    assert_eq!(messages[0]["body"], "this one");
    assert_eq!(attachment["kind"], "image");
    let url = attachment["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("/api/media/telegram/{SUPPORT_BOT_ID}/")),
        "{url}"
    );
    assert_eq!(app.bytes(&token, url).await, photo, "the customer's bytes, through us");
    assert!(
        app.telegram.requests().iter().any(|r| r.method.starts_with("file/")),
        "downloaded from the Bot API's file route"
    );
    let (rival, _) = app.signup("Rival", "owner@rival.test").await;
    assert_eq!(
        app.get(&rival, url).await.status(),
        StatusCode::NOT_FOUND,
        "another organization's media"
    );

    let big = app
        .telegram
        .customer_send(
            SUPPORT_BOT_ID,
            ADA_ID,
            Inbound::large_document("backup.zip", "application/zip", 25 * 1024 * 1024),
        )
        .await;
    assert_eq!(big.status, Some(200));
    let messages = app.messages(&token, conversation).await;
    let kept = &messages.last().unwrap()["attachments"][0];
    assert_eq!(kept["name"], "backup.zip");
    assert_eq!(kept["size"], 25 * 1024 * 1024);
    assert!(kept["unavailable"].as_str().unwrap().contains("20 MB"), "{kept}");
}

async fn replies_go_out_as_text_and_uploaded_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connect_bot(&app, &token).await;
    app.telegram
        .customer_text(SUPPORT_BOT_ID, ADA_ID, "Can I get the invoice?")
        .await;
    let conversation = app.only_conversation(&token).await;

    let text = app
        .reply_id(&token, conversation, "Sure <b>Ada</b> & co, one moment")
        .await;
    let sent = app.wait_for_status(&token, conversation, text, "sent").await;
    let record = app
        .telegram
        .sent()
        .into_iter()
        .find(|s| s.method == "sendMessage")
        .unwrap();
    assert_eq!(record.chat_id, ADA_ID);
    assert_eq!(
        record.text.as_deref(),
        Some("Sure <b>Ada</b> & co, one moment"),
        "the agent's words, exactly"
    );
    assert_eq!(
        record.parse_mode, None,
        "plain text: nothing the agent typed is read as markup"
    );
    assert_eq!(sent["platformMessageId"], format!("{ADA_ID}:{}", record.message_id));

    // The agent fixes a typo, then takes another reply back: Telegram first, then the thread.
    let patched = app
        .patch(
            &token,
            &format!("/api/inbox/messages/{text}"),
            json!({ "content": "Sure Ada, one moment" }),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["body"], "Sure Ada, one moment");
    assert!(patched["editedAt"].is_i64());
    let edit = app
        .telegram
        .sent()
        .into_iter()
        .find(|s| s.method == "editMessageText")
        .unwrap();
    assert_eq!(
        (edit.chat_id, edit.text.as_deref()),
        (ADA_ID, Some("Sure Ada, one moment"))
    );
    let (rival, _) = app.signup("Rival", "owner@rival.test").await;
    let refused = app.delete(&rival, &format!("/api/inbox/messages/{text}")).await;
    assert_eq!(
        refused.status(),
        StatusCode::NOT_FOUND,
        "another organization's message"
    );
    let oops = app.reply_id(&token, conversation, "wrong chat, sorry").await;
    app.wait_for_status(&token, conversation, oops, "sent").await;
    let deleted = app.delete(&token, &format!("/api/inbox/messages/{oops}")).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let deleted: Value = deleted.json().await.unwrap();
    assert!(deleted["deletedAt"].is_i64());
    assert!(app.telegram.sent().iter().any(|s| s.method == "deleteMessage"));
    let again = app.delete(&token, &format!("/api/inbox/messages/{oops}")).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "already taken back");

    // Quoting the customer's question: Telegram shows the reply attached to it.
    let question = app.messages(&token, conversation).await[0].clone();
    let quoted = app
        .send(
            &token,
            json!({ "conversationId": conversation, "content": "About that invoice:", "replyTo": question["id"] }),
        )
        .await;
    assert_eq!(quoted["replyTo"]["messageId"], question["id"]);
    app.wait_for_status(&token, conversation, quoted["id"].as_i64().unwrap(), "sent")
        .await;
    let record = sent_text(&app, "About that invoice:");
    let question_id: i64 = question["platformMessageId"]
        .as_str()
        .unwrap()
        .split_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(record.reply_parameters.unwrap()["message_id"], question_id);

    // Buttons under a reply: the customer taps one, the inbox shows the choice, and the tap is
    // answered so Telegram stops its spinner.
    let asked = app
        .send(
            &token,
            json!({ "conversationId": conversation, "content": "Which size?", "buttons": ["Small", "Medium", "Large"] }),
        )
        .await;
    assert_eq!(asked["buttons"], json!(["Small", "Medium", "Large"]));
    let asked = app
        .wait_for_status(&token, conversation, asked["id"].as_i64().unwrap(), "sent")
        .await;
    let keyboard = sent_text(&app, "Which size?");
    let markup = keyboard.reply_markup.clone().unwrap();
    assert_eq!(markup["inline_keyboard"][0][1]["text"], "Medium");
    let data = markup["inline_keyboard"][0][1]["callback_data"]
        .as_str()
        .unwrap()
        .to_string();
    let pressed = app
        .telegram
        .customer_press_button(fake_telegram::SUPPORT_BOT_ID, ADA_ID, keyboard.message_id, &data)
        .await;
    assert_eq!(pressed.status, Some(200), "{pressed:?}");
    let choice = app.messages(&token, conversation).await.into_iter().last().unwrap();
    assert_eq!(
        (choice["kind"].as_str(), choice["body"].as_str()),
        (Some("interactive"), Some("Medium"))
    );
    assert_eq!(choice["replyTo"]["messageId"], asked["id"]);
    app.eventually("the tap to be answered", || async {
        !app.telegram.callback_answers().is_empty()
    })
    .await;
    let refused = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "x", "buttons": ["Same", "Same"] }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let pdf = b"%PDF-1.4 invoice 42".to_vec();
    let response = app
        .upload(
            &token,
            Some(conversation),
            "invoice.pdf",
            "application/pdf",
            pdf.clone(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let file: Value = response.json().await.unwrap();
    let queued = app
        .send(
            &token,
            json!({ "conversationId": conversation, "content": "Here it is", "attachments": [{ "url": file["url"] }] }),
        )
        .await;
    app.wait_for_status(&token, conversation, queued["id"].as_i64().unwrap(), "sent")
        .await;
    let record = app
        .telegram
        .sent()
        .into_iter()
        .find(|s| s.method == "sendDocument")
        .unwrap();
    assert_eq!(record.caption.as_deref(), Some("Here it is"));
    let got = record.file.unwrap();
    assert_eq!(got.source, "upload", "uploaded by multipart, not fetched from a link");
    assert_eq!(got.file_name.as_deref(), Some("invoice.pdf"));
    assert_eq!(got.sha256, hex::encode(Sha256::digest(&pdf)));
}

async fn a_blocked_bot_marks_the_customer_and_a_rate_limit_waits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connect_bot(&app, &token).await;
    app.telegram.customer_text(SUPPORT_BOT_ID, ADA_ID, "hi").await;
    let conversation = app.only_conversation(&token).await;

    // Blocked before we heard of it: the send's 403 fails the reply and marks the customer.
    assert!(app.telegram.block(SUPPORT_BOT_ID, ADA_ID));
    let reply = app.reply_id(&token, conversation, "are you there?").await;
    let failed = app.wait_for_status(&token, conversation, reply, "failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains("blocked this bot"),
        "{failed}"
    );
    let unreachable = |detail: &Value| detail["contact"]["identities"][0]["unreachable"].clone();
    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        unreachable(&detail).as_str().unwrap().contains("blocked this bot"),
        "{detail}"
    );
    // Marked, later replies are refused at once rather than failing at Telegram.
    let (status, message) = error_of(app.reply(&token, conversation, "hello?", None).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("blocked this bot"), "{message}");
    // Telegram tells us of a block as it happens too.
    let blocked = app.telegram.customer_block(SUPPORT_BOT_ID, ADA_ID).await;
    assert_eq!(blocked.status, Some(200));

    let unblocked = app.telegram.customer_unblock(SUPPORT_BOT_ID, ADA_ID).await;
    assert_eq!(unblocked.status, Some(200));
    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unreachable(&detail), Value::Null, "{detail}");

    // Telegram's flood control: 429 with retry_after 1. The reply waits, then goes.
    assert!(app.telegram.flood(SUPPORT_BOT_ID, ADA_ID, 1, 1));
    let reply = app.reply_id(&token, conversation, "sorry for the wait").await;
    let sent = app.wait_for_status(&token, conversation, reply, "sent").await;
    assert_eq!(sent["error"], Value::Null);
    assert!(
        app.telegram
            .sent()
            .iter()
            .any(|s| s.text.as_deref() == Some("sorry for the wait")),
        "sent once Telegram allowed it"
    );
}

async fn health_reads_webhook_info_and_disconnect_deletes_the_webhook(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let channel = connect_bot(&app, &token).await;
    let id = channel["id"].as_i64().unwrap();

    let healthy: Value = app.health(&token, id).await;
    assert_eq!(
        (healthy["status"].as_str(), &healthy["lastError"]),
        (Some("active"), &Value::Null)
    );

    // Our route refuses a delivery (a wrong secret): Telegram records why, health shows it.
    let update = json!({"message": {"message_id": 5, "date": 1_765_000_000, "text": "x",
        "chat": {"id": ADA_ID, "type": "private"}, "from": {"id": ADA_ID, "is_bot": false, "first_name": "Ada"}}});
    app.telegram.deliver_with_secret(SUPPORT_BOT_ID, update, "wrong").await;
    let warned: Value = app.health(&token, id).await;
    assert_eq!(warned["status"], "active");
    let warning = warned["lastError"].as_str().unwrap();
    assert!(warning.contains("401"), "the platform's own words: {warning}");

    let response = app.delete(&token, &format!("/api/channels/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        app.telegram.webhook(SUPPORT_BOT_ID).is_none_or(|w| w.url.is_empty()),
        "deleteWebhook was called"
    );
    assert!(app.telegram.methods_called().contains(&"deleteWebhook".to_string()));
}

on_both_backends!(
    connecting_a_bot_sets_its_webhook_with_our_secret,
    customers_write_once_and_a_wrong_secret_leaves_no_trace,
    files_come_through_our_media_route,
    replies_go_out_as_text_and_uploaded_files,
    a_blocked_bot_marks_the_customer_and_a_rate_limit_waits,
    health_reads_webhook_info_and_disconnect_deletes_the_webhook,
);

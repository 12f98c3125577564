//! WhatsApp Business (Cloud API) end to end over HTTP, on both backends, against the local
//! fake of Meta: connecting a number, every inbound type from Meta's published payloads,
//! media through our authenticated route, delivery statuses, the 24-hour window and
//! templates (sync, submit, review, send, usage).
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{
    WhatsAppMessageRequest, WindowErrorMode, now_secs, wa_button, wa_contacts, wa_interactive_button_reply,
    wa_interactive_list_reply, wa_location, wa_media, wa_reaction, wa_reply, wa_text, wa_unsupported, whatsapp_webhook,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp};

const WABA: &str = "401";
const NUMBER: &str = "501";
const MARIA: &str = "15550001111";
const KENJI: &str = "15550002222";

async fn app_with_number(backend: Backend) -> (TestApp, String, Value) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let channel = app.connect_whatsapp(&token, NUMBER, WABA).await;
    (app, token, channel)
}

/// Meta's `messages` webhook for our number carrying `messages` from Maria.
fn from_maria(messages: Vec<Value>) -> Value {
    whatsapp_webhook(
        WABA,
        NUMBER,
        "15550100501",
        &[(MARIA, "Maria Garcia")],
        messages,
        vec![],
    )
}

async fn only_conversation(app: &TestApp, token: &str) -> i64 {
    let conversations = app.conversations(token).await;
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    conversations[0]["id"].as_i64().unwrap()
}

async fn last_message(app: &TestApp, token: &str, conversation_id: i64) -> Value {
    app.messages(token, conversation_id).await.pop().unwrap()
}

async fn connect_by_hand_and_check_health(backend: Backend) {
    let (app, token, channel) = app_with_number(backend).await;
    assert_eq!(channel["kind"], "whatsapp");
    assert_eq!(channel["externalId"], NUMBER);
    assert_eq!(channel["parentAccountId"], WABA);
    assert!(channel["name"].as_str().unwrap().contains("Acme Shoes"));
    assert!(app.fake.whatsapp_subscriptions().contains(&WABA.to_string()));

    let id = channel["id"].as_i64().unwrap();
    let health = app.get(&token, &format!("/api/inbox/channels/{id}/health")).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "active");

    let wrong_token = app
        .post(
            &token,
            "/api/inbox/channels/whatsapp",
            json!({ "phoneNumberId": "502", "accessToken": "not-a-token", "wabaId": WABA }),
        )
        .await;
    assert_eq!(wrong_token.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .post(
            &token,
            "/api/inbox/channels/whatsapp",
            json!({ "phoneNumberId": "502", "accessToken": "", "wabaId": WABA }),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The token stops working: the health check says so, and the channel asks for a reconnect.
    app.fake.expire_whatsapp_token(None);
    let health: Value = app
        .get(&token, &format!("/api/inbox/channels/{id}/health"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "needs_reconnect");
}

async fn every_inbound_type_is_stored(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let ts = now_secs() - 60;
    let messages = vec![
        wa_text(MARIA, "wamid.text", ts, "Hi! Is the blue jacket in stock?"),
        wa_media(
            MARIA,
            "wamid.image",
            ts + 1,
            "image",
            "m-image",
            "image/jpeg",
            Some("this one"),
            None,
        ),
        wa_media(
            MARIA,
            "wamid.video",
            ts + 2,
            "video",
            "m-video",
            "video/mp4",
            None,
            None,
        ),
        wa_media(
            MARIA,
            "wamid.audio",
            ts + 3,
            "audio",
            "m-audio",
            "audio/ogg; codecs=opus",
            None,
            None,
        ),
        wa_media(
            MARIA,
            "wamid.doc",
            ts + 4,
            "document",
            "m-doc",
            "application/pdf",
            Some("my receipt"),
            Some("receipt.pdf"),
        ),
        wa_media(
            MARIA,
            "wamid.sticker",
            ts + 5,
            "sticker",
            "m-sticker",
            "image/webp",
            None,
            None,
        ),
        wa_location(
            MARIA,
            "wamid.location",
            ts + 6,
            52.52,
            13.405,
            Some("Alexanderplatz"),
            Some("Berlin"),
        ),
        wa_reply(
            MARIA,
            "wamid.reply",
            ts + 7,
            "yes that one",
            "15550100501",
            "wamid.text",
        ),
        wa_interactive_button_reply(MARIA, "wamid.button", ts + 8, "confirm", "Yes, confirm"),
        wa_interactive_list_reply(MARIA, "wamid.list", ts + 9, "size-m", "Medium", Some("Fits 38-40")),
        wa_button(MARIA, "wamid.quick", ts + 10, "STOP", "Stop promotions"),
        wa_contacts(MARIA, "wamid.contacts", ts + 11, &[("Lena Fischer", "+49 30 1234567")]),
        wa_unsupported(MARIA, "wamid.unsupported", ts + 12),
    ];
    assert_eq!(
        app.deliver_to("whatsapp", &from_maria(messages)).await.status(),
        StatusCode::OK
    );

    let conversation = only_conversation(&app, &token).await;
    let contact = &app.conversations(&token).await[0];
    assert_eq!(
        contact["contactName"], "Maria Garcia",
        "the profile name comes with the webhook"
    );
    assert_eq!(contact["channelKind"], "whatsapp");
    let thread = app.messages(&token, conversation).await;
    let by_id = |id: &str| thread.iter().find(|m| m["platformMessageId"] == id).cloned().unwrap();
    assert_eq!(thread.len(), 13, "nothing is dropped: {thread:#?}");

    assert_eq!(by_id("wamid.text")["kind"], "text");
    let image = by_id("wamid.image");
    assert_eq!(
        (image["kind"].as_str(), image["body"].as_str()),
        (Some("media"), Some("this one"))
    );
    assert_eq!(image["attachments"][0]["kind"], "image");
    assert_eq!(image["attachments"][0]["url"], "/api/media/whatsapp/501/m-image");
    assert_eq!(image["attachments"][0]["mimeType"], "image/jpeg");
    assert_eq!(by_id("wamid.video")["attachments"][0]["kind"], "video");
    assert_eq!(by_id("wamid.audio")["attachments"][0]["kind"], "audio");
    let doc = by_id("wamid.doc");
    assert_eq!(doc["attachments"][0]["kind"], "file");
    assert_eq!(doc["attachments"][0]["name"], "receipt.pdf");
    assert_eq!(by_id("wamid.sticker")["attachments"][0]["kind"], "sticker");
    let location = by_id("wamid.location");
    assert_eq!(location["kind"], "location");
    assert_eq!(location["attachments"][0]["kind"], "location");
    assert!(location["attachments"][0]["url"].as_str().unwrap().contains("52.52"));
    assert!(
        location["attachments"][0]["name"]
            .as_str()
            .unwrap()
            .contains("Alexanderplatz")
    );
    let reply = by_id("wamid.reply");
    assert_eq!(reply["replyTo"]["platformMessageId"], "wamid.text");
    assert_eq!(reply["replyTo"]["messageId"], by_id("wamid.text")["id"]);
    assert_eq!(reply["replyTo"]["preview"], "Hi! Is the blue jacket in stock?");
    assert_eq!(by_id("wamid.button")["kind"], "interactive");
    assert_eq!(by_id("wamid.button")["body"], "Yes, confirm");
    assert!(by_id("wamid.list")["body"].as_str().unwrap().starts_with("Medium"));
    assert_eq!(by_id("wamid.quick")["body"], "Stop promotions");
    assert_eq!(by_id("wamid.contacts")["kind"], "contacts");
    assert!(
        by_id("wamid.contacts")["body"]
            .as_str()
            .unwrap()
            .contains("Lena Fischer")
    );
    let unsupported = by_id("wamid.unsupported");
    assert_eq!(unsupported["kind"], "unsupported");
    assert!(!unsupported["body"].as_str().unwrap().is_empty());

    // A reaction lands on the message it reacts to, and can be taken back.
    let react = |emoji: &str, id: &str| from_maria(vec![wa_reaction(MARIA, id, ts + 20, "wamid.text", emoji)]);
    assert_eq!(
        app.deliver_to("whatsapp", &react("👍", "wamid.r1")).await.status(),
        StatusCode::OK
    );
    let reacted = app
        .message(&token, conversation, by_id("wamid.text")["id"].as_i64().unwrap())
        .await;
    assert_eq!(reacted["reactions"][0]["emoji"], "👍");
    assert_eq!(
        app.deliver_to("whatsapp", &react("", "wamid.r2")).await.status(),
        StatusCode::OK
    );
    let cleared = app
        .message(&token, conversation, by_id("wamid.text")["id"].as_i64().unwrap())
        .await;
    assert_eq!(cleared["reactions"], json!([]));
    assert_eq!(
        app.messages(&token, conversation).await.len(),
        13,
        "reactions are not messages"
    );
}

async fn media_is_downloaded_and_private(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let inbound = app
        .fake
        .whatsapp_message(WhatsAppMessageRequest {
            phone_number_id: NUMBER.into(),
            from: MARIA.into(),
            kind: Some("image".into()),
            caption: Some("the stain".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(inbound.delivery.status, Some(200));
    let media_id = inbound.media_id.unwrap();
    let conversation = only_conversation(&app, &token).await;
    let message = last_message(&app, &token, conversation).await;
    let url = message["attachments"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/api/media/whatsapp/{NUMBER}/{media_id}"));

    let response = app.get(&token, &url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(Some(bytes.to_vec()), app.fake.whatsapp_media_bytes(&media_id));
    // Kept in the local media folder, so it outlives Meta's 30 days.
    let kept = app.state.config.data_dir.join("media/whatsapp/501").join(&media_id);
    app.eventually("the media file to be kept", || async { kept.exists() })
        .await;

    let anonymous = app.http.get(app.url(&url)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (stranger, _) = app.signup("Globex", "owner@globex.test").await;
    assert_eq!(app.get(&stranger, &url).await.status(), StatusCode::NOT_FOUND);
    let traversal = app.get(&token, "/api/media/whatsapp/501/..%2F..%2Fmessio.db").await;
    assert_eq!(traversal.status(), StatusCode::NOT_FOUND);
}

async fn deliveries_are_verified_and_deduplicated(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let payload = from_maria(vec![wa_text(MARIA, "wamid.once", now_secs(), "Hello")]);
    for _ in 0..3 {
        assert_eq!(app.deliver_to("whatsapp", &payload).await.status(), StatusCode::OK);
    }
    let copies = (0..8).map(|_| app.deliver_to("whatsapp", &payload));
    for response in futures::future::join_all(copies).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let conversation = only_conversation(&app, &token).await;
    assert_eq!(app.messages(&token, conversation).await.len(), 1);

    let forged = fake_meta::encode_body(&from_maria(vec![wa_text(MARIA, "wamid.forged", now_secs(), "Hi")]));
    let bad = app.deliver_raw_to("whatsapp", &forged, Some("sha256=00".into())).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.deliver_raw_to("whatsapp", &forged, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.messages(&token, conversation).await.len(),
        1,
        "a bad signature leaves no trace"
    );

    let malformed = app.deliver_raw_to("whatsapp", b"{not json", None).await;
    assert_eq!(
        malformed.status(),
        StatusCode::UNAUTHORIZED,
        "the signature is checked first"
    );
    let unknown_number = whatsapp_webhook(
        WABA,
        "999",
        "1",
        &[(KENJI, "Kenji")],
        vec![wa_text(KENJI, "wamid.x", now_secs(), "Hi")],
        vec![],
    );
    assert_eq!(
        app.deliver_to("whatsapp", &unknown_number).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.conversations(&token).await.len(), 1);
}

async fn reply_statuses_only_move_forward(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    app.fake
        .whatsapp_text(NUMBER, MARIA, "Do you deliver on Sundays?")
        .await;
    let conversation = only_conversation(&app, &token).await;
    let sent = app.reply(&token, conversation, "Yes, we do!", None).await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let id = sent.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let message = app.wait_for_status(&token, conversation, id, "sent").await;
    let wamid = message["platformMessageId"].as_str().unwrap().to_string();
    let request = app.fake.whatsapp_sent().pop().unwrap();
    assert_eq!(request.body["messaging_product"], "whatsapp");
    assert_eq!(request.body["to"], MARIA);
    assert_eq!(request.body["text"]["body"], "Yes, we do!");

    // `read` may come without `delivered`; a late `delivered` does not undo it.
    app.fake.whatsapp_status(NUMBER, &wamid, "read", None).await.unwrap();
    app.wait_for_status(&token, conversation, id, "read").await;
    app.fake
        .whatsapp_status(NUMBER, &wamid, "delivered", None)
        .await
        .unwrap();
    assert_eq!(app.message(&token, conversation, id).await["status"], "read");

    // A failure reported later by webhook carries the platform's code and text.
    let second = app.reply_id(&token, conversation, "Anything else?").await;
    let second_wamid = app.wait_for_status(&token, conversation, second, "sent").await["platformMessageId"]
        .as_str()
        .unwrap()
        .to_string();
    app.fake
        .whatsapp_status(NUMBER, &second_wamid, "failed", Some(131026))
        .await
        .unwrap();
    let failed = app.wait_for_status(&token, conversation, second, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("131026"), "{failed}");
}

async fn the_window_is_24_hours_from_the_last_inbound(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let now = now_secs();
    // Maria wrote 23h59 ago, Kenji 24h01 ago.
    let maria = from_maria(vec![wa_text(MARIA, "wamid.m", now - (23 * 3600 + 59 * 60), "Hello")]);
    let kenji = whatsapp_webhook(
        WABA,
        NUMBER,
        "15550100501",
        &[(KENJI, "Kenji Sato")],
        vec![wa_text(KENJI, "wamid.k", now - (24 * 3600 + 60), "Hello")],
        vec![],
    );
    app.deliver_to("whatsapp", &maria).await;
    app.deliver_to("whatsapp", &kenji).await;
    let conversations = app.conversations(&token).await;
    let id_of = |name: &str| {
        conversations.iter().find(|c| c["contactName"] == name).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (maria_id, kenji_id) = (id_of("Maria Garcia"), id_of("Kenji Sato"));

    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{maria_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["window"]["open"].is_object(), "{detail}");
    let free = app.reply(&token, maria_id, "Just in time", None).await;
    assert_eq!(free.status(), StatusCode::ACCEPTED);

    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{kenji_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["window"], "templates_only");
    let late = app.reply(&token, kenji_id, "Too late", None).await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = late.json().await.unwrap();
    assert!(
        error["error"]["message"].as_str().unwrap().contains("template"),
        "{error}"
    );
}

async fn platform_window_and_token_errors_are_explained(backend: Backend) {
    let (app, token, channel) = app_with_number(backend).await;
    app.fake.whatsapp_text(NUMBER, MARIA, "Hi").await;
    let conversation = only_conversation(&app, &token).await;
    // Meta's clock disagrees with ours: its window is closed (131047), answered synchronously.
    app.fake.set_whatsapp_window_errors(WindowErrorMode::Sync);
    app.fake.close_whatsapp_window(MARIA, None);
    let id = app.reply_id(&token, conversation, "Hello?").await;
    let failed = app.wait_for_status(&token, conversation, id, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("131047"), "{failed}");

    // …and by webhook after an accepted send (Meta's usual way).
    app.fake.set_whatsapp_window_errors(WindowErrorMode::Webhook);
    let id = app.reply_id(&token, conversation, "Still there?").await;
    let failed = app.wait_for_status(&token, conversation, id, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("131047"), "{failed}");

    // An expired token fails the send and flags the channel for reconnecting.
    app.fake.open_whatsapp_window(MARIA, None);
    app.fake.expire_whatsapp_token(None);
    let id = app.reply_id(&token, conversation, "Hello again").await;
    app.wait_for_status(&token, conversation, id, "failed").await;
    let channels: Value = app.get(&token, "/api/inbox/channels").await.json().await.unwrap();
    let ours = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == channel["id"])
        .unwrap();
    assert_eq!(ours["status"], "needs_reconnect");
}

async fn template_by_name(app: &TestApp, token: &str, name: &str) -> Value {
    let templates: Value = app.get(token, "/api/templates/whatsapp").await.json().await.unwrap();
    templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn templates_sync_send_and_count_usage(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let report = app
        .post(&token, "/api/templates/whatsapp/sync", json!({ "wabaId": WABA }))
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let report: Value = report.json().await.unwrap();
    assert!(report["imported"].as_u64().unwrap() >= 3, "{report}");
    let again: Value = app
        .post(&token, "/api/templates/whatsapp/sync", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["imported"], 0, "a second sync only updates");

    let order_update = template_by_name(&app, &token, "order_update").await;
    assert_eq!(order_update["status"], "approved");
    assert_eq!(
        order_update["content"]["body"],
        "Hi {{1}}, your order {{2}} has shipped."
    );
    assert_eq!(template_by_name(&app, &token, "old_promo").await["status"], "rejected");

    // Kenji wrote two days ago: only a template can reach him now.
    let stale = whatsapp_webhook(
        WABA,
        NUMBER,
        "15550100501",
        &[(KENJI, "Kenji Sato")],
        vec![wa_text(
            KENJI,
            "wamid.k",
            now_secs() - 2 * 24 * 3600,
            "Where is my order?",
        )],
        vec![],
    );
    app.deliver_to("whatsapp", &stale).await;
    let conversation = only_conversation(&app, &token).await;
    let template_id = order_update["id"].as_i64().unwrap();
    let wrong_count = app
        .post(
            &token,
            "/api/inbox/messages/send-template",
            json!({ "conversationId": conversation, "templateId": template_id, "params": ["Kenji"] }),
        )
        .await;
    assert_eq!(wrong_count.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rejected = template_by_name(&app, &token, "old_promo").await["id"]
        .as_i64()
        .unwrap();
    let not_approved = app
        .post(
            &token,
            "/api/inbox/messages/send-template",
            json!({ "conversationId": conversation, "templateId": rejected, "params": [] }),
        )
        .await;
    assert_eq!(not_approved.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let sent = app
        .post(
            &token,
            "/api/inbox/messages/send-template",
            json!({ "conversationId": conversation, "templateId": template_id, "params": ["Kenji", "#1042"] }),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let message: Value = sent.json().await.unwrap();
    assert_eq!(message["kind"], "template");
    assert_eq!(message["body"], "Hi Kenji, your order #1042 has shipped.");
    let id = message["id"].as_i64().unwrap();
    app.wait_for_status(&token, conversation, id, "sent").await;
    let request = app.fake.whatsapp_sent().pop().unwrap();
    assert_eq!(request.body["type"], "template");
    assert_eq!(request.body["template"]["name"], "order_update");
    assert_eq!(request.body["template"]["language"]["code"], "en_US");
    assert_eq!(
        request.body["template"]["components"][0]["parameters"][1]["text"],
        "#1042"
    );

    let used: Value = app
        .get(&token, &format!("/api/templates/whatsapp/{template_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(used["usageCount"], 1);
    assert!(used["lastUsedAt"].is_i64());

    // Another organization sees none of it.
    let (stranger, _) = app.signup("Globex", "owner@globex.test").await;
    let theirs = app
        .get(&stranger, &format!("/api/templates/whatsapp/{template_id}"))
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let listed: Value = app
        .get(&stranger, "/api/templates/whatsapp")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

async fn submitted_templates_follow_the_review(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    let components = json!([
        { "type": "HEADER", "format": "TEXT", "text": "Your booking" },
        { "type": "BODY", "text": "Hello {{1}}, your table for {{2}} is confirmed.",
          "example": { "body_text": [["Ann", "four"]] } },
        { "type": "FOOTER", "text": "Acme Bistro" },
        { "type": "BUTTONS", "buttons": [{ "type": "QUICK_REPLY", "text": "Cancel booking" }] }
    ]);
    let invalid = app
        .post(
            &token,
            "/api/templates/whatsapp/submit",
            json!({ "name": "Booking Confirmed", "category": "UTILITY", "language": "en_US", "components": components }),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let out_of_order = app
        .post(
            &token,
            "/api/templates/whatsapp/submit",
            json!({ "name": "booking", "category": "UTILITY", "language": "en_US",
                    "components": [{ "type": "BODY", "text": "Hi {{2}}", "example": { "body_text": [["a", "b"]] } }] }),
        )
        .await;
    assert_eq!(out_of_order.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let submitted = app
        .post(
            &token,
            "/api/templates/whatsapp/submit",
            json!({ "name": "booking_confirmed", "category": "UTILITY", "language": "en_US", "components": components }),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::CREATED);
    let template: Value = submitted.json().await.unwrap();
    assert_eq!(template["status"], "pending");
    let platform_id = template["platformTemplateId"].as_str().unwrap().to_string();
    let at_meta = app
        .fake
        .whatsapp_templates()
        .into_iter()
        .find(|t| t.id == platform_id)
        .unwrap();
    assert_eq!(at_meta.name, "booking_confirmed");
    assert_eq!(at_meta.category, "UTILITY");

    // Meta approves: the template-status webhook updates it.
    let id = template["id"].as_i64().unwrap();
    let (_, delivery) = app.fake.review_template(&platform_id, "APPROVED", None).await.unwrap();
    assert_eq!(delivery.status, Some(200));
    app.eventually("the template to be approved", || async {
        app.get(&token, &format!("/api/templates/whatsapp/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"]
            == "approved"
    })
    .await;

    // Paused later, with the webhook lost: asking Meta (the status endpoint) still finds out.
    app.fake.set_whatsapp_webhook_url("http://127.0.0.1:9/nowhere");
    app.fake.review_template(&platform_id, "PAUSED", None).await.ok();
    let polled: Value = app
        .get(&token, &format!("/api/templates/whatsapp/{id}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "paused");
}

async fn media_headers_take_an_uploaded_sample(backend: Backend) {
    let (app, token, _) = app_with_number(backend).await;
    // A 1×1 PNG.
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    )
    .unwrap();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("wabaId", WABA)
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        app.http
            .post(app.url("/api/templates/whatsapp/header-sample"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let refused = upload(b"just text".to_vec(), "notes.txt").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let uploaded = upload(png.clone(), "banner.png").await.unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let sample: Value = uploaded.json().await.unwrap();
    assert_eq!(
        (sample["format"].as_str(), sample["mimeType"].as_str()),
        (Some("image"), Some("image/png"))
    );
    let handle = sample["handle"].as_str().unwrap().to_string();
    assert!(handle.starts_with("4::"), "a Resumable Upload API handle: {handle}");

    let with_header = |example: &str| {
        json!({ "name": "spring_banner", "category": "MARKETING", "language": "en_US", "components": [
            { "type": "HEADER", "format": "IMAGE", "example": { "header_handle": [example] } },
            { "type": "BODY", "text": "Spring is here." }
        ] })
    };
    let linked = app
        .post(
            &token,
            "/api/templates/whatsapp/submit",
            with_header("https://example.com/banner.png"),
        )
        .await;
    assert_eq!(
        linked.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "Meta takes no link as a sample"
    );
    let submitted = app
        .post(&token, "/api/templates/whatsapp/submit", with_header(&handle))
        .await;
    assert_eq!(submitted.status(), StatusCode::CREATED, "{:?}", submitted.text().await);
    let at_meta = app
        .fake
        .whatsapp_templates()
        .into_iter()
        .find(|t| t.name == "spring_banner")
        .unwrap();
    assert_eq!(at_meta.components[0]["example"]["header_handle"][0], handle.as_str());
}

on_both_backends!(
    media_headers_take_an_uploaded_sample,
    connect_by_hand_and_check_health,
    every_inbound_type_is_stored,
    media_is_downloaded_and_private,
    deliveries_are_verified_and_deduplicated,
    reply_statuses_only_move_forward,
    the_window_is_24_hours_from_the_last_inbound,
    platform_window_and_token_errors_are_explained,
    templates_sync_send_and_count_usage,
    submitted_templates_follow_the_review,
);

//! End-to-end tests of the fake over HTTP: reqwest plays the bot adapter, a
//! tiny axum server plays the bot's webhook endpoint.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use super::*;

/// One update the receiver got.
#[derive(Clone, Debug)]
struct Received {
    secret: Option<String>,
    update: Value,
}

/// A webhook endpoint answering with a chosen status.
#[derive(Clone)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    url: String,
}

impl Receiver {
    async fn start(status: StatusCode) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sink = received.clone();
        let app = Router::new().route(
            "/webhooks/telegram",
            post(move |headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    let secret = headers.get(SECRET_TOKEN_HEADER).map(|v| v.to_str().unwrap().to_owned());
                    let update = serde_json::from_slice(&body).unwrap();
                    sink.lock().unwrap().push(Received { secret, update });
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/telegram", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { received, url }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn fake() -> FakeTelegram {
    FakeTelegram::spawn(FakeTelegramConfig::default()).await.unwrap()
}

fn method_url(fake: &FakeTelegram, token: &str, method: &str) -> String {
    format!("{}/bot{token}/{method}", fake.base_url())
}

/// POSTs JSON parameters; answers the HTTP status and the body.
async fn call(fake: &FakeTelegram, method: &str, params: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(method_url(fake, SUPPORT_BOT_TOKEN, method))
        .json(&params)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn error(code: u16, description: &str) -> (u16, Value) {
    (
        code,
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

async fn set_webhook(fake: &FakeTelegram, url: &str, secret: &str) {
    let (status, body) = call(fake, "setWebhook", json!({"url": url, "secret_token": secret})).await;
    assert_eq!((status, &body["result"]), (200, &json!(true)), "{body}");
}

#[tokio::test]
async fn get_me_answers_the_bot_for_a_good_token_and_401_otherwise() {
    let fake = fake().await;
    let body: Value = reqwest::get(method_url(&fake, SUPPORT_BOT_TOKEN, "getMe"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["result"]["id"], SUPPORT_BOT_ID);
    assert_eq!(body["result"]["is_bot"], true);
    assert_eq!(body["result"]["first_name"], "Acme Support");
    assert_eq!(body["result"]["username"], "acme_support_bot");
    assert_eq!(body["result"]["can_join_groups"], true);
    assert_eq!(body["result"]["supports_inline_queries"], false);

    let response = reqwest::get(method_url(
        &fake,
        "7000000001:AAWrongTokenWrongTokenWrongToken000",
        "getMe",
    ))
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    let response = reqwest::get(method_url(&fake, SUPPORT_BOT_TOKEN, "getNothing"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.json::<Value>().await.unwrap()["description"], "Not Found");
}

#[test]
fn default_tokens_have_the_real_shape() {
    for bot in FakeTelegramConfig::default().bots {
        let (id, secret) = bot.token.split_once(':').unwrap();
        assert_eq!(id, bot.id.to_string());
        assert_eq!(secret.len(), 35, "{}", bot.token);
    }
}

#[tokio::test]
async fn set_webhook_from_a_form_round_trips_through_get_webhook_info() {
    let fake = fake().await;
    let form = [
        ("url", "https://inbox.example/webhooks/telegram/abc"),
        ("secret_token", "s3cret_-Token"),
        (
            "allowed_updates",
            r#"["message","edited_message","callback_query","my_chat_member"]"#,
        ),
        ("max_connections", "10"),
        ("drop_pending_updates", "true"),
    ];
    let body: Value = reqwest::Client::new()
        .post(method_url(&fake, SUPPORT_BOT_TOKEN, "setWebhook"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );

    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(
        info["result"],
        json!({
            "url": "https://inbox.example/webhooks/telegram/abc",
            "has_custom_certificate": false,
            "pending_update_count": 0,
            "max_connections": 10,
            "allowed_updates": ["message", "edited_message", "callback_query", "my_chat_member"],
        })
    );
    let webhook = fake.webhook(SUPPORT_BOT_ID).unwrap();
    assert_eq!(webhook.secret_token.as_deref(), Some("s3cret_-Token"));

    let refused = call(
        &fake,
        "setWebhook",
        json!({"url": "https://x.example/", "secret_token": "a+b/c="}),
    )
    .await;
    assert_eq!(
        refused,
        error(400, "Bad Request: secret token contains unallowed characters")
    );

    let (_, deleted) = call(&fake, "deleteWebhook", json!({})).await;
    assert_eq!(deleted["result"], true);
    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(
        info["result"],
        json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})
    );
}

#[tokio::test]
async fn updates_carry_the_secret_header_and_redelivery_repeats_the_update_id() {
    let fake = fake().await;
    let receiver = Receiver::start(StatusCode::OK).await;
    set_webhook(&fake, &receiver.url, "hook-secret").await;

    let first = fake.customer_text(SUPPORT_BOT_ID, ADA_ID, "Hello!").await;
    let second = fake.customer_text(SUPPORT_BOT_ID, ADA_ID, "Anyone there?").await;
    assert_eq!(first.status, Some(200));
    assert_eq!(second.update_id(), first.update_id().map(|id| id + 1));
    assert_eq!(first.message_id(), Some(1));
    assert_eq!(second.message_id(), Some(2));

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].secret.as_deref(), Some("hook-secret"));
    let message = &got[0].update["message"];
    assert_eq!(message["text"], "Hello!");
    assert_eq!(
        message["chat"],
        json!({"id": ADA_ID, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "type": "private"})
    );
    assert_eq!(message["from"]["language_code"], "en");

    let again = fake.redeliver(SUPPORT_BOT_ID, first.update_id().unwrap()).await;
    assert_eq!(again.status, Some(200));
    assert_eq!(receiver.received()[2].update, got[0].update);

    let wrong = fake
        .deliver_with_secret(
            SUPPORT_BOT_ID,
            json!({"message": got[0].update["message"]}),
            "not-the-secret",
        )
        .await;
    assert_eq!(receiver.received()[3].secret.as_deref(), Some("not-the-secret"));
    assert_eq!(wrong.update_id(), second.update_id().map(|id| id + 1));
}

#[tokio::test]
async fn a_refused_update_shows_up_in_get_webhook_info() {
    let fake = fake().await;
    let receiver = Receiver::start(StatusCode::UNAUTHORIZED).await;
    set_webhook(&fake, &receiver.url, "hook-secret").await;

    let delivery = fake.customer_text(SUPPORT_BOT_ID, LINUS_ID, "hi").await;
    assert_eq!(delivery.status, Some(401));
    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(
        info["result"]["last_error_message"],
        "Wrong response from the webhook: 401 Unauthorized"
    );
    assert!(info["result"]["last_error_date"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(info["result"]["pending_update_count"], 1);
}

#[tokio::test]
async fn send_message_returns_the_message_and_records_it() {
    let fake = fake().await;
    fake.customer_text(SUPPORT_BOT_ID, ADA_ID, "Where is my order?").await;
    let form = [
        ("chat_id", ADA_ID.to_string()),
        ("text", "It ships <b>today</b> &amp; arrives soon".to_owned()),
        ("parse_mode", "HTML".to_owned()),
        ("reply_parameters", r#"{"message_id":1}"#.to_owned()),
        (
            "reply_markup",
            r#"{"inline_keyboard":[[{"text":"Track","callback_data":"track:1"}]]}"#.to_owned(),
        ),
    ];
    let body: Value = reqwest::Client::new()
        .post(method_url(&fake, SUPPORT_BOT_TOKEN, "sendMessage"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = &body["result"];
    assert_eq!(message["message_id"], 2);
    assert_eq!(message["from"]["id"], SUPPORT_BOT_ID);
    assert_eq!(message["chat"]["id"], ADA_ID);
    assert_eq!(message["text"], "It ships today & arrives soon");
    assert_eq!(message["entities"], json!([{"type": "bold", "offset": 9, "length": 5}]));
    assert_eq!(message["reply_to_message"]["text"], "Where is my order?");
    assert_eq!(
        message["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "track:1"
    );

    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "sendMessage");
    assert_eq!(
        sent[0].text.as_deref(),
        Some("It ships <b>today</b> &amp; arrives soon")
    );
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent[0].reply_parameters, Some(json!({"message_id": 1})));
}

#[tokio::test]
async fn send_message_failures_use_telegram_descriptions() {
    let fake = fake().await;
    let chat = ADA_ID;
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": 42, "text": "x"})).await,
        error(400, "Bad Request: chat not found")
    );
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": ""})).await,
        error(400, "Bad Request: message text is empty")
    );
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": "x".repeat(4097)})).await,
        error(400, "Bad Request: message is too long")
    );
    assert_eq!(
        call(
            &fake,
            "sendMessage",
            json!({"chat_id": chat, "text": "<div>x</div>", "parse_mode": "HTML"})
        )
        .await,
        error(
            400,
            "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0"
        )
    );
    assert_eq!(
        call(
            &fake,
            "sendMessage",
            json!({"chat_id": chat, "text": "<b>x", "parse_mode": "HTML"})
        )
        .await,
        error(
            400,
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
        )
    );
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": "x".repeat(4096)}))
            .await
            .0,
        200
    );

    assert!(fake.flood(SUPPORT_BOT_ID, chat, 7, 2));
    for _ in 0..2 {
        let (status, body) = call(&fake, "sendMessage", json!({"chat_id": chat, "text": "hi"})).await;
        assert_eq!(status, 429);
        assert_eq!(
            body,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}})
        );
    }
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": "hi"}))
            .await
            .0,
        200
    );

    let blocked = fake.customer_block(SUPPORT_BOT_ID, chat).await;
    assert_eq!(blocked.update["my_chat_member"]["new_chat_member"]["status"], "kicked");
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": "hi"})).await,
        error(403, "Forbidden: bot was blocked by the user")
    );
    fake.customer_unblock(SUPPORT_BOT_ID, chat).await;
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": chat, "text": "hi"}))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn an_uploaded_document_comes_back_byte_identical_through_get_file() {
    let fake = fake().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let form = reqwest::multipart::Form::new()
        .text("chat_id", LINUS_ID.to_string())
        .text("caption", "Your invoice")
        .part(
            "document",
            reqwest::multipart::Part::bytes(bytes.clone())
                .file_name("invoice.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let body: Value = reqwest::Client::new()
        .post(method_url(&fake, SUPPORT_BOT_TOKEN, "sendDocument"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let document = &body["result"]["document"];
    assert_eq!(document["file_name"], "invoice.pdf");
    assert_eq!(document["mime_type"], "application/pdf");
    assert_eq!(document["file_size"], 70_000);
    assert_eq!(body["result"]["caption"], "Your invoice");

    let sent = fake.sent();
    let file = sent[0].file.as_ref().unwrap();
    assert_eq!(file.file_name.as_deref(), Some("invoice.pdf"));
    assert_eq!(file.size, 70_000);
    assert_eq!(file.sha256, state::sha256_hex(&bytes));

    let (_, got) = call(&fake, "getFile", json!({"file_id": document["file_id"]})).await;
    let path = got["result"]["file_path"].as_str().unwrap();
    assert_eq!(got["result"]["file_size"], 70_000);
    let download = reqwest::get(format!("{}/file/bot{SUPPORT_BOT_TOKEN}/{path}", fake.base_url()))
        .await
        .unwrap();
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    assert_eq!(
        call(&fake, "getFile", json!({"file_id": "nope"})).await,
        error(400, "Bad Request: invalid file_id")
    );
}

#[tokio::test]
async fn a_customer_photo_and_a_25_mb_document_through_get_file() {
    let fake = fake().await;
    let photo = fake
        .customer_photo(SUPPORT_BOT_ID, ADA_ID, b"jpeg bytes".to_vec(), Some("look"))
        .await;
    let sizes = photo.update["message"]["photo"].as_array().unwrap().clone();
    assert_eq!(photo.update["message"]["caption"], "look");
    let largest = sizes.last().unwrap();
    let (_, got) = call(&fake, "getFile", json!({"file_id": largest["file_id"]})).await;
    let path = got["result"]["file_path"].as_str().unwrap();
    let bytes = reqwest::get(format!("{}/file/bot{SUPPORT_BOT_TOKEN}/{path}", fake.base_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), b"jpeg bytes");

    let big = fake
        .customer_send(
            SUPPORT_BOT_ID,
            ADA_ID,
            Inbound::large_document("video.zip", "application/zip", 25 * 1024 * 1024),
        )
        .await;
    let document = &big.update["message"]["document"];
    assert_eq!(document["file_size"], 25 * 1024 * 1024);
    assert_eq!(
        call(&fake, "getFile", json!({"file_id": document["file_id"]})).await,
        error(400, "Bad Request: file is too big")
    );
}

#[tokio::test]
async fn edit_and_delete_follow_telegram_rules() {
    let fake = fake().await;
    let markup = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});
    let (_, sent) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": ADA_ID, "text": "Done?", "reply_markup": markup}),
    )
    .await;
    let id = sent["result"]["message_id"].clone();

    assert_eq!(
        call(
            &fake,
            "editMessageText",
            json!({"chat_id": ADA_ID, "message_id": id, "text": "Done?", "reply_markup": markup})
        )
        .await,
        error(400, errors::NOT_MODIFIED)
    );
    let (status, edited) = call(
        &fake,
        "editMessageText",
        json!({"chat_id": ADA_ID, "message_id": id, "text": "Done!"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(edited["result"]["text"], "Done!");
    assert!(edited["result"]["edit_date"].is_i64());
    assert!(edited["result"].get("reply_markup").is_none());
    assert_eq!(
        call(
            &fake,
            "editMessageText",
            json!({"chat_id": ADA_ID, "message_id": 99, "text": "x"})
        )
        .await,
        error(400, "Bad Request: message to edit not found")
    );

    assert_eq!(
        call(&fake, "deleteMessage", json!({"chat_id": ADA_ID, "message_id": id})).await,
        (200, json!({"ok": true, "result": true}))
    );
    assert_eq!(
        call(&fake, "deleteMessage", json!({"chat_id": ADA_ID, "message_id": id})).await,
        error(400, "Bad Request: message to delete not found")
    );
    let methods: Vec<_> = fake.sent().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["sendMessage", "editMessageText", "deleteMessage"]);
}

#[tokio::test]
async fn a_callback_query_can_be_answered_once() {
    let fake = fake().await;
    let receiver = Receiver::start(StatusCode::OK).await;
    set_webhook(&fake, &receiver.url, "s").await;
    let markup = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});
    let (_, sent) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": ADA_ID, "text": "Ok?", "reply_markup": markup}),
    )
    .await;
    let message_id = sent["result"]["message_id"].as_i64().unwrap();

    let pressed = fake
        .customer_press_button(SUPPORT_BOT_ID, ADA_ID, message_id, "yes")
        .await;
    let query = &pressed.update["callback_query"];
    assert_eq!(query["data"], "yes");
    assert_eq!(query["message"]["message_id"], message_id);
    assert!(query["chat_instance"].is_string());
    let id = query["id"].as_str().unwrap();

    assert_eq!(
        call(
            &fake,
            "answerCallbackQuery",
            json!({"callback_query_id": id, "text": "Thanks"})
        )
        .await,
        (200, json!({"ok": true, "result": true}))
    );
    assert_eq!(
        call(&fake, "answerCallbackQuery", json!({"callback_query_id": id})).await,
        error(
            400,
            "Bad Request: query is too old and response timeout expired or query id is invalid"
        )
    );
    assert_eq!(fake.callback_answers()[0].text.as_deref(), Some("Thanks"));
}

#[tokio::test]
async fn no_recorded_request_contains_a_token() {
    let fake = fake().await;
    call(&fake, "getMe", json!({})).await;
    call(&fake, "sendMessage", json!({"chat_id": ADA_ID, "text": "hi"})).await;
    reqwest::get(format!(
        "{}/file/bot{SUPPORT_BOT_TOKEN}/documents/none.pdf",
        fake.base_url()
    ))
    .await
    .unwrap();
    reqwest::get(method_url(&fake, "123:wrong", "getMe")).await.unwrap();
    assert_eq!(
        fake.methods_called(),
        ["getMe", "sendMessage", "file/documents/none.pdf", "getMe"]
    );
    let recorded = serde_json::to_string(&fake.requests()).unwrap();
    let over_http = reqwest::get(format!("{}/_fake/telegram/requests", fake.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sent = serde_json::to_string(&fake.sent()).unwrap();
    for text in [recorded, over_http, sent] {
        assert!(!text.contains(SUPPORT_BOT_TOKEN), "{text}");
        assert!(!text.contains("AAFakeToken"), "{text}");
        assert!(!text.contains("123:wrong"), "{text}");
    }
}

#[tokio::test]
async fn control_routes_play_the_customer() {
    let fake = fake().await;
    let receiver = Receiver::start(StatusCode::OK).await;
    set_webhook(&fake, &receiver.url, "s").await;
    let client = reqwest::Client::new();
    let base = format!("{}/_fake/telegram/{SUPPORT_BOT_ID}", fake.base_url());

    let text: Value = client
        .post(format!("{base}/customers/{ADA_ID}/text"))
        .json(&json!({"text": "From the browser"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(text["status"], 200);
    assert_eq!(text["update"]["message"]["text"], "From the browser");

    let venue: Value = client
        .post(format!("{base}/customers/{ADA_ID}/message"))
        .json(&json!({"type": "venue", "latitude": 51.5, "longitude": -0.12, "title": "Office", "address": "1 Main St", "reply_to_message_id": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(venue["update"]["message"]["location"]["latitude"], 51.5);
    assert_eq!(venue["update"]["message"]["venue"]["title"], "Office");
    assert_eq!(
        venue["update"]["message"]["reply_to_message"]["text"],
        "From the browser"
    );

    let flood = client
        .post(format!("{base}/chats/{ADA_ID}/flood"))
        .json(&json!({"retry_after": 3, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(flood.status().as_u16(), 200);
    assert_eq!(
        call(&fake, "sendMessage", json!({"chat_id": ADA_ID, "text": "x"}))
            .await
            .0,
        429
    );

    let group: Value = client
        .post(format!("{base}/groups/-100200/message"))
        .json(&json!({"title": "Acme fans", "user_id": LINUS_ID, "type": "text", "text": "hey all"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        group["update"]["message"]["chat"],
        json!({"id": -100200, "title": "Acme fans", "type": "group"})
    );
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn customer_edits_replies_and_channel_posts_have_telegram_shapes() {
    let fake = fake().await;
    let first = fake.customer_text(SALES_BOT_ID, LINUS_ID, "typo").await;
    let edited = fake.customer_edit(SALES_BOT_ID, LINUS_ID, 1, "fixed").await;
    let message = &edited.update["edited_message"];
    assert_eq!(message["message_id"], 1);
    assert_eq!(message["text"], "fixed");
    assert!(message["edit_date"].is_i64());
    assert_eq!(
        message["chat"],
        json!({"id": LINUS_ID, "first_name": "Linus", "type": "private"})
    );
    assert_eq!(first.error.as_deref(), Some("no webhook is set"));

    let post = fake.channel_post(SALES_BOT_ID, -1_001_234, "Acme news", "Sale!").await;
    assert_eq!(post.update["channel_post"]["sender_chat"]["type"], "channel");
    assert!(post.update["channel_post"].get("from").is_none());

    let sticker = fake
        .customer_send(SALES_BOT_ID, LINUS_ID, Inbound::Sticker { emoji: None })
        .await;
    assert_eq!(sticker.update["message"]["sticker"]["is_animated"], false);
    let unknown = fake.customer_text(SALES_BOT_ID, 1, "who?").await;
    assert_eq!(unknown.error.as_deref(), Some("unknown customer 1"));
    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(
        info["result"]["pending_update_count"], 0,
        "the support bot is untouched"
    );
}

//! The test-control API under `/_fake/` (JSON in, JSON out). Not part of
//! Telegram: it lets browser tests play the customer and inspect or bend the
//! fake, mirroring the Rust helpers on [`FakeTelegram`].
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `GET /_fake/health` | readiness probe (`ok`) |
//! | `GET /_fake/telegram/bots` | the bots (ids, tokens, names) and customers |
//! | `GET /_fake/telegram/sent` | accepted sends, edits and deletes |
//! | `GET /_fake/telegram/callback-answers` | accepted answerCallbackQuery calls |
//! | `GET /_fake/telegram/requests` | Bot API calls seen (method, bot id; never tokens) |
//! | `POST /_fake/telegram/reset` | forget everything that happened |
//! | `GET /_fake/telegram/{bot_id}/webhook` | `{"config": …, "info": <getWebhookInfo>}` |
//! | `GET /_fake/telegram/{bot_id}/chats/{chat_id}/messages` | the chat's messages now |
//! | `POST /_fake/telegram/{bot_id}/chats/{chat_id}/flood` | `{"retry_after","times"}`: next sends get 429 |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/text` | `{"text","entities"?,"reply_to_message_id"?}` |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/photo` | `{"caption"?}` (a placeholder PNG) |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/document` | `{"file_name","mime_type","content"?,"size"?}` |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/message` | any [`Inbound`] (`{"type":"venue",…}`) + `"reply_to_message_id"?` |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/edit` | `{"message_id","text"}` → `edited_message` |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/callback` | `{"message_id","data"}` → `callback_query` |
//! | `POST /_fake/telegram/{bot_id}/customers/{user_id}/block`, `/unblock` | → `my_chat_member` kicked / member |
//! | `POST /_fake/telegram/{bot_id}/groups/{chat_id}/message` | `{"title","user_id"}` + an [`Inbound`] |
//! | `POST /_fake/telegram/{bot_id}/channels/{chat_id}/post` | `{"title","text"}` → `channel_post` |
//! | `POST /_fake/telegram/{bot_id}/updates?secret=…` | deliver a hand-made update (optionally with another secret) |
//! | `POST /_fake/telegram/{bot_id}/updates/{update_id}/redeliver` | POST an update again, same `update_id` |
//!
//! Delivering routes answer the [`crate::Delivery`] (`update`, `status`,
//! `body`, `error`): HTTP 200 when the bot's server answered (whatever its
//! status), 502 when it could not be reached or nothing was sent.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::FakeTelegram;
use super::customer::Inbound;
use super::state::Shared;
use super::webhook::Delivery;

type AppState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    let customer = "/_fake/telegram/{bot_id}/customers/{user_id}";
    Router::new()
        .route("/_fake/health", get(|| async { "ok" }))
        .route("/_fake/telegram/bots", get(bots))
        .route("/_fake/telegram/sent", get(sent))
        .route("/_fake/telegram/callback-answers", get(callback_answers))
        .route("/_fake/telegram/requests", get(requests))
        .route("/_fake/telegram/reset", post(reset))
        .route("/_fake/telegram/{bot_id}/webhook", get(webhook))
        .route("/_fake/telegram/{bot_id}/chats/{chat_id}/messages", get(messages))
        .route("/_fake/telegram/{bot_id}/chats/{chat_id}/flood", post(flood))
        .route(&format!("{customer}/text"), post(customer_text))
        .route(&format!("{customer}/photo"), post(customer_photo))
        .route(&format!("{customer}/document"), post(customer_document))
        .route(&format!("{customer}/message"), post(customer_message))
        .route(&format!("{customer}/edit"), post(customer_edit))
        .route(&format!("{customer}/callback"), post(customer_callback))
        .route(&format!("{customer}/block"), post(customer_block))
        .route(&format!("{customer}/unblock"), post(customer_unblock))
        .route("/_fake/telegram/{bot_id}/groups/{chat_id}/message", post(group_message))
        .route("/_fake/telegram/{bot_id}/channels/{chat_id}/post", post(channel_post))
        .route("/_fake/telegram/{bot_id}/updates", post(raw_update))
        .route(
            "/_fake/telegram/{bot_id}/updates/{update_id}/redeliver",
            post(redeliver),
        )
}

fn handle(shared: Arc<Shared>) -> FakeTelegram {
    FakeTelegram { shared }
}

fn delivery_response(delivery: Delivery) -> Response {
    let status = if delivery.status.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, Json(delivery)).into_response()
}

async fn bots(State(shared): AppState) -> Json<Value> {
    let world = shared.lock();
    let bots: Vec<_> = world.bots.values().map(|b| b.bot.clone()).collect();
    Json(json!({"bots": bots, "customers": world.customers}))
}

async fn sent(State(shared): AppState) -> Json<Value> {
    Json(json!(shared.lock().sent))
}

async fn callback_answers(State(shared): AppState) -> Json<Value> {
    Json(json!(shared.lock().callback_answers))
}

async fn requests(State(shared): AppState) -> Json<Value> {
    Json(json!(shared.lock().requests))
}

async fn reset(State(shared): AppState) -> Json<Value> {
    shared.lock().reset();
    Json(json!({"ok": true}))
}

async fn webhook(State(shared): AppState, Path(bot_id): Path<i64>) -> Response {
    let fake = handle(shared);
    match fake.webhook_info(bot_id) {
        Some(info) => Json(json!({"config": fake.webhook(bot_id), "info": info})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "unknown bot"}))).into_response(),
    }
}

async fn messages(State(shared): AppState, Path((bot_id, chat_id)): Path<(i64, i64)>) -> Json<Value> {
    Json(json!(handle(shared).messages(bot_id, chat_id)))
}

#[derive(Deserialize)]
struct FloodRequest {
    retry_after: u64,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn flood(
    State(shared): AppState,
    Path((bot_id, chat_id)): Path<(i64, i64)>,
    Json(request): Json<FloodRequest>,
) -> Response {
    if handle(shared).flood(bot_id, chat_id, request.retry_after, request.times) {
        Json(json!({"ok": true})).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"error": "unknown bot"}))).into_response()
    }
}

#[derive(Deserialize)]
struct TextRequest {
    text: String,
    #[serde(default)]
    entities: Option<Vec<Value>>,
    #[serde(default)]
    reply_to_message_id: Option<i64>,
}

async fn customer_text(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    Json(request): Json<TextRequest>,
) -> Response {
    let inbound = Inbound::Text {
        text: request.text,
        entities: request.entities,
    };
    delivery_response(
        handle(shared)
            .customer_reply(bot_id, user_id, request.reply_to_message_id, inbound)
            .await,
    )
}

#[derive(Deserialize, Default)]
struct PhotoRequest {
    #[serde(default)]
    caption: Option<String>,
}

async fn customer_photo(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    body: Option<Json<PhotoRequest>>,
) -> Response {
    let request = body.map(|Json(r)| r).unwrap_or_default();
    let inbound = Inbound::Photo {
        bytes: None,
        caption: request.caption,
    };
    delivery_response(handle(shared).customer_send(bot_id, user_id, inbound).await)
}

#[derive(Deserialize)]
struct DocumentRequest {
    file_name: String,
    mime_type: String,
    /// The file's text; a placeholder when absent.
    #[serde(default)]
    content: Option<String>,
    /// Registers metadata only, e.g. 26214400 for a 25 MB file getFile refuses.
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    caption: Option<String>,
}

async fn customer_document(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    Json(request): Json<DocumentRequest>,
) -> Response {
    let bytes = match (request.content, request.size) {
        (Some(content), _) => Some(content.into_bytes()),
        (None, Some(_)) => None,
        (None, None) => Some(format!("Contents of {}\n", request.file_name).into_bytes()),
    };
    let inbound = Inbound::Document {
        file_name: request.file_name,
        mime_type: request.mime_type,
        bytes,
        size: request.size,
        caption: request.caption,
    };
    delivery_response(handle(shared).customer_send(bot_id, user_id, inbound).await)
}

#[derive(Deserialize)]
struct MessageRequest {
    #[serde(flatten)]
    inbound: Inbound,
    #[serde(default)]
    reply_to_message_id: Option<i64>,
}

async fn customer_message(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    Json(request): Json<MessageRequest>,
) -> Response {
    let fake = handle(shared);
    delivery_response(
        fake.customer_reply(bot_id, user_id, request.reply_to_message_id, request.inbound)
            .await,
    )
}

#[derive(Deserialize)]
struct EditRequest {
    message_id: i64,
    text: String,
}

async fn customer_edit(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    Json(request): Json<EditRequest>,
) -> Response {
    delivery_response(
        handle(shared)
            .customer_edit(bot_id, user_id, request.message_id, &request.text)
            .await,
    )
}

#[derive(Deserialize)]
struct CallbackRequest {
    message_id: i64,
    data: String,
}

async fn customer_callback(
    State(shared): AppState,
    Path((bot_id, user_id)): Path<(i64, i64)>,
    Json(request): Json<CallbackRequest>,
) -> Response {
    let fake = handle(shared);
    delivery_response(
        fake.customer_press_button(bot_id, user_id, request.message_id, &request.data)
            .await,
    )
}

async fn customer_block(State(shared): AppState, Path((bot_id, user_id)): Path<(i64, i64)>) -> Response {
    delivery_response(handle(shared).customer_block(bot_id, user_id).await)
}

async fn customer_unblock(State(shared): AppState, Path((bot_id, user_id)): Path<(i64, i64)>) -> Response {
    delivery_response(handle(shared).customer_unblock(bot_id, user_id).await)
}

#[derive(Deserialize)]
struct GroupRequest {
    title: String,
    user_id: i64,
    #[serde(flatten)]
    inbound: Inbound,
}

async fn group_message(
    State(shared): AppState,
    Path((bot_id, chat_id)): Path<(i64, i64)>,
    Json(request): Json<GroupRequest>,
) -> Response {
    let fake = handle(shared);
    delivery_response(
        fake.group_message(bot_id, chat_id, &request.title, request.user_id, request.inbound)
            .await,
    )
}

#[derive(Deserialize)]
struct ChannelRequest {
    title: String,
    text: String,
}

async fn channel_post(
    State(shared): AppState,
    Path((bot_id, chat_id)): Path<(i64, i64)>,
    Json(request): Json<ChannelRequest>,
) -> Response {
    delivery_response(
        handle(shared)
            .channel_post(bot_id, chat_id, &request.title, &request.text)
            .await,
    )
}

async fn raw_update(
    State(shared): AppState,
    Path(bot_id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
    Json(update): Json<Value>,
) -> Response {
    let fake = handle(shared);
    let delivery = match query.get("secret") {
        Some(secret) => fake.deliver_with_secret(bot_id, update, secret).await,
        None => fake.deliver(bot_id, update).await,
    };
    delivery_response(delivery)
}

async fn redeliver(State(shared): AppState, Path((bot_id, update_id)): Path<(i64, i64)>) -> Response {
    delivery_response(handle(shared).redeliver(bot_id, update_id).await)
}

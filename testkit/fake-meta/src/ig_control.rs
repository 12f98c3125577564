//! The control API's Instagram routes (JSON in, JSON out). Not part of
//! Meta: they let tests play the Instagram customer and inspect the fake.
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `POST /_fake/instagram/message` | customer writes → signed `object: "instagram"` webhook; reopens their window |
//! | `POST /_fake/instagram/read` | `{ig_id, igsid, mid}` → signed `messaging_seen` webhook |
//! | `GET /_fake/instagram/sent` | Send API calls accepted for Instagram recipients |
//! | `POST /_fake/instagram/windows/{igsid}` | `{hoursSinceLastMessage}` (`null`: never wrote): place the customer's last message in time |
//! | `POST /_fake/instagram/windows/{igsid}/open`, `…/close` | last message now / more than 7 days ago |
//! | `GET /_fake/instagram/accounts` | Instagram accounts, their Pages and customers |
//! | `POST /_fake/instagram/webhook-url` | `{url}`: where Instagram webhooks go |
//!
//! `POST /_fake/instagram/message` takes `{ig_id, igsid, text?,
//! attachment?: {type, url}, story_reply?: {id, url}, story_mention_url?,
//! reply_to?, reaction?: {mid, emoji?, action?}, unsupported?, mid?,
//! timestamp?}` (camelCase aliases accepted) and answers `{"mid", "status",
//! "body", "error"}` (502 when the app could not be reached). A reaction is
//! not a message: it does not reopen the window.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ig_payloads::{
    ig_attachment, ig_message, ig_reaction, ig_read, ig_reply_to, ig_story_mention, ig_story_reply, ig_unsupported,
    instagram_webhook, new_ig_mid,
};
use super::ig_state::IG_HUMAN_AGENT_MS;
use super::payloads::now_ms;
use super::state::Shared;
use super::webhook::{Delivery, deliver_instagram};
use super::{Platform, SentMessage};

type AppState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_fake/instagram/message", post(post_message))
        .route("/_fake/instagram/read", post(post_read))
        .route("/_fake/instagram/sent", get(sent))
        .route("/_fake/instagram/windows/{igsid}", post(set_window_route))
        .route("/_fake/instagram/windows/{igsid}/open", post(open_window))
        .route("/_fake/instagram/windows/{igsid}/close", post(close_window))
        .route("/_fake/instagram/accounts", get(accounts))
        .route("/_fake/instagram/webhook-url", post(set_webhook_url))
}

fn delivery_response(mut body: Value, delivery: &Delivery) -> Response {
    let status = if delivery.status.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    body["status"] = json!(delivery.status);
    body["body"] = json!(delivery.body);
    body["error"] = json!(delivery.error);
    (status, Json(body)).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

/// `{type, url}` of an attachment.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IgAttachmentSpec {
    /// `image`, `video`, `audio` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// `{id, url}` of the story replied to.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IgStorySpec {
    pub id: String,
    pub url: String,
}

/// `{mid, emoji?, action?}` of a reaction (`action`: `react`/`unreact`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IgReactionSpec {
    pub mid: String,
    pub emoji: Option<String>,
    pub action: Option<String>,
}

/// What an Instagram customer sends (`POST /_fake/instagram/message`, and
/// [`FakeMeta::instagram_message`](super::FakeMeta::instagram_message)).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct InstagramMessageRequest {
    /// The Instagram professional account written to.
    #[serde(alias = "igId")]
    pub ig_id: String,
    pub igsid: String,
    pub text: Option<String>,
    pub attachment: Option<IgAttachmentSpec>,
    #[serde(alias = "storyReply")]
    pub story_reply: Option<IgStorySpec>,
    #[serde(alias = "storyMentionUrl")]
    pub story_mention_url: Option<String>,
    /// The mid this message replies to.
    #[serde(alias = "replyTo")]
    pub reply_to: Option<String>,
    pub reaction: Option<IgReactionSpec>,
    pub unsupported: bool,
    /// Defaults to a fresh mid.
    pub mid: Option<String>,
    /// Milliseconds; defaults to now.
    pub timestamp: Option<i64>,
}

async fn post_message(State(shared): AppState, Json(req): Json<InstagramMessageRequest>) -> Response {
    match customer_message(&shared, req).await {
        Ok((mid, delivery)) => delivery_response(json!({ "mid": mid }), &delivery),
        Err(error) => bad_request(error),
    }
}

/// Builds and delivers the Instagram webhook for a customer's message or
/// reaction. A message makes the IGSID known to the account and reopens
/// its window.
pub(crate) async fn customer_message(
    shared: &Shared,
    req: InstagramMessageRequest,
) -> Result<(String, Delivery), String> {
    if shared.lock().ig.account(&req.ig_id).is_none() {
        return Err(format!("unknown Instagram account {:?}", req.ig_id));
    }
    if req.igsid.is_empty() {
        return Err("`igsid` is required".to_owned());
    }
    let mid = req.mid.clone().unwrap_or_else(new_ig_mid);
    let ts = req.timestamp.unwrap_or_else(now_ms);
    let (ig_id, igsid) = (req.ig_id.as_str(), req.igsid.as_str());
    let (event, is_message) = if let Some(reaction) = &req.reaction {
        let action = reaction.action.as_deref().unwrap_or("react");
        (
            ig_reaction(igsid, ig_id, &reaction.mid, action, reaction.emoji.as_deref(), ts),
            false,
        )
    } else if req.unsupported {
        (ig_unsupported(igsid, ig_id, &mid, ts), true)
    } else if let Some(story) = &req.story_reply {
        let text = req.text.as_deref().unwrap_or("");
        (
            ig_story_reply(igsid, ig_id, &mid, text, &story.id, &story.url, ts),
            true,
        )
    } else if let Some(url) = &req.story_mention_url {
        (ig_story_mention(igsid, ig_id, &mid, url, ts), true)
    } else {
        let attachments: Vec<Value> = req.attachment.iter().map(|a| ig_attachment(&a.kind, &a.url)).collect();
        if req.text.as_deref().is_none_or(str::is_empty) && attachments.is_empty() {
            return Err(
                "an Instagram message needs text, an attachment, a story, a reaction or unsupported".to_owned(),
            );
        }
        (
            ig_message(igsid, ig_id, &mid, req.text.as_deref(), &attachments, ts),
            true,
        )
    };
    let event = match (&req.reply_to, is_message) {
        (Some(target), true) => ig_reply_to(event, target),
        _ => event,
    };
    if is_message {
        shared.lock().ig.customer_wrote(ig_id, igsid, now_ms());
    }
    let delivery = deliver_instagram(shared, &instagram_webhook(ig_id, vec![event])).await;
    Ok((mid, delivery))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReadRequest {
    #[serde(alias = "igId")]
    ig_id: String,
    igsid: String,
    mid: String,
    timestamp: Option<i64>,
}

async fn post_read(State(shared): AppState, Json(req): Json<ReadRequest>) -> Response {
    let ts = req.timestamp.unwrap_or_else(now_ms);
    let payload = instagram_webhook(&req.ig_id, vec![ig_read(&req.igsid, &req.ig_id, &req.mid, ts)]);
    delivery_response(json!({}), &deliver_instagram(&shared, &payload).await)
}

/// Places the customer's last message `hours` ago (`None`: never wrote).
pub(crate) fn set_window(shared: &Shared, igsid: &str, hours: Option<f64>) {
    let mut world = shared.lock();
    match hours {
        Some(hours) => {
            let at = now_ms() - (hours * 3_600_000.0) as i64;
            world.ig.last_message.insert(igsid.to_owned(), at);
        }
        None => {
            world.ig.last_message.remove(igsid);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WindowRequest {
    #[serde(rename = "hoursSinceLastMessage", alias = "hours_since_last_message")]
    hours_since_last_message: Option<f64>,
}

async fn set_window_route(
    State(shared): AppState,
    Path(igsid): Path<String>,
    Json(req): Json<WindowRequest>,
) -> Json<Value> {
    set_window(&shared, &igsid, req.hours_since_last_message);
    Json(json!({ "ok": true }))
}

async fn open_window(State(shared): AppState, Path(igsid): Path<String>) -> Json<Value> {
    set_window(&shared, &igsid, Some(0.0));
    Json(json!({ "ok": true }))
}

async fn close_window(State(shared): AppState, Path(igsid): Path<String>) -> Json<Value> {
    let beyond = (IG_HUMAN_AGENT_MS / 3_600_000) as f64 + 1.0;
    set_window(&shared, &igsid, Some(beyond));
    Json(json!({ "ok": true }))
}

async fn sent(State(shared): AppState) -> Json<Vec<SentMessage>> {
    Json(
        shared
            .lock()
            .sent
            .iter()
            .filter(|s| s.platform == Platform::Instagram)
            .cloned()
            .collect(),
    )
}

async fn accounts(State(shared): AppState) -> Json<Value> {
    let world = shared.lock();
    let now = now_ms();
    let accounts: Vec<Value> = world
        .ig
        .accounts
        .iter()
        .map(|a| {
            let customers: Vec<Value> = a
                .customers
                .iter()
                .map(|c| {
                    let hours = world
                        .ig
                        .last_message
                        .get(&c.igsid)
                        .map(|t| (now - t) as f64 / 3_600_000.0);
                    json!({
                        "igsid": c.igsid,
                        "name": c.name,
                        "username": c.username,
                        "hoursSinceLastMessage": hours,
                    })
                })
                .collect();
            json!({
                "id": a.id,
                "pageId": a.page_id,
                "username": a.username,
                "name": a.name,
                "customers": customers,
            })
        })
        .collect();
    Json(json!({ "webhookUrl": world.instagram_url(), "accounts": accounts }))
}

#[derive(Debug, Deserialize)]
struct WebhookUrl {
    url: String,
}

async fn set_webhook_url(State(shared): AppState, Json(req): Json<WebhookUrl>) -> Json<Value> {
    shared.lock().instagram_webhook_url = Some(req.url);
    Json(json!({ "ok": true }))
}

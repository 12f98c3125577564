//! The test-control API under `/_fake/` (JSON in, JSON out). Not part of
//! Meta: it lets tests play the customer and inspect or bend the fake.
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `GET /_fake/health` | readiness probe (`ok`) |
//! | `POST /_fake/customer-message` | customer writes → signed `messages` webhook |
//! | `POST /_fake/delivery` | → signed `message_deliveries` webhook |
//! | `POST /_fake/read` | → signed `message_reads` webhook |
//! | `POST /_fake/pages/{page_id}/expire-token` | that Page token now fails with 190/463 |
//! | `POST`/`DELETE /_fake/customers/{psid}/outside-window` | close / reopen the 24-hour window |
//! | `GET /_fake/sent` | Send API calls accepted so far (Messenger and Instagram, with `platform`) |
//! | `GET /_fake/subscriptions` | ids of subscribed pages |
//! | `GET /_fake/pages` | pages, current tokens, customers |
//! | `POST /_fake/webhook-url` | `{"url"}`: where webhooks go |
//! | `POST /_fake/echo` | `{"enabled"}`: echo webhooks after sends on/off |
//! | `POST /_fake/reset` | forget everything that happened |
//! | `GET /_fake/avatar/{psid}.svg`, `GET /_fake/media/{name}` | placeholder images |
//!
//! Webhook-sending routes answer `{"mid"?, "status", "body", "error"}` with
//! the app's HTTP status; they answer 502 when the app could not be reached.
//!
//! The WhatsApp routes (`/_fake/whatsapp/…`) are in `wa_control.rs`, the
//! Instagram ones (`/_fake/instagram/…`) in `ig_control.rs`. `reset` clears
//! their state too.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::payloads::{attachment, delivery_event, message_event, now_ms, read_event};
use super::state::{Shared, random_string};
use super::webhook::{Delivery, deliver};

type AppState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_fake/health", get(|| async { "ok" }))
        .route("/_fake/customer-message", post(post_customer_message))
        .route("/_fake/delivery", post(post_delivery))
        .route("/_fake/read", post(post_read))
        .route("/_fake/pages/{page_id}/expire-token", post(expire_token))
        .route(
            "/_fake/customers/{psid}/outside-window",
            post(close_window).delete(reopen_window),
        )
        .route("/_fake/sent", get(sent))
        .route("/_fake/subscriptions", get(subscriptions))
        .route("/_fake/pages", get(pages))
        .route("/_fake/webhook-url", post(set_webhook_url))
        .route("/_fake/echo", post(set_echo))
        .route("/_fake/reset", post(reset))
        .route("/_fake/avatar/{file}", get(avatar))
        .route("/_fake/media/{file}", get(media))
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// The answer of a webhook-sending route: 200 with the app's status, or 502
/// when the webhook did not reach the app.
fn delivery_response(mid: Option<String>, delivery: Delivery) -> Response {
    let status = if delivery.status.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    let mut body = json!({ "status": delivery.status, "body": delivery.body, "error": delivery.error });
    if let Some(mid) = mid {
        body["mid"] = json!(mid);
    }
    (status, Json(body)).into_response()
}

/// Looks up where webhooks go. `None` when no webhook URL is configured.
fn webhook_target(shared: &Shared) -> Option<(String, String)> {
    let world = shared.lock();
    world.webhook_url.clone().map(|url| (url, world.app_secret.clone()))
}

async fn send_webhook(shared: &Shared, payload: &Value) -> Delivery {
    match webhook_target(shared) {
        Some((url, secret)) => deliver(&shared.http, &url, &secret, payload).await,
        None => Delivery::failed("no webhook URL configured (FAKE_META_WEBHOOK_URL / POST /_fake/webhook-url)"),
    }
}

// ---------------------------------------------------------------------------
// Playing the customer
// ---------------------------------------------------------------------------

/// `POST /_fake/customer-message` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerMessage {
    pub page_id: String,
    pub psid: String,
    pub text: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// Defaults to a fresh `m_…` id.
    pub mid: Option<String>,
    /// Milliseconds; defaults to now.
    pub timestamp: Option<i64>,
    /// Profile for a PSID the page has not seen before.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttachmentSpec {
    #[serde(rename = "type", default = "image_kind")]
    kind: String,
    url: String,
}

fn image_kind() -> String {
    "image".to_owned()
}

async fn post_customer_message(State(shared): AppState, Json(req): Json<CustomerMessage>) -> Response {
    if req.text.as_deref().is_none_or(str::is_empty) && req.attachments.is_empty() {
        return bad_request("a customer message needs text or attachments");
    }
    let (mid, delivery) = customer_message(&shared, req).await;
    delivery_response(Some(mid), delivery)
}

/// Builds and delivers the `messages` webhook for a customer's message. The
/// customer becomes known to the page, and their messaging window reopens,
/// as a new message does on Messenger.
pub(crate) async fn customer_message(shared: &Shared, req: CustomerMessage) -> (String, Delivery) {
    let mid = req.mid.unwrap_or_else(|| format!("m_{}", random_string(40)));
    let timestamp = req.timestamp.unwrap_or_else(now_ms);
    let attachments: Vec<Value> = req.attachments.iter().map(|a| attachment(&a.kind, &a.url)).collect();
    let payload = message_event(
        &req.page_id,
        &req.psid,
        &mid,
        req.text.as_deref(),
        &attachments,
        timestamp,
    );
    {
        let mut world = shared.lock();
        world.ensure_customer(
            &req.page_id,
            &req.psid,
            req.first_name.as_deref(),
            req.last_name.as_deref(),
        );
        world.outside_window.remove(&req.psid);
    }
    let delivery = send_webhook(shared, &payload).await;
    (mid, delivery)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReceiptRequest {
    page_id: String,
    psid: String,
    #[serde(default)]
    mids: Vec<String>,
    /// Milliseconds; defaults to now.
    watermark: Option<i64>,
}

/// `POST /_fake/delivery`: the customer's Messenger received `mids`.
async fn post_delivery(State(shared): AppState, Json(req): Json<ReceiptRequest>) -> Response {
    let watermark = req.watermark.unwrap_or_else(now_ms);
    let payload = delivery_event(&req.page_id, &req.psid, &req.mids, watermark);
    delivery_response(None, send_webhook(&shared, &payload).await)
}

/// `POST /_fake/read`: the customer read everything up to `watermark`.
async fn post_read(State(shared): AppState, Json(req): Json<ReceiptRequest>) -> Response {
    let watermark = req.watermark.unwrap_or_else(now_ms);
    let payload = read_event(&req.page_id, &req.psid, watermark);
    delivery_response(None, send_webhook(&shared, &payload).await)
}

// ---------------------------------------------------------------------------
// Bending the fake
// ---------------------------------------------------------------------------

async fn expire_token(State(shared): AppState, Path(page_id): Path<String>) -> Response {
    if shared.lock().expire_page_token(&page_id) {
        Json(json!({ "ok": true })).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("unknown page {page_id}") })),
        )
            .into_response()
    }
}

async fn close_window(State(shared): AppState, Path(psid): Path<String>) -> Json<Value> {
    shared.lock().outside_window.insert(psid);
    Json(json!({ "ok": true }))
}

async fn reopen_window(State(shared): AppState, Path(psid): Path<String>) -> Json<Value> {
    shared.lock().outside_window.remove(&psid);
    Json(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct WebhookUrl {
    url: String,
}

async fn set_webhook_url(State(shared): AppState, Json(req): Json<WebhookUrl>) -> Json<Value> {
    shared.lock().webhook_url = Some(req.url);
    Json(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct EchoSwitch {
    enabled: bool,
}

async fn set_echo(State(shared): AppState, Json(req): Json<EchoSwitch>) -> Json<Value> {
    shared.lock().echo = req.enabled;
    Json(json!({ "ok": true }))
}

async fn reset(State(shared): AppState) -> Json<Value> {
    shared.lock().reset();
    Json(json!({ "ok": true }))
}

// ---------------------------------------------------------------------------
// Inspecting the fake
// ---------------------------------------------------------------------------

async fn sent(State(shared): AppState) -> Response {
    Json(shared.lock().sent.clone()).into_response()
}

async fn subscriptions(State(shared): AppState) -> Json<Vec<String>> {
    Json(shared.lock().subscriptions.keys().cloned().collect())
}

async fn pages(State(shared): AppState) -> Json<Value> {
    let world = shared.lock();
    let pages: Vec<Value> = world
        .pages
        .iter()
        .map(|p| {
            let customers: Vec<Value> = p
                .customers
                .iter()
                .map(|c| json!({ "psid": c.psid, "firstName": c.first_name, "lastName": c.last_name }))
                .collect();
            json!({
                "id": p.id,
                "name": p.name,
                "accessToken": p.token,
                "tokenExpired": world.expired_tokens.contains_key(&p.token),
                "subscribedFields": world.subscriptions.get(&p.id),
                "customers": customers,
            })
        })
        .collect();
    Json(json!({ "appId": world.app_id, "userName": world.user_name, "pages": pages }))
}

// ---------------------------------------------------------------------------
// Placeholder images (profile pictures and attachment URLs that load)
// ---------------------------------------------------------------------------

fn svg(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], body).into_response()
}

/// A round avatar with the customer's initials.
async fn avatar(State(shared): AppState, Path(file): Path<String>) -> Response {
    let psid = file.trim_end_matches(".svg");
    let initials = {
        let world = shared.lock();
        let initials = |name: &str| -> String {
            name.split_whitespace()
                .filter_map(|w| w.chars().next())
                .take(2)
                .collect()
        };
        world
            .pages
            .iter()
            .flat_map(|p| p.customers.iter())
            .find(|c| c.psid == psid)
            .map(|c| {
                c.first_name
                    .chars()
                    .take(1)
                    .chain(c.last_name.chars().take(1))
                    .collect::<String>()
            })
            .or_else(|| {
                // Instagram customers' generated profile pictures.
                world
                    .ig
                    .accounts
                    .iter()
                    .flat_map(|a| a.customers.iter())
                    .find(|c| c.igsid == psid)
                    .map(|c| initials(&c.name))
            })
            .unwrap_or_else(|| "?".to_owned())
    };
    let hue = psid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360;
    svg(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><circle cx="48" cy="48" r="48" fill="hsl({hue},55%,55%)"/><text x="48" y="60" font-family="sans-serif" font-size="36" fill="#fff" text-anchor="middle">{}</text></svg>"##,
        escape_xml(&initials)
    ))
}

/// A generic picture, for attachment URLs in tests.
async fn media(Path(file): Path<String>) -> Response {
    svg(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200"><rect width="320" height="200" fill="#dfe3ee"/><path d="M40 170 L120 80 L180 140 L220 110 L290 170 Z" fill="#8b9dc3"/><circle cx="240" cy="60" r="22" fill="#f7c948"/><text x="160" y="195" font-family="sans-serif" font-size="12" fill="#3b5998" text-anchor="middle">{}</text></svg>"##,
        escape_xml(&file)
    ))
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

//! The control API's WhatsApp routes (JSON in, JSON out). Not part of
//! Meta: they let tests play the WhatsApp customer and inspect or bend the
//! fake. Request bodies accept snake_case keys (camelCase aliases too).
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `POST /_fake/whatsapp/message` | customer writes → signed `messages` webhook; opens their 24-hour window |
//! | `POST /_fake/whatsapp/status` | `{phone_number_id, message_id, status: delivered\|read\|failed, error_code?}` → signed `statuses` webhook |
//! | `POST /_fake/whatsapp/windows/{wa_id}/close`, `…/open` | close / open the 24-hour window (`?phone_number_id=` for one number) |
//! | `POST /_fake/whatsapp/tokens/expire` | `{token?}`: expire that token, or every WABA token and user token (190) |
//! | `POST /_fake/whatsapp/window-errors` | `{mode: "webhook"\|"sync"}`: how 131047 is reported |
//! | `POST /_fake/whatsapp/auto-status` | `{enabled}`: `sent` status webhook after each send |
//! | `GET /_fake/whatsapp/sent` | accepted sends (phone id, to, body, wamid, timestamp, status) |
//! | `GET /_fake/whatsapp/templates` | every template with its status |
//! | `POST /_fake/whatsapp/templates/{id}/review` | `{status, reason?}` → new status + signed `message_template_status_update` webhook |
//! | `POST /_fake/whatsapp/templates/auto-approve` | `{afterMs}` (`null`: off): approve new templates after that delay |
//! | `GET /_fake/whatsapp/subscriptions` | WABA webhook subscriptions |
//! | `GET /_fake/whatsapp/media` | media objects (uploaded by the app and sent by customers) |
//! | `GET /_fake/whatsapp/accounts` | businesses, WABAs (current tokens), phone numbers, customers, open windows |
//! | `POST /_fake/whatsapp/webhook-url` | `{url}`: where WhatsApp webhooks go |
//!
//! `POST /_fake/whatsapp/message` takes `{phone_number_id, from, type?,
//! text?, caption?, filename?, mime_type?, latitude?, longitude?,
//! location_name?, address?, context_id?, emoji?, reaction_to?, button_id?,
//! title?, description?, payload?, contact_name?, contact_phone?,
//! profile_name?, id?, timestamp?, raw?}`. `type` is one of `text`,
//! `image`, `video`, `audio`, `document`, `sticker`, `location`,
//! `reaction`, `button` (template quick reply), `button_reply`,
//! `list_reply`, `contacts`, `unsupported`; when absent it is inferred
//! (`raw`, `emoji`/`reaction_to`, `latitude`, else `text`). `raw` is a
//! complete message object sent as-is. Media kinds get a media object with
//! real bytes. Answers `{"id": wamid, "status": <app's HTTP status>,
//! "body", "error", "mediaId"?}` (502 when the app could not be reached).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::media;
use super::payloads::now_ms;
use super::state::Shared;
use super::templates;
use super::wa_payloads::{
    Pricing, new_wamid, now_secs, wa_button, wa_contacts, wa_error_for_code, wa_interactive_button_reply,
    wa_interactive_list_reply, wa_location, wa_media_with_sha, wa_reaction, wa_status_priced, wa_text, wa_unsupported,
    wa_with_context, whatsapp_webhook,
};
use super::wa_state::{WINDOW_MS, WhatsAppMedia, WindowErrorMode};
use super::webhook::{Delivery, deliver_whatsapp};

type AppState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_fake/whatsapp/message", post(post_message))
        .route("/_fake/whatsapp/status", post(post_status))
        .route("/_fake/whatsapp/windows/{wa_id}/close", post(close_window))
        .route("/_fake/whatsapp/windows/{wa_id}/open", post(open_window))
        .route("/_fake/whatsapp/tokens/expire", post(expire_tokens))
        .route("/_fake/whatsapp/window-errors", post(set_window_errors))
        .route("/_fake/whatsapp/auto-status", post(set_auto_status))
        .route("/_fake/whatsapp/sent", get(sent))
        .route("/_fake/whatsapp/templates", get(list_templates))
        .route("/_fake/whatsapp/templates/auto-approve", post(set_auto_approve))
        .route("/_fake/whatsapp/templates/{id}/review", post(review_template))
        .route("/_fake/whatsapp/subscriptions", get(subscriptions))
        .route("/_fake/whatsapp/media", get(list_media))
        .route("/_fake/whatsapp/accounts", get(accounts))
        .route("/_fake/whatsapp/webhook-url", post(set_webhook_url))
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

fn not_found(message: impl Into<String>) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message.into() }))).into_response()
}

/// 200 with the app's answer, or 502 when the webhook did not reach it.
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

// ---------------------------------------------------------------------------
// Playing the customer
// ---------------------------------------------------------------------------

/// What a WhatsApp customer sends (`POST /_fake/whatsapp/message`, and
/// [`FakeMeta::whatsapp_message`](super::FakeMeta::whatsapp_message)).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WhatsAppMessageRequest {
    /// The business number written to.
    #[serde(alias = "phoneNumberId")]
    pub phone_number_id: String,
    /// The customer's wa_id (digits).
    pub from: String,
    /// Message type; inferred when absent.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub filename: Option<String>,
    /// Overrides the generated media's MIME type.
    #[serde(alias = "mimeType")]
    pub mime_type: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(alias = "locationName")]
    pub location_name: Option<String>,
    pub address: Option<String>,
    /// The wamid the message replies to (`context.id`).
    #[serde(alias = "contextId")]
    pub context_id: Option<String>,
    /// Who wrote the quoted message (`context.from`); defaults to the
    /// business number.
    #[serde(alias = "contextFrom")]
    pub context_from: Option<String>,
    /// Reaction emoji; empty removes the reaction.
    pub emoji: Option<String>,
    /// The wamid reacted to.
    #[serde(alias = "reactionTo")]
    pub reaction_to: Option<String>,
    /// Interactive reply id (button or list row).
    #[serde(alias = "buttonId")]
    pub button_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Quick-reply payload of a template button.
    pub payload: Option<String>,
    #[serde(alias = "contactName")]
    pub contact_name: Option<String>,
    #[serde(alias = "contactPhone")]
    pub contact_phone: Option<String>,
    /// Profile name for a customer the number has not seen.
    #[serde(alias = "profileName", alias = "name")]
    pub profile_name: Option<String>,
    /// The wamid; defaults to a fresh one.
    pub id: Option<String>,
    /// Unix seconds; defaults to now.
    pub timestamp: Option<i64>,
    /// A complete message object, sent as-is.
    pub raw: Option<Value>,
}

/// What a customer's message produced.
#[derive(Clone, Debug)]
pub struct WhatsAppInbound {
    /// The message's wamid.
    pub id: String,
    /// The media object created for media messages.
    pub media_id: Option<String>,
    pub delivery: Delivery,
}

async fn post_message(State(shared): AppState, Json(req): Json<WhatsAppMessageRequest>) -> Response {
    match customer_message(&shared, req).await {
        Ok(inbound) => {
            let mut body = json!({ "id": inbound.id });
            if let Some(media_id) = &inbound.media_id {
                body["mediaId"] = json!(media_id);
            }
            delivery_response(body, &inbound.delivery)
        }
        Err(error) => bad_request(error),
    }
}

/// Builds and delivers the `messages` webhook for a customer's message.
pub(crate) async fn customer_message(shared: &Shared, req: WhatsAppMessageRequest) -> Result<WhatsAppInbound, String> {
    let (waba_id, display) = {
        let world = shared.lock();
        let phone = world
            .wa
            .phone(&req.phone_number_id)
            .ok_or_else(|| format!("unknown phone_number_id {:?}", req.phone_number_id))?;
        (phone.waba_id.clone(), phone.display_digits())
    };
    let from: String = req.from.chars().filter(char::is_ascii_digit).collect();
    if from.is_empty() {
        return Err("`from` (the customer's wa_id) is required".to_owned());
    }
    let id = req.id.clone().unwrap_or_else(new_wamid);
    let ts = req.timestamp.unwrap_or_else(now_secs);
    let kind = req.kind.clone().unwrap_or_else(|| {
        if req.raw.is_some() {
            "raw"
        } else if req.emoji.is_some() || req.reaction_to.is_some() {
            "reaction"
        } else if req.latitude.is_some() {
            "location"
        } else {
            "text"
        }
        .to_owned()
    });
    let mut media_id = None;
    let mut message = match kind.as_str() {
        "raw" => req.raw.clone().ok_or("`raw` is required for type raw")?,
        _ if req.raw.is_some() => req.raw.clone().unwrap_or_default(),
        "text" => {
            let text = req
                .text
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or("a text message needs `text`")?;
            wa_text(&from, &id, ts, text)
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            let (generated_mime, bytes) = media::generated(&kind, &id);
            let mime = req.mime_type.clone().unwrap_or_else(|| generated_mime.to_owned());
            let filename = req
                .filename
                .clone()
                .or_else(|| (kind == "document").then(|| "document.pdf".to_owned()));
            let (mid, sha) = media::store(shared, &req.phone_number_id, &mime, bytes, filename.clone(), false);
            let caption = req.caption.as_deref().or(req.text.as_deref());
            let message = wa_media_with_sha(&from, &id, ts, &kind, &mid, &mime, &sha, caption, filename.as_deref());
            media_id = Some(mid);
            message
        }
        "location" => {
            let (Some(lat), Some(lon)) = (req.latitude, req.longitude) else {
                return Err("a location needs `latitude` and `longitude`".to_owned());
            };
            wa_location(
                &from,
                &id,
                ts,
                lat,
                lon,
                req.location_name.as_deref(),
                req.address.as_deref(),
            )
        }
        "reaction" => {
            let target = req
                .reaction_to
                .as_deref()
                .ok_or("a reaction needs `reaction_to` (a wamid)")?;
            wa_reaction(&from, &id, ts, target, req.emoji.as_deref().unwrap_or(""))
        }
        "button" => {
            let text = req
                .text
                .as_deref()
                .or(req.title.as_deref())
                .ok_or("a button reply needs `text`")?;
            wa_button(&from, &id, ts, req.payload.as_deref().unwrap_or(text), text)
        }
        "button_reply" | "interactive" => {
            let title = req
                .title
                .as_deref()
                .or(req.text.as_deref())
                .ok_or("a button reply needs `title`")?;
            wa_interactive_button_reply(&from, &id, ts, req.button_id.as_deref().unwrap_or(title), title)
        }
        "list_reply" => {
            let title = req
                .title
                .as_deref()
                .or(req.text.as_deref())
                .ok_or("a list reply needs `title`")?;
            wa_interactive_list_reply(
                &from,
                &id,
                ts,
                req.button_id.as_deref().unwrap_or(title),
                title,
                req.description.as_deref(),
            )
        }
        "contacts" => {
            let name = req.contact_name.as_deref().unwrap_or("Sam Contact");
            let phone = req.contact_phone.as_deref().unwrap_or("+1 555 000 4444");
            wa_contacts(&from, &id, ts, &[(name, phone)])
        }
        "unsupported" => wa_unsupported(&from, &id, ts),
        other => return Err(format!("unknown message type {other}")),
    };
    if let Some(context_id) = &req.context_id {
        let context_from = req.context_from.clone().unwrap_or_else(|| display.clone());
        message = wa_with_context(message, &context_from, context_id);
    }
    let wamid = message.get("id").and_then(Value::as_str).unwrap_or(&id).to_owned();
    let name = {
        let mut world = shared.lock();
        world
            .wa
            .customer_wrote(&req.phone_number_id, &from, req.profile_name.as_deref(), now_ms());
        world.wa.user_name(&from).unwrap_or("WhatsApp User").to_owned()
    };
    let payload = whatsapp_webhook(
        &waba_id,
        &req.phone_number_id,
        &display,
        &[(&from, &name)],
        vec![message],
        vec![],
    );
    let delivery = deliver_whatsapp(shared, &waba_id, &payload).await;
    Ok(WhatsAppInbound {
        id: wamid,
        media_id,
        delivery,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StatusRequest {
    #[serde(alias = "phoneNumberId")]
    pub phone_number_id: String,
    #[serde(alias = "messageId")]
    pub message_id: String,
    pub status: String,
    #[serde(alias = "errorCode")]
    pub error_code: Option<u32>,
    /// Needed only for a wamid the fake did not send.
    #[serde(alias = "recipientId")]
    pub recipient_id: Option<String>,
}

async fn post_status(State(shared): AppState, Json(req): Json<StatusRequest>) -> Response {
    match message_status(&shared, req).await {
        Ok(delivery) => delivery_response(json!({}), &delivery),
        Err(error) => not_found(error),
    }
}

/// Delivers a status webhook (`delivered`, `read`, `failed`, or `sent`) for
/// a message the business sent, and records it.
pub(crate) async fn message_status(shared: &Shared, req: StatusRequest) -> Result<Delivery, String> {
    let status = req.status.to_ascii_lowercase();
    if !matches!(status.as_str(), "sent" | "delivered" | "read" | "failed") {
        return Err(format!("unknown status {status} (sent, delivered, read, failed)"));
    }
    let (waba_id, display, payload_status) = {
        let mut world = shared.lock();
        let phone = world
            .wa
            .phone(&req.phone_number_id)
            .cloned()
            .ok_or_else(|| format!("unknown phone_number_id {:?}", req.phone_number_id))?;
        let sent = world
            .wa
            .sent
            .iter()
            .find(|s| s.wamid == req.message_id)
            .map(|s| (s.wa_id.clone(), s.body.clone()));
        let (recipient, body) = match (sent, req.recipient_id.clone()) {
            (Some((wa_id, body)), _) => (wa_id, Some(body)),
            (None, Some(recipient)) => (recipient, None),
            (None, None) => return Err(format!("unknown message {} (pass recipient_id)", req.message_id)),
        };
        let category = body
            .as_ref()
            .and_then(|b| b.pointer("/template/name"))
            .and_then(Value::as_str)
            .and_then(|name| world.wa.templates.iter().find(|t| t.name == name))
            .map_or_else(|| "service".to_owned(), |t| t.category.to_ascii_lowercase());
        let ts = now_secs();
        let pricing = (status == "delivered" || status == "sent").then(|| {
            let (conversation_id, expires) = world.wa.conversation(&phone.id, &recipient, &category, ts);
            Pricing {
                conversation_id,
                expiration_secs: (status == "sent").then_some(expires),
                category: category.clone(),
            }
        });
        let errors = (status == "failed").then(|| wa_error_for_code(req.error_code.unwrap_or(131_026)));
        let value = wa_status_priced(&req.message_id, &status, ts, &recipient, pricing, errors);
        if let Some(sent) = world.wa.sent.iter_mut().find(|s| s.wamid == req.message_id) {
            sent.status = status.clone();
        }
        (phone.waba_id.clone(), phone.display_digits(), value)
    };
    let payload = whatsapp_webhook(
        &waba_id,
        &req.phone_number_id,
        &display,
        &[],
        vec![],
        vec![payload_status],
    );
    Ok(deliver_whatsapp(shared, &waba_id, &payload).await)
}

// ---------------------------------------------------------------------------
// Bending the fake
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PhoneQuery {
    #[serde(alias = "phoneNumberId")]
    phone_number_id: Option<String>,
}

/// Sets (`Some(now)`) or clears (`None`) a customer's windows.
pub(crate) fn set_window(shared: &Shared, wa_id: &str, phone_id: Option<&str>, open: bool) -> Vec<String> {
    let mut world = shared.lock();
    let phones = match phone_id {
        Some(phone) => vec![phone.to_owned()],
        None => world.wa.phones_of(wa_id),
    };
    let now = now_ms();
    for phone in &phones {
        let key = (phone.clone(), wa_id.to_owned());
        if open {
            world.wa.windows.insert(key, now);
        } else {
            world.wa.windows.insert(key, now - WINDOW_MS - 1000);
        }
    }
    phones
}

async fn close_window(State(shared): AppState, Path(wa_id): Path<String>, Query(q): Query<PhoneQuery>) -> Json<Value> {
    let phones = set_window(&shared, &wa_id, q.phone_number_id.as_deref(), false);
    Json(json!({ "ok": true, "phoneNumberIds": phones }))
}

async fn open_window(State(shared): AppState, Path(wa_id): Path<String>, Query(q): Query<PhoneQuery>) -> Json<Value> {
    let phones = set_window(&shared, &wa_id, q.phone_number_id.as_deref(), true);
    Json(json!({ "ok": true, "phoneNumberIds": phones }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExpireRequest {
    token: Option<String>,
}

async fn expire_tokens(State(shared): AppState, body: Option<Json<ExpireRequest>>) -> Response {
    let token = body.and_then(|Json(b)| b.token);
    let expired = shared.lock().expire_whatsapp_tokens(token.as_deref());
    if token.is_some() && expired.is_empty() {
        return not_found("unknown token");
    }
    Json(json!({ "ok": true, "expired": expired })).into_response()
}

#[derive(Debug, Deserialize)]
struct ModeRequest {
    mode: WindowErrorMode,
}

async fn set_window_errors(State(shared): AppState, Json(req): Json<ModeRequest>) -> Json<Value> {
    shared.lock().wa.window_errors = req.mode;
    Json(json!({ "ok": true, "mode": req.mode }))
}

#[derive(Debug, Deserialize)]
struct Switch {
    enabled: bool,
}

async fn set_auto_status(State(shared): AppState, Json(req): Json<Switch>) -> Json<Value> {
    shared.lock().wa.auto_status = req.enabled;
    Json(json!({ "ok": true }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AutoApprove {
    #[serde(rename = "afterMs", alias = "after_ms")]
    after_ms: Option<u64>,
}

async fn set_auto_approve(State(shared): AppState, Json(req): Json<AutoApprove>) -> Json<Value> {
    shared.lock().wa.auto_approve_after_ms = req.after_ms;
    Json(json!({ "ok": true, "afterMs": req.after_ms }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReviewRequest {
    pub status: String,
    pub reason: Option<String>,
}

async fn review_template(State(shared): AppState, Path(id): Path<String>, Json(req): Json<ReviewRequest>) -> Response {
    match review(&shared, &id, &req.status, req.reason.as_deref()).await {
        Ok((template, delivery)) => delivery_response(json!({ "template": template }), &delivery),
        Err(error) => not_found(error),
    }
}

/// Changes a template's status and delivers the status-update webhook.
pub(crate) async fn review(
    shared: &Shared,
    id: &str,
    status: &str,
    reason: Option<&str>,
) -> Result<(super::WhatsAppTemplate, Delivery), String> {
    let (template, payload) = {
        let mut world = shared.lock();
        templates::review(&mut world, id, status, reason)?
    };
    let delivery = deliver_whatsapp(shared, &template.waba_id, &payload).await;
    Ok((template, delivery))
}

#[derive(Debug, Deserialize)]
struct WebhookUrl {
    url: String,
}

async fn set_webhook_url(State(shared): AppState, Json(req): Json<WebhookUrl>) -> Json<Value> {
    shared.lock().whatsapp_webhook_url = Some(req.url);
    Json(json!({ "ok": true }))
}

// ---------------------------------------------------------------------------
// Inspecting the fake
// ---------------------------------------------------------------------------

async fn sent(State(shared): AppState) -> Response {
    Json(shared.lock().wa.sent.clone()).into_response()
}

async fn list_templates(State(shared): AppState) -> Response {
    Json(shared.lock().wa.templates.clone()).into_response()
}

async fn subscriptions(State(shared): AppState) -> Json<Value> {
    let world = shared.lock();
    let subs: Vec<Value> = world
        .wa
        .subscriptions
        .iter()
        .map(|(waba, sub)| json!({ "wabaId": waba, "overrideCallbackUri": sub.override_callback_uri }))
        .collect();
    Json(Value::Array(subs))
}

async fn list_media(State(shared): AppState) -> Json<Vec<WhatsAppMedia>> {
    Json(shared.lock().wa.media.iter().map(WhatsAppMedia::from).collect())
}

async fn accounts(State(shared): AppState) -> Json<Value> {
    let world = shared.lock();
    let now = now_ms();
    let businesses: Vec<Value> = world
        .wa
        .businesses
        .iter()
        .map(|b| {
            let wabas: Vec<Value> = world
                .wa
                .wabas
                .iter()
                .filter(|w| w.business_id == b.id)
                .map(|w| {
                    let phones: Vec<Value> = world
                        .wa
                        .phones
                        .iter()
                        .filter(|p| p.waba_id == w.id)
                        .map(|p| {
                            let customers: Vec<Value> = p
                                .customers
                                .iter()
                                .map(|c| {
                                    json!({
                                        "waId": c.wa_id,
                                        "name": c.name,
                                        "windowOpen": world.wa.window_open(&p.id, &c.wa_id, now),
                                    })
                                })
                                .collect();
                            json!({
                                "id": p.id,
                                "displayPhoneNumber": p.display_phone_number,
                                "verifiedName": p.verified_name,
                                "customers": customers,
                            })
                        })
                        .collect();
                    json!({
                        "id": w.id,
                        "name": w.name,
                        "accessToken": w.token,
                        "subscribed": world.wa.subscriptions.contains_key(&w.id),
                        "phoneNumbers": phones,
                    })
                })
                .collect();
            json!({ "id": b.id, "name": b.name, "whatsappBusinessAccounts": wabas })
        })
        .collect();
    Json(json!({
        "webhookUrl": world.whatsapp_url(),
        "windowErrors": world.wa.window_errors,
        "autoStatus": world.wa.auto_status,
        "autoApproveAfterMs": world.wa.auto_approve_after_ms,
        "businesses": businesses,
    }))
}

//! The WhatsApp Business Platform side of the Graph API: business and WABA
//! discovery (Business Management API), WABA webhook subscriptions and the
//! Cloud API `messages` endpoint. Templates are in `templates.rs`, media in
//! `media.rs`; `graph.rs` routes requests here by what the id in the path
//! is.
//!
//! Authentication follows the Cloud API: an `Authorization: Bearer` header
//! (or `access_token` parameter) carrying either a user token of the fake
//! user, who belongs to every business, or a WABA's system-user token,
//! which works for that WABA only. Token errors are code 190 with HTTP 401,
//! as Meta's WhatsApp error-codes page lists them.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::SentAttachment;
use super::errors::GraphError;
use super::fetch::Prefetched;
use super::graph::{GraphRequest, GraphResult, select_fields, token_error};
use super::payloads::now_ms;
use super::state::{Shared, State as World, TokenKind};
use super::templates;
use super::wa_payloads::{Pricing, new_wamid, now_secs, wa_error_for_code, wa_status_priced, whatsapp_webhook};
use super::wa_state::{WabaSubscription, WhatsAppSent, WindowErrorMode};
use super::webhook::deliver_whatsapp_later;

/// The `details` Meta gives for error 131047.
pub(crate) const REENGAGEMENT_DETAILS: &str =
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";

/// Message types the Cloud API accepts in `type`.
const MESSAGE_TYPES: &[&str] = &[
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
];

/// `interactive.type` values the Cloud API accepts.
const INTERACTIVE_TYPES: &[&str] = &[
    "button",
    "list",
    "cta_url",
    "product",
    "product_list",
    "catalog_message",
    "flow",
    "location_request_message",
    "address_message",
    "call_permission_request",
];

/// Token errors on WhatsApp endpoints answer HTTP 401 (Meta's WhatsApp
/// error-codes page: 190 "Access token has expired" → 401 Unauthorized).
pub(crate) fn wa_token_error(kind: TokenKind) -> GraphError {
    token_error(kind).http_status(StatusCode::UNAUTHORIZED)
}

/// Checks that the request's token may act on WABA `waba_id`: a user token,
/// or that WABA's system-user token. Other tokens get Graph's "Unsupported
/// {method} request" (100/33), as for objects one cannot see.
pub(crate) fn waba_access(
    world: &World,
    token: Option<&str>,
    waba_id: &str,
    object_id: &str,
    method: &str,
) -> Result<(), GraphError> {
    match world.classify_token(token) {
        TokenKind::User => Ok(()),
        TokenKind::Waba(id) if id == waba_id => Ok(()),
        TokenKind::Waba(_) | TokenKind::Page(_) => Err(GraphError::unsupported(method, object_id)),
        other => Err(wa_token_error(other)),
    }
}

/// `(#131008) Required parameter is missing`.
pub(crate) fn missing(param: &str) -> GraphError {
    GraphError::cloud(
        131_008,
        "Required parameter is missing",
        format!("The parameter {param} is required."),
    )
}

/// `(#131009) Parameter value is not valid`.
pub(crate) fn invalid(details: impl Into<String>) -> GraphError {
    GraphError::cloud(131_009, "Parameter value is not valid", details)
}

pub(crate) fn is_waba(shared: &Shared, id: &str) -> bool {
    shared.lock().wa.waba(id).is_some()
}

pub(crate) fn is_phone(shared: &Shared, id: &str) -> bool {
    shared.lock().wa.phone(id).is_some()
}

fn cursor_paging(ids: &[&str]) -> Value {
    let first = ids.first().copied().unwrap_or("");
    let last = ids.last().copied().unwrap_or("");
    json!({ "cursors": { "before": super::templates::cursor(first), "after": super::templates::cursor(last) } })
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

/// `GET /me/businesses`: the businesses the user belongs to. A WABA's
/// system user belongs to the WABA's business.
pub(crate) fn my_businesses(shared: &Shared, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    let businesses: Vec<_> = match world.classify_token(req.access_token()) {
        TokenKind::User => world.wa.businesses.iter().collect(),
        TokenKind::Waba(id) => world
            .wa
            .waba(&id)
            .and_then(|w| world.wa.business(&w.business_id))
            .into_iter()
            .collect(),
        TokenKind::Page(_) => {
            return Err(GraphError::param(
                "(#100) Tried accessing nonexisting field (businesses) on node type (Page)",
            ));
        }
        other => return Err(wa_token_error(other)),
    };
    let fields = req.fields();
    let data: Vec<Value> = businesses
        .iter()
        .map(|b| select_fields(json!({ "id": b.id, "name": b.name }), fields.as_deref()))
        .collect();
    let ids: Vec<&str> = businesses.iter().map(|b| b.id.as_str()).collect();
    Ok(Json(json!({ "data": data, "paging": cursor_paging(&ids) })))
}

fn waba_full(world: &World, id: &str) -> Option<Value> {
    let w = world.wa.waba(id)?;
    Some(json!({
        "id": w.id,
        "name": w.name,
        "currency": w.currency,
        "timezone_id": w.timezone_id,
        "message_template_namespace": w.namespace,
    }))
}

/// `GET /{business-id}/owned_whatsapp_business_accounts`.
pub(crate) fn owned_wabas(shared: &Shared, business_id: &str, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    if world.wa.business(business_id).is_none() {
        return match world.classify_token(req.access_token()) {
            kind @ (TokenKind::Missing | TokenKind::Invalid | TokenKind::Expired { .. }) => Err(wa_token_error(kind)),
            _ => Err(GraphError::unsupported_get(business_id)),
        };
    }
    let visible: Vec<&str> = match world.classify_token(req.access_token()) {
        TokenKind::User => world
            .wa
            .wabas
            .iter()
            .filter(|w| w.business_id == business_id)
            .map(|w| w.id.as_str())
            .collect(),
        TokenKind::Waba(id) => world
            .wa
            .wabas
            .iter()
            .filter(|w| w.business_id == business_id && w.id == id)
            .map(|w| w.id.as_str())
            .collect(),
        TokenKind::Page(_) => return Err(GraphError::unsupported_get(business_id)),
        other => return Err(wa_token_error(other)),
    };
    let default_fields = ["id", "name", "currency", "timezone_id"];
    let fields = req.fields();
    let fields = fields.as_deref().unwrap_or(&default_fields);
    let data: Vec<Value> = visible
        .iter()
        .filter_map(|id| waba_full(&world, id))
        .map(|full| select_fields(full, Some(fields)))
        .collect();
    Ok(Json(json!({ "data": data, "paging": cursor_paging(&visible) })))
}

/// `GET /{waba-id}/phone_numbers`.
pub(crate) fn phone_numbers(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    if world.wa.waba(waba_id).is_none() {
        return Err(match world.classify_token(req.access_token()) {
            kind @ (TokenKind::Missing | TokenKind::Invalid | TokenKind::Expired { .. }) => wa_token_error(kind),
            _ => GraphError::unsupported_get(waba_id),
        });
    }
    waba_access(&world, req.access_token(), waba_id, waba_id, "get")?;
    let default_fields = ["verified_name", "display_phone_number", "id", "quality_rating"];
    let fields = req.fields();
    let fields = fields.as_deref().unwrap_or(&default_fields);
    let phones: Vec<_> = world.wa.phones.iter().filter(|p| p.waba_id == waba_id).collect();
    let data: Vec<Value> = phones
        .iter()
        .map(|p| select_fields(p.to_graph(), Some(fields)))
        .collect();
    let ids: Vec<&str> = phones.iter().map(|p| p.id.as_str()).collect();
    Ok(Json(json!({ "data": data, "paging": cursor_paging(&ids) })))
}

/// `GET /{id}` for WhatsApp objects: a business, WABA, phone number,
/// template or media. `None` when the id is none of these.
pub(crate) fn node(shared: &Arc<Shared>, id: &str, req: &GraphRequest) -> Option<GraphResult> {
    let world = shared.lock();
    let fields = req.fields();
    if let Some(media) = world.wa.media(id) {
        let phone_number_id = media.phone_number_id.clone();
        drop(world);
        return Some(super::media::metadata(shared, id, &phone_number_id, req));
    }
    let (waba_id, full, default_fields): (String, Value, &[&str]) = if let Some(t) = world.wa.template(id) {
        (
            t.waba_id.clone(),
            t.to_graph(),
            &[
                "name",
                "components",
                "language",
                "status",
                "category",
                "rejected_reason",
            ],
        )
    } else if let Some(p) = world.wa.phone(id) {
        (
            p.waba_id.clone(),
            p.to_graph(),
            &[
                "verified_name",
                "code_verification_status",
                "display_phone_number",
                "quality_rating",
                "platform_type",
                "throughput",
            ],
        )
    } else if world.wa.waba(id).is_some() {
        (id.to_owned(), waba_full(&world, id)?, &["id", "name"])
    } else if let Some(b) = world.wa.business(id) {
        let answer = match world.classify_token(req.access_token()) {
            TokenKind::User => Ok(Json(select_fields(
                json!({ "id": b.id, "name": b.name }),
                fields.as_deref(),
            ))),
            TokenKind::Waba(w) if world.wa.waba(&w).is_some_and(|w| w.business_id == b.id) => Ok(Json(select_fields(
                json!({ "id": b.id, "name": b.name }),
                fields.as_deref(),
            ))),
            TokenKind::Waba(_) | TokenKind::Page(_) => Err(GraphError::unsupported_get(id)),
            other => Err(wa_token_error(other)),
        };
        return Some(answer);
    } else {
        return None;
    };
    if let Err(error) = waba_access(&world, req.access_token(), &waba_id, id, "get") {
        return Some(Err(error));
    }
    Some(Ok(Json(select_fields(
        full,
        Some(fields.as_deref().unwrap_or(default_fields)),
    ))))
}

// ---------------------------------------------------------------------------
// WABA webhook subscriptions
// ---------------------------------------------------------------------------

/// `GET /{waba-id}/subscribed_apps`:
/// `{"data":[{"whatsapp_business_api_data":{"link","name","id"}}]}`.
pub(crate) fn list_subscribed(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    waba_access(&world, req.access_token(), waba_id, waba_id, "get")?;
    let data: Vec<Value> = world
        .wa
        .subscriptions
        .get(waba_id)
        .map(|sub| {
            let mut app = json!({
                "whatsapp_business_api_data": {
                    "link": "https://messio.example/",
                    "name": "Messio",
                    "id": world.app_id,
                },
            });
            if let Some(uri) = &sub.override_callback_uri {
                app["override_callback_uri"] = json!(uri);
            }
            vec![app]
        })
        .unwrap_or_default();
    Ok(Json(json!({ "data": data })))
}

/// `POST /{waba-id}/subscribed_apps` (optionally with
/// `override_callback_uri` and `verify_token`): the app starts receiving the
/// WABA's webhooks. Answers `{"success":true}`.
pub(crate) fn subscribe(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let body = req.send_api_body().unwrap_or_else(|_| json!({}));
    let override_uri = req.get("override_callback_uri").map(str::to_owned).or_else(|| {
        body.get("override_callback_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let mut world = shared.lock();
    waba_access(&world, req.access_token(), waba_id, waba_id, "post")?;
    if override_uri.is_some()
        && req
            .get("verify_token")
            .or_else(|| body.get("verify_token").and_then(Value::as_str))
            .is_none()
    {
        return Err(GraphError::param("(#100) The parameter verify_token is required."));
    }
    tracing::info!(waba_id, "fake-meta: app subscribed to WABA");
    world.wa.subscriptions.insert(
        waba_id.to_owned(),
        WabaSubscription {
            override_callback_uri: override_uri,
        },
    );
    Ok(Json(json!({ "success": true })))
}

/// `DELETE /{waba-id}/subscribed_apps`.
pub(crate) fn unsubscribe(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    waba_access(&world, req.access_token(), waba_id, waba_id, "delete")?;
    world.wa.subscriptions.remove(waba_id);
    Ok(Json(json!({ "success": true })))
}

// ---------------------------------------------------------------------------
// Cloud API: messages
// ---------------------------------------------------------------------------

/// `POST /{phone-number-id}/messages`. Checks in the order Meta's answers
/// suggest: token, `messaging_product`, recipient, message content, then
/// policy (the 24-hour customer service window; templates are exempt).
///
/// Answers like the Cloud API: `{"messaging_product":"whatsapp","contacts":
/// [{"input","wa_id"}],"messages":[{"id"}]}` (templates add
/// `"message_status":"accepted"`). After a successful send a signed `sent`
/// status webhook follows (when auto-status is on); a non-template message
/// outside the window either fails synchronously with 131047 or is accepted
/// and followed by a `failed` status webhook carrying 131047.
///
/// Media sent by `link` was fetched by the async handler (`prefetched`); a
/// failed download answers 131053 "Media upload error". Media sent by `id`
/// is looked up in the stored media objects. Either way the accepted send
/// records the file in [`WhatsAppSent::attachment`].
pub(crate) fn send_message(
    shared: &Arc<Shared>,
    phone_id: &str,
    req: &GraphRequest,
    prefetched: Prefetched,
) -> GraphResult {
    let mut world = shared.lock();
    let Some(phone) = world.wa.phone(phone_id).cloned() else {
        return Err(GraphError::unsupported("post", phone_id));
    };
    waba_access(&world, req.access_token(), &phone.waba_id, phone_id, "post")?;
    let body = req.send_api_body()?;
    if body.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return Err(GraphError::param("(#100) The parameter messaging_product is required."));
    }

    // Mark as read (and typing indicators): `{"status":"read","message_id"}`.
    if body.get("status").and_then(Value::as_str) == Some("read") {
        if body.get("message_id").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(GraphError::param("(#100) The parameter message_id is required."));
        }
        return Ok(Json(json!({ "success": true })));
    }

    if let Some(kind) = body.get("recipient_type").and_then(Value::as_str)
        && kind != "individual"
    {
        return Err(GraphError::param(format!(
            "(#100) Param recipient_type must be one of {{INDIVIDUAL}} - got \"{kind}\"."
        )));
    }
    let to = match body.get("to") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(GraphError::param("(#100) The parameter to is required.")),
    };
    let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
    let well_formed = to.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !well_formed || !(7..=15).contains(&wa_id.len()) {
        return Err(invalid(format!(
            "Invalid parameter 'to': '{to}' is not a valid phone number."
        )));
    }

    let kind = body.get("type").and_then(Value::as_str).unwrap_or("text");
    if !MESSAGE_TYPES.contains(&kind) {
        return Err(GraphError::param(format!(
            "(#100) Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, \
             STICKER, TEMPLATE, TEXT, VIDEO}} - got \"{kind}\"."
        )));
    }
    let category = validate_content(&world, &phone.waba_id, kind, &body)?;
    if let Some(context) = body.get("context")
        && context
            .get("message_id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(missing("context['message_id']"));
    }

    if world.wa.user_name(&wa_id).is_none() {
        return Err(GraphError::new(100, "(#100) Invalid parameter")
            .details(format!("Recipient phone number {to} is not a WhatsApp user."))
            .whatsapp());
    }

    let now = now_ms();
    let needs_window = kind != "template";
    let window_open = world.wa.window_open(phone_id, &wa_id, now);
    let outside = needs_window && !window_open;
    if outside && world.wa.window_errors == WindowErrorMode::Sync {
        return Err(GraphError::cloud(
            131_047,
            "Re-engagement message",
            REENGAGEMENT_DETAILS,
        ));
    }

    let attachment = match prefetched.transpose()? {
        Some(fetched) => Some(fetched),
        None => media_attachment(&world, kind, &body),
    };

    let wamid = new_wamid();
    let ts = now_secs();
    let category = category.unwrap_or_else(|| "service".to_owned());
    let follow_up = if outside {
        Some((
            "failed",
            wa_status_priced(&wamid, "failed", ts, &wa_id, None, Some(wa_error_for_code(131_047))),
        ))
    } else if world.wa.auto_status {
        let (conversation_id, expires) = world.wa.conversation(phone_id, &wa_id, &category, ts);
        let pricing = Pricing {
            conversation_id,
            expiration_secs: Some(expires),
            category: category.clone(),
        };
        Some((
            "sent",
            wa_status_priced(&wamid, "sent", ts, &wa_id, Some(pricing), None),
        ))
    } else {
        None
    };
    tracing::info!(phone_id, wa_id, wamid, kind, "fake-meta: Cloud API accepted a message");
    world.wa.sent.push(WhatsAppSent {
        phone_number_id: phone_id.to_owned(),
        to: to.clone(),
        wa_id: wa_id.clone(),
        body: body.clone(),
        wamid: wamid.clone(),
        timestamp: ts,
        status: follow_up.as_ref().map_or("accepted", |(s, _)| s).to_owned(),
        attachment,
    });
    drop(world);
    if let Some((_, status)) = follow_up {
        let payload = whatsapp_webhook(
            &phone.waba_id,
            phone_id,
            &phone.display_digits(),
            &[],
            vec![],
            vec![status],
        );
        deliver_whatsapp_later(shared, &phone.waba_id, payload);
    }

    let mut message = json!({ "id": wamid });
    if kind == "template" {
        message["message_status"] = json!("accepted");
    }
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": wa_id }],
        "messages": [message],
    })))
}

/// Whether the request's token may send from `phone_id` (so that the
/// handler only fetches links of requests that can succeed).
pub(crate) fn may_send(shared: &Shared, phone_id: &str, req: &GraphRequest) -> bool {
    let world = shared.lock();
    world
        .wa
        .phone(phone_id)
        .is_some_and(|p| waba_access(&world, req.access_token(), &p.waba_id, phone_id, "post").is_ok())
}

/// The stored media object a `{kind: {id}}` message sends, as recorded in
/// [`WhatsAppSent::attachment`].
fn media_attachment(world: &World, kind: &str, body: &Value) -> Option<SentAttachment> {
    let id = body.get(kind)?.get("id")?.as_str()?;
    let media = world.wa.media(id)?;
    Some(SentAttachment {
        kind: kind.to_owned(),
        source: "media_id".to_owned(),
        content_type: media.mime_type.clone(),
        size: media.bytes.len() as u64,
        sha256: media.sha256.clone(),
    })
}

/// Validates the message object for `kind`. Returns the pricing category
/// of template messages (`marketing`, `utility`, …).
fn validate_content(world: &World, waba_id: &str, kind: &str, body: &Value) -> Result<Option<String>, GraphError> {
    let object = body.get(kind);
    match kind {
        "text" => {
            let text = object
                .and_then(|t| t.get("body"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| missing("text['body']"))?;
            if text.chars().count() > 4096 {
                return Err(GraphError::param(
                    "(#100) Param text['body'] must be at most 4096 characters long.",
                ));
            }
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            let object = object.ok_or_else(|| missing(kind))?;
            let id = object.get("id").and_then(Value::as_str);
            let link = object.get("link").and_then(Value::as_str);
            match (id, link) {
                (Some(id), _) => {
                    let usable = world
                        .wa
                        .media(id)
                        .is_some_and(|m| world.wa.phone(&m.phone_number_id).is_some_and(|p| p.waba_id == waba_id));
                    if !usable {
                        return Err(invalid(format!(
                            "Invalid media id: {id}. The media does not exist or has been deleted."
                        )));
                    }
                }
                (None, Some(link)) => {
                    if !(link.starts_with("https://") || link.starts_with("http://")) {
                        return Err(invalid(format!(
                            "Invalid parameter '{kind}['link']': '{link}' is not a valid URL."
                        )));
                    }
                }
                (None, None) => return Err(missing(&format!("{kind}['id'] or {kind}['link']"))),
            }
            if object.get("caption").is_some() && matches!(kind, "audio" | "sticker") {
                return Err(invalid(format!(
                    "Param {kind}['caption'] is not supported for {kind} messages."
                )));
            }
        }
        "location" => {
            let object = object.ok_or_else(|| missing("location"))?;
            for key in ["latitude", "longitude"] {
                let value = object.get(key);
                let ok = value.is_some_and(|v| v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()));
                if !ok {
                    return Err(missing(&format!("location['{key}']")));
                }
            }
        }
        "reaction" => {
            let object = object.ok_or_else(|| missing("reaction"))?;
            if object
                .get("message_id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(missing("reaction['message_id']"));
            }
            if object.get("emoji").is_some_and(|e| !e.is_string()) {
                return Err(invalid("Param reaction['emoji'] must be a string."));
            }
        }
        "contacts" => {
            let ok = object.and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            if !ok {
                return Err(missing("contacts"));
            }
        }
        "interactive" => {
            let object = object.ok_or_else(|| missing("interactive"))?;
            let itype = object
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| missing("interactive['type']"))?;
            if !INTERACTIVE_TYPES.contains(&itype) {
                return Err(invalid(format!("Invalid interactive type: '{itype}'.")));
            }
            if object.get("action").is_none() {
                return Err(missing("interactive['action']"));
            }
        }
        "template" => return templates::check_send(world, waba_id, object).map(Some),
        _ => {}
    }
    Ok(None)
}

//! The Twilio REST API routes, all behind HTTP Basic auth
//! (`AccountSid:AuthToken`):
//!
//! | Route | |
//! | --- | --- |
//! | `GET /2010-04-01/Accounts/{AC}.json` | Account |
//! | `GET /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json[?PhoneNumber=]` | list page |
//! | `GET`/`POST /2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/{PN}.json` | fetch / update `SmsUrl`, `SmsMethod`, `SmsFallbackUrl`, `StatusCallback`, `StatusCallbackMethod`, `FriendlyName` |
//! | `POST /2010-04-01/Accounts/{AC}/Messages.json` | send (201) |
//! | `GET /2010-04-01/Accounts/{AC}/Messages/{SM}.json` | fetch |
//! | `GET /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}` | inbound media bytes (`.json`: metadata) |
//! | `GET`/`POST /v1/Services/{MG}` | Messaging Service fetch / update `InboundRequestUrl`, `InboundMethod`, `FallbackUrl`, `StatusCallback`, `UseInboundWebhookOnNumber`, `FriendlyName` |
//! | `GET /v1/Services/{MG}/PhoneNumbers` | the service's sender pool |
//!
//! Paths are matched by hand (one fallback handler) so that every miss gets
//! Twilio's 20404 body rather than an empty 404, and `….json` suffixes need
//! no router support. Wrong or missing credentials get 401/20003 before any
//! path is looked at.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::errors::TwilioError;
use super::resources;
use super::segments;
use super::signature::parse_form;
use super::state::{Shared, is_e164, new_sid};
use super::time::now_secs;
use super::webhook::schedule_progress;
use super::world::{SentMedia, SentMessage};

type ApiResult = Result<Response, TwilioError>;

/// Twilio's limit on `Body` (error 21617).
const MAX_BODY_CHARS: usize = 1600;
/// How long the fake gives one `MediaUrl`.
const MEDIA_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match route(&shared, &method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(credentials) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
        .and_then(|v| String::from_utf8(v).ok())
    else {
        return false;
    };
    let world = shared.lock();
    credentials.split_once(':') == Some((world.account_sid.as_str(), world.auth_token.as_str()))
}

async fn route(shared: &Arc<Shared>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> ApiResult {
    if !authorized(shared, headers) {
        return Err(TwilioError::authenticate());
    }
    let path = uri.path();
    let not_found = || TwilioError::not_found(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let account_sid = shared.lock().account_sid.clone();
    let is_get = method == Method::GET;
    let is_post = method == Method::POST;
    match segments.as_slice() {
        ["2010-04-01", "Accounts", rest @ ..] => {
            let Some((first, rest)) = rest.split_first() else {
                return Err(not_found());
            };
            if rest.is_empty() {
                return match first.strip_suffix(".json") {
                    Some(sid) if sid == account_sid && is_get => Ok(json_ok(resources::account(&shared.lock()))),
                    _ => Err(not_found()),
                };
            }
            if *first != account_sid {
                return Err(not_found());
            }
            match rest {
                ["IncomingPhoneNumbers.json"] if is_get => list_numbers(shared, uri),
                ["IncomingPhoneNumbers", file] => {
                    let sid = file.strip_suffix(".json").ok_or_else(not_found)?;
                    if is_post {
                        update_number(shared, sid, body).ok_or_else(not_found)
                    } else if is_get {
                        let world = shared.lock();
                        let number = world.numbers.iter().find(|n| n.sid == sid).ok_or_else(not_found)?;
                        Ok(json_ok(resources::incoming_phone_number(&world, number)))
                    } else {
                        Err(not_found())
                    }
                }
                ["Messages.json"] if is_post => create_message(shared, body).await,
                ["Messages", file] if is_get => {
                    let sid = file.strip_suffix(".json").ok_or_else(not_found)?;
                    fetch_message(shared, sid).ok_or_else(not_found)
                }
                ["Messages", message_sid, "Media", file] if is_get => {
                    fetch_media(shared, message_sid, file).ok_or_else(not_found)
                }
                _ => Err(not_found()),
            }
        }
        ["v1", "Services", sid] => {
            if is_post {
                update_service(shared, sid, body).ok_or_else(not_found)
            } else if is_get {
                let world = shared.lock();
                let service = world.service(sid).ok_or_else(not_found)?;
                Ok(json_ok(resources::service(&world, service, &shared.base_url)))
            } else {
                Err(not_found())
            }
        }
        ["v1", "Services", sid, "PhoneNumbers"] if is_get => {
            let world = shared.lock();
            let service = world.service(sid).ok_or_else(not_found)?;
            Ok(json_ok(resources::service_phone_numbers(
                &world,
                service,
                &shared.base_url,
            )))
        }
        _ => Err(not_found()),
    }
}

fn json_ok(value: serde_json::Value) -> Response {
    (StatusCode::OK, Json(value)).into_response()
}

/// The last value of form parameter `name` (Twilio takes the last of
/// repeated scalar parameters).
fn last<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn list_numbers(shared: &Shared, uri: &Uri) -> ApiResult {
    let query = parse_form(uri.query().unwrap_or_default().as_bytes());
    let filter = last(&query, "PhoneNumber").map(str::to_owned);
    let world = shared.lock();
    let numbers = world
        .numbers
        .iter()
        // Twilio matches the filter as a pattern over the number; a plain
        // substring covers E.164 and partial digits alike.
        .filter(|n| filter.as_deref().is_none_or(|f| n.phone_number.contains(f.trim())))
        .map(|n| resources::incoming_phone_number(&world, n))
        .collect();
    Ok(json_ok(resources::incoming_phone_numbers_page(
        &world,
        numbers,
        filter.as_deref(),
    )))
}

/// Empty string clears a URL, as in Twilio's console and API.
fn optional_url(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn http_method(name: &str, value: &str) -> Result<String, TwilioError> {
    let upper = value.trim().to_ascii_uppercase();
    if upper == "GET" || upper == "POST" {
        Ok(upper)
    } else {
        Err(TwilioError::invalid_parameter(name, value))
    }
}

fn update_number(shared: &Shared, sid: &str, body: &[u8]) -> Option<Response> {
    let params = parse_form(body);
    let mut world = shared.lock();
    let mut updated = world.numbers.iter().find(|n| n.sid == sid)?.clone();
    for (key, value) in &params {
        match key.as_str() {
            "SmsUrl" => updated.sms_url = optional_url(value),
            "SmsFallbackUrl" => updated.sms_fallback_url = optional_url(value),
            "StatusCallback" => updated.status_callback = optional_url(value),
            "FriendlyName" => updated.friendly_name.clone_from(value),
            "SmsMethod" | "StatusCallbackMethod" => {
                let method = match http_method(key, value) {
                    Ok(method) => method,
                    Err(error) => return Some(error.into_response()),
                };
                if key == "SmsMethod" {
                    updated.sms_method = method;
                } else {
                    updated.status_callback_method = method;
                }
            }
            // Voice and other settings are accepted and ignored.
            _ => {}
        }
    }
    world.number_updated_secs.insert(sid.to_owned(), now_secs());
    let slot = world.number_by_sid_mut(sid)?;
    *slot = updated.clone();
    Some(json_ok(resources::incoming_phone_number(&world, &updated)))
}

fn update_service(shared: &Shared, sid: &str, body: &[u8]) -> Option<Response> {
    let params = parse_form(body);
    let mut world = shared.lock();
    let mut updated = world.service(sid)?.clone();
    for (key, value) in &params {
        match key.as_str() {
            "InboundRequestUrl" => updated.inbound_request_url = optional_url(value),
            "FallbackUrl" => updated.fallback_url = optional_url(value),
            "StatusCallback" => updated.status_callback = optional_url(value),
            "FriendlyName" => updated.friendly_name.clone_from(value),
            "InboundMethod" => match http_method(key, value) {
                Ok(method) => updated.inbound_method = method,
                Err(error) => return Some(error.into_response()),
            },
            "UseInboundWebhookOnNumber" => match value.trim().to_ascii_lowercase().as_str() {
                "true" => updated.use_inbound_webhook_on_number = true,
                "false" => updated.use_inbound_webhook_on_number = false,
                _ => return Some(TwilioError::invalid_parameter(key, value).into_response()),
            },
            _ => {}
        }
    }
    world.service_updated_secs.insert(sid.to_owned(), now_secs());
    let slot = world.services.iter_mut().find(|s| s.sid == sid)?;
    *slot = updated.clone();
    Some(json_ok(resources::service(&world, &updated, &shared.base_url)))
}

fn fetch_message(shared: &Shared, sid: &str) -> Option<Response> {
    let world = shared.lock();
    if let Some(message) = world.messages.iter().find(|m| m.sid == sid) {
        return Some(json_ok(resources::sent_message(&world.account_sid, message)));
    }
    let message = world.inbound.iter().find(|m| m.sid == sid)?;
    Some(json_ok(resources::inbound_message(&world.account_sid, message)))
}

fn fetch_media(shared: &Shared, message_sid: &str, file: &str) -> Option<Response> {
    let world = shared.lock();
    let (media_sid, as_json) = match file.strip_suffix(".json") {
        Some(sid) => (sid, true),
        None => (file, false),
    };
    let media = world.media.get(media_sid).filter(|m| m.message_sid == message_sid)?;
    if as_json {
        return Some(json_ok(resources::media(
            &world.account_sid,
            message_sid,
            media_sid,
            &media.content_type,
            media.created_secs,
        )));
    }
    Some(
        (
            [(header::CONTENT_TYPE, media.content_type.clone())],
            media.bytes.clone(),
        )
            .into_response(),
    )
}

/// A `Messages.json` request that passed validation.
struct Accepted {
    from: Option<String>,
    service_sid: Option<String>,
    to: String,
    body: String,
    media_urls: Vec<String>,
    status_callback: Option<String>,
}

/// Checks a send in the order Twilio reports problems: missing parameters,
/// body, recipient, sender, then the recipient's standing.
fn validate(shared: &Shared, params: &[(String, String)]) -> Result<Accepted, TwilioError> {
    let to = last(params, "To").map(str::trim).unwrap_or_default().to_owned();
    let from = last(params, "From")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let service_sid = last(params, "MessagingServiceSid")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let body = last(params, "Body").unwrap_or_default().to_owned();
    let media_urls: Vec<String> = params
        .iter()
        .filter(|(k, v)| k == "MediaUrl" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    let status_callback = last(params, "StatusCallback").and_then(optional_url);

    if to.is_empty() {
        return Err(TwilioError::to_required());
    }
    if from.is_none() && service_sid.is_none() {
        return Err(TwilioError::from_required());
    }
    if body.is_empty() && media_urls.is_empty() {
        return Err(TwilioError::body_required());
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(TwilioError::body_too_long());
    }
    let world = shared.lock();
    if !is_e164(&to) || world.invalid.contains(&to) {
        return Err(TwilioError::invalid_to(&to));
    }
    let senders: Vec<String> = match (&from, &service_sid) {
        (Some(from), _) => {
            let capable = world
                .number(from)
                .is_some_and(|n| n.capabilities.sms || n.capabilities.mms);
            if !capable {
                return Err(TwilioError::from_not_owned(from));
            }
            if let Some(sid) = &service_sid
                && world.service(sid).is_none()
            {
                return Err(TwilioError::unknown_service(sid));
            }
            world.opt_out_scope(from)
        }
        (None, Some(sid)) => world
            .service(sid)
            .ok_or_else(|| TwilioError::unknown_service(sid))?
            .phone_numbers
            .clone(),
        (None, None) => Vec::new(),
    };
    if world.is_opted_out(&to, &senders) {
        return Err(TwilioError::unsubscribed());
    }
    if world.unreachable.contains(&to) {
        let shown_from = from.clone().or_else(|| senders.first().cloned()).unwrap_or_default();
        return Err(TwilioError::unreachable(&to, &shown_from));
    }
    Ok(Accepted {
        from,
        service_sid,
        to,
        body,
        media_urls,
        status_callback,
    })
}

async fn fetch_media_url(http: &reqwest::Client, url: &str) -> SentMedia {
    let mut record = SentMedia {
        url: url.to_owned(),
        content_type: String::new(),
        size: 0,
        sha256: String::new(),
        error: None,
    };
    let response = match http.get(url).timeout(MEDIA_FETCH_TIMEOUT).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            record.error = Some(format!("HTTP {}", response.status().as_u16()));
            return record;
        }
        Err(error) => {
            record.error = Some(error.to_string());
            return record;
        }
    };
    record.content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    match response.bytes().await {
        Ok(bytes) if !bytes.is_empty() => {
            record.size = bytes.len() as u64;
            record.sha256 = hex::encode(Sha256::digest(&bytes));
        }
        Ok(_) => record.error = Some("empty body".to_owned()),
        Err(error) => record.error = Some(error.to_string()),
    }
    record
}

async fn create_message(shared: &Arc<Shared>, body: &[u8]) -> ApiResult {
    let params = parse_form(body);
    let accepted = validate(shared, &params)?;
    // Twilio fetches media after accepting; a URL that fails surfaces as a
    // failed message (11200), not as an API error.
    let mut media = Vec::with_capacity(accepted.media_urls.len());
    for url in &accepted.media_urls {
        media.push(fetch_media_url(&shared.http, url).await);
    }
    let media_failed = media.iter().any(|m| m.error.is_some());
    let now = now_secs();
    let message = SentMessage {
        sid: new_sid("SM"),
        status: if accepted.from.is_some() { "queued" } else { "accepted" }.to_owned(),
        from: accepted.from,
        messaging_service_sid: accepted.service_sid,
        to: accepted.to,
        num_segments: segments::count(&accepted.body),
        body: accepted.body,
        media,
        status_callback: accepted.status_callback,
        error_code: None,
        created_secs: now,
        sent_secs: None,
        updated_secs: now,
    };
    let json = {
        let mut world = shared.lock();
        let json = resources::sent_message(&world.account_sid, &message);
        world.messages.push(message.clone());
        json
    };
    schedule_progress(shared, &message.sid, media_failed);
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

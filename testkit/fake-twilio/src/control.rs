//! The test-control API under `/_fake/` (JSON in, JSON out, no auth). Not
//! part of Twilio: browser tests use it to play the customer and the
//! carrier, and to inspect or bend the fake. Each route mirrors a
//! [`FakeTwilio`](crate::FakeTwilio) method.
//!
//! | Route | Purpose |
//! | --- | --- |
//! | `GET /_fake/health` | readiness probe (`ok`) |
//! | `GET /_fake/twilio/account` | `{account_sid, auth_token, friendly_name, base_url}` |
//! | `POST /_fake/twilio/auth-token` | rotate the Auth Token (`{"auth_token"?}`), answers the new one |
//! | `GET /_fake/twilio/numbers`, `GET /_fake/twilio/services` | numbers / Messaging Services with their current webhooks |
//! | `POST /_fake/twilio/numbers/{number}/sms` | `{"from","body","media"?:[{"content_type","base64"}]}`: a customer texts `number` → signed webhook |
//! | `GET /_fake/twilio/messages` | messages the app sent, with media records and status |
//! | `POST /_fake/twilio/messages/{sid}/status` | `{"status","error_code"?}`: send one status callback by hand |
//! | `GET /_fake/twilio/inbound` | messages customers sent |
//! | `GET /_fake/twilio/callbacks` | status callbacks sent, with the app's answers |
//! | `GET /_fake/twilio/opt-outs` | `[{number, customer}]` |
//! | `GET /_fake/twilio/requests` | API requests seen (`METHOD /path?query`) |
//! | `POST /_fake/twilio/status-mode` | `{"mode":"auto"\|"off"\|"out_of_order"}` |
//! | `POST`/`DELETE /_fake/twilio/recipients/{number}/outcome` | `{"status":"delivered"\|"undelivered"\|"failed","error_code"?}` / back to delivered |
//! | `POST`/`DELETE /_fake/twilio/recipients/{number}/invalid` | sends to it fail with 21211 / stop failing |
//! | `POST`/`DELETE /_fake/twilio/recipients/{number}/unreachable` | sends to it fail with 21612 / stop failing |
//! | `POST /_fake/twilio/redeliver` | `{"delivery": Delivery, "signature"?}`: replay a webhook (a retry, or with a wrong signature) |
//! | `POST /_fake/twilio/reset` | forget messages, opt-outs, callbacks, requests, settings |
//!
//! Webhook-sending routes answer the [`Delivery`] as JSON: 200 when the app
//! answered (whatever its status), 502 when nothing was delivered.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::FakeTwilio;
use super::state::Shared;
use super::webhook;
use super::world::{Delivery, Outcome, StatusMode};

type AppState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_fake/health", get(|| async { "ok" }))
        .route("/_fake/twilio/account", get(account))
        .route("/_fake/twilio/auth-token", post(rotate_token))
        .route("/_fake/twilio/numbers", get(numbers))
        .route("/_fake/twilio/services", get(services))
        .route("/_fake/twilio/numbers/{number}/sms", post(customer_sms))
        .route("/_fake/twilio/messages", get(messages))
        .route("/_fake/twilio/messages/{sid}/status", post(manual_status))
        .route("/_fake/twilio/inbound", get(inbound))
        .route("/_fake/twilio/callbacks", get(callbacks))
        .route("/_fake/twilio/opt-outs", get(opt_outs))
        .route("/_fake/twilio/requests", get(requests))
        .route("/_fake/twilio/status-mode", post(status_mode))
        .route(
            "/_fake/twilio/recipients/{number}/outcome",
            post(set_outcome).delete(clear_outcome),
        )
        .route(
            "/_fake/twilio/recipients/{number}/invalid",
            post(set_invalid).delete(clear_invalid),
        )
        .route(
            "/_fake/twilio/recipients/{number}/unreachable",
            post(set_unreachable).delete(clear_unreachable),
        )
        .route("/_fake/twilio/redeliver", post(redeliver))
        .route("/_fake/twilio/reset", post(reset))
}

/// `+` may be dropped by a hand-typed URL; numbers are always E.164 here.
fn e164(number: &str) -> String {
    let number = number.trim();
    if number.starts_with('+') {
        number.to_owned()
    } else {
        format!("+{number}")
    }
}

fn fake(shared: Arc<Shared>) -> FakeTwilio {
    FakeTwilio::from_shared(shared)
}

fn bad_request(error: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error.into() }))).into_response()
}

fn delivery_response(delivery: Delivery) -> Response {
    let status = if delivery.status.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, Json(delivery)).into_response()
}

async fn account(State(shared): AppState) -> Json<serde_json::Value> {
    let world = shared.lock();
    Json(json!({
        "account_sid": world.account_sid,
        "auth_token": world.auth_token,
        "friendly_name": world.friendly_name,
        "base_url": shared.base_url,
    }))
}

#[derive(Deserialize, Default)]
struct RotateRequest {
    auth_token: Option<String>,
}

async fn rotate_token(State(shared): AppState, body: Option<Json<RotateRequest>>) -> Json<serde_json::Value> {
    let fake = fake(shared);
    let token = match body.and_then(|Json(b)| b.auth_token) {
        Some(token) => {
            fake.set_auth_token(&token);
            token
        }
        None => fake.rotate_auth_token(),
    };
    Json(json!({ "auth_token": token }))
}

async fn numbers(State(shared): AppState) -> Response {
    Json(fake(shared).numbers()).into_response()
}

async fn services(State(shared): AppState) -> Response {
    Json(fake(shared).services()).into_response()
}

#[derive(Deserialize)]
struct MediaSpec {
    content_type: String,
    /// The bytes, standard base64.
    base64: String,
}

#[derive(Deserialize)]
struct CustomerSms {
    from: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    media: Vec<MediaSpec>,
}

async fn customer_sms(
    State(shared): AppState,
    Path(number): Path<String>,
    Json(request): Json<CustomerSms>,
) -> Response {
    let mut media = Vec::with_capacity(request.media.len());
    for item in request.media {
        match base64::engine::general_purpose::STANDARD.decode(item.base64.trim()) {
            Ok(bytes) => media.push((item.content_type, bytes)),
            Err(error) => return bad_request(format!("media base64: {error}")),
        }
    }
    let delivery = webhook::customer_message(&shared, &e164(&number), &e164(&request.from), &request.body, media).await;
    delivery_response(delivery)
}

async fn messages(State(shared): AppState) -> Response {
    Json(fake(shared).messages()).into_response()
}

#[derive(Deserialize)]
struct StatusRequest {
    status: String,
    error_code: Option<u32>,
}

async fn manual_status(
    State(shared): AppState,
    Path(sid): Path<String>,
    Json(request): Json<StatusRequest>,
) -> Response {
    match webhook::status_callback(&shared, &sid, &request.status, request.error_code).await {
        Ok(delivery) => delivery_response(delivery),
        Err(error) => bad_request(error),
    }
}

async fn inbound(State(shared): AppState) -> Response {
    Json(fake(shared).inbound()).into_response()
}

async fn callbacks(State(shared): AppState) -> Response {
    Json(fake(shared).callbacks()).into_response()
}

async fn opt_outs(State(shared): AppState) -> Response {
    Json(fake(shared).opted_out()).into_response()
}

async fn requests(State(shared): AppState) -> Response {
    Json(fake(shared).requests()).into_response()
}

#[derive(Deserialize)]
struct ModeRequest {
    mode: StatusMode,
}

async fn status_mode(State(shared): AppState, Json(request): Json<ModeRequest>) -> Response {
    fake(shared).set_status_mode(request.mode);
    Json(json!({ "mode": request.mode })).into_response()
}

async fn set_outcome(State(shared): AppState, Path(number): Path<String>, Json(outcome): Json<Outcome>) -> Response {
    fake(shared).set_outcome(&e164(&number), outcome);
    Json(outcome).into_response()
}

async fn clear_outcome(State(shared): AppState, Path(number): Path<String>) -> StatusCode {
    fake(shared).clear_outcome(&e164(&number));
    StatusCode::NO_CONTENT
}

async fn set_invalid(State(shared): AppState, Path(number): Path<String>) -> StatusCode {
    fake(shared).set_invalid(&e164(&number), true);
    StatusCode::NO_CONTENT
}

async fn clear_invalid(State(shared): AppState, Path(number): Path<String>) -> StatusCode {
    fake(shared).set_invalid(&e164(&number), false);
    StatusCode::NO_CONTENT
}

async fn set_unreachable(State(shared): AppState, Path(number): Path<String>) -> StatusCode {
    fake(shared).set_unreachable(&e164(&number), true);
    StatusCode::NO_CONTENT
}

async fn clear_unreachable(State(shared): AppState, Path(number): Path<String>) -> StatusCode {
    fake(shared).set_unreachable(&e164(&number), false);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RedeliverRequest {
    delivery: Delivery,
    signature: Option<String>,
}

async fn redeliver(State(shared): AppState, Json(request): Json<RedeliverRequest>) -> Response {
    let delivery = webhook::redeliver(&shared, &request.delivery, request.signature.as_deref()).await;
    delivery_response(delivery)
}

async fn reset(State(shared): AppState) -> StatusCode {
    fake(shared).reset();
    StatusCode::NO_CONTENT
}

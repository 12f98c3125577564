//! Webhook routes under `/api/webhooks/{channel}`. A delivery is verified over its raw
//! body before anything is parsed; what is acknowledged with 200 is already committed.

pub mod signature;

use crate::channels::{ChannelAdapter, Rejection};
use crate::state::AppState;
use app::error::AppError;
use app::inbound::Source;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::sync::Arc;

pub fn router(max_body: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/webhooks/messenger",
            get(verify_subscription).post(messenger_delivery),
        )
        .route(
            "/api/webhooks/whatsapp",
            get(verify_subscription).post(whatsapp_delivery),
        )
        .route(
            "/api/webhooks/instagram",
            get(verify_subscription).post(instagram_delivery),
        )
        .layer(DefaultBodyLimit::max(max_body))
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionCheck {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription handshake: echo `hub.challenge` when the verify token matches.
async fn verify_subscription(State(state): State<AppState>, Query(check): Query<SubscriptionCheck>) -> Response {
    let expected = &state.config.meta.verify_token;
    let token_ok = !expected.is_empty()
        && check
            .verify_token
            .as_deref()
            .is_some_and(|t| subtle::ConstantTimeEq::ct_eq(t.as_bytes(), expected.as_bytes()).into());
    match (check.mode.as_deref(), token_ok, check.challenge) {
        (Some("subscribe"), true, Some(challenge)) => (StatusCode::OK, challenge).into_response(),
        _ => (StatusCode::FORBIDDEN, "verification failed").into_response(),
    }
}

async fn messenger_delivery(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let adapter = state.adapters.messenger.clone();
    receive(&state, adapter, &headers, &body).await
}

async fn whatsapp_delivery(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let adapter = state.adapters.whatsapp.clone();
    receive(&state, adapter, &headers, &body).await
}

async fn instagram_delivery(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let adapter = state.adapters.instagram.clone();
    receive(&state, adapter, &headers, &body).await
}

/// Verifies, normalizes and hands one delivery to the inbound pipeline. Events for accounts
/// no organization connected are dropped (200, so the platform stops retrying); a storage
/// failure answers 500 so it retries.
pub async fn receive(state: &AppState, adapter: Arc<dyn ChannelAdapter>, headers: &HeaderMap, body: &[u8]) -> Response {
    let kind = adapter.kind();
    if adapter.verify(headers, body).is_err() {
        tracing::warn!(channel = %kind, "webhook rejected: bad or missing signature");
        return AppError::Unauthorized.into_response_with(StatusCode::UNAUTHORIZED, "invalid signature");
    }
    let events = match adapter.normalize(body) {
        Ok(events) => events,
        Err(Rejection::Malformed(reason)) => {
            tracing::warn!(channel = %kind, %reason, "webhook rejected: malformed body");
            return AppError::invalid("malformed webhook body")
                .into_response_with(StatusCode::BAD_REQUEST, "malformed webhook body");
        }
        Err(Rejection::BadSignature) => {
            return AppError::Unauthorized.into_response_with(StatusCode::UNAUTHORIZED, "invalid signature");
        }
    };
    match crate::inbound::deliver(state, Source::Platform(kind), events).await {
        Ok(_) => (StatusCode::OK, "EVENT_RECEIVED").into_response(),
        Err(e) => storage_failure(e.into()),
    }
}

fn storage_failure(error: AppError) -> Response {
    tracing::error!(%error, "webhook could not be stored; the platform will retry");
    error.into_response()
}

trait RejectionResponse {
    fn into_response_with(self, status: StatusCode, message: &str) -> Response;
}

impl RejectionResponse for AppError {
    fn into_response_with(self, status: StatusCode, message: &str) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code(), "message": message } });
        (status, axum::Json(body)).into_response()
    }
}

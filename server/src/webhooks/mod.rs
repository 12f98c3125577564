//! Webhook routes: `/api/webhooks/{kind}` for platforms that call one app-level URL for every
//! account (Meta), and `/api/webhooks/{kind}/{key}` for platforms that call each channel's
//! own URL (the key is the channel's `webhook_key`). The route only verifies, normalizes and
//! answers: the channel's receiver (`crate::channels::webhook`) checks the delivery before
//! anything is parsed, the inbound pipeline stores it, and 200 means it is committed.

use crate::api::ApiPath;
use crate::channels::webhook::{Handshake, RoutedChannel, WebhookReceiver, WebhookRequest};
use crate::channels::{ChannelAdapter, Rejection};
use crate::state::AppState;
use app::error::AppError;
use app::inbound::Source;
use app::model::ChannelKind;
use app::store::ChannelRecord;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::sync::Arc;

pub fn router(max_body: usize) -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/{kind}", get(delivery).post(delivery))
        .route("/api/webhooks/{kind}/{key}", get(delivery).post(delivery))
        .layer(DefaultBodyLimit::max(max_body))
}

/// The public address of this route for a channel: what a platform is told to call.
pub fn channel_webhook_url(public_url: &str, channel: &ChannelRecord) -> String {
    format!(
        "{public_url}/api/webhooks/{}/{}",
        channel.channel.kind, channel.webhook_key
    )
}

#[derive(Deserialize)]
struct WebhookPath {
    kind: String,
    /// A channel's `webhook_key`, on per-channel routes.
    key: Option<String>,
}

async fn delivery(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<WebhookPath>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((kind, adapter)) = receiver_of(&state, &path.kind) else {
        return AppError::NotFound.into_response();
    };
    let request = whole_request(&state, method, &uri, headers, body);
    let Some(key) = path.key else {
        if !adapter.webhook().is_some_and(|receiver| receiver.app_level()) {
            return AppError::NotFound.into_response();
        }
        return receive(&state, kind, adapter, &request, None).await;
    };
    let channel = match state.services.store.channel_by_webhook_key(kind, &key).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(e) => return storage_failure(e.into()),
    };
    let Ok(credentials) = state.secrets.open(&channel.credentials) else {
        tracing::error!(
            channel_id = channel.channel.id,
            "a channel's credentials cannot be opened"
        );
        return AppError::Internal.into_response();
    };
    let routed = RoutedChannel {
        record: &channel,
        credentials: &credentials,
    };
    receive(&state, kind, adapter, &request, Some(routed)).await
}

/// The channel kind named in the path, if it is one that receives webhooks.
fn receiver_of(state: &AppState, kind: &str) -> Option<(ChannelKind, Arc<dyn ChannelAdapter>)> {
    let kind: ChannelKind = kind.parse().ok()?;
    let adapter = state.adapters.get(kind);
    adapter.webhook().is_some().then_some((kind, adapter))
}

fn whole_request(state: &AppState, method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> WebhookRequest {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    WebhookRequest {
        method,
        url: format!("{}{path}", state.config.public_url),
        headers,
        body,
    }
}

/// Answers a subscription check, or verifies, normalizes and hands one delivery to the inbound
/// pipeline. Events for accounts no organization connected are dropped (200, so the platform
/// stops retrying); a storage failure answers 500 so it retries.
async fn receive(
    state: &AppState,
    kind: ChannelKind,
    adapter: Arc<dyn ChannelAdapter>,
    request: &WebhookRequest,
    channel: Option<RoutedChannel<'_>>,
) -> Response {
    let Some(receiver) = adapter.webhook() else {
        return AppError::NotFound.into_response();
    };
    if request.method == Method::GET {
        return match receiver.handshake(request) {
            Handshake::Accepted(challenge) => (StatusCode::OK, challenge).into_response(),
            Handshake::Refused => (StatusCode::FORBIDDEN, "verification failed").into_response(),
            Handshake::NotOffered => AppError::MethodNotAllowed.into_response(),
        };
    }
    if receiver.verify(request, channel).is_err() {
        tracing::warn!(channel = %kind, "webhook rejected: bad or missing signature");
        return rejection(AppError::Unauthorized, StatusCode::UNAUTHORIZED, "invalid signature");
    }
    let events = match receiver.normalize(request, channel) {
        Ok(events) => events,
        Err(Rejection::Malformed(reason)) => {
            tracing::warn!(channel = %kind, %reason, "webhook rejected: malformed body");
            return rejection(
                AppError::invalid("malformed webhook body"),
                StatusCode::BAD_REQUEST,
                "malformed webhook body",
            );
        }
        Err(Rejection::BadSignature) => {
            return rejection(AppError::Unauthorized, StatusCode::UNAUTHORIZED, "invalid signature");
        }
    };
    let source = match channel {
        Some(routed) => Source::Channel(routed.record),
        None => Source::Platform(kind),
    };
    match crate::inbound::deliver(state, source, events).await {
        Ok(_) => acknowledge(receiver),
        Err(e) => storage_failure(e.into()),
    }
}

fn acknowledge(receiver: &dyn WebhookReceiver) -> Response {
    let (content_type, body) = receiver.acknowledgement();
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn storage_failure(error: AppError) -> Response {
    tracing::error!(%error, "webhook could not be stored; the platform will retry");
    error.into_response()
}

/// Our JSON error shape with the status a platform expects for this refusal.
fn rejection(error: AppError, status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": error.code(), "message": message } });
    (status, axum::Json(body)).into_response()
}

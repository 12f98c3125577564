//! Webhook routes under `/api/webhooks/{channel}`. A delivery is verified over its raw
//! body before anything is parsed; what is acknowledged with 200 is already committed.

pub mod signature;

use crate::channels::{ChannelAdapter, InboundEvent, Rejection};
use crate::state::AppState;
use app::error::AppError;
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

/// Verifies, normalizes and stores one delivery. Unknown accounts are dropped with a log
/// line (200, so the platform stops retrying); a storage failure answers 500 so it retries.
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
    let store = &state.services.store;
    for event in events {
        if let InboundEvent::TemplateStatus(update) = &event.event {
            // Templates belong to the WhatsApp Business Account, not to one number.
            match store
                .set_template_status(
                    &event.account_id,
                    &update.platform_template_id,
                    update.status,
                    update.reason.as_deref(),
                )
                .await
            {
                Ok(written) => state.services.events.publish(&written.events),
                Err(e) => return storage_failure(e.into()),
            }
            continue;
        }
        let channel = match store.channel_by_account(kind, &event.account_id).await {
            Ok(Some(channel)) => channel,
            Ok(None) => {
                tracing::info!(channel = %kind, account = %event.account_id, "webhook for an account no organization has connected; dropped");
                continue;
            }
            Err(e) => return storage_failure(e.into()),
        };
        let channel_id = channel.channel.id;
        let outcome = match event.event {
            InboundEvent::Message(message) => match store.ingest_inbound(channel_id, message).await {
                Ok(Some(written)) => {
                    crate::media::prefetch(state, channel.organization_id, channel_id, &written.value);
                    Ok(written.events)
                }
                Ok(None) => Ok(Vec::new()),
                Err(e) => Err(e),
            },
            InboundEvent::Reaction(reaction) => store
                .apply_reaction(channel_id, reaction)
                .await
                .map(|w| w.map(|w| w.events).unwrap_or_default()),
            InboundEvent::TemplateStatus(_) => Ok(Vec::new()),
            InboundEvent::Echo(echo) => store
                .ingest_echo(channel_id, echo)
                .await
                .map(|w| w.map(|w| w.events).unwrap_or_default()),
            InboundEvent::Status(update) => store.apply_status(channel_id, update).await.map(|w| w.events),
        };
        match outcome {
            Ok(events) => {
                state.services.events.publish(&events);
                if let Some(contact_id) = new_contact(&events) {
                    spawn_profile_lookup(state.clone(), adapter.clone(), channel, contact_id);
                }
            }
            Err(e) => return storage_failure(e.into()),
        }
    }
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// The contact of a conversation this delivery created, if any.
fn new_contact(events: &[app::model::Event]) -> Option<app::model::Id> {
    events
        .iter()
        .find(|e| e.name == app::model::events::CONVERSATION_NEW)
        .and_then(|e| e.payload.pointer("/contact/id"))
        .and_then(|v| v.as_i64())
}

/// Asks the platform for a new customer's name and picture after the webhook is answered,
/// so a slow profile API never delays the acknowledgement.
fn spawn_profile_lookup(
    state: AppState,
    adapter: Arc<dyn ChannelAdapter>,
    channel: app::store::ChannelRecord,
    contact_id: app::model::Id,
) {
    tokio::spawn(async move {
        let org_id = channel.organization_id;
        let Ok(credentials) = state.secrets.open(&channel.credentials) else {
            return;
        };
        let store = &state.services.store;
        let Ok(contact) = store.contact(org_id, contact_id).await else {
            return;
        };
        let Some(identity) = contact.identities.iter().find(|i| i.channel_id == channel.channel.id) else {
            return;
        };
        let Some(profile) = adapter.customer_profile(&credentials, &identity.external_id).await else {
            return;
        };
        match store
            .update_contact(
                org_id,
                contact_id,
                profile.name.as_deref(),
                profile.avatar_url.as_deref(),
            )
            .await
        {
            Ok(written) => state.services.events.publish(&written.events),
            Err(error) => tracing::warn!(%error, contact_id, "could not store the customer's profile"),
        }
    });
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

//! Message routes: a thread's history, sending a reply or a template (queued, 202), retrying a
//! failed one, and changing or taking back a reply that was sent (on platforms that allow it;
//! the platform first, then the thread). `{id}` is the conversation for `GET` (the brief's
//! `/api/inbox/messages/:conversationId`) and the message for `PATCH` and `DELETE`.

use super::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::state::AppState;
use app::error::AppResult;
use app::model::{Id, Message, Page, SendRequest};
use app::templates::TemplateSendRequest;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/messages/send", post(send))
        .route("/api/inbox/messages/send-template", post(send_template))
        .route("/api/inbox/messages/{id}", get(history).patch(edit).delete(take_back))
        .route("/api/inbox/messages/{id}/retry", post(retry))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<Id>,
    limit: Option<i64>,
}

/// `GET /api/inbox/messages/:conversationId` — oldest first; `before` pages back.
async fn history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(conversation_id): ApiPath<Id>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> AppResult<Json<Page<Message>>> {
    Ok(Json(
        state
            .services
            .messages(&user, conversation_id, query.before, query.limit)
            .await?,
    ))
}

/// Queues the reply and answers 202: delivery progress arrives as `message:status` events.
async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<SendRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.services.send_message(&user, req).await?),
    ))
}

/// Queues an approved WhatsApp template (allowed outside the 24-hour window); 202 like `send`.
async fn send_template(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<TemplateSendRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.services.send_template(&user, req).await?),
    ))
}

async fn retry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.services.retry_message(&user, id).await?),
    ))
}

#[derive(Deserialize)]
struct Edit {
    content: String,
}

/// `PATCH /api/inbox/messages/:id {content}`: the reply's new text, on the platform and here.
async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(edit): ApiJson<Edit>,
) -> AppResult<Json<Message>> {
    Ok(Json(
        state
            .services
            .gateway
            .revise_message(&user, id, Some(edit.content))
            .await?,
    ))
}

/// `DELETE /api/inbox/messages/:id`: takes the reply back from the customer's chat; the thread
/// keeps a "deleted" line.
async fn take_back(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Message>> {
    Ok(Json(state.services.gateway.revise_message(&user, id, None).await?))
}

//! Private notes: `POST /api/inbox/conversations/:id/notes {content, mentions}` (also
//! `POST /api/inbox/notes {conversationId, content, mentions}`), `GET
//! /api/inbox/conversations/:id/notes`, `DELETE /api/inbox/notes/:id`; and the caller's own
//! mentions: `GET /api/inbox/mentions?unreadOnly=true`, `POST /api/inbox/mentions/:noteId/read`.
//! Notes stay inside the organization; nothing here reaches a customer.

use super::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::state::AppState;
use app::error::{AppError, AppResult};
use app::model::{Id, Mention, Note, NoteRequest};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/conversations/{id}/notes", get(list).post(add_to))
        .route("/api/inbox/notes", post(add))
        .route("/api/inbox/notes/{id}", delete(remove))
        .route("/api/inbox/mentions", get(mentions))
        .route("/api/inbox/mentions/{note_id}/read", post(read))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MentionsQuery {
    #[serde(default)]
    unread_only: bool,
}

async fn mentions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(query): ApiQuery<MentionsQuery>,
) -> AppResult<Json<Vec<Mention>>> {
    Ok(Json(state.services.mentions(&user, query.unread_only).await?))
}

async fn read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(note_id): ApiPath<Id>,
) -> AppResult<Json<Mention>> {
    Ok(Json(state.services.read_mention(&user, note_id).await?))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(conversation_id): ApiPath<Id>,
) -> AppResult<Json<Vec<Note>>> {
    Ok(Json(state.services.notes(&user, conversation_id).await?))
}

async fn add_to(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(conversation_id): ApiPath<Id>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<Note>)> {
    let note = state.services.add_note(&user, conversation_id, req).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<Note>)> {
    let conversation_id = req
        .conversation_id
        .ok_or_else(|| AppError::invalid("conversationId is required"))?;
    let note = state.services.add_note(&user, conversation_id, req).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(note_id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    state.services.delete_note(&user, note_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

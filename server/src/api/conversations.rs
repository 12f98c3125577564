use super::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::state::AppState;
use app::error::AppResult;
use app::model::{Conversation, ConversationDetail, ConversationFilter, ConversationStatus, Id, Page};
use axum::extract::State;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/conversations", get(list))
        .route("/api/inbox/conversations/{id}", get(detail))
        .route("/api/inbox/conversations/{id}/status", patch(set_status))
        .route("/api/inbox/conversations/{id}/read", patch(mark_read))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(filter): ApiQuery<ConversationFilter>,
) -> AppResult<Json<Page<Conversation>>> {
    Ok(Json(state.services.conversations(&user, &filter).await?))
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<ConversationDetail>> {
    Ok(Json(state.services.conversation_detail(&user, id).await?))
}

#[derive(Deserialize)]
struct StatusBody {
    status: ConversationStatus,
}

async fn set_status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<StatusBody>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.set_status(&user, id, body.status).await?))
}

async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.mark_read(&user, id).await?))
}

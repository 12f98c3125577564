//! The team inbox over REST, at the brief's addresses: teams and agents' routing profiles
//! (admins), a team's inbox, workload and presence, assignment (assign, claim, transfer,
//! auto-assign, bulk assign, bulk reassign), a conversation's priority and skills, where a
//! channel routes, typing and viewers, and an agent's status. Thin: every handler is one
//! call into `app::team::services`.

use super::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::state::AppState;
use app::error::{AppError, AppResult};
use app::model::{AgentStatus, Conversation, ConversationFilter, Id, Millis, Page, RoutingStrategy};
use app::presence::{Typing, Viewer};
use app::team::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/teams", get(teams).post(create_team))
        .route("/api/inbox/teams/{id}", get(team).put(update_team).delete(delete_team))
        .route("/api/inbox/team/{id}", get(team_inbox))
        .route("/api/inbox/team/{id}/workload", get(workload))
        .route("/api/inbox/team/{id}/presence", get(presence))
        .route("/api/inbox/agents", get(agents))
        .route("/api/inbox/agents/{id}", put(set_agent))
        .route(
            "/api/inbox/channels/{id}/routing",
            get(channel_routing).put(set_channel_routing),
        )
        .route(
            "/api/channels/{id}/routing",
            get(channel_routing).put(set_channel_routing),
        )
        .route("/api/inbox/conversations/{id}/assign", patch(assign))
        .route("/api/inbox/conversations/{id}/routing", patch(set_routing))
        .route("/api/inbox/conversations/{id}/queue", get(queue_position))
        .route("/api/inbox/conversations/{id}/viewers", get(viewers))
        .route("/api/inbox/conversations/bulk-assign", post(bulk_assign))
        .route("/api/inbox/assign", post(assign_by_body))
        .route("/api/inbox/claim", post(claim))
        .route("/api/inbox/transfer", post(transfer))
        .route("/api/inbox/auto-assign", post(auto_assign))
        .route("/api/inbox/reassign-bulk", post(reassign_bulk))
        .route("/api/inbox/typing", post(typing))
        .route("/api/users/{id}/status", put(set_status))
}

async fn teams(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> AppResult<Json<Vec<Team>>> {
    Ok(Json(state.services.teams(&user).await?))
}

async fn team(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Team>> {
    Ok(Json(state.services.team_by_id(&user, id).await?))
}

async fn create_team(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(draft): ApiJson<TeamDraft>,
) -> AppResult<(StatusCode, Json<Team>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_team(&user, draft).await?),
    ))
}

async fn update_team(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(draft): ApiJson<TeamDraft>,
) -> AppResult<Json<Team>> {
    Ok(Json(state.services.update_team(&user, id, draft).await?))
}

async fn delete_team(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    state.services.delete_team(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team inbox: the inbox's filters, narrowed to one team.
async fn team_inbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiQuery(mut filter): ApiQuery<ConversationFilter>,
) -> AppResult<Json<Page<Conversation>>> {
    state.services.team_by_id(&user, id).await?;
    filter.team = Some(id);
    Ok(Json(state.services.conversations(&user, &filter).await?))
}

async fn workload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Workload>> {
    Ok(Json(state.services.workload(&user, id).await?))
}

async fn presence(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Vec<PresenceEntry>>> {
    Ok(Json(state.services.team_presence(&user, id).await?))
}

async fn agents(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> AppResult<Json<Vec<AgentProfile>>> {
    Ok(Json(state.services.agent_profiles(&user).await?))
}

async fn set_agent(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(update): ApiJson<AgentProfileUpdate>,
) -> AppResult<Json<AgentProfile>> {
    Ok(Json(state.services.set_agent_profile(&user, id, update).await?))
}

async fn channel_routing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<ChannelRouting>> {
    Ok(Json(state.services.channel_routing(&user, id).await?))
}

async fn set_channel_routing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(routing): ApiJson<ChannelRouting>,
) -> AppResult<Json<ChannelRouting>> {
    Ok(Json(state.services.set_channel_routing(&user, id, routing).await?))
}

async fn assign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.assign_request(&user, id, request).await?))
}

async fn assign_by_body(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<AssignRequest>,
) -> AppResult<Json<Conversation>> {
    let id = request
        .conversation_id
        .ok_or_else(|| AppError::invalid("conversationId is required"))?;
    Ok(Json(state.services.assign_request(&user, id, request).await?))
}

async fn set_routing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(update): ApiJson<RoutingUpdate>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.set_conversation_routing(&user, id, update).await?))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueuePosition {
    position: usize,
    queued_at: Millis,
}

/// Where a waiting conversation stands; 404 when it is not waiting.
async fn queue_position(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<QueuePosition>> {
    state.services.store.conversation(user.organization_id, id).await?;
    let (position, queued_at) = state
        .services
        .queue_position(&user, id)
        .await
        .ok_or(AppError::NotFound)?;
    Ok(Json(QueuePosition { position, queued_at }))
}

async fn viewers(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Vec<Viewer>>> {
    Ok(Json(state.services.viewers(&user, id).await?))
}

async fn bulk_assign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<BulkAssignRequest>,
) -> AppResult<Json<BulkResult>> {
    Ok(Json(state.services.bulk_assign(&user, request).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConversationBody {
    conversation_id: Id,
    #[serde(default)]
    strategy: Option<RoutingStrategy>,
}

async fn claim(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ConversationBody>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.claim(&user, body.conversation_id).await?))
}

async fn transfer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<TransferRequest>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(state.services.transfer(&user, request).await?))
}

async fn auto_assign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ConversationBody>,
) -> AppResult<Json<RouteOutcome>> {
    Ok(Json(
        state
            .services
            .auto_assign(&user, body.conversation_id, body.strategy)
            .await?,
    ))
}

async fn reassign_bulk(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<BulkReassignRequest>,
) -> AppResult<Json<BulkResult>> {
    Ok(Json(state.services.reassign_bulk(&user, request).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingBody {
    conversation_id: Id,
    is_typing: bool,
    /// `reply` (the default) or `note`.
    #[serde(default)]
    kind: Option<Typing>,
}

/// Typing from a REST client (the web app uses the socket's `typing:start`/`typing:stop`).
async fn typing(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<TypingBody>,
) -> AppResult<StatusCode> {
    state
        .services
        .store
        .conversation(user.organization_id, body.conversation_id)
        .await?;
    let typing = body.is_typing.then(|| body.kind.unwrap_or(Typing::Reply));
    state
        .services
        .typing(&user, &format!("rest:{}", user.id), body.conversation_id, typing)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct StatusBody {
    status: AgentStatus,
}

async fn set_status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
    ApiJson(body): ApiJson<StatusBody>,
) -> AppResult<Json<PresenceEntry>> {
    Ok(Json(state.services.set_agent_status(&user, id, body.status).await?))
}

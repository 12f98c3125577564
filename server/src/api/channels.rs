use super::{ApiJson, ApiPath, CurrentUser};
use crate::channels::gateway::upstream;
use crate::state::AppState;
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{Channel, Id};
use app::services::ChannelGateway;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/channels", get(list))
        .route("/api/inbox/channels/social", post(connect_social))
        .route("/api/inbox/channels/whatsapp", post(connect_whatsapp))
        .route("/api/inbox/channels/{id}", delete(disconnect))
        .route("/api/inbox/channels/{id}/health", get(health))
}

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> AppResult<Json<Vec<Channel>>> {
    Ok(Json(state.services.channels(&user).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SocialConnect {
    platform: String,
    page_id: String,
    access_token: String,
}

/// Connects a page (Messenger) or the Instagram account linked to it by hand, for admins
/// who already hold a page access token.
async fn connect_social(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SocialConnect>,
) -> AppResult<(StatusCode, Json<Channel>)> {
    require_manager(&user)?;
    if body.page_id.trim().is_empty() || body.access_token.trim().is_empty() {
        return Err(AppError::invalid("pageId and accessToken are required"));
    }
    match body.platform.as_str() {
        "messenger" | "facebook" => {}
        "instagram" => {
            let channel = state
                .gateway
                .connect_instagram(&user, &body.page_id, &body.access_token)
                .await?;
            return Ok((StatusCode::CREATED, Json(channel)));
        }
        other => {
            return Err(AppError::invalid(format!(
                "platform `{other}` is not supported here; use \"messenger\" or \"instagram\" (WhatsApp has its own endpoint)"
            )));
        }
    }
    let (page_id, name) = state
        .adapters
        .messenger
        .page(body.page_id.trim(), body.access_token.trim())
        .await
        .map_err(upstream)?;
    let channel = state
        .gateway
        .connect_page(&user, &page_id, &name, body.access_token.trim())
        .await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WhatsAppConnect {
    phone_number_id: String,
    access_token: String,
    waba_id: String,
}

/// Connects a WhatsApp phone number by hand (a system-user token from Meta's Business settings).
async fn connect_whatsapp(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<WhatsAppConnect>,
) -> AppResult<(StatusCode, Json<Channel>)> {
    let channel = state
        .gateway
        .connect_whatsapp(&user, &body.phone_number_id, &body.access_token, &body.waba_id)
        .await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

async fn disconnect(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Channel>> {
    Ok(Json(state.services.gateway.disconnect(&user, id).await?))
}

async fn health(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<Channel>> {
    Ok(Json(state.services.gateway.health(&user, id).await?))
}

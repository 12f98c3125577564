//! Channel routes: list, connect (Facebook pages and Instagram by token, WhatsApp by token,
//! and any kind that declares a connect form, e.g. `POST /api/channels/telegram {botToken}`),
//! disconnect and health. Managing channels needs an owner or admin; every id is looked up
//! within the caller's organization.

use super::{ApiJson, ApiPath, CurrentUser};
use crate::channels::ConnectFields;
use crate::channels::gateway::upstream;
use crate::state::AppState;
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{Channel, ChannelKind, Id};
use app::services::ChannelGateway;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The brief names the channel routes both under `/api/channels` and under
/// `/api/inbox/channels`: one set of handlers answers at both.
const PREFIXES: [&str; 2] = ["/api/channels", "/api/inbox/channels"];

pub fn router() -> Router<AppState> {
    PREFIXES.into_iter().fold(Router::new(), |router, prefix| {
        router
            .route(prefix, get(list))
            .route(&format!("{prefix}/social"), post(connect_social))
            .route(&format!("{prefix}/whatsapp"), post(connect_whatsapp))
            // `{id}` is a channel id to disconnect, or the kind of channel a form connects
            // (`telegram`, `sms`).
            .route(&format!("{prefix}/{{id}}"), delete(disconnect).post(connect_with_form))
            .route(&format!("{prefix}/{{id}}/health"), get(health))
    })
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

/// Connects a channel of a kind that connects with a form (`{"botToken": "…"}` for Telegram).
/// The fields the kind declares (`app::platforms`) are required; the kind's adapter then checks
/// the values with the platform. Field names may be camelCase (REST) or snake_case (the form).
async fn connect_with_form(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(kind): ApiPath<String>,
    ApiJson(fields): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<(StatusCode, Json<Channel>)> {
    require_manager(&user)?;
    let kind: ChannelKind = kind.parse().map_err(|_| AppError::NotFound)?;
    let mut values = ConnectFields::new();
    for (name, value) in fields {
        let serde_json::Value::String(text) = value else {
            return Err(AppError::invalid(format!("{name} must be text")));
        };
        values.insert(snake_case(&name), text.trim().to_string());
    }
    let channel = state.services.gateway.connect_with_form(&user, kind, &values).await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// `botToken` → `bot_token`: REST bodies are camelCase, form fields are declared snake_case.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn rest_field_names_become_form_field_names() {
        for (rest, form) in [
            ("botToken", "bot_token"),
            ("accountSid", "account_sid"),
            ("phone_number", "phone_number"),
            ("pageId", "page_id"),
        ] {
            assert_eq!(snake_case(rest), form);
        }
    }
}

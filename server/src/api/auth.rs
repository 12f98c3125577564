use super::{ApiJson, CurrentUser};
use crate::state::AppState;
use app::auth::{AuthResponse, LoginRequest, SessionInfo, SignupRequest};
use app::error::AppResult;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
}

fn answer(token: String, session: SessionInfo) -> AuthResponse {
    AuthResponse {
        token,
        user: session.user,
        organization: session.organization,
    }
}

async fn signup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignupRequest>,
) -> AppResult<(StatusCode, Json<AuthResponse>)> {
    let (token, session) = state.services.signup(req).await?;
    Ok((StatusCode::CREATED, Json(answer(token, session))))
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<AuthResponse>> {
    let client = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (token, session) = state.services.login(req, client).await?;
    Ok(Json(answer(token, session)))
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CurrentUser(_): CurrentUser,
) -> AppResult<StatusCode> {
    if let Some(token) = app::auth::ssr::request_token(&headers) {
        state.services.logout(&token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> AppResult<Json<SessionInfo>> {
    Ok(Json(state.services.session(user).await?))
}

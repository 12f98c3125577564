//! The REST API (JSON, `Authorization: Bearer <token>`), following the brief's endpoint
//! list. Each module owns its routes; errors are `{"error": {"code", "message"}}`.

mod auth;
mod channels;
mod conversations;
mod messages;
mod templates;

use crate::state::AppState;
use app::error::AppError;
use app::model::User;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(channels::router())
        .merge(templates::router())
}

/// The user behind the request's bearer token (or session cookie).
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        app::auth::ssr::authenticate(state.services.store.as_ref(), &parts.headers)
            .await
            .map(CurrentUser)
    }
}

/// `Json` whose rejections are our JSON errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejections are our JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `Path` whose rejections are our JSON errors (a malformed id is simply not found).
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

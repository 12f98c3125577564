//! The REST API (JSON, `Authorization: Bearer <token>`), following the brief's endpoint
//! list. Each module owns its routes; errors are `{"error": {"code", "message"}}`.

mod auth;
mod channels;
mod conversations;
mod messages;
mod notes;
mod team;
mod templates;

use crate::state::AppState;
use app::error::AppError;
use app::model::User;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::routing::any;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(notes::router())
        .merge(team::router())
        .merge(channels::router())
        .merge(templates::router())
        // API clients get the JSON error shape, not the app's "page not found" HTML.
        .route("/api", any(not_found))
        .route("/api/{*rest}", any(not_found))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A known path with the wrong method: JSON under `/api/`, plain text for pages.
pub async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        AppError::MethodNotAllowed.into_response()
    } else {
        (axum::http::StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response()
    }
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

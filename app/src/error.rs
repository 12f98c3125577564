//! The one error type the UI, the server functions and the REST API share. Each variant
//! has a stable machine code and an HTTP status; internals are logged, never returned.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum AppError {
    #[error("please log in")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The path exists but not with this HTTP method.
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The request itself could not be read (malformed JSON, a bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// The request's body (an uploaded file) is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts, try again in a minute")]
    RateLimited,
    #[error("{0}")]
    Upstream(String),
    #[error("something went wrong on our side")]
    Internal,
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::BadRequest(_) => "bad_request",
            AppError::TooLarge(_) => "too_large",
            AppError::RateLimited => "rate_limited",
            AppError::Upstream(_) => "upstream",
            AppError::Internal => "internal",
        }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed => 405,
            AppError::Conflict(_) => 409,
            AppError::Invalid(_) => 422,
            AppError::BadRequest(_) => 400,
            AppError::TooLarge(_) => 413,
            AppError::RateLimited => 429,
            AppError::Upstream(_) => 502,
            AppError::Internal => 500,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(message.into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                AppError::Upstream("the server could not be reached".into())
            }
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => AppError::Invalid(m),
            _ => AppError::Internal,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use crate::store::StoreError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    impl From<StoreError> for AppError {
        fn from(err: StoreError) -> Self {
            match err {
                StoreError::NotFound => AppError::NotFound,
                StoreError::Conflict(m) => AppError::Conflict(m),
                StoreError::Invalid(m) => AppError::Invalid(m),
                other => {
                    tracing::error!(error = %other, "store failure");
                    AppError::Internal
                }
            }
        }
    }

    impl From<axum::extract::rejection::JsonRejection> for AppError {
        fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
            use axum::extract::rejection::JsonRejection;
            match rejection {
                // Well-formed JSON of the wrong shape is unprocessable; anything else is a bad request.
                JsonRejection::JsonDataError(e) => AppError::Invalid(e.body_text()),
                other => AppError::BadRequest(format!("the body is not valid JSON: {}", other.body_text())),
            }
        }
    }

    impl From<axum::extract::rejection::QueryRejection> for AppError {
        fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
            AppError::BadRequest(format!("invalid query: {}", rejection.body_text()))
        }
    }

    impl From<axum::extract::rejection::PathRejection> for AppError {
        fn from(_: axum::extract::rejection::PathRejection) -> Self {
            AppError::NotFound
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status = StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } });
            (status, axum::Json(body)).into_response()
        }
    }
}

//! Cross-site request forgery guard. The session cookie is SameSite=Lax; on top of that a
//! state-changing request that names an Origin must come from our own host. API clients
//! using bearer tokens send no Origin and are unaffected; webhooks are signed instead.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin(request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !request.uri().path().starts_with("/api/webhooks/") {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
            if Some(origin_host) != host {
                let body =
                    serde_json::json!({ "error": { "code": "forbidden", "message": "cross-site request refused" } });
                return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
            }
        }
    }
    next.run(request).await
}

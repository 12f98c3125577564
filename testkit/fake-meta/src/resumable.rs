//! The Resumable Upload API, which WhatsApp template headers need for their media sample
//! (`example.header_handle`): `POST /{app-id}/uploads?file_name&file_length&file_type`
//! → `{"id":"upload:…"}`, then `POST /upload:…` with `Authorization: OAuth {token}`,
//! `file_offset: 0` and the bytes → `{"h":"…"}`. `GET /upload:…` tells the offset reached.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::errors::GraphError;
use super::graph::{GraphRequest, GraphResult, authorization_token, token_error};
use super::state::{Shared, TokenKind, random_string};

/// The types the Resumable Upload API takes.
const FILE_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"];

/// An upload session: what was announced, and the bytes received so far.
#[derive(Debug, Clone)]
pub(crate) struct UploadSession {
    pub file_type: String,
    pub file_length: usize,
    pub token: String,
    pub received: Vec<u8>,
}

/// Handles issued for finished uploads, with the file's type and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileHandle {
    pub file_type: String,
    pub size: usize,
}

fn may_upload(kind: &TokenKind) -> bool {
    matches!(kind, TokenKind::User | TokenKind::Waba(_))
}

/// `POST /{app-id}/uploads`.
pub(crate) fn start(shared: &Arc<Shared>, app_id: &str, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    if app_id != world.app_id {
        return Err(GraphError::unsupported("post", app_id));
    }
    let kind = world.classify_token(req.access_token());
    if !may_upload(&kind) {
        return Err(token_error(kind));
    }
    let file_length: usize = req
        .get("file_length")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .ok_or_else(|| GraphError::param("(#100) The parameter file_length is required"))?;
    let file_type = req.get("file_type").unwrap_or_default().to_ascii_lowercase();
    if !FILE_TYPES.contains(&file_type.as_str()) {
        return Err(GraphError::param(format!(
            "(#100) Param file_type must be one of {{application/pdf, image/jpeg, image/jpg, image/png, video/mp4}} - got \"{file_type}\"."
        )));
    }
    let id = format!("upload:{}", random_string(40));
    let token = req.access_token().unwrap_or_default().to_owned();
    world.upload_sessions.insert(
        id.clone(),
        UploadSession {
            file_type,
            file_length,
            token,
            received: Vec::new(),
        },
    );
    Ok(Json(json!({ "id": id })))
}

/// `POST /upload:{session}`: the bytes from `file_offset` on.
pub(crate) fn transfer(shared: &Arc<Shared>, session_id: &str, headers: &HeaderMap, body: &Bytes) -> GraphResult {
    let mut world = shared.lock();
    let token = authorization_token(headers);
    let kind = world.classify_token(token.as_deref());
    let Some(session) = world.upload_sessions.get(session_id).cloned() else {
        return Err(GraphError::unsupported("post", session_id));
    };
    if !may_upload(&kind) || token.as_deref() != Some(session.token.as_str()) {
        return Err(token_error(kind));
    }
    let offset: usize = headers
        .get("file_offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| GraphError::param("(#100) The header file_offset is required"))?;
    if offset != session.received.len() {
        return Err(GraphError::param(format!(
            "(#100) file_offset {offset} does not match the {} bytes received so far",
            session.received.len()
        )));
    }
    let mut received = session.received;
    received.extend_from_slice(body);
    if received.len() > session.file_length {
        return Err(GraphError::param(
            "(#100) More bytes were sent than file_length announced",
        ));
    }
    let done = received.len() == session.file_length;
    let size = received.len();
    if let Some(open) = world.upload_sessions.get_mut(session_id) {
        open.received = received;
    }
    if !done {
        return Ok(Json(json!({ "id": session_id, "file_offset": size })));
    }
    let handle = format!("4::{}:{}", base64_type(&session.file_type), random_string(60));
    world.file_handles.insert(
        handle.clone(),
        FileHandle {
            file_type: session.file_type,
            size,
        },
    );
    world.upload_sessions.remove(session_id);
    Ok(Json(json!({ "h": handle })))
}

/// `GET /upload:{session}`: where an interrupted upload resumes.
pub(crate) fn status(shared: &Arc<Shared>, session_id: &str) -> Option<Value> {
    let world = shared.lock();
    let session = world.upload_sessions.get(session_id)?;
    Some(json!({ "id": session_id, "file_offset": session.received.len() }))
}

/// Meta's handles carry the type in base64 (`4::aW1hZ2UvcG5n:…` for image/png).
fn base64_type(file_type: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(file_type)
}

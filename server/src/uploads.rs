//! Files agents attach to replies. `POST /api/inbox/messages/upload` streams the file into
//! `{data}/media/uploads/{org}/{id}` (checked against what the conversation's platform
//! accepts, by its content, not its name) and records it; agents of that organization see
//! it at `/api/media/uploads/{id}`. Platforms get it when the reply is sent: WhatsApp by
//! upload, Messenger and Instagram by fetching a signed, expiring link,
//! `/api/media/public/{org}/{id}?expires=…&signature=…`.

use crate::api::{ApiPath, ApiQuery, CurrentUser};
use crate::channels::OutgoingFile;
use crate::crypto::SecretBox;
use crate::media::response_headers;
use crate::state::AppState;
use app::attachments::{self, MAX_UPLOAD_BYTES, UPLOAD_ROUTE, UploadedFile};
use app::error::{AppError, AppResult};
use app::model::Id;
use app::store::{DynStore, NewUpload, OutboundJob, StoreError};
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// How long a platform may take to fetch a file after the reply is sent.
const LINK_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Enough of the start of a file to recognize its type.
const SNIFF_BYTES: usize = 8192;

pub fn router() -> Router<AppState> {
    let form_overhead = 64 * 1024;
    Router::new()
        .route(
            UPLOAD_ROUTE,
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES as usize + form_overhead)),
        )
        .route("/api/media/uploads/{id}", get(serve_to_agent))
        .route("/api/media/public/{org}/{id}", get(serve_by_link))
}

/// The uploads folder and the key that signs links to it.
#[derive(Clone)]
pub struct Uploads {
    root: PathBuf,
    secrets: SecretBox,
    public_url: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Uploads {
    pub fn new(root: PathBuf, secrets: SecretBox, public_url: &str) -> Self {
        Self {
            root,
            secrets,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    fn path(&self, org_id: Id, upload_id: &str) -> Option<PathBuf> {
        let url = attachments::upload_url(upload_id);
        attachments::upload_id(&url).map(|id| self.root.join(org_id.to_string()).join(id))
    }

    /// A link anyone holding it may fetch the file with until `expires` (unix seconds).
    pub fn public_link(&self, org_id: Id, upload_id: &str, expires: u64) -> String {
        let signature = self.secrets.sign(&format!("{org_id}/{upload_id}/{expires}"));
        format!(
            "{}/api/media/public/{org_id}/{upload_id}?expires={expires}&signature={signature}",
            self.public_url
        )
    }

    fn link_is_valid(&self, org_id: Id, upload_id: &str, expires: u64, signature: &str) -> bool {
        self.secrets
            .verify(&format!("{org_id}/{upload_id}/{expires}"), signature)
            && expires >= unix_now()
    }

    /// The job's uploaded attachments, by their index in the message, ready for a platform.
    pub async fn outgoing(&self, store: &DynStore, job: &OutboundJob) -> Result<Vec<(usize, OutgoingFile)>, String> {
        let org_id = job.channel.organization_id;
        let mut files = Vec::new();
        for (index, attachment) in job.message.attachments.iter().enumerate() {
            let Some(id) = attachments::upload_id(&attachment.url) else {
                continue;
            };
            let gone = || {
                format!(
                    "the attached file {} is no longer available",
                    attachment.name.as_deref().unwrap_or(id)
                )
            };
            let record = store.upload(org_id, id).await.map_err(|e| match e {
                StoreError::NotFound => gone(),
                other => {
                    tracing::error!(error = %other, "could not read an upload's record");
                    "the attached file could not be read; retry".to_string()
                }
            })?;
            let path = self.path(org_id, id).ok_or_else(gone)?;
            if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(gone());
            }
            files.push((
                index,
                OutgoingFile {
                    kind: record.file.kind,
                    name: record.file.name,
                    mime_type: record.file.mime_type,
                    path,
                    public_url: self.public_link(org_id, id, unix_now() + LINK_LIFETIME.as_secs()),
                },
            ));
        }
        Ok(files)
    }
}

/// Keeps what a person would recognize of a file name, without paths or control characters.
pub(crate) fn clean_name(name: Option<&str>) -> String {
    let base = name.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() { "file".into() } else { cleaned }
}

/// The file's type from its content; from its name only for types that have no signature
/// (plain text, old Office files). A name or a declared type never turns bytes into media.
pub(crate) fn detect_type(head: &[u8], name: &str, declared: Option<&str>) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    let guessed = mime_guess::from_path(name).first().map(|m| m.essence_str().to_string());
    let claimed =
        guessed.or_else(|| declared.map(|d| d.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()));
    match claimed {
        Some(mime) if !["image/", "video/", "audio/"].iter().any(|f| mime.starts_with(f)) && !mime.is_empty() => mime,
        _ => "application/octet-stream".into(),
    }
}

/// A file being written; removed unless it is kept.
struct PartialFile {
    path: PathBuf,
    kept: bool,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

struct Received {
    partial: PartialFile,
    name: String,
    declared: Option<String>,
    head: Vec<u8>,
    size: u64,
    sha256: String,
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(format!(
            "files can be at most {}",
            attachments::human_size(MAX_UPLOAD_BYTES)
        ))
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", error.body_text()))
    }
}

async fn receive_file(
    mut field: axum::extract::multipart::Field<'_>,
    dir: &std::path::Path,
    id: &str,
) -> AppResult<Received> {
    let internal = |error: std::io::Error| {
        tracing::error!(%error, "could not write an upload");
        AppError::Internal
    };
    tokio::fs::create_dir_all(dir).await.map_err(internal)?;
    let partial = PartialFile {
        path: dir.join(format!("{id}.partial")),
        kept: false,
    };
    let mut out = tokio::fs::File::create(&partial.path).await.map_err(internal)?;
    let name = clean_name(field.file_name());
    let declared = field.content_type().map(str::to_string);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut size: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > MAX_UPLOAD_BYTES {
            return Err(AppError::TooLarge(format!(
                "files can be at most {}",
                attachments::human_size(MAX_UPLOAD_BYTES)
            )));
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(internal)?;
    }
    out.flush().await.map_err(internal)?;
    out.sync_all().await.map_err(internal)?;
    Ok(Received {
        partial,
        name,
        declared,
        head,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn new_upload_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// `POST /api/inbox/messages/upload` (multipart: `conversationId`, `file`) → 201 `UploadedFile`.
async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut form: Multipart,
) -> AppResult<(StatusCode, Json<UploadedFile>)> {
    let id = new_upload_id();
    let dir = state.uploads.root.join(user.organization_id.to_string());
    let mut conversation_id: Option<Id> = None;
    let mut received: Option<Received> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("conversationId") => {
                let text = field.text().await.map_err(multipart_error)?;
                conversation_id = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| AppError::invalid("conversationId must be a conversation's id"))?,
                );
            }
            Some("file") if received.is_none() => received = Some(receive_file(field, &dir, &id).await?),
            Some("file") => {
                return Err(AppError::invalid(format!(
                    "a reply can carry {} file; upload one at a time",
                    attachments::MAX_ATTACHMENTS
                )));
            }
            _ => {}
        }
    }
    let conversation_id = conversation_id.ok_or_else(|| AppError::invalid("conversationId is required"))?;
    let mut received = received.ok_or_else(|| AppError::invalid("choose a file to upload (form field `file`)"))?;
    let conversation = state
        .services
        .store
        .conversation(user.organization_id, conversation_id)
        .await?;
    let mime_type = detect_type(&received.head, &received.name, received.declared.as_deref());
    let kind = attachments::check(conversation.channel_kind, &mime_type, received.size).map_err(|reason| {
        // The same type at a tiny size passing means only the size was refused.
        if received.size > 0 && attachments::check(conversation.channel_kind, &mime_type, 1).is_ok() {
            AppError::TooLarge(reason)
        } else {
            AppError::Invalid(reason)
        }
    })?;
    let path = dir.join(&id);
    tokio::fs::rename(&received.partial.path, &path)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not keep an upload");
            AppError::Internal
        })?;
    received.partial.path = path;
    let record = state
        .services
        .store
        .record_upload(
            user.organization_id,
            NewUpload {
                id,
                conversation_id,
                uploaded_by: user.id,
                name: received.name.clone(),
                mime_type,
                kind,
                size: received.size,
                sha256: received.sha256.clone(),
            },
        )
        .await?;
    received.partial.kept = true;
    Ok((StatusCode::CREATED, Json(record.file)))
}

async fn serve_file(path: PathBuf, file: &UploadedFile, request: Request) -> Response {
    let mut response = match ServeFile::new(&path).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    };
    if response.status().is_success() || response.status() == StatusCode::PARTIAL_CONTENT {
        let headers = response.headers_mut();
        for (name, value) in response_headers(&file.mime_type, Some(&file.name)) {
            headers.insert(name, value);
        }
    }
    response
}

/// `GET /api/media/uploads/{id}`: for the uploading organization's agents only.
async fn serve_to_agent(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> AppResult<Response> {
    let path = state
        .uploads
        .path(user.organization_id, &id)
        .ok_or(AppError::NotFound)?;
    let record = state.services.store.upload(user.organization_id, &id).await?;
    Ok(serve_file(path, &record.file, request).await)
}

#[derive(Deserialize)]
struct LinkQuery {
    expires: u64,
    signature: String,
}

/// `GET /api/media/public/{org}/{id}?expires=&signature=`: for platforms fetching a file
/// we sent; 403 when the link was altered or has expired.
async fn serve_by_link(
    State(state): State<AppState>,
    ApiPath((org_id, id)): ApiPath<(Id, String)>,
    query: Result<ApiQuery<LinkQuery>, AppError>,
    request: Request,
) -> AppResult<Response> {
    let Ok(ApiQuery(link)) = query else {
        return Err(AppError::Forbidden("this link is not signed".into()));
    };
    if !state.uploads.link_is_valid(org_id, &id, link.expires, &link.signature) {
        return Err(AppError::Forbidden("this link is invalid or has expired".into()));
    }
    let path = state.uploads.path(org_id, &id).ok_or(AppError::NotFound)?;
    let record = state.services.store.upload(org_id, &id).await?;
    Ok(serve_file(path, &record.file, request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploads() -> Uploads {
        let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [3u8; 32]);
        Uploads::new(
            PathBuf::from("/data/media/uploads"),
            SecretBox::from_base64(&key).expect("key"),
            "https://inbox.example/",
        )
    }

    #[test]
    fn links_are_signed_per_file_and_expire() {
        let uploads = uploads();
        let later = unix_now() + 60;
        let link = uploads.public_link(7, "abc123", later);
        assert!(link.starts_with(&format!(
            "https://inbox.example/api/media/public/7/abc123?expires={later}&signature="
        )));
        let signature = link.rsplit("signature=").next().expect("signature");
        assert!(uploads.link_is_valid(7, "abc123", later, signature));
        assert!(
            !uploads.link_is_valid(8, "abc123", later, signature),
            "another organization"
        );
        assert!(!uploads.link_is_valid(7, "abc124", later, signature), "another file");
        assert!(
            !uploads.link_is_valid(7, "abc123", later + 1, signature),
            "a stretched expiry"
        );
        let past = unix_now() - 1;
        let expired = uploads.public_link(7, "abc123", past);
        let signature = expired.rsplit("signature=").next().expect("signature");
        assert!(!uploads.link_is_valid(7, "abc123", past, signature), "expired");
    }

    #[test]
    fn paths_stay_in_the_organization_folder() {
        let uploads = uploads();
        assert_eq!(
            uploads.path(7, "abc123"),
            Some(PathBuf::from("/data/media/uploads/7/abc123"))
        );
        assert_eq!(uploads.path(7, "../8/abc"), None);
        assert_eq!(uploads.path(7, ""), None);
    }

    #[test]
    fn types_come_from_content_first() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(detect_type(png, "photo.jpg", Some("image/jpeg")), "image/png");
        assert_eq!(detect_type(b"%PDF-1.7\n", "x.bin", None), "application/pdf");
        assert_eq!(detect_type(b"hello", "notes.txt", None), "text/plain");
        // text that claims to be a picture does not become one
        assert_eq!(
            detect_type(b"<svg onload=x>", "cat.png", Some("image/png")),
            "application/octet-stream"
        );
        assert_eq!(
            detect_type(b"hello", "noext", Some("text/plain; charset=utf-8")),
            "text/plain"
        );
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name(Some("C:\\Users\\me\\receipt.pdf")), "receipt.pdf");
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("a\u{0}b\n.png")), "ab.png");
        assert_eq!(clean_name(Some(".hidden")), "hidden");
        assert_eq!(clean_name(None), "file");
        assert_eq!(clean_name(Some("Ảnh chụp.png")), "Ảnh chụp.png");
    }
}

//! Media a platform keeps for us (WhatsApp's media endpoint, Instagram's CDN links):
//! downloaded once into a local folder and served to the organization's agents through an
//! authenticated route,
//! `GET /api/media/{kind}/{account_id}/{media_id}`. The first webhook prefetches it; a
//! request for a file not fetched yet (or whose prefetch failed) fetches it then.

use crate::api::{ApiPath, CurrentUser};
use crate::channels::SendError;
use crate::channels::gateway::upstream;
use crate::state::AppState;
use app::error::{AppError, AppResult};
use app::model::{Attachment, ChannelKind, Id, Message};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Types a browser may show inline; anything else is offered as a download so a file a
/// customer sent can never run as a page of ours.
const INLINE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/3gpp",
    "audio/aac",
    "audio/mp4",
    "audio/mpeg",
    "audio/amr",
    "audio/ogg",
    "application/pdf",
];

/// Headers for serving a stored file of `mime` type: its type inline only when a browser
/// cannot run it, `nosniff`, and the file's name for downloads.
pub fn response_headers(mime: &str, name: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let inline = INLINE_TYPES.contains(&essence.as_str());
    let content_type = if inline { mime } else { "application/octet-stream" };
    let disposition = match name.map(|n| n.replace(|c: char| !c.is_ascii_alphanumeric() && !"._- ".contains(c), "_")) {
        Some(ascii) if !ascii.trim().is_empty() => {
            format!(
                "{}; filename=\"{}\"",
                if inline { "inline" } else { "attachment" },
                ascii.trim()
            )
        }
        _ => (if inline { "inline" } else { "attachment" }).to_string(),
    };
    let mut headers = vec![(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))];
    for (name, value) in [
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.push((name, value));
        }
    }
    headers
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/media/{kind}/{account}/{media_id}", get(serve))
}

/// A folder of downloaded media: `{root}/{kind}/{account}/{media id}` plus a `.type` file.
#[derive(Clone)]
pub struct MediaCache {
    root: PathBuf,
}

/// Media ids may be long (an Instagram media id is its CDN link in base64url).
const MAX_MEDIA_ID: usize = 4096;

fn safe_segment(segment: &str) -> bool {
    safe_id(segment, 200)
}

fn safe_id(segment: &str, max: usize) -> bool {
    !segment.is_empty()
        && segment.len() <= max
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `{path}{suffix}`: media ids may contain dots, so `with_extension` could collide.
fn sibling(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl MediaCache {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Long ids are kept under their SHA-256, to fit a file name.
    fn path(&self, kind: ChannelKind, account: &str, media_id: &str) -> Option<PathBuf> {
        let file = if media_id.len() > 100 {
            hex::encode(Sha256::digest(media_id.as_bytes()))
        } else {
            media_id.to_string()
        };
        (safe_segment(account) && safe_id(media_id, MAX_MEDIA_ID))
            .then(|| self.root.join(kind.as_str()).join(account).join(file))
    }

    pub async fn get(&self, kind: ChannelKind, account: &str, media_id: &str) -> Option<crate::channels::MediaFile> {
        let path = self.path(kind, account, media_id)?;
        let bytes = tokio::fs::read(&path).await.ok()?;
        let mime_type = tokio::fs::read_to_string(sibling(&path, ".type"))
            .await
            .unwrap_or_else(|_| "application/octet-stream".into());
        Some(crate::channels::MediaFile { bytes, mime_type })
    }

    /// Writes through a temporary file, so a reader never sees half a file.
    pub async fn put(
        &self,
        kind: ChannelKind,
        account: &str,
        media_id: &str,
        file: &crate::channels::MediaFile,
    ) -> std::io::Result<()> {
        let path = self
            .path(kind, account, media_id)
            .ok_or_else(|| std::io::Error::other("unsafe media path"))?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::write(sibling(&path, ".type"), &file.mime_type).await?;
        let partial = sibling(&path, ".partial");
        tokio::fs::write(&partial, &file.bytes).await?;
        tokio::fs::rename(&partial, &path).await
    }
}

/// The cached file, or a fresh download from the platform with the channel's credentials.
async fn fetch(
    state: &AppState,
    org_id: Id,
    channel_id: Id,
    kind: ChannelKind,
    account: &str,
    media_id: &str,
) -> AppResult<crate::channels::MediaFile> {
    if let Some(file) = state.media.get(kind, account, media_id).await {
        return Ok(file);
    }
    let record = state.services.store.channel(org_id, channel_id).await?;
    let credentials = state
        .secrets
        .open(&record.credentials)
        .map_err(|_| AppError::invalid("the channel's credentials are unreadable; reconnect it"))?;
    let file = state
        .adapters
        .get(kind)
        .fetch_media(&credentials, media_id)
        .await
        .map_err(|e| match e {
            SendError::Rejected(m) if m.contains("(100)") => AppError::NotFound,
            other => upstream(other),
        })?;
    if let Err(error) = state.media.put(kind, account, media_id, &file).await {
        tracing::warn!(%error, media_id, "could not keep a media file");
    }
    Ok(file)
}

async fn serve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath((kind, account, media_id)): ApiPath<(String, String, String)>,
) -> AppResult<Response> {
    let kind: ChannelKind = kind.parse().map_err(|_| AppError::NotFound)?;
    if !safe_segment(&account) || !safe_id(&media_id, MAX_MEDIA_ID) {
        return Err(AppError::NotFound);
    }
    // Only an organization that has (or had) this account may see its media.
    let channel = state
        .services
        .store
        .channels(user.organization_id)
        .await?
        .into_iter()
        .find(|c| c.kind == kind && c.external_id == account)
        .ok_or(AppError::NotFound)?;
    let file = fetch(&state, user.organization_id, channel.id, kind, &account, &media_id).await?;
    let mut response = file.bytes.into_response();
    for (name, value) in response_headers(&file.mime_type, None) {
        response.headers_mut().insert(name, value);
    }
    Ok(response)
}

/// The `(kind, account, media id)` of attachments served by our media route.
fn platform_media(attachment: &Attachment) -> Option<(ChannelKind, String, String)> {
    let rest = attachment.url.strip_prefix("/api/media/")?;
    let mut parts = rest.splitn(3, '/');
    let kind = parts.next()?.parse().ok()?;
    Some((kind, parts.next()?.to_string(), parts.next()?.to_string()))
}

/// Downloads a new message's media in the background, after the webhook is answered.
pub fn prefetch(state: &AppState, org_id: Id, channel_id: Id, message: &Message) {
    for (kind, account, media_id) in message.attachments.iter().filter_map(platform_media) {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = fetch(&state, org_id, channel_id, kind, &account, &media_id).await {
                tracing::info!(%error, media_id, "media not prefetched; it will be fetched when viewed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_folder() {
        let cache = MediaCache::new(PathBuf::from("/data/media"));
        assert!(cache.path(ChannelKind::WhatsApp, "501", "1234.5").is_some());
        assert!(cache.path(ChannelKind::WhatsApp, "..", "x").is_none());
        assert!(cache.path(ChannelKind::WhatsApp, "501", "a/b").is_none());
        assert!(cache.path(ChannelKind::WhatsApp, "501", "").is_none());
    }

    #[test]
    fn attachment_urls_name_their_media() {
        let attachment = Attachment {
            kind: app::model::AttachmentKind::Image,
            url: crate::channels::media_url(ChannelKind::WhatsApp, "501", "m1"),
            name: None,
            mime_type: None,
            size: None,
            unavailable: None,
        };
        assert_eq!(
            platform_media(&attachment),
            Some((ChannelKind::WhatsApp, "501".into(), "m1".into()))
        );
    }
}

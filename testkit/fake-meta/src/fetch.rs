//! Fetching attachment links, as Meta does before it accepts a message that
//! points at a file by URL.
//!
//! * **Messenger / Instagram** (`message.attachment.payload.url`): Meta
//!   downloads the file while answering the Send API call. A URL it cannot
//!   fetch (connection error, non-2xx answer, empty body) fails the call with
//!   `(#100) Failed to fetch the file from the url`, code 100, subcode
//!   2018008; a file over the size limit with `(#100) Attachment size exceeds
//!   allowable limit`, code 100, subcode 2018109 (Messenger Platform error
//!   codes, "Limit Errors"). Limits: images 8 MB, video, audio and files
//!   25 MB (the same on Messenger and Instagram).
//! * **WhatsApp** (`{type: {link}}`): the Cloud API fetches the link too; the
//!   fake answers a failed download synchronously with 131053 "Media upload
//!   error".
//!
//! Downloads happen in the async handlers, before the world lock is taken;
//! the send functions get the outcome as a [`Prefetched`].

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::SentAttachment;
use super::errors::GraphError;

/// How long Meta's fetcher is given for one link.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

const MB: u64 = 1024 * 1024;

/// Send API limits (Messenger Platform and Instagram Messaging docs).
const SEND_API_IMAGE_LIMIT: u64 = 8 * MB;
const SEND_API_LIMIT: u64 = 25 * MB;

/// The Cloud API's largest media (documents); the fake does not apply the
/// smaller per-type limits to links.
const WHATSAPP_LINK_LIMIT: u64 = 100 * MB;

/// The outcome of fetching a message's link: `None` when the message has
/// no link, else the recorded attachment or the error to answer with. Send
/// functions apply it (`transpose()?`) once their own checks passed.
pub(crate) type Prefetched = Option<Result<SentAttachment, GraphError>>;

/// Why a link could not be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// Connection error, timeout, non-2xx status or empty body.
    Unreachable,
    /// More bytes than the limit.
    TooLarge,
}

/// A downloaded file.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Fetched {
    pub fn attachment(&self, kind: &str, source: &str) -> SentAttachment {
        SentAttachment {
            kind: kind.to_owned(),
            source: source.to_owned(),
            content_type: self.content_type.clone(),
            size: self.bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&self.bytes)),
        }
    }
}

/// Downloads `url` (redirects followed), reading at most `limit` bytes.
pub(crate) async fn fetch(http: &reqwest::Client, url: &str, limit: u64) -> Result<Fetched, FetchError> {
    let mut response = http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|_| FetchError::Unreachable)?;
    if !response.status().is_success() {
        return Err(FetchError::Unreachable);
    }
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(FetchError::TooLarge);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| FetchError::Unreachable)? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(FetchError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(FetchError::Unreachable);
    }
    Ok(Fetched { content_type, bytes })
}

/// The Send API's size limit for an attachment `type`.
fn send_api_limit(kind: &str) -> u64 {
    if kind == "image" {
        SEND_API_IMAGE_LIMIT
    } else {
        SEND_API_LIMIT
    }
}

/// `(#100) Failed to fetch the file from the url` (100/2018008).
pub(crate) fn unfetchable() -> GraphError {
    GraphError::param("(#100) Failed to fetch the file from the url").subcode(2_018_008)
}

/// `(#100) Attachment size exceeds allowable limit` (100/2018109).
pub(crate) fn too_large() -> GraphError {
    GraphError::param("(#100) Attachment size exceeds allowable limit").subcode(2_018_109)
}

/// Fetches `message.attachment.payload.url` of a Send API body (Messenger
/// or Instagram), if there is one.
pub(crate) async fn send_api_link(http: &reqwest::Client, body: &Value) -> Prefetched {
    let attachment = body.pointer("/message/attachment")?;
    let url = attachment.pointer("/payload/url").and_then(Value::as_str)?;
    let kind = attachment.get("type").and_then(Value::as_str).unwrap_or("file");
    Some(match fetch(http, url, send_api_limit(kind)).await {
        Ok(fetched) => Ok(fetched.attachment(kind, "link")),
        Err(FetchError::Unreachable) => {
            tracing::info!(url, "fake-meta: attachment URL could not be fetched");
            Err(unfetchable())
        }
        Err(FetchError::TooLarge) => Err(too_large()),
    })
}

/// Fetches `{type}.link` of a Cloud API message body, if the message is
/// media sent by link (not by id).
pub(crate) async fn whatsapp_link(http: &reqwest::Client, body: &Value) -> Prefetched {
    let kind = body.get("type").and_then(Value::as_str)?;
    if !matches!(kind, "image" | "video" | "audio" | "document" | "sticker") {
        return None;
    }
    let object = body.get(kind)?;
    if object.get("id").is_some() {
        return None;
    }
    let link = object.get("link").and_then(Value::as_str)?;
    if !(link.starts_with("https://") || link.starts_with("http://")) {
        // validate_content answers 131009 for these.
        return None;
    }
    Some(match fetch(http, link, WHATSAPP_LINK_LIMIT).await {
        Ok(fetched) => Ok(fetched.attachment(kind, "link")),
        Err(_) => {
            tracing::info!(link, "fake-meta: WhatsApp media link could not be fetched");
            Err(GraphError::cloud(
                131_053,
                "Media upload error",
                "Unable to download the media from the link",
            ))
        }
    })
}

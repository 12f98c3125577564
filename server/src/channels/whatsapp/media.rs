//! Downloading the media WhatsApp keeps for us (what customers send): `GET /{media-id}`
//! names a short-lived URL, which wants the same Bearer token. Files are capped at the
//! largest Meta accepts, and refused rather than buffered past it.

use super::cloud::CloudApi;
use crate::channels::meta::graph::{int_of, text_at, unreachable};
use crate::channels::{MediaFile, SendError};
use serde_json::Value;
use std::time::Duration;

/// The largest file Meta accepts on WhatsApp (documents).
pub const MAX_MEDIA_BYTES: u64 = 100 * 1024 * 1024;
/// Downloads of large media take longer than the client's default timeout allows.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(120);

impl CloudApi {
    /// Downloads a media file: `GET /{media-id}` gives a short-lived URL, which needs the
    /// same Bearer token.
    pub async fn media(&self, media_id: &str, token: &str) -> Result<MediaFile, SendError> {
        self.media_capped(media_id, token, MAX_MEDIA_BYTES).await
    }

    async fn media_capped(&self, media_id: &str, token: &str, max_bytes: u64) -> Result<MediaFile, SendError> {
        let info = self.graph.call(self.graph.get(media_id), token).await?;
        let url = download_address(&info, max_bytes)?;
        let mut response = self
            .graph
            .http()
            .get(url)
            .bearer_auth(token)
            .timeout(MEDIA_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            return Err(match body.get("error") {
                Some(error) => self.graph.error(error, Some(status.as_u16())),
                None if status.is_server_error() => SendError::Unavailable(format!("Meta answered {status}")),
                None if status == reqwest::StatusCode::UNAUTHORIZED => {
                    SendError::Auth(format!("Meta refused the media download ({status})"))
                }
                None => SendError::Rejected(format!("the media file is no longer available ({status})")),
            });
        }
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(too_large(max_bytes));
        }
        let header_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        let mime_type = text_at(&info, "/mime_type")
            .map(str::to_string)
            .or(header_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(MediaFile { bytes, mime_type })
    }
}

fn too_large(max_bytes: u64) -> SendError {
    SendError::Rejected(format!("the media file is larger than {max_bytes} bytes"))
}

/// Where `GET /{media-id}`'s answer says the file is, unless it is already known too large.
fn download_address(info: &Value, max_bytes: u64) -> Result<&str, SendError> {
    let url = text_at(info, "/url")
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| SendError::Rejected("Meta returned no download address for this media".into()))?;
    if info
        .get("file_size")
        .and_then(int_of)
        .is_some_and(|size| size > max_bytes as i64)
    {
        return Err(too_large(max_bytes));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::super::cloud::{fake_cloud, jpeg_upload};
    use super::*;
    use crate::channels::meta::graph::assert_no_token_in_urls;
    use fake_meta::FakeMetaConfig;
    use serde_json::json;

    const TOKEN: &str = "wa-token-401";

    #[tokio::test]
    async fn media_is_downloaded_in_two_steps_with_the_bearer_token() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        // A file in the number's media store, as a customer's photo would be.
        let (bytes, file) = jpeg_upload("media");
        let id = api.upload_media("501", TOKEN, &file).await.expect("upload");
        std::fs::remove_file(&file.path).ok();
        assert!(fake.whatsapp_media().iter().any(|m| m.id == id));

        let downloaded = api.media(&id, TOKEN).await.expect("media");
        assert_eq!(
            downloaded,
            MediaFile {
                bytes,
                mime_type: "image/jpeg".into()
            }
        );
        assert!(matches!(api.media(&id, "stale").await, Err(SendError::Auth(_))));
        assert!(matches!(
            api.media_capped(&id, TOKEN, 4).await,
            Err(SendError::Rejected(reason)) if reason.contains("larger than 4 bytes")
        ));
        assert!(matches!(api.media("999999", TOKEN).await, Err(SendError::Rejected(_))));
        assert_no_token_in_urls(&fake);
    }

    #[test]
    fn the_media_address_is_read_and_sizes_checked_first() {
        // "Retrieve Media URL" example of Meta's Media API reference, then variants.
        let info = |size: Value, url: &str| {
            json!({ "messaging_product": "whatsapp", "url": url, "mime_type": "image/jpeg", "sha256": "HASH",
                    "file_size": size, "id": "2621233374848975" })
        };
        let lookaside =
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=2621233374848975&ext=1&hash=ATt";
        assert_eq!(
            download_address(&info(json!("303833"), lookaside), MAX_MEDIA_BYTES),
            Ok(lookaside)
        );
        assert_eq!(
            download_address(&info(json!(303833), lookaside), MAX_MEDIA_BYTES),
            Ok(lookaside)
        );
        assert_eq!(
            download_address(&info(json!("209715200"), lookaside), MAX_MEDIA_BYTES),
            Err(too_large(MAX_MEDIA_BYTES))
        );
        assert!(matches!(
            download_address(&info(json!("8"), "file:///etc/passwd"), MAX_MEDIA_BYTES),
            Err(SendError::Rejected(_))
        ));
        assert!(matches!(
            download_address(&json!({ "id": "1" }), MAX_MEDIA_BYTES),
            Err(SendError::Rejected(_))
        ));
    }
}

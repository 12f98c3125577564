//! Files agents attach to replies: checking a file against what its platform accepts (the
//! published types and size limits each kind declares in `platforms`), the upload answer,
//! and the URLs uploads live at. The composer checks a file before uploading; the server
//! checks again on upload.

use crate::model::{Attachment, AttachmentKind, ChannelKind};
use serde::{Deserialize, Serialize};

/// `POST` a multipart form here: `conversationId`, then `file`.
pub const UPLOAD_ROUTE: &str = "/api/inbox/messages/upload";
/// Agents (of the uploading organization only) fetch an upload at `{UPLOAD_URL_PREFIX}{id}`.
pub const UPLOAD_URL_PREFIX: &str = "/api/media/uploads/";
/// A reply carries at most this many files: Meta's platforms take one per message.
pub const MAX_ATTACHMENTS: usize = 1;

/// A mebibyte, the unit platforms state their limits in.
pub const MB: u64 = 1024 * 1024;

/// The largest file any platform takes (a WhatsApp document): bigger uploads are refused
/// before they are read to the end.
pub const MAX_UPLOAD_BYTES: u64 = 100 * MB;

/// What the upload route answers (201): send it back in `SendRequest.attachments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedFile {
    pub id: String,
    pub kind: AttachmentKind,
    /// `/api/media/uploads/{id}`.
    pub url: String,
    pub name: String,
    pub mime_type: String,
    pub size: u64,
}

impl UploadedFile {
    pub fn attachment(&self) -> Attachment {
        Attachment {
            kind: self.kind,
            url: self.url.clone(),
            name: Some(self.name.clone()),
            mime_type: Some(self.mime_type.clone()),
            size: Some(self.size),
            unavailable: None,
        }
    }
}

/// A file named in a send request: only its upload URL counts; the rest is taken from the
/// upload's own record, so a client cannot relabel a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentRef {
    pub url: String,
}

pub fn upload_url(id: &str) -> String {
    format!("{UPLOAD_URL_PREFIX}{id}")
}

/// The upload id in an upload URL (`/api/media/uploads/{id}`), if it is one.
pub fn upload_id(url: &str) -> Option<&str> {
    url.strip_prefix(UPLOAD_URL_PREFIX)
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// One kind of file a platform accepts: which types and how large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRule {
    pub kind: AttachmentKind,
    /// MIME types; empty means any type.
    pub types: &'static [&'static str],
    pub max_bytes: u64,
}

/// Whether `channel` shows a reply's text under a file of `kind` (WhatsApp's caption);
/// where it does not, the text goes as a message of its own after the file.
pub fn takes_caption(channel: ChannelKind, kind: AttachmentKind) -> bool {
    channel.platform().takes_caption(kind)
}

/// "5 MB", "100 KB", "2.5 MB".
pub fn human_size(bytes: u64) -> String {
    if bytes >= MB {
        let tenths = (bytes * 10).div_ceil(MB);
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024).max(1))
    }
}

fn essence(mime: &str) -> String {
    mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Which kind of attachment a file of `mime` type and `size` bytes becomes on `channel`,
/// or why the platform would refuse it (in words an agent understands).
pub fn check(channel: ChannelKind, mime: &str, size: u64) -> Result<AttachmentKind, String> {
    let mime = essence(mime);
    let platform = channel.platform();
    let rules = platform.media;
    let rule = rules
        .iter()
        .find(|r| r.types.contains(&mime.as_str()))
        .or_else(|| {
            let family = mime.split('/').next().unwrap_or_default();
            let family_kind = match family {
                "image" => Some(AttachmentKind::Image),
                "video" => Some(AttachmentKind::Video),
                "audio" => Some(AttachmentKind::Audio),
                _ => None,
            };
            // A type no rule names goes as a plain file where any file is welcome, unless
            // it is media of a kind the platform lists with specific types.
            rules.iter().find(|r| {
                r.types.is_empty() && !rules.iter().any(|o| Some(o.kind) == family_kind && !o.types.is_empty())
            })
        })
        .ok_or_else(|| {
            format!(
                "{} does not accept {} files; it takes {}",
                platform.attachment_subject,
                if mime.is_empty() { "these" } else { mime.as_str() },
                accepted_summary(channel)
            )
        })?;
    if size == 0 {
        return Err("the file is empty".into());
    }
    if size > rule.max_bytes {
        return Err(format!(
            "{} accepts {} files up to {}; this one is {}",
            platform.attachment_subject,
            kind_noun(rule.kind),
            human_size(rule.max_bytes),
            human_size(size)
        ));
    }
    Ok(rule.kind)
}

fn kind_noun(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "image",
        AttachmentKind::Video => "video",
        AttachmentKind::Audio => "audio",
        _ => "document",
    }
}

/// "images (JPEG, PNG) up to 5 MB, videos (MP4, 3GPP) up to 16 MB, …" for error messages
/// and the composer's hint.
pub fn accepted_summary(channel: ChannelKind) -> String {
    channel
        .platform()
        .media
        .iter()
        .map(|r| {
            let noun = match r.kind {
                AttachmentKind::Image => "images",
                AttachmentKind::Video => "videos",
                AttachmentKind::Audio => "audio",
                _ => "documents",
            };
            if r.types.is_empty() {
                format!("any other file up to {}", human_size(r.max_bytes))
            } else {
                let names: Vec<String> = r.types.iter().map(|t| short_type(t)).collect();
                format!("{noun} ({}) up to {}", names.join(", "), human_size(r.max_bytes))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn short_type(mime: &str) -> String {
    match mime {
        "application/msword" => "DOC".into(),
        "application/vnd.ms-excel" => "XLS".into(),
        "application/vnd.ms-powerpoint" => "PPT".into(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "DOCX".into(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "XLSX".into(),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "PPTX".into(),
        "text/plain" => "TXT".into(),
        "video/quicktime" => "MOV".into(),
        "video/x-msvideo" => "AVI".into(),
        "audio/mpeg" => "MP3".into(),
        "audio/x-m4a" => "M4A".into(),
        "audio/x-wav" => "WAV".into(),
        other => other.rsplit('/').next().unwrap_or(other).to_ascii_uppercase(),
    }
}

/// The `accept` attribute of the composer's file input for `channel`.
pub fn accept_attribute(channel: ChannelKind) -> String {
    let rules = channel.platform().media;
    if rules.iter().any(|r| r.types.is_empty()) {
        return String::new();
    }
    let mut types: Vec<&str> = rules.iter().flat_map(|r| r.types.iter().copied()).collect();
    types.dedup();
    types.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_takes_its_published_types_and_sizes() {
        assert_eq!(
            check(ChannelKind::WhatsApp, "image/jpeg", 5 * MB),
            Ok(AttachmentKind::Image)
        );
        let too_big = check(ChannelKind::WhatsApp, "image/png", 5 * MB + 1).expect_err("too big");
        assert!(too_big.contains("up to 5 MB"), "{too_big}");
        assert_eq!(
            check(ChannelKind::WhatsApp, "application/pdf; name=x", 90 * MB),
            Ok(AttachmentKind::File)
        );
        let gif = check(ChannelKind::WhatsApp, "image/gif", 1000).expect_err("gif");
        assert!(gif.starts_with("WhatsApp does not accept image/gif"), "{gif}");
        assert!(check(ChannelKind::WhatsApp, "application/zip", 10).is_err());
    }

    #[test]
    fn messenger_takes_any_file_but_only_known_media() {
        assert_eq!(
            check(ChannelKind::Messenger, "application/zip", 10),
            Ok(AttachmentKind::File)
        );
        assert_eq!(
            check(ChannelKind::Messenger, "image/gif", 10),
            Ok(AttachmentKind::Image)
        );
        // an image type Messenger does not list is not smuggled through as a "file"
        assert!(check(ChannelKind::Messenger, "image/tiff", 10).is_err());
        assert!(check(ChannelKind::Messenger, "application/zip", 25 * MB + 1).is_err());
    }

    #[test]
    fn instagram_limits_and_empty_files() {
        assert_eq!(
            check(ChannelKind::Instagram, "video/webm", 25 * MB),
            Ok(AttachmentKind::Video)
        );
        assert!(check(ChannelKind::Instagram, "image/jpeg", 8 * MB + 1).is_err());
        assert!(check(ChannelKind::Instagram, "text/plain", 10).is_err());
        assert_eq!(
            check(ChannelKind::Instagram, "image/png", 0),
            Err("the file is empty".into())
        );
    }

    #[test]
    fn upload_urls_round_trip_and_refuse_paths() {
        assert_eq!(upload_id(&upload_url("ab12")), Some("ab12"));
        assert_eq!(upload_id("/api/media/uploads/../x"), None);
        assert_eq!(upload_id("https://elsewhere/api/media/uploads/ab"), None);
        assert_eq!(upload_id("/api/media/uploads/"), None);
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(5 * MB), "5 MB");
        assert_eq!(human_size(MB + MB / 2), "1.5 MB");
        assert_eq!(human_size(1500), "2 KB");
        assert_eq!(accept_attribute(ChannelKind::Messenger), "");
        assert!(accept_attribute(ChannelKind::WhatsApp).starts_with("image/jpeg,image/png,video/mp4"));
        assert!(accepted_summary(ChannelKind::WhatsApp).starts_with("images (JPEG, PNG) up to 5 MB"));
    }
}
